"""The real-engine tier's harness: a copy of the project driven by the real Pulumi CLI.

``PulumiProject`` lays the project out in a temporary folder (the committed stack files copied, so
``pulumi config set`` never edits the clone; the code linked), with its own ``PULUMI_HOME``, a local
file backend and the passphrase secrets provider, and runs ``pulumi`` commands there exactly as an
operator types them. Commands that evaluate the program go through ``testkit.served_program``
(``--client``), because the CLI built from the Go module proxy has no Python language host; every
other command is the bare CLI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from components.config.placeholders import ACCEPT_ENV
from components.windmill.readiness import CONFIRM_SPACING_ENV
from testkit.served_program import PROGRAM_COMMANDS

ROOT = Path(__file__).resolve().parents[1]
CLI_MODULE = ROOT / "tools" / "pulumi-cli" / "go.mod"
# What a stack needs of the project: copied files may be edited by `pulumi config set`/`stack init`.
COPIED = ("Pulumi.yaml", "Pulumi.platform.yaml", "Pulumi.financial.yaml")
LINKED = ("__main__.py", "components", ".venv", "requirements.txt")


def tools_dir() -> Path:
    """Where scripts/install-* put the CLIs: ``$HOMEOPS_TOOLS_DIR`` or ``~/.cache/homeops-windmill``."""
    return Path(os.environ.get("HOMEOPS_TOOLS_DIR") or Path.home() / ".cache" / "homeops-windmill")


def pinned_cli_version() -> str:
    match = re.search(r"^require github.com/pulumi/pulumi/pkg/v3 (v[\d.]+)$", CLI_MODULE.read_text(), re.M)
    assert match, f"{CLI_MODULE} pins no pkg/v3 version"
    return match.group(1)


def pulumi_bin_dir() -> Path:
    """The folder holding the pinned ``pulumi`` and ``pulumi-resource-pulumi-python``; fails if absent."""
    bin_dir = tools_dir() / "pulumi" / pinned_cli_version() / "bin"
    if not (bin_dir / "pulumi").exists() or not (bin_dir / "pulumi-resource-pulumi-python").exists():
        raise RuntimeError(f"no Pulumi CLI in {bin_dir}: run scripts/install-pulumi-cli (CI's .ci/run does)")
    return bin_dir


@dataclass
class Result:
    """One finished command: what ran, its exit code and output (stderr folded into ``output``)."""

    args: tuple[str, ...]
    code: int
    output: str
    program: str = "pulumi"  # "" for a command other than pulumi, whose args start with the executable

    def __str__(self) -> str:
        return f"$ {' '.join(filter(None, (self.program, *self.args)))}  -> exit {self.code}\n{self.output}"


@dataclass
class PulumiProject:
    """A private copy of the project, its backend and its ``PULUMI_HOME`` under ``base``."""

    base: Path
    passphrase: str = "engine-tier passphrase"  # the tier's own throwaway state key
    extra_env: dict[str, str] = field(default_factory=dict)
    history: list[Result] = field(default_factory=list)
    # The tier's one escape hatch from the placeholder check (components/config/placeholders.py): its stacks
    # are the committed files, HomeOps' example hosts and members included, deployed to the emulator, which is
    # exactly the throwaway instance HOMEOPS_ACCEPT_PLACEHOLDERS exists for. tests/engine/test_placeholders.py
    # turns it off to see `pulumi up` refuse them.
    accept_placeholders: bool = True

    def __post_init__(self) -> None:
        self.dir = self.base / "project"
        self.state = self.base / "state"
        self.home = self.base / "pulumi-home"
        for folder in (self.dir, self.state, self.home):
            folder.mkdir(parents=True, exist_ok=True)
        for name in COPIED:
            shutil.copy(ROOT / name, self.dir / name)
        for name in LINKED:
            (self.dir / name).symlink_to(ROOT / name)
        self.bin_dir = pulumi_bin_dir()

    @property
    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "WINDMILL_")) and k != ACCEPT_ENV}
        return {
            **keep,
            **({ACCEPT_ENV: "1"} if self.accept_placeholders else {}),
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": self.state.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            # The pulumi-docker/-github/-random plugins cannot be had here; never try to download them.
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "NO_COLOR": "1",
            # The emulator answers at once: the readiness gate's confirming answers need no second between them
            # (still three of them on every up and refresh). extra_env "" restores the 1 s (the scale benchmark).
            CONFIRM_SPACING_ENV: "0.05",
            **self.extra_env,
        }

    def pulumi(self, *args: str, check: bool = True, timeout: float = 300) -> Result:
        """Run ``pulumi <args>`` in the project copy as an operator would; raise on failure if ``check``."""
        if args and args[0] in PROGRAM_COMMANDS:
            command = [sys.executable, "-m", "testkit.served_program", *args]
        else:
            command = [str(self.bin_dir / "pulumi"), *args]
        done = subprocess.run(
            command, cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
            stdin=subprocess.DEVNULL,
        )
        result = Result(tuple(args), done.returncode, done.stdout + done.stderr)
        self.history.append(result)
        if check and result.code != 0:
            raise AssertionError(str(result))
        return result

    def command(self, *argv: str, env: Mapping[str, str] | None = None, check: bool = True,
                timeout: float = 300) -> Result:
        """Run another command of the quickstart (``.venv/bin/python -m homeops secrets …``) in the project
        copy, with the same environment plus ``env``, recorded in the history as a pulumi command is."""
        done = subprocess.run(
            list(argv), cwd=self.dir, env={**self.env, **(env or {})}, capture_output=True, text=True,
            timeout=timeout, check=False, stdin=subprocess.DEVNULL,
        )
        result = Result(tuple(argv), done.returncode, done.stdout + done.stderr, program="")
        self.history.append(result)
        if check and result.code != 0:
            raise AssertionError(str(result))
        return result

    def stack_file(self, stack: str) -> str:
        return (self.dir / f"Pulumi.{stack}.yaml").read_text()

    def transcript(self) -> str:
        """Everything the CLI printed so far (not the command lines the test typed), for assertions
        that no secret ever appeared."""
        return "\n".join(r.output for r in self.history)
