"""Faults on every operation, through the real provider host: a 503, a dropped connection before
the server acted, and a response lost after it acted all end with exactly one object and correct
state; a permanent error surfaces with a clear message and leaves no orphan. Nothing secret reaches
an error message or the host's log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from components.windmill.client import RETRY_SECONDS_ENV
from components.windmill.folders import FolderProvider
from components.windmill.variables import VariableProvider
from testkit.provider_host import Engine, ProviderError, ProviderHost
from windmill_emulator import WindmillEmulator

WS = "faults"
SECRET = "never-show-this-secret-91f2"
FAULTS: list[dict[str, Any]] = [
    {"status": 503},
    {"drop": True},
    {"drop": "after"},
]
FAULT_IDS = ["503", "dropped", "response-lost"]


@pytest.fixture
def host() -> Iterator[ProviderHost]:
    with ProviderHost() as host:
        host.configure({})
        yield host


@pytest.fixture
def engine(host: ProviderHost, windmill: WindmillEmulator) -> Engine:
    return Engine(host, connection={"api_url": windmill.url, "api_token": windmill.admin_token})


@pytest.fixture
def api(windmill: WindmillEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=windmill.url + "/api",
                      headers={"Authorization": f"Bearer {windmill.admin_token}"}) as client:
        client.post("/workspaces/create", json={"id": WS, "name": "Faults"}).raise_for_status()
        client.post(f"/w/{WS}/folders/create", json={"name": "ops"}).raise_for_status()
        yield client


def variables(api: httpx.Client) -> list[str]:
    return [v["path"] for v in api.get(f"/w/{WS}/variables/list").json()]


def assert_no_secret_leaked(host: ProviderHost, windmill: WindmillEmulator, *texts: str) -> None:
    for text in (*texts, host.logs()):
        assert SECRET not in text
        assert windmill.admin_token not in text


INPUTS = {"workspace": WS, "path": "f/ops/api_key", "value": SECRET, "is_secret": True}


@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_create_survives_a_fault_with_exactly_one_object(
    fault: dict[str, Any], host: ProviderHost, engine: Engine, api: httpx.Client, windmill: WindmillEmulator
) -> None:
    windmill.inject_fault("POST", f"/api/w/{WS}/variables/create", **fault)
    created = engine.up(Engine.urn("Variable", "v"), VariableProvider(), INPUTS)
    assert variables(api) == ["f/ops/api_key"]
    assert created.state.outputs["encrypted_value"] == windmill.raw_variable(WS, "f/ops/api_key")["value"]
    creates = [r for r in windmill.requests if r.method == "POST" and r.path.endswith("/variables/create")]
    assert len(creates) == (1 if fault.get("drop") == "after" else 2)  # never re-sent once it landed
    assert_no_secret_leaked(host, windmill)


@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_update_read_and_delete_survive_a_fault(
    fault: dict[str, Any], host: ProviderHost, engine: Engine, api: httpx.Client, windmill: WindmillEmulator
) -> None:
    urn = Engine.urn("Variable", "v")
    state = engine.up(urn, VariableProvider(), INPUTS).state

    windmill.inject_fault("POST", f"/api/w/{WS}/variables/update/*", **fault)
    updated = engine.up(urn, VariableProvider(), {**INPUTS, "description": "after fault"}, state)
    assert updated.op == "update"
    assert api.get(f"/w/{WS}/variables/get/f/ops/api_key").json()["description"] == "after fault"

    windmill.inject_fault("GET", f"/api/w/{WS}/variables/get/*", **fault)
    refreshed = engine.refresh(updated.state)
    assert refreshed is not None and refreshed.outputs["value"] == SECRET

    windmill.inject_fault("DELETE", f"/api/w/{WS}/variables/delete/*", **fault)
    engine.destroy(refreshed)
    assert variables(api) == []
    assert_no_secret_leaked(host, windmill)


@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_folder_create_and_update_survive_a_fault(
    fault: dict[str, Any], host: ProviderHost, engine: Engine, api: httpx.Client, windmill: WindmillEmulator
) -> None:
    urn = Engine.urn("Folder", "f")
    windmill.inject_fault("POST", f"/api/w/{WS}/folders/create", **fault)
    state = engine.up(urn, FolderProvider(), {"workspace": WS, "name": "team"}).state
    assert sorted(f["name"] for f in api.get(f"/w/{WS}/folders/list").json()) == ["ops", "team"]
    windmill.inject_fault("POST", f"/api/w/{WS}/folders/update/team", **fault)
    engine.up(urn, FolderProvider(), {"workspace": WS, "name": "team", "summary": "ok"}, state)
    assert api.get(f"/w/{WS}/folders/get/team").json()["summary"] == "ok"


def test_a_permanent_error_is_clear_and_leaves_no_orphan(
    host: ProviderHost, engine: Engine, api: httpx.Client, windmill: WindmillEmulator
) -> None:
    windmill.inject_fault(
        "POST", f"/api/w/{WS}/variables/create", status=400,
        body=f"Bad request: value {SECRET} rejected by policy", times=1,
    )
    with pytest.raises(ProviderError) as caught:
        engine.up(Engine.urn("Variable", "v"), VariableProvider(), INPUTS)
    details = caught.value.details
    assert "POST /w/faults/variables/create failed (HTTP 400)" in details
    assert "rejected by policy" in details
    assert variables(api) == []
    assert_no_secret_leaked(host, windmill, details)


def test_an_outage_longer_than_the_retry_budget_fails_clearly(host: ProviderHost, engine: Engine,
                                                             windmill: WindmillEmulator,
                                                             api: httpx.Client) -> None:
    # The server announces the outage lasts longer than the 30 s budget: no point waiting for it.
    windmill.inject_fault("*", f"/api/w/{WS}/variables/*", status=503, times=100, headers={"Retry-After": "600"})
    with pytest.raises(ProviderError) as caught:
        engine.up(Engine.urn("Variable", "v"), VariableProvider(), INPUTS)
    assert "HTTP 503" in caught.value.details
    assert "Retry-After" in caught.value.details and "retry budget" in caught.value.details
    assert len([r for r in windmill.requests if r.path.endswith("/variables/create")]) == 1
    assert_no_secret_leaked(host, windmill, caught.value.details)


def test_more_failures_than_the_old_five_attempts_are_ridden_out_within_the_budget(
    host: ProviderHost, engine: Engine, windmill: WindmillEmulator, api: httpx.Client
) -> None:
    # Rate limited seven times in a row (Retry-After: 0): the budget is time, not five attempts.
    windmill.inject_fault("POST", f"/api/w/{WS}/variables/create", status=429, times=7, headers={"Retry-After": "0"})
    created = engine.up(Engine.urn("Variable", "v"), VariableProvider(), INPUTS)
    assert created.op == "create" and variables(api) == ["f/ops/api_key"]
    assert "429" in host.logs() and "Retry-After" in host.logs()
    creates = [r for r in windmill.requests if r.method == "POST" and r.path.endswith("/variables/create")]
    assert len(creates) == 8


def test_an_unreachable_instance_says_so(windmill: WindmillEmulator) -> None:
    # The same retries and the same error, within a 2 s budget instead of waiting out the default 30 s.
    with ProviderHost(env={RETRY_SECONDS_ENV: "2"}) as host:
        host.configure({})
        engine = Engine(host, connection={"api_url": "http://127.0.0.1:9", "api_token": windmill.admin_token})
        with pytest.raises(ProviderError) as caught:
            engine.up(Engine.urn("Folder", "f"), FolderProvider(), {"workspace": WS, "name": "x"})
        assert "Is the Windmill instance at http://127.0.0.1:9 up and reachable?" in caught.value.details
        assert windmill.admin_token not in caught.value.details + host.logs()


CREATES = [
    ("Workspace", "components.windmill.workspaces:WorkspaceProvider", "/api/workspaces/create",
     {"workspace_id": "faults-two", "name": "Two"}, "/w/faults-two/workspaces/get_as_superadmin"),
    ("Folder", "components.windmill.folders:FolderProvider", f"/api/w/{WS}/folders/create",
     {"workspace": WS, "name": "crew"}, f"/w/{WS}/folders/get/crew"),
    ("Group", "components.windmill.groups:GroupProvider", f"/api/w/{WS}/groups/create",
     {"workspace": WS, "name": "crew", "members": []}, f"/w/{WS}/groups/get/crew"),
    ("Member", "components.windmill.members:MemberProvider", f"/api/w/{WS}/workspaces/add_user",
     {"workspace": WS, "email": "erin@example.com", "role": "operator"}, None),
    ("Resource", "components.windmill.resources:ResourceProvider", f"/api/w/{WS}/resources/create",
     {"workspace": WS, "path": "f/ops/db", "resource_type": "postgresql", "value": {"host": "db"}},
     f"/w/{WS}/resources/get/f/ops/db"),
    ("ResourceType", "components.windmill.resource_types:ResourceTypeProvider",
     f"/api/w/{WS}/resources/type/create", {"workspace": WS, "name": "c_crew"}, f"/w/{WS}/resources/type/get/c_crew"),
]


@pytest.mark.parametrize(("kind", "provider", "create_path", "inputs", "get_path"), CREATES,
                         ids=[c[0] for c in CREATES])
@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_every_kind_of_create_survives_a_fault_without_a_duplicate_or_already_exists(
    kind: str, provider: str, create_path: str, inputs: dict[str, Any], get_path: str | None,
    fault: dict[str, Any], host: ProviderHost, engine: Engine, api: httpx.Client, windmill: WindmillEmulator,
) -> None:
    import importlib

    module, name = provider.split(":")
    provider_class = getattr(importlib.import_module(module), name)
    windmill.clear_requests()  # the fixture's own set-up calls are not part of this
    windmill.inject_fault("POST", create_path, **fault)
    created = engine.up(Engine.urn(kind, "x"), provider_class(), inputs)
    assert created.op == "create"
    if get_path is not None:
        assert api.get(get_path).status_code == 200
    else:
        rows = [u for u in api.get(f"/w/{WS}/users/list").json() if u["email"] == inputs["email"]]
        assert len(rows) == 1 and rows[0]["operator"] is True
        assert created.state.outputs["username"] == rows[0]["username"]
    sent = [r for r in windmill.requests if r.method == "POST" and r.path == create_path]
    assert len(sent) == (1 if fault.get("drop") == "after" else 2)


ROLLBACKS = [
    ("Group", "components.windmill.groups:GroupProvider",
     {"workspace": WS, "name": "crew", "members": ["erin"]}, "POST", f"/api/w/{WS}/groups/adduser/crew",
     f"/w/{WS}/groups/get/crew"),
    ("Member", "components.windmill.members:MemberProvider",
     {"workspace": WS, "email": "frank@example.com", "role": "developer"}, "GET", f"/api/w/{WS}/users/list", None),
    ("Variable", "components.windmill.variables:VariableProvider", INPUTS, "GET",
     f"/api/w/{WS}/variables/get/f/ops/api_key", f"/w/{WS}/variables/get/f/ops/api_key"),
]


@pytest.mark.parametrize(("kind", "provider", "inputs", "method", "failing_path", "get_path"), ROLLBACKS,
                         ids=[r[0] for r in ROLLBACKS])
def test_a_create_whose_later_step_fails_is_rolled_back_and_can_be_retried(
    kind: str, provider: str, inputs: dict[str, Any], method: str, failing_path: str, get_path: str | None,
    host: ProviderHost, engine: Engine, api: httpx.Client, windmill: WindmillEmulator,
) -> None:
    import importlib

    module, name = provider.split(":")
    provider_class = getattr(importlib.import_module(module), name)
    api.post(f"/w/{WS}/workspaces/add_user", json={"email": "erin@example.com", "is_admin": False, "operator": False})
    windmill.inject_fault(method, failing_path, status=500, body="Internal: boom", times=1)
    with pytest.raises(ProviderError, match="Internal: boom"):
        engine.up(Engine.urn(kind, "x"), provider_class(), inputs)
    if get_path is not None:
        assert api.get(get_path).status_code == 404  # nothing left behind
    else:
        assert inputs["email"] not in {u["email"] for u in api.get(f"/w/{WS}/users/list").json()}
    assert engine.up(Engine.urn(kind, "x"), provider_class(), inputs).op == "create"  # no "already exists"


SLOW_CREATES = [
    ("Variable", VariableProvider, f"/api/w/{WS}/variables/create", INPUTS),
    ("Workspace", "components.windmill.workspaces:WorkspaceProvider", "/api/workspaces/create",
     {"workspace_id": "faults-slow", "name": "Slow"}),
]


@pytest.mark.parametrize(("kind", "provider", "create_path", "inputs"), SLOW_CREATES, ids=[c[0] for c in SLOW_CREATES])
def test_a_create_slower_than_the_read_timeout_is_waited_for_not_repeated(
    kind: str, provider: Any, create_path: str, inputs: dict[str, Any],
    host: ProviderHost, windmill: WindmillEmulator, api: httpx.Client,
) -> None:
    """Issue 10, 3(b): the first create outlives the 1 s read timeout and lands 1.5 s after it was
    sent. A single exists probe right after the timeout said "absent"; the retry (held back 1 s by
    the second fault) then met the first attempt's object: "Variable … already exists", or for a
    workspace the misleading "not managed by this stack". Now exists is polled for longer than the
    read timeout, finds the object, and the create is not sent again."""
    import importlib

    if isinstance(provider, str):
        module, name = provider.split(":")
        provider = getattr(importlib.import_module(module), name)
    engine = Engine(host, connection={"api_url": windmill.url, "api_token": windmill.admin_token,
                                      "api_read_timeout_seconds": 1})
    windmill.clear_requests()
    windmill.inject_fault("POST", create_path, delay=1.5)  # the slow first attempt
    windmill.inject_fault("POST", create_path, delay=1.0)  # a retry would land after it
    created = engine.up(Engine.urn(kind, "slow"), provider(), inputs)
    assert created.op == "create"
    sent = [r for r in windmill.requests if r.method == "POST" and r.path == create_path]
    assert len(sent) == 1
    probes = [r for r in windmill.requests if "exists" in r.path]
    assert len(probes) >= 2  # kept asking while the first request was in flight
    assert_no_secret_leaked(host, windmill)


COLLIDING_CREATES = [
    ("Variable", "components.windmill.variables:VariableProvider", f"/api/w/{WS}/variables/create", INPUTS),
    ("Workspace", "components.windmill.workspaces:WorkspaceProvider", "/api/workspaces/create",
     {"workspace_id": "faults-late", "name": "Late"}),
    ("Group", "components.windmill.groups:GroupProvider", f"/api/w/{WS}/groups/create",
     {"workspace": WS, "name": "crew", "members": ["erin"]}),
]


@pytest.mark.parametrize(("kind", "provider", "create_path", "inputs"), COLLIDING_CREATES,
                         ids=[c[0] for c in COLLIDING_CREATES])
def test_a_retried_create_that_meets_its_own_first_attempt_counts_as_created(
    kind: str, provider: str, create_path: str, inputs: dict[str, Any],
    host: ProviderHost, windmill: WindmillEmulator, api: httpx.Client,
) -> None:
    """Issue 10, 3(b), the late case: the first create (read timeout 2 s) lands 6 s after it was sent,
    after the client stopped waiting for it (2 s + 3 s of polling exists), so the retry is sent and
    meets the first attempt's object. "Already exists" with the content that was sent is success: one object, no
    error, and the create's later steps (the group's members) still run."""
    import importlib

    module, name = provider.split(":")
    provider_class = getattr(importlib.import_module(module), name)
    api.post(f"/w/{WS}/workspaces/add_user", json={"email": "erin@example.com", "is_admin": False, "operator": False})
    engine = Engine(host, connection={"api_url": windmill.url, "api_token": windmill.admin_token,
                                      "api_read_timeout_seconds": 2, "api_connect_timeout_seconds": 1})
    windmill.clear_requests()
    windmill.inject_fault("POST", create_path, delay=6.0)  # lands after the client gave up waiting (5 s)
    windmill.inject_fault("POST", create_path, delay=1.2)  # the retry (sent at ~5.3 s) is answered after it
    created = engine.up(Engine.urn(kind, "late"), provider_class(), inputs)
    assert created.op == "create"
    if kind != "Workspace":  # at CE's workspace limit the retry hears the limit, not "already exists":
        assert created.state.outputs.get("adopted") is not True  # the take-over then goes through adoption
    sent = [r for r in windmill.requests if r.method == "POST" and r.path == create_path]
    assert [r.status for r in sent] == [200 if kind != "Variable" else 201, 400]
    if kind == "Group":
        assert "erin" in api.get(f"/w/{WS}/groups/get/crew").json()["members"]
    assert_no_secret_leaked(host, windmill)


def test_a_secret_orphaned_by_a_failed_read_back_and_rollback_is_taken_over_by_the_next_run(
    host: ProviderHost, engine: Engine, api: httpx.Client, windmill: WindmillEmulator
) -> None:
    """Issue 10, 3(a): the create lands, then the ciphertext read-back and the rollback DELETE both
    fail, leaving a variable Pulumi does not know about. The next run used to stop on "Variable …
    already exists"; now the create finds the variable with the declared value and takes it over."""
    windmill.inject_fault("GET", f"/api/w/{WS}/variables/get/*", status=500, body="Internal: read-back failed")
    windmill.inject_fault("DELETE", f"/api/w/{WS}/variables/delete/*", status=500, body="Internal: delete failed")
    with pytest.raises(ProviderError) as failed:
        engine.up(Engine.urn("Variable", "v"), VariableProvider(), INPUTS)
    assert "read-back failed" in failed.value.details and "delete failed" in failed.value.details
    assert variables(api) == ["f/ops/api_key"]  # the orphan

    again = engine.up(Engine.urn("Variable", "v"), VariableProvider(), INPUTS)
    assert again.op == "create"
    assert variables(api) == ["f/ops/api_key"]
    assert again.state.outputs["encrypted_value"] == windmill.raw_variable(WS, "f/ops/api_key")["value"]
    assert_no_secret_leaked(host, windmill, failed.value.details)
