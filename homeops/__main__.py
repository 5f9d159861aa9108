"""``python -m homeops <command>``: the operator commands around the stacks.

Each command lives in its own module with ``add_parser(commands)``, which registers its arguments
and sets ``run`` (``args -> exit status``); this module only lists them.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from . import import_command, placeholders_command, secrets_command
from .version import project_version

COMMANDS = (import_command, placeholders_command, secrets_command)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m homeops", description="HomeOps Windmill operator commands.")
    parser.add_argument("--version", action="version", version=f"homeops-windmill {project_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (`… | head`): no traceback, and the status a shell gives a command SIGPIPE ended
        # (128 + 13), not a success the command may not have had. stdout is pointed at /dev/null so the
        # interpreter's own flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
