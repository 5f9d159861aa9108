"""Registrations of dynamic resources leave Python's pickler exactly as they found it.

Why: ``pulumi.dynamic.Resource`` serializes its provider with ``serialize_provider()`` (Pulumi
Python SDK, ``sdk/python/lib/pulumi/dynamic/dynamic.py``, lines 279-322 in pulumi 3.272.0). To make
the pickle deterministic it replaces ``pickle._Pickler._batch_setitems`` with a wrapper that sorts
the items and calls the method it found there, and replaces ``pickle._Pickler.save_dict``; its
``finally`` only puts back the module name ``pickle.Pickler``. So each registration wraps the
previous wrapper once more: pickling a dict goes one call deeper per dynamic resource registered
so far in the process, the program slows down quadratically, and after about 970 registrations
it fails with ``RecursionError`` (pulumi/pulumi#17803). Reproduction and root cause, ready for
upstream: docs/sdk-pickler-recursion.md.

What: ``leaves_pickler_as_found`` decorates the constructors of the project's dynamic resources.
It records the pickler state before the registration (the pickler names of the ``pickle`` and
``dill`` modules, and the attributes and dispatch tables of ``pickle._Pickler`` and
``dill.Pickler``) and afterwards puts back whatever the registration changed, added or removed.

It assumes nothing about the SDK: it detects a leak by comparing, so with an SDK that no longer
leaks there is nothing to put back and it does nothing (``GUARD_STATS`` counts both cases). It
does not change what is serialized: while the SDK pickles, the pickler is patched exactly as the
SDK patches it, only one layer deep instead of one layer per earlier registration; each layer
sorts the same items, and sorting sorted items changes nothing.

Remove it (and the two decorators) once the SDK restores the pickler itself: the test
``test_the_sdk_serializer_leaves_the_pickler_one_call_deeper_per_registration`` says when.
"""

from __future__ import annotations

import functools
import operator
import pickle
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import dill

_P = ParamSpec("_P")
_R = TypeVar("_R")

_ABSENT = object()
# The pure-Python pickler the SDK patches, and dill's subclass of it that does the pickling.
_PICKLER_CLASSES: tuple[type, ...] = (pickle._Pickler, dill.Pickler)  # type: ignore[attr-defined]
_CLASS_LABELS = tuple((f"{cls.__module__}.{cls.__qualname__}", cls) for cls in _PICKLER_CLASSES)
_PICKLER_NAMES: dict[Any, tuple[str, ...]] = {pickle: ("Pickler", "_Pickler"), dill: ("Pickler",)}
# Reentrant: a guarded constructor may construct another guarded resource.
_LOCK = threading.RLock()


@dataclass
class GuardStats:
    """What the guard found: how many registrations it watched and how many leaked a change."""

    registrations: int = 0
    leaking_registrations: int = 0
    restored: set[str] = field(default_factory=set)  # e.g. "pickle._Pickler._batch_setitems"


GUARD_STATS = GuardStats()


@dataclass(frozen=True)
class PicklerSnapshot:
    """The pickler state at one moment, by identity: namespace label -> {name: object}."""

    namespaces: dict[str, dict[str, Any]]

    @staticmethod
    def take() -> PicklerSnapshot:
        namespaces: dict[str, dict[str, Any]] = {}
        for module, names in _PICKLER_NAMES.items():
            namespaces[module.__name__] = {name: getattr(module, name, _ABSENT) for name in names}
        for label, cls in _CLASS_LABELS:
            namespaces[label] = dict(vars(cls))
            namespaces[f"{label}.dispatch"] = dict(cls.dispatch)  # type: ignore[attr-defined]
        return PicklerSnapshot(namespaces)

    def changes_since(self, before: PicklerSnapshot) -> list[str]:
        """Qualified names whose object differs from ``before`` (changed, added or removed)."""
        changed: list[str] = []
        for label, old in before.namespaces.items():
            new = self.namespaces[label]
            if _same(old, new):
                continue
            differs = [n for n in old.keys() | new.keys() if old.get(n, _ABSENT) is not new.get(n, _ABSENT)]
            changed += [f"{label}.{name}" for name in differs]
        return sorted(changed)

    def restore(self) -> list[str]:
        """Put every namespace back as it was in this snapshot; return the names that changed."""
        changed = PicklerSnapshot.take().changes_since(self)
        if not changed:
            return changed
        for module, names in _PICKLER_NAMES.items():
            for name in names:
                _put(module, name, self.namespaces[module.__name__][name])
        for label, cls in _CLASS_LABELS:
            saved = self.namespaces[label]
            for name in vars(cls).keys() - saved.keys():
                delattr(cls, name)
            for name, value in saved.items():
                if vars(cls).get(name, _ABSENT) is not value:
                    setattr(cls, name, value)
            dispatch, saved_dispatch = cls.dispatch, self.namespaces[f"{label}.dispatch"]  # type: ignore[attr-defined]
            if not _same(saved_dispatch, dispatch):
                dispatch.clear()
                dispatch.update(saved_dispatch)
        return changed


def _same(old: dict[str, Any], new: Any) -> bool:
    """Same names in the same order, each bound to the same object (the per-registration fast path)."""
    return bool(old.keys() == new.keys() and all(map(operator.is_, old.values(), new.values())))


def _put(module: Any, name: str, value: Any) -> None:
    if value is _ABSENT:
        if hasattr(module, name):
            delattr(module, name)
    else:
        setattr(module, name, value)


@contextmanager
def pickler_left_as_found() -> Iterator[None]:
    """Run the body, then undo any change it made to the pickler (counted in ``GUARD_STATS``)."""
    with _LOCK:
        before = PicklerSnapshot.take()
        try:
            yield
        finally:
            restored = before.restore()
            GUARD_STATS.registrations += 1
            if restored:
                GUARD_STATS.leaking_registrations += 1
                GUARD_STATS.restored.update(restored)


def leaves_pickler_as_found(constructor: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate a dynamic resource's ``__init__`` so its registration leaves the pickler as found."""

    @functools.wraps(constructor)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with pickler_left_as_found():
            return constructor(*args, **kwargs)

    return guarded
