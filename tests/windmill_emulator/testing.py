"""Pytest fixture bodies for the emulator; tests/conftest.py wraps them as fixtures."""

from __future__ import annotations

from collections.abc import Iterator

from .server import WindmillEmulator


def windmill_fixture() -> Iterator[WindmillEmulator]:
    """A CE emulator with default limits, started for one test and stopped afterwards."""
    emu = WindmillEmulator().start()
    try:
        yield emu
    finally:
        emu.stop()


def windmill_ee_fixture() -> Iterator[WindmillEmulator]:
    """An EE emulator without workspace (or group) limits."""
    emu = WindmillEmulator(edition="EE", workspace_limit=False).start()
    try:
        yield emu
    finally:
        emu.stop()
