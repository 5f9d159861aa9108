"""Where the external programs the test tiers run are installed (outside the clone).

``scripts/install-wmill-cli`` installs the pinned ``windmill-cli`` from npm into
``${HOMEOPS_TOOLS_DIR:-~/.cache/homeops-windmill}/wmill/<version>/``; this module finds it there,
so the tier runs exactly what the installer installed. A missing tool is an error that says how
to install it, never a reason to skip.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR_ENV = "HOMEOPS_TOOLS_DIR"


class ToolMissingError(RuntimeError):
    """A pinned program is not installed; the message names the install command."""


def tools_dir() -> Path:
    """The cache folder shared by the installers (``$HOMEOPS_TOOLS_DIR`` or ``~/.cache/homeops-windmill``)."""
    configured = os.environ.get(TOOLS_DIR_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "homeops-windmill"


def pinned_windmill_version() -> str:
    """The ``windmillVersion`` default of Pulumi.yaml: the server, CLI and emulator version."""
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    return str(project["config"]["windmillVersion"]["default"]).removeprefix("v")


def wmill_executable(version: str | None = None) -> Path:
    """The ``wmill`` program of ``windmill-cli`` ``version`` (default: the pinned one)."""
    version = version or pinned_windmill_version()
    prefix = tools_dir() / "wmill" / version
    executable = prefix / "node_modules" / ".bin" / "wmill"
    package = prefix / "node_modules" / "windmill-cli" / "package.json"
    if not (prefix / ".installed").is_file() or not executable.is_file() or not package.is_file():
        raise ToolMissingError(
            f"windmill-cli {version} is not installed in {prefix}: run scripts/install-wmill-cli"
            + ("" if version == pinned_windmill_version() else f" {version}")
        )
    installed = json.loads(package.read_text())["version"]
    if installed != version:
        raise ToolMissingError(f"{prefix} holds windmill-cli {installed}, not {version}: run scripts/install-wmill-cli")
    return executable
