"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import windmill_ee_fixture, windmill_fixture


@pytest.fixture
def windmill() -> Iterator[WindmillEmulator]:
    """A running CE Windmill emulator (default limits), stopped after the test."""
    yield from windmill_fixture()


@pytest.fixture
def windmill_ee() -> Iterator[WindmillEmulator]:
    """A running EE Windmill emulator without workspace limits, stopped after the test."""
    yield from windmill_ee_fixture()
