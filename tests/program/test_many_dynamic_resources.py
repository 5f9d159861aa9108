"""Thousands of dynamic resources in one program run (issue 17).

The SDK's ``serialize_provider`` leaves one more wrapper around ``pickle._Pickler._batch_setitems``
after every dynamic resource registration, so about 970 registrations in one process end in
``RecursionError`` (docs/sdk-pickler-recursion.md). ``components/windmill/pickling.py`` puts the
pickler back after each registration of the project's resources; these tests show the SDK's
behaviour, that the project's registrations no longer inherit it, and that what is serialized
is unchanged and loads in a fresh process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pulumi
import pulumi.dynamic
import pytest
from pulumi.dynamic import dynamic
from pulumi.dynamic.dynamic import serialize_provider

from components.windmill.folders import Folder, FolderArgs, FolderProvider
from components.windmill.groups import Group, GroupArgs, GroupProvider
from components.windmill.members import Member, MemberArgs, MemberProvider
from components.windmill.pickling import GUARD_STATS, PicklerSnapshot, pickler_left_as_found
from components.windmill.readiness import ReadinessGate, ReadinessGateProvider
from components.windmill.resource_types import ResourceType, ResourceTypeArgs, ResourceTypeProvider
from components.windmill.resources import Resource, ResourceArgs, ResourceProvider
from components.windmill.tokens import Token, TokenArgs, TokenProvider
from components.windmill.variables import Variable, VariableArgs, VariableProvider
from components.windmill.workspaces import Workspace, WorkspaceArgs, WorkspaceProvider
from testkit.mocking import MockEnvironment, install_mocks, unwrap_secrets
from testkit.pickler_probe import dict_pickling_depth, sdk_serializer_that_restores_the_pickler
from testkit.provider_host import ROOT

VARIABLE = "pulumi-python:dynamic/windmill:Variable"
RESOURCE = "pulumi-python:dynamic/windmill:Resource"
WORKSPACE = "bulk"
PROVIDER_KEY = "__provider"

# One of each of the project's dynamic resources, built from its index so names stay unique.
KINDS: dict[type, Callable[[int], pulumi.CustomResource]] = {
    WorkspaceProvider: lambda i: Workspace(f"ws-{i}", WorkspaceArgs(f"ws-{i}", f"Workspace {i}")),
    FolderProvider: lambda i: Folder(f"folder-{i}", FolderArgs(WORKSPACE, f"folder_{i}")),
    GroupProvider: lambda i: Group(f"group-{i}", GroupArgs(WORKSPACE, f"group_{i}")),
    MemberProvider: lambda i: Member(f"member-{i}", MemberArgs(WORKSPACE, f"m{i}@example.com")),
    VariableProvider: lambda i: Variable(f"var-{i}", VariableArgs(WORKSPACE, f"f/kinds/var_{i}", "v")),
    ResourceProvider: lambda i: Resource(f"res-{i}", ResourceArgs(WORKSPACE, f"f/kinds/res_{i}", "c_t", {})),
    ResourceTypeProvider: lambda i: ResourceType(f"type-{i}", ResourceTypeArgs(WORKSPACE, f"c_type_{i}")),
    TokenProvider: lambda i: Token(f"token-{i}", TokenArgs(f"label-{i}", WORKSPACE)),
    ReadinessGateProvider: lambda i: ReadinessGate(f"gate-{i}", url="http://windmill.test"),
}


class BareSdkResource(pulumi.dynamic.Resource, module="test", name="Bare"):
    """A dynamic resource straight from the SDK, without the project's guard."""


@pytest.fixture(autouse=True)
def pickler_put_back() -> Iterator[None]:
    """Some tests leak the SDK's patch on purpose (or fail half way): later tests get the pickler as it was."""
    before = PicklerSnapshot.take()
    yield
    before.restore()


def run_program(build: Callable[[], None]) -> MockEnvironment:
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root Stack: claims and exports of earlier runs stay there
    env = install_mocks()

    @pulumi.runtime.test
    def program() -> None:
        build()

    program()
    return env


