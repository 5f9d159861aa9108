"""Run a ``pulumi`` command with this project's program served to the CLI over ``--client``.

The official Pulumi CLI runs ``__main__.py`` through its Python language host
(``pulumi-language-python``). That host is a Go module of its own which the Go module proxy does not
serve here, so a CLI built by ``scripts/install-pulumi-cli`` has none. The CLI's ``--client=<addr>``
flag (what the Automation API uses for inline programs) points it at a language runtime that is
already running: this module starts the Python SDK's own ``LanguageServer`` (pulumi.automation) in this
process with ``__main__.py`` as the program, then runs the real ``pulumi`` command against it. The
engine, state, plugins, config validation, diff display and secrets handling are all the CLI's own;
only the process that evaluates ``__main__.py`` differs from an operator's machine::

    python -m testkit.served_program preview --stack platform --diff
    python -m testkit.served_program up --stack platform --yes

Run it from the project folder (the one with ``Pulumi.yaml``) with ``pulumi`` on ``PATH``.
Commands that do not run the program (``stack``, ``config``, ``stack output``) need no client: run
``pulumi`` directly.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2_grpc

# The commands that evaluate the program (or, for refresh and destroy, still ask the language
# runtime about it): each gets --client.
PROGRAM_COMMANDS = frozenset({"preview", "up", "update", "refresh", "destroy"})
# The SDK's Automation API raises gRPC's default 4 MiB message limit the same way for large programs.
_MAX_MESSAGE = 500 * 1024 * 1024


def _program(project_dir: Path) -> None:
    runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")


def start_language_server(project_dir: Path) -> tuple[grpc.Server, int]:
    """Serve ``project_dir/__main__.py`` as a Pulumi language runtime on a loopback port."""
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))  # `import components` as under the language host
    server = grpc.server(
        ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE)],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(lambda: _program(project_dir)), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def run(args: list[str], project_dir: Path | None = None) -> int:
    """Run ``pulumi <args>`` (adding ``--client`` for program commands); return its exit code."""
    project_dir = (project_dir or Path.cwd()).resolve()
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        print("served_program: no `pulumi` on PATH; run scripts/install-pulumi-cli and add its folder",
              file=sys.stderr)
        return 127
    if not args or args[0] not in PROGRAM_COMMANDS:
        return subprocess.call([pulumi, *args], cwd=project_dir)
    server, port = start_language_server(project_dir)
    try:
        return subprocess.call([pulumi, *args, f"--client=127.0.0.1:{port}"], cwd=project_dir)
    finally:
        server.stop(grace=None)


def main() -> int:
    os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    return run(sys.argv[1:])


if __name__ == "__main__":
    code = main()
    # The CLI has finished and reported, and this process holds nothing it must save: skip the interpreter's
    # teardown, where gRPC's shutdown spends some 0.2 s after every command (the engine tier runs ~80 of them).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
