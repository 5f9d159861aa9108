"""Adoption through the SDK's real provider host: a create that finds its object already in Windmill.

Every kind that can be orphaned (everything but tokens, whose value Windmill shows only once) follows
one rule, written once in ``base.WindmillProvider``: matching content is taken over with no write;
different content is refused with the differing fields named, unless ``adopt`` is set, and then only
those fields are written. Nothing is ever deleted or created again, and the objects here were made by
hand by another user, as in a workspace set up through the UI.
"""

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
from components.windmill.schedules import ScheduleProvider
from components.windmill.variables import VariableProvider
from components.windmill.workspace_settings import WorkspaceSettingsProvider
from components.windmill.workspaces import WorkspaceProvider
from testkit.provider_host import Engine, ProviderError, ProviderHost
from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import deploy_script

WS = "handmade"
OWNER = "ops@example.com"  # a superadmin who is not the provider's user: they set the workspace up
SECRET = "hand-typed-secret-7d21"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    with ProviderHost() as started:
        started.configure({})
        yield started


@dataclass
class Site:
    """The emulator with a workspace another user filled by hand, and the provider's engine."""

    windmill: WindmillEmulator
    engine: Engine
    owner: httpx.Client  # the API as the user who set the workspace up

    def mutations(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.windmill.requests if r.method in MUTATING]


@pytest.fixture
def site(host: ProviderHost, windmill_ee: WindmillEmulator) -> Iterator[Site]:
    windmill = windmill_ee  # no CE workspace limit: the tests make a second workspace of their own
    windmill.add_instance_user(OWNER, super_admin=True)
    for user in ("alice", "bob"):
        windmill.add_instance_user(f"{user}@example.com")
    owner = httpx.Client(base_url=windmill.url + "/api",
                         headers={"Authorization": f"Bearer {windmill.create_token(OWNER)}"})
    owner.post("/workspaces/create", json={"id": WS, "name": "By hand", "color": "#112233"}).raise_for_status()
    for user, admin in (("alice", True), ("bob", False)):
        owner.post(f"/w/{WS}/workspaces/add_user",
                   json={"email": f"{user}@example.com", "is_admin": admin, "operator": False}).raise_for_status()
    owner.post(f"/w/{WS}/groups/create", json={"name": "team", "summary": "The team"}).raise_for_status()
    owner.post(f"/w/{WS}/groups/adduser/team", json={"username": "alice"}).raise_for_status()
    owner.post(f"/w/{WS}/folders/create", json={"name": "ops", "summary": "Operations", "owners": ["g/team"],
                                                "extra_perms": {"u/bob": False}}).raise_for_status()
    owner.post(f"/w/{WS}/resources/type/create", json={"name": "c_thing", "description": "A thing",
                                                       "schema": {"type": "object"}}).raise_for_status()
    owner.post(f"/w/{WS}/variables/create", json={"path": "f/ops/key", "value": SECRET, "is_secret": True,
                                                  "description": "The key"}).raise_for_status()
    owner.post(f"/w/{WS}/variables/create", json={"path": "f/ops/region", "value": "eu", "is_secret": False,
                                                  "description": ""}).raise_for_status()
    owner.post(f"/w/{WS}/resources/create", json={"path": "f/ops/db", "resource_type": "postgresql",
                                                  "value": {"host": "db", "port": 5432, "password": "$var:f/ops/key"},
                                                  "description": "Database"}).raise_for_status()
    deploy_script(windmill, WS, "f/ops/job")
    owner.post(f"/w/{WS}/schedules/create", json={"path": "f/ops/nightly", "schedule": "0 0 3 * * *",
                                                  "timezone": "UTC", "script_path": "f/ops/job", "is_flow": False,
                                                  "args": {}, "enabled": True}).raise_for_status()
    owner.post(f"/w/{WS}/workspaces/edit_webhook", json={"webhook": "https://hooks.example/w"}).raise_for_status()
    windmill.clear_requests()
    try:
        yield Site(windmill, Engine(host, connection={"api_url": windmill.url, "api_token": windmill.admin_token}),
                   owner)
    finally:
        owner.close()


@dataclass
class Case:
    """One kind: the declaration of what the site holds, a field declared differently, and a lookup."""

    provider: type
    type_name: str
    matching: dict[str, Any]
    different: dict[str, Any]
    fetch: Callable[[httpx.Client], Any]
    singleton: bool = False  # always exists (workspace settings): a create without adopt simply writes


def _get(path: str) -> Callable[[httpx.Client], Any]:
    return lambda api: api.get(path).json()


def _member(api: httpx.Client) -> Any:
    return next(m for m in api.get(f"/w/{WS}/users/list").json() if m["email"] == "bob@example.com")


