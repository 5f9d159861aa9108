"""Guard against a variable and a resource declared at the same path of one workspace.

Windmill deletes the resource at a variable's path when the variable is deleted, and the reverse
(docs/windmill-api.md §5, §6), so two Pulumi resources at one path would destroy each other's object.
Each Variable and Resource claims its path when it is constructed; the second claim of a path
by the other kind fails at preview. Claims are kept per program run (keyed by the root Stack
resource), so several runs in one process, as in tests, do not see each other's claims.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import pulumi

from .errors import PathConflictError

__all__ = ["PathConflictError", "claim_path"]

_LOCK = threading.Lock()
_CLAIMS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], tuple[str, str]]] = weakref.WeakKeyDictionary()


def claim_path(kind: str, resource_name: str, workspace: Any, path: Any) -> None:
    """Record that ``kind`` (``variable`` or ``resource``) uses ``workspace``/``path``.

    Only plain strings are checked: a path computed from another resource's output is not known
    until deployment and cannot be compared at preview.
    """
    if not isinstance(workspace, str) or not isinstance(path, str):
        return
    root = pulumi.runtime.get_root_resource()
    if root is None:
        return
    with _LOCK:
        claims = _CLAIMS.setdefault(root, {})
        other = claims.get((workspace, path))
        if other is not None and other[0] != kind:
            raise PathConflictError(
                f"{kind} {resource_name!r} and {other[0]} {other[1]!r} are both at {path!r} in workspace "
                f"{workspace!r}. Windmill deletes the {other[0]} at a {kind}'s path when the {kind} is deleted "
                f"(and the reverse), so they would destroy each other: give one of them another path."
            )
        claims.setdefault((workspace, path), (kind, resource_name))
