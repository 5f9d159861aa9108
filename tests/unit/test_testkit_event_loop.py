"""testkit's struct helper leaves the main thread's event loop alone, so tiers can run in any order."""

from __future__ import annotations

import asyncio

from testkit.provider_host import from_struct, to_struct


def test_to_struct_keeps_the_current_event_loop() -> None:
    policy = asyncio.get_event_loop_policy()
    before = policy.get_event_loop()  # the one the SDK's mocks will ask for (created here if there is none yet)
    assert from_struct(to_struct({"path": "f/atom/x", "n": 1})) == {"path": "f/atom/x", "n": 1}
    # After asyncio.run this raised "There is no current event loop", failing the e2e tier when it ran later.
    assert policy.get_event_loop() is before
