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


TIERS = ("unit", "emulator", "provider", "program", "e2e", "engine", "wmill")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test carries the marker of its tier folder, so ``pytest -m <tier>`` selects a tier."""
    for item in items:
        tier = item.path.parent.name
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in a tier folder, one of {', '.join(TIERS)}")
        item.add_marker(getattr(pytest.mark, tier))
