"""The e2e tier's dynamic resources run in this process against the emulator, which answers at once."""

from __future__ import annotations

import pytest

from components.windmill.readiness import CONFIRM_SPACING_ENV


@pytest.fixture(autouse=True)
def prompt_readiness_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate still needs its three healthy answers on every create and refresh, without a second between
    them (as in the engine tier, testkit/engine.py; the spacing itself: tests/emulator/test_readiness.py)."""
    monkeypatch.setenv(CONFIRM_SPACING_ENV, "0.05")