def test_5000_dynamic_resources_register_in_one_program_run() -> None:
    # The scenario of issue 17: secret variables and resources that reference them.
    count = 2_500
    depth_before = dict_pickling_depth()

    def build() -> None:
        for i in range(count):
            Variable(f"secret-{i}", VariableArgs(WORKSPACE, f"f/bulk/secret_{i}", f"value-{i}"))
            Resource(
                f"resource-{i}",
                ResourceArgs(WORKSPACE, f"f/bulk/resource_{i}", "c_bulk", {"token": f"$var:f/bulk/secret_{i}"}),
            )

    started = time.perf_counter()
    env = run_program(build)
    seconds = time.perf_counter() - started
    print(f"\n{2 * count} registrations in {seconds:.1f} s ({2 * count / seconds:.0f} per second)")

    assert len(env.find(VARIABLE)) == count and len(env.find(RESOURCE)) == count
    last = env.one(RESOURCE, f"resource-{count - 1}")
    assert unwrap_secrets(last.inputs)["value"] == {"token": f"$var:f/bulk/secret_{count - 1}"}
    assert dict_pickling_depth() == depth_before
    # Generous: about 20-40 s on the shared 2-core machine; a quadratic cost would blow through it.
    assert seconds < 180


def test_the_sdk_serializer_leaves_the_pickler_one_call_deeper_per_registration() -> None:
    # The SDK behaviour the project guards against (pulumi 3.272.0). When this fails, the SDK
    # restores the pickler itself: components/windmill/pickling.py and its two decorators can go.
    depths: list[int] = []

    def build() -> None:
        for i in range(3):
            BareSdkResource(VariableProvider(), f"bare-{i}", {})
            depths.append(dict_pickling_depth())

    start = dict_pickling_depth()
    run_program(build)
    assert depths == [start + 1, start + 2, start + 3], "the SDK no longer leaks its pickler patch"


def test_each_project_registration_leaves_the_pickler_exactly_as_it_found_it() -> None:
    # Fails when the guard is removed from WindmillResource or ReadinessGate.
    seen: dict[str, tuple[int, list[str]]] = {}

    def build() -> None:
        for i, (provider_class, make) in enumerate(KINDS.items()):
            before, depth = PicklerSnapshot.take(), dict_pickling_depth()
            make(i)
            changed = PicklerSnapshot.take().changes_since(before)
            seen[provider_class.__name__] = (dict_pickling_depth() - depth, changed)

    run_program(build)
    assert seen == {provider_class.__name__: (0, []) for provider_class in KINDS}


def test_with_an_sdk_that_no_longer_leaks_registrations_detect_nothing_and_serialize_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = [serialize_provider_as_found(c()) for c in KINDS]
    monkeypatch.setattr(dynamic, "serialize_provider", sdk_serializer_that_restores_the_pickler)
    registrations, leaking = GUARD_STATS.registrations, GUARD_STATS.leaking_registrations
    env = run_program(lambda: [make(i) for i, make in enumerate(KINDS.values())])
    assert GUARD_STATS.registrations == registrations + len(KINDS)
    assert GUARD_STATS.leaking_registrations == leaking
    blobs = [unwrap_secrets(r.inputs)[PROVIDER_KEY] for r in env.registrations if PROVIDER_KEY in r.inputs]
    assert sorted(blobs) == sorted(expected)


def serialize_provider_as_found(provider: pulumi.dynamic.ResourceProvider) -> str:
    with pickler_left_as_found():
        return serialize_provider(provider)


def test_guarded_registrations_serialize_the_same_bytes_the_sdk_does_and_they_load_in_a_fresh_process() -> None:
    # Leave the pickler deep, as a process that registered without the guard would, then register.
    for _ in range(25):
        serialize_provider(VariableProvider())
    env = run_program(lambda: [make(i) for i, make in enumerate(KINDS.values())])
    blobs = [unwrap_secrets(r.inputs)[PROVIDER_KEY] for r in env.registrations if PROVIDER_KEY in r.inputs]
    assert len(blobs) == len(KINDS)

    # A fresh process loads each blob and serializes its class once with a clean pickler.
    script = (
        "import base64, json, sys, dill\n"
        "from pulumi.dynamic.dynamic import serialize_provider\n"
        "answer = []\n"
        "for blob in json.loads(sys.argv[1]):\n"
        "    provider = dill.loads(base64.b64decode(blob))\n"
        "    answer.append([type(provider).__name__, serialize_provider(type(provider)())])\n"
        "print(json.dumps(answer))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(blobs)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    answer: list[list[str]] = json.loads(result.stdout)
    assert sorted(name for name, _ in answer) == sorted(c.__name__ for c in KINDS)
    assert [fresh for _, fresh in answer] == blobs
    # The SDK without the guard, in this process with its deep pickler, gives the same bytes too.
    by_name = dict(answer)
    assert all(serialize_provider(c()) == by_name[c.__name__] for c in KINDS)
