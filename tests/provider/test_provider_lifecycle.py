"""The full lifecycle of every Windmill resource through the SDK's real provider host (gRPC),
against the emulator: Configure, Check, Create, Diff, Update, Read, Delete, Read after delete, and
previews with unknown values."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pulumi.runtime.proto import provider_pb2 as pb

from components.windmill.folders import FolderProvider
from components.windmill.groups import GroupProvider
from components.windmill.members import MemberProvider
from components.windmill.resource_types import ResourceTypeProvider
from components.windmill.resources import ResourceProvider
from components.windmill.variables import VariableProvider
from components.windmill.workspaces import WorkspaceProvider
from testkit.provider_host import UNKNOWN, Engine, ProviderError, ProviderHost
from windmill_emulator import WindmillEmulator

WS = "lifecycle"


@pytest.fixture
def engine(windmill: WindmillEmulator) -> Iterator[Engine]:
    host = ProviderHost()
    host.configure({})
    try:
        yield Engine(host, connection={"api_url": windmill.url, "api_token": windmill.admin_token})
    finally:
        host.close()


@pytest.fixture
def api(windmill: WindmillEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=windmill.url + "/api",
                      headers={"Authorization": f"Bearer {windmill.admin_token}"}) as client:
        yield client


@pytest.fixture
def workspace(api: httpx.Client) -> str:
    api.post("/workspaces/create", json={"id": WS, "name": "Lifecycle"}).raise_for_status()
    api.post(f"/w/{WS}/folders/create", json={"name": "ops"}).raise_for_status()
    for user in ("alice", "bob"):  # group members must be workspace members to be listed
        api.post(f"/w/{WS}/workspaces/add_user",
                 json={"email": f"{user}@example.com", "is_admin": False, "operator": False}).raise_for_status()
    return WS


@dataclass
class Case:
    """One resource kind: inputs, an in-place change, an identity change and how to look it up."""

    provider: type
    type_name: str
    inputs: dict[str, Any]
    update: dict[str, Any]
    identity: dict[str, Any]
    fetch: Callable[[httpx.Client, dict[str, Any]], Any]  # the live object, or None


def _get(path: str) -> Callable[[httpx.Client, dict[str, Any]], Any]:
    def fetch(api: httpx.Client, inputs: dict[str, Any]) -> Any:
        response = api.get(path.format(**inputs))
        return response.json() if response.status_code == 200 else None
    return fetch


def _member(api: httpx.Client, inputs: dict[str, Any]) -> Any:
    rows = api.get(f"/w/{inputs['workspace']}/users/list").json()
    return next((r for r in rows if r["email"] == inputs["email"]), None)


CASES = [
    Case(FolderProvider, "Folder", {"workspace": WS, "name": "infra", "summary": "s", "owners": ["g/ops"]},
         {"summary": "changed", "extra_perms": {"g/readers": False}}, {"name": "infra2"},
         _get("/w/{workspace}/folders/get/{name}")),
    Case(GroupProvider, "Group", {"workspace": WS, "name": "team", "summary": "s", "members": ["alice"]},
         {"summary": "changed", "members": ["bob"]}, {"name": "team2"},
         _get("/w/{workspace}/groups/get/{name}")),
    Case(MemberProvider, "Member", {"workspace": WS, "email": "carol@example.com", "role": "developer"},
         {"role": "admin"}, {"email": "dave@example.com"}, _member),
    Case(VariableProvider, "Variable", {"workspace": WS, "path": "f/ops/key", "value": "s3cret-1", "is_secret": True},
         {"value": "s3cret-2", "description": "rotated"}, {"path": "f/ops/key2"},
         _get("/w/{workspace}/variables/get/{path}")),
    Case(ResourceProvider, "Resource",
         {"workspace": WS, "path": "f/ops/db", "resource_type": "postgresql", "value": {"host": "db", "port": 5432}},
         {"value": {"host": "db2", "port": 5433}, "resource_type": "c_other"}, {"path": "f/ops/db2"},
         _get("/w/{workspace}/resources/get/{path}")),
    Case(ResourceTypeProvider, "ResourceType",
         {"workspace": WS, "name": "c_thing", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}},
         {"description": "changed", "schema": {"type": "object"}}, {"name": "c_thing2"},
         _get("/w/{workspace}/resources/type/get/{name}")),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.type_name)
def test_full_lifecycle_through_the_provider_host(
    case: Case, engine: Engine, api: httpx.Client, workspace: str, windmill: WindmillEmulator
) -> None:
    urn = engine.urn(case.type_name, "item")
    created = engine.up(urn, case.provider(), case.inputs)
    assert created.op == "create"
    assert case.fetch(api, case.inputs) is not None
    assert "__provider" in created.state.outputs
    for key, value in case.inputs.items():
        assert created.state.outputs[key] == value

    # Refresh right after create finds nothing to change: no perpetual diff.
    refreshed = engine.refresh(created.state)
    assert refreshed is not None
    assert engine.preview(urn, case.provider(), case.inputs, refreshed).changes == pb.DiffResponse.DIFF_NONE

    # Nothing changed: zero requests for check and diff.
    windmill.clear_requests()
    assert engine.up(urn, case.provider(), case.inputs, refreshed).op == "same"
    assert windmill.requests == []

    # In-place update returns full outputs.
    changed = {**case.inputs, **case.update}
    updated = engine.up(urn, case.provider(), changed, refreshed)
    assert updated.op == "update"
    for key, value in changed.items():
        assert updated.state.outputs[key] == value
    assert set(created.state.outputs) <= set(updated.state.outputs)
    assert engine.refresh(updated.state) is not None
    assert engine.preview(urn, case.provider(), changed, engine.refresh(updated.state)).changes == \
        pb.DiffResponse.DIFF_NONE

    # An identity change replaces: the new object exists, the old one is gone.
    moved = {**changed, **case.identity}
    replaced = engine.up(urn, case.provider(), moved, updated.state)
    assert replaced.op == "replace" and replaced.replaces == list(case.identity)
    assert case.fetch(api, moved) is not None
    assert case.fetch(api, changed) is None

    # Delete, then read finds it gone, and a second delete still succeeds.
    engine.destroy(replaced.state)
    assert case.fetch(api, moved) is None
    assert engine.refresh(replaced.state) is None
    engine.destroy(replaced.state)


def test_workspace_lifecycle_archive_and_unarchive(engine: Engine, api: httpx.Client) -> None:
    urn = engine.urn("Workspace", "ws")
    inputs = {"workspace_id": "homeops-test", "name": "Test", "color": "#123456"}
    created = engine.up(urn, WorkspaceProvider(), inputs)
    assert created.op == "create" and created.state.id == "homeops-test"
    updated = engine.up(urn, WorkspaceProvider(), {**inputs, "name": "Renamed", "color": "#654321"}, created.state)
    assert updated.op == "update"
    info = api.get("/w/homeops-test/workspaces/get_as_superadmin").json()
    assert (info["name"], info["deleted"]) == ("Renamed", False)
    assert engine.refresh(updated.state) is not None

    # Default deletion mode archives: the data stays and refresh sees the workspace as gone.
    engine.destroy(updated.state)
    assert api.get("/w/homeops-test/workspaces/get_as_superadmin").json()["deleted"] is True
    assert engine.refresh(updated.state) is None
    # Creating it again unarchives it instead of failing.
    again = engine.up(urn, WorkspaceProvider(), inputs)
    assert again.op == "create"
    info = api.get("/w/homeops-test/workspaces/get_as_superadmin").json()
    assert (info["deleted"], info["name"]) == (False, "Test")

    # deletion_mode=delete removes it for good.
    final = engine.up(urn, WorkspaceProvider(), {**inputs, "deletion_mode": "delete"}, again.state)
    assert final.op == "update"
    engine.destroy(final.state)
    assert api.post("/workspaces/exists", json={"id": "homeops-test"}).json() is False


def test_existing_workspace_needs_adopt(engine: Engine, api: httpx.Client) -> None:
    api.post("/workspaces/create", json={"id": "handmade", "name": "By hand"}).raise_for_status()
    urn = engine.urn("Workspace", "adopted")
    with pytest.raises(ProviderError, match=r"already exists and is not managed by this stack.*adopt=true"):
        engine.up(urn, WorkspaceProvider(), {"workspace_id": "handmade", "name": "Managed"})
    adopted = engine.up(urn, WorkspaceProvider(), {"workspace_id": "handmade", "name": "Managed", "adopt": True})
    assert adopted.op == "create"
    assert api.get("/w/handmade/workspaces/get_as_superadmin").json()["name"] == "Managed"


def test_preview_with_unknown_values_decides_conservatively(
    engine: Engine, workspace: str, windmill: WindmillEmulator
) -> None:
    urn = engine.urn("Variable", "v")
    inputs = {"workspace": WS, "path": "f/ops/v", "value": "x"}
    state = engine.up(urn, VariableProvider(), inputs).state
    windmill.clear_requests()
    diff = engine.preview(urn, VariableProvider(), {**inputs, "path": UNKNOWN}, state)
    assert diff.changes == pb.DiffResponse.DIFF_SOME and list(diff.replaces) == ["path"]
    diff = engine.preview(urn, VariableProvider(), {**inputs, "value": UNKNOWN}, state)
    assert diff.changes == pb.DiffResponse.DIFF_SOME and list(diff.replaces) == []
    assert windmill.requests == []  # previews make no request


def test_check_failures_come_back_through_the_host_naming_the_field(engine: Engine) -> None:
    news = {"workspace": WS, "path": "not/a-valid path", "value": "x",
            "__provider": engine.blob(VariableProvider())}
    outcome = engine.host.check(engine.urn("Variable", "bad"), {}, news)
    assert [p for p, _ in outcome.failures] == ["path"]
    assert "f/<folder>/<name>" in outcome.failures[0][1]


def test_without_connection_inputs_the_call_fails_naming_the_input_and_stack_config_is_not_read(
    windmill: WindmillEmulator, workspace: str
) -> None:
    with ProviderHost() as host:
        # The engine hands every provider the stack config; the provider must not take a URL or token from it.
        host.configure({"windmillUrl": windmill.url, "windmillToken": windmill.admin_token})
        with pytest.raises(ProviderError, match=r"api_url input is empty.*pulumi config set windmillUrl"):
            Engine(host).up(Engine.urn("Folder", "f"), FolderProvider(), {"workspace": WS, "name": "x"})
        with pytest.raises(ProviderError, match="api_token input is empty"):
            Engine(host, connection={"api_url": windmill.url}).up(
                Engine.urn("Folder", "f"), FolderProvider(), {"workspace": WS, "name": "x"})


def test_the_connection_inputs_are_the_one_source(windmill: WindmillEmulator, workspace: str) -> None:
    with ProviderHost() as host:
        host.configure({"windmillUrl": "http://127.0.0.1:9", "windmillToken": "wrong"})
        connection = {"api_url": windmill.url, "api_token": windmill.admin_token, "api_read_timeout_seconds": 12}
        engine = Engine(host, connection=connection)
        created = engine.up(Engine.urn("Folder", "f"), FolderProvider(), {"workspace": WS, "name": "viainputs"})
        assert created.op == "create"
        assert created.state.outputs["windmill_kind"] == "folder"
        assert created.state.outputs["api_read_timeout_seconds"] == 12
        assert created.state.outputs["api_connect_timeout_seconds"] == 5  # the declared default
        # A new timeout or token is an in-place update that makes no request.
        windmill.clear_requests()
        engine.connection["api_read_timeout_seconds"] = 20
        updated = engine.up(Engine.urn("Folder", "f"), FolderProvider(), {"workspace": WS, "name": "viainputs"},
                            created.state)
        assert updated.op == "update" and updated.state.outputs["api_read_timeout_seconds"] == 20
        assert windmill.requests == []


def _tokens(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get("/users/tokens/list").json())


def test_token_lifecycle_scoping_rotation_and_lost_responses(
    engine: Engine, api: httpx.Client, workspace: str, windmill: WindmillEmulator
) -> None:
    from components.windmill.tokens import TokenProvider

    urn = engine.urn("Token", "sync")
    inputs = {"label": "github-sync lifecycle", "workspace": WS}
    windmill.inject_fault("POST", "/api/users/tokens/create", drop="after")  # the only copy of the value is lost
    created = engine.up(urn, TokenProvider(), inputs)
    token = created.state.outputs["token"]
    assert created.state.id == token[:10] == created.state.outputs["token_prefix"]
    mine = [t for t in _tokens(api) if t["label"].startswith("github-sync lifecycle")]
    assert [t["token_prefix"] for t in mine] == [token[:10]]  # the lost one was deleted, not orphaned

    # The token works on its workspace only.
    with httpx.Client(base_url=windmill.url + "/api", headers={"Authorization": f"Bearer {token}"}) as scoped:
        assert scoped.get(f"/w/{WS}/folders/list").status_code == 200
        assert scoped.get("/workspaces/list").status_code == 401

    refreshed = engine.refresh(created.state)
    assert refreshed is not None and refreshed.outputs["token"] == token
    assert engine.preview(urn, TokenProvider(), inputs, refreshed).changes == pb.DiffResponse.DIFF_NONE

    # Any change replaces: the new token exists before the old one is deleted.
    rotated = engine.up(urn, TokenProvider(), {**inputs, "label": "github-sync rotated"}, refreshed)
    assert rotated.op == "replace" and rotated.replaces == ["label"]
    prefixes = {t["token_prefix"] for t in _tokens(api)}
    assert rotated.state.outputs["token_prefix"] in prefixes and token[:10] not in prefixes

    # Deleted in Windmill: refresh drops it, the next up creates a new one.
    api.delete(f"/users/tokens/delete/{rotated.state.outputs['token_prefix']}").raise_for_status()
    assert engine.refresh(rotated.state) is None
    engine.destroy(rotated.state)  # deleting what is already gone succeeds


def test_an_expired_token_reads_as_gone(engine: Engine, workspace: str) -> None:
    from components.windmill.tokens import TokenProvider

    created = engine.up(engine.urn("Token", "old"), TokenProvider(),
                        {"label": "expired", "workspace": WS, "expiration": "2020-01-01T00:00:00Z"})
    assert engine.refresh(created.state) is None