CASES = [
    Case(WorkspaceProvider, "Workspace", {"workspace_id": WS, "name": "By hand", "color": "#112233"},
         {"name": "Renamed"}, _get(f"/w/{WS}/workspaces/get_as_superadmin")),
    Case(FolderProvider, "Folder", {"workspace": WS, "name": "ops", "summary": "Operations",
                                    "owners": ["g/team"], "extra_perms": {"u/bob": False}},
         {"summary": "Renamed"}, _get(f"/w/{WS}/folders/get/ops")),
    Case(GroupProvider, "Group", {"workspace": WS, "name": "team", "summary": "The team", "members": ["alice"]},
         {"members": ["alice", "bob"]}, _get(f"/w/{WS}/groups/get/team")),
    Case(MemberProvider, "Member", {"workspace": WS, "email": "bob@example.com", "role": "developer"},
         {"role": "operator"}, _member),
    Case(ResourceTypeProvider, "ResourceType", {"workspace": WS, "name": "c_thing", "description": "A thing",
                                                "schema": {"type": "object"}},
         {"description": "Renamed"}, _get(f"/w/{WS}/resources/type/get/c_thing")),
    Case(VariableProvider, "Variable", {"workspace": WS, "path": "f/ops/region", "value": "eu", "is_secret": False},
         {"value": "us"}, _get(f"/w/{WS}/variables/get/f/ops/region")),
    Case(VariableProvider, "SecretVariable", {"workspace": WS, "path": "f/ops/key", "value": SECRET,
                                              "is_secret": True, "description": "The key"},
         {"description": "Renamed"}, _get(f"/w/{WS}/variables/get/f/ops/key?decrypt_secret=false")),
    Case(ResourceProvider, "Resource", {"workspace": WS, "path": "f/ops/db", "resource_type": "postgresql",
                                        "description": "Database",
                                        "value": {"host": "db", "port": 5432, "password": "$var:f/ops/key"}},
         {"value": {"host": "db2", "port": 5432, "password": "$var:f/ops/key"}},
         _get(f"/w/{WS}/resources/get/f/ops/db")),
    Case(ScheduleProvider, "Schedule", {"workspace": WS, "path": "f/ops/nightly", "schedule": "0 0 3 * * *",
                                        "script_path": "f/ops/job", "enabled": True},
         {"summary": "Nightly"}, _get(f"/w/{WS}/schedules/get/f/ops/nightly")),
    Case(WorkspaceSettingsProvider, "WorkspaceSettings", {"workspace": WS, "webhook": "https://hooks.example/w"},
         {"webhook": "https://hooks.example/other"}, _get(f"/w/{WS}/workspaces/get_settings"), singleton=True),
]
IDS = [c.type_name for c in CASES]
REFUSABLE = [c for c in CASES if not c.singleton]


def _type(case: Case) -> str:
    return "Variable" if case.type_name == "SecretVariable" else case.type_name


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_adopt_takes_over_a_matching_object_without_a_single_write(case: Case, site: Site) -> None:
    before = case.fetch(site.owner)
    urn = site.engine.urn(_type(case), "adopted")
    created = site.engine.up(urn, case.provider(), {**case.matching, "adopt": True})
    assert created.op == "create"
    assert created.state.outputs["adopted"] is True
    assert site.mutations() == []  # looked up first: no create sent, nothing written
    assert case.fetch(site.owner) == before
    # State now matches Windmill: refresh and the next preview find nothing to do.
    refreshed = site.engine.refresh(created.state)
    assert refreshed is not None and refreshed.outputs["adopted"] is True
    diff = site.engine.preview(urn, case.provider(), {**case.matching, "adopt": True}, refreshed)
    assert diff.changes == pb.DiffResponse.DIFF_NONE


@pytest.mark.parametrize("case", REFUSABLE[1:], ids=[c.type_name for c in REFUSABLE[1:]])
def test_without_adopt_a_create_that_meets_matching_content_counts_as_success(case: Case, site: Site) -> None:
    before = case.fetch(site.owner)
    created = site.engine.up(site.engine.urn(_type(case), "retried"), case.provider(), case.matching)
    assert created.state.outputs["adopted"] is True
    # The one mutating request is the create Windmill refused with "already exists".
    assert len(site.mutations()) == 1 and all(r.status == 400 for r in site.windmill.requests if r.method == "POST")
    assert case.fetch(site.owner) == before


