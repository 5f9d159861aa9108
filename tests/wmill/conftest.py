"""Fixtures of the real-CLI tier: the installed ``wmill`` and a fresh emulator per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.tools import pinned_windmill_version, wmill_executable
from windmill_emulator import WindmillEmulator


@pytest.fixture(scope="session")
def wmill() -> Path:
    """The installed ``wmill`` (a missing install fails the tier with the command to run)."""
    return wmill_executable()


@pytest.fixture
def emulator() -> Iterator[WindmillEmulator]:
    """A CE emulator of the pinned Windmill release."""
    with WindmillEmulator(version=pinned_windmill_version()) as emu:
        yield emu
