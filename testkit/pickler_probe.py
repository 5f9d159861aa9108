"""Measure what the SDK's serializer leaves behind in Python's pickler (docs/sdk-pickler-recursion.md).

``dict_pickling_depth()`` pickles a one-entry dict with the pure-Python pickler (the one Pulumi's
``serialize_provider`` patches) and returns how many Python frames are on the stack when the value
is reached. A clean pickler gives a constant; every wrapper layer the SDK leaked adds one frame.
It measures behaviour, not the SDK's implementation, so it keeps working if the SDK changes how it
patches. ``sdk_serializer_that_restores_the_pickler`` stands in for an SDK that fixed the leak.
"""

from __future__ import annotations

import io
import pickle
import sys
from typing import Any

from pulumi.dynamic.dynamic import serialize_provider


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


class _DepthProbe:
    """Records the stack depth at which the pickler reaches it, then pickles as ``None``."""

    def __init__(self) -> None:
        self.depth = -1

    def __reduce_ex__(self, _protocol: Any) -> Any:
        self.depth = _stack_depth()
        return (type(None), ())


def dict_pickling_depth() -> int:
    """Frames between here and the value of a pickled dict (grows by one per leaked wrapper)."""
    probe = _DepthProbe()
    start = _stack_depth()
    pickle._Pickler(io.BytesIO(), protocol=pickle.DEFAULT_PROTOCOL).dump({"key": probe})  # type: ignore[attr-defined]
    return probe.depth - start


def sdk_serializer_that_restores_the_pickler(provider: Any) -> str:
    """What a fixed SDK would do: the same serialization, with everything it patched put back."""
    names = ("_batch_setitems", "save_dict")
    saved = {name: vars(pickle._Pickler)[name] for name in names}  # type: ignore[attr-defined]
    try:
        return serialize_provider(provider)
    finally:
        for name, value in saved.items():
            setattr(pickle._Pickler, name, value)  # type: ignore[attr-defined]
