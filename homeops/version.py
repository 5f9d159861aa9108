"""The project's version: one source, ``pyproject.toml``'s ``[project] version``.

The project is run from its folder, never installed, so ``importlib.metadata`` cannot know it; the
version is read from the file next to the code instead. ``CHANGELOG.md``'s newest release carries the
same number (a unit test keeps them equal).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def project_version() -> str:
    """The ``[project] version`` of ``pyproject.toml``, e.g. ``0.1.0``."""
    with PYPROJECT.open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])