@pytest.mark.parametrize("case", REFUSABLE, ids=[c.type_name for c in REFUSABLE])
def test_without_adopt_different_content_is_refused_naming_the_fields_only(case: Case, site: Site) -> None:
    before = case.fetch(site.owner)
    with pytest.raises(ProviderError) as refused:
        site.engine.up(site.engine.urn(_type(case), "refused"), case.provider(), {**case.matching, **case.different})
    message = refused.value.details
    assert "adopt" in message
    if case.provider is not WorkspaceProvider:
        assert f"another {' and '.join(sorted(case.different))} than declared" in message
    assert SECRET not in message
    assert case.fetch(site.owner) == before  # nothing written, nothing deleted


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_adopt_writes_only_the_fields_declared_differently(case: Case, site: Site) -> None:
    wanted = {**case.matching, **case.different, "adopt": True}
    urn = site.engine.urn(_type(case), "rewritten")
    created = site.engine.up(urn, case.provider(), wanted)
    assert created.state.outputs["adopted"] is True
    mutations = site.mutations()
    assert mutations and not any("create" in m or m.startswith("DELETE") for m in mutations), mutations
    refreshed = site.engine.refresh(created.state)
    assert refreshed is not None
    for key, value in case.different.items():
        assert refreshed.outputs[key] == value
    assert site.engine.preview(urn, case.provider(), wanted, refreshed).changes == pb.DiffResponse.DIFF_NONE


def test_adopting_a_folder_keeps_its_creator_as_owner(site: Site) -> None:
    wanted = {**CASES[1].matching, "summary": "Renamed", "adopt": True}
    site.engine.up(site.engine.urn("Folder", "f"), FolderProvider(), wanted)
    folder = site.owner.get(f"/w/{WS}/folders/get/ops").json()
    assert folder["summary"] == "Renamed"
    assert sorted(folder["owners"]) == ["g/team", "u/ops"]  # the creator's ownership was not declared away


def test_adopting_a_group_keeps_the_creators_membership(site: Site) -> None:
    wanted = {**CASES[2].matching, "members": ["bob"], "adopt": True}
    site.engine.up(site.engine.urn("Group", "g"), GroupProvider(), wanted)
    members = site.owner.get(f"/w/{WS}/groups/get/team").json()["members"]
    assert sorted(members) == ["bob", "ops"]  # alice removed as declared; the creator stays


def test_a_secret_is_compared_by_value_and_never_leaks(site: Site, host: ProviderHost) -> None:
    urn = site.engine.urn("Variable", "secret")
    with pytest.raises(ProviderError) as refused:
        site.engine.up(urn, VariableProvider(), {**CASES[6].matching, "value": "another-secret-9a"})
    assert "another value than declared" in refused.value.details
    assert "another-secret-9a" not in refused.value.details and SECRET not in refused.value.details
    rotated = site.engine.up(urn, VariableProvider(), {**CASES[6].matching, "value": "another-secret-9a",
                                                       "adopt": True})
    stored = site.owner.get(f"/w/{WS}/variables/get/f/ops/key", params={"decrypt_secret": "false",
                                                                         "include_encrypted": "true"}).json()
    assert rotated.state.outputs["encrypted_value"] == stored["value"]  # refresh will see later writes
    assert site.owner.get(f"/w/{WS}/variables/get_value/f/ops/key").json() == "another-secret-9a"
    assert SECRET not in host.logs() and "another-secret-9a" not in host.logs()


def test_a_workspace_is_taken_over_without_adopt_only_when_the_callers_own(site: Site) -> None:
    # Someone else's workspace with the declared name and colour still needs adopt: it holds far more.
    with pytest.raises(ProviderError, match=r"already exists and is not managed by this stack"):
        site.engine.up(site.engine.urn("Workspace", "w"), WorkspaceProvider(), CASES[0].matching)
    # A workspace the token's own user created (what a create whose answer was lost leaves) is.
    site.engine.up(site.engine.urn("Workspace", "mine"), WorkspaceProvider(), {"workspace_id": "mine", "name": "M"})
    again = site.engine.up(site.engine.urn("Workspace", "mine2"), WorkspaceProvider(),
                           {"workspace_id": "mine", "name": "M"})
    assert again.state.outputs["adopted"] is True


def test_tokens_are_not_adoptable(site: Site) -> None:
    from components.windmill.tokens import TokenProvider

    assert not TokenProvider().adoptable  # Windmill shows a token's value once: an existing one is useless
    assert all(case.provider().adoptable for case in CASES)


def test_at_the_community_edition_limit_an_existing_workspace_is_still_found(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    # CE counts workspaces before it looks for the id: at two, re-creating one answers with the limit.
    engine = Engine(host, connection={"api_url": windmill.url, "api_token": windmill.admin_token})
    for ws in ("one", "two"):
        engine.up(engine.urn("Workspace", ws), WorkspaceProvider(), {"workspace_id": ws, "name": ws})
    windmill.clear_requests()
    adopted = engine.up(engine.urn("Workspace", "a"), WorkspaceProvider(),
                        {"workspace_id": "two", "name": "two", "adopt": True})
    assert adopted.state.outputs["adopted"] is True
    assert [r for r in windmill.requests if r.method != "GET"] == []  # looked up, never created
    retried = engine.up(engine.urn("Workspace", "b"), WorkspaceProvider(), {"workspace_id": "two", "name": "two"})
    assert retried.state.outputs["adopted"] is True  # the caller's own, as a lost create answer leaves it
