"""The pickler guard (components/windmill/pickling.py): undoes the SDK's leaked pickler patch, and
only that, whatever the SDK does; the documented reproduction still reproduces."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from collections.abc import Iterator

import dill
import pytest
from pulumi.dynamic import dynamic
from pulumi.dynamic.dynamic import serialize_provider

from components.windmill.pickling import GUARD_STATS, PicklerSnapshot, leaves_pickler_as_found, pickler_left_as_found
from components.windmill.variables import VariableProvider
from testkit.pickler_probe import dict_pickling_depth, sdk_serializer_that_restores_the_pickler
from testkit.provider_host import ROOT

LEAKED = {"pickle._Pickler._batch_setitems", "pickle._Pickler.save_dict"}


@pytest.fixture
def untouched() -> Iterator[PicklerSnapshot]:
    """The pickler state before the test, which the test must leave exactly as it was."""
    before = PicklerSnapshot.take()
    yield before
    assert PicklerSnapshot.take().changes_since(before) == []


def test_the_guard_undoes_exactly_what_the_sdk_serializer_leaves_behind(untouched: PicklerSnapshot) -> None:
    depth, leaking = dict_pickling_depth(), GUARD_STATS.leaking_registrations
    with pickler_left_as_found():
        blob = serialize_provider(VariableProvider())
        assert dict_pickling_depth() == depth + 1  # the SDK's patch is live while it serializes
    assert dict_pickling_depth() == depth
    assert GUARD_STATS.leaking_registrations == leaking + 1
    assert GUARD_STATS.restored >= LEAKED
    assert blob == serialize_provider(VariableProvider())  # the same bytes as the SDK alone
    untouched.restore()  # undo the unguarded call just made


def test_with_an_sdk_that_no_longer_leaks_the_guard_detects_nothing_and_changes_nothing(
    untouched: PicklerSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamic, "serialize_provider", sdk_serializer_that_restores_the_pickler)
    leaking, registrations = GUARD_STATS.leaking_registrations, GUARD_STATS.registrations
    with pickler_left_as_found():
        blob = dynamic.serialize_provider(VariableProvider())
    assert GUARD_STATS.registrations == registrations + 1
    assert GUARD_STATS.leaking_registrations == leaking
    with pickler_left_as_found():
        assert blob == serialize_provider(VariableProvider())


def test_the_guard_puts_back_names_an_sdk_adds_removes_or_replaces(untouched: PicklerSnapshot) -> None:
    def patch_everything() -> None:
        pickle.Pickler = pickle._Pickler  # type: ignore[attr-defined,misc]
        pickle._Pickler.added_by_sdk = True  # type: ignore[attr-defined]
        del pickle._Pickler.save_bytes  # type: ignore[attr-defined]
        dill.Pickler.save_dict = lambda self, obj: None
        dill.Pickler.dispatch[complex] = lambda self, obj: None
        del pickle._Pickler.dispatch[bytes]  # type: ignore[attr-defined]

    with pickler_left_as_found():
        patch_everything()
        changed = PicklerSnapshot.take().changes_since(untouched)
    assert set(changed) == {
        "pickle.Pickler",
        "pickle._Pickler.added_by_sdk",
        "pickle._Pickler.save_bytes",
        "pickle._Pickler.dispatch.<class 'bytes'>",
        "dill._dill.Pickler.save_dict",
        "dill._dill.Pickler.dispatch.<class 'complex'>",
    }
    assert PicklerSnapshot.take().changes_since(untouched) == []
    assert pickle.Pickler is not pickle._Pickler  # type: ignore[attr-defined]
    assert bytes in pickle._Pickler.dispatch and complex not in dill.Pickler.dispatch  # type: ignore[attr-defined]


def test_a_failing_registration_still_leaves_the_pickler_as_found(untouched: PicklerSnapshot) -> None:
    @leaves_pickler_as_found
    def register(provider: VariableProvider) -> None:
        """Serializes, then fails the way a bad input does."""
        serialize_provider(provider)
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        register(VariableProvider())
    assert register.__doc__ == "Serializes, then fails the way a bad input does."


def test_after_guarded_serializations_other_pickling_in_the_process_is_unaffected() -> None:
    # Once the SDK's patch has leaked, every dict that pickle._Pickler or dill pickles afterwards
    # is sorted, so a dict with keys of mixed types no longer pickles at all (TypeError). A fresh
    # process, because this one may already hold a leaked patch from unguarded calls.
    script = (
        "from dill import dumps\n"
        "from pulumi.dynamic.dynamic import serialize_provider\n"
        "from components.windmill.pickling import pickler_left_as_found\n"
        "from components.windmill.variables import VariableProvider\n"
        "mixed = {1: 'one', 'two': 2}\n"
        "for _ in range(3):\n"
        "    with pickler_left_as_found():\n"
        "        serialize_provider(VariableProvider())\n"
        "dumps(mixed)\n"
        "print('guarded: pickles')\n"
        "serialize_provider(VariableProvider())\n"
        "try:\n"
        "    dumps(mixed)\n"
        "except TypeError:\n"
        "    print('unguarded: TypeError')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.splitlines() == ["guarded: pickles", "unguarded: TypeError"]


def test_the_documented_reproduction_still_reproduces_the_sdk_bug() -> None:
    document = (ROOT / "docs" / "sdk-pickler-recursion.md").read_text()
    script = re.search(r"```python\n(.*?)```", document, re.DOTALL)
    assert script is not None
    result = subprocess.run(
        [sys.executable, "-c", script.group(1)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "after 3 registrations: 3 wrapper layers" in result.stdout
    assert re.search(r"RecursionError at registration \d+", result.stdout), result.stdout[-2000:]
    assert "RecursionError: maximum recursion depth exceeded" in result.stderr
