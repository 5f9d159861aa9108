"""Property values as the Pulumi wire hands them to a provider: unknowns, numbers, JSON equality.

The one place that knows how a preview marks a value not known yet, and that ``8080`` arrives as
``8080.0``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi


def is_unknown(value: Any) -> bool:
    """True for a value the engine does not know yet (preview), at any depth.

    Covers both forms a provider meets: ``pulumi.output.Unknown`` (the SDK's deserialized form)
    and the ``rpc.UNKNOWN`` sentinel string of the wire.
    """
    if isinstance(value, pulumi.output.Unknown) or value == pulumi.runtime.rpc.UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


def json_equal(a: Any, b: Any) -> bool:
    """Compare JSON-like values the way the Pulumi wire hands them over (8080 arrives as 8080.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def integral(value: Any) -> Any:
    """Turn wire floats that are whole numbers back into ints, recursively (for API bodies)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [integral(v) for v in value]
    return value
