"""Every provider survives the SDK's serializer, loads in a fresh process, and carries no token."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from components.windmill.folders import FolderProvider
from components.windmill.groups import GroupProvider
from components.windmill.members import MemberProvider
from components.windmill.readiness import ReadinessGateProvider
from components.windmill.resource_types import ResourceTypeProvider
from components.windmill.resources import ResourceProvider
from components.windmill.tokens import TokenProvider
from components.windmill.variables import VariableProvider
from components.windmill.workspaces import WorkspaceProvider
from testkit.provider_host import ROOT

PROVIDERS = [
    WorkspaceProvider, FolderProvider, GroupProvider, MemberProvider, VariableProvider, ResourceProvider,
    ResourceTypeProvider, ReadinessGateProvider, TokenProvider,
]
TOKEN = "serialization-test-token-4f9a1c"


@pytest.mark.parametrize("provider_class", PROVIDERS, ids=lambda c: c.__name__)
def test_provider_is_pickled_by_reference_and_loads_in_a_fresh_process(provider_class: type) -> None:
    blob = serialize_provider(provider_class())
    raw = base64.b64decode(blob)
    assert provider_class.__module__.encode() in raw  # by reference: module + class name, no bytecode
    assert len(raw) < 400
    script = (
        "import base64, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.argv[1]))\n"
        "print(type(provider).__module__, type(provider).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, blob], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == [provider_class.__module__, provider_class.__name__]


@pytest.mark.parametrize("provider_class", PROVIDERS, ids=lambda c: c.__name__)
def test_a_configured_provider_keeps_nothing_of_the_stack_config(provider_class: type) -> None:
    """The engine configures every provider with the stack config; the connection comes from the
    resource's inputs only, so nothing of it (a token least of all) may reach the blob."""
    provider = provider_class()
    provider.configure(ConfigureRequest(Config(
        {"homeops-windmill:windmillUrl": "http://windmill.test", "homeops-windmill:windmillToken": TOKEN},
        "homeops-windmill",
    )))
    raw = base64.b64decode(serialize_provider(provider))
    assert TOKEN.encode() not in raw
    assert b"windmill.test" not in raw
    assert vars(provider) == {}


def test_resource_blobs_are_identical_across_instances_so_there_is_no_spurious_provider_diff() -> None:
    assert serialize_provider(VariableProvider()) == serialize_provider(VariableProvider())
