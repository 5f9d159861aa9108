"""Drift: changes and deletions made outside Pulumi are found by Read (refresh), secrets included,
without decrypting them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pulumi.runtime.proto import provider_pb2 as pb

from components.windmill.folders import FolderProvider
from components.windmill.groups import GroupProvider
from components.windmill.resources import ResourceProvider
from components.windmill.variables import VariableProvider
from testkit.provider_host import Engine, ProviderHost
from windmill_emulator import WindmillEmulator

WS = "drift"


@pytest.fixture
def engine(windmill: WindmillEmulator) -> Iterator[Engine]:
    with ProviderHost() as host:
        host.configure({})
        yield Engine(host, connection={"api_url": windmill.url, "api_token": windmill.admin_token})


@pytest.fixture
def api(windmill: WindmillEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=windmill.url + "/api",
                      headers={"Authorization": f"Bearer {windmill.admin_token}"}) as client:
        client.post("/workspaces/create", json={"id": WS, "name": "Drift"}).raise_for_status()
        client.post(f"/w/{WS}/folders/create", json={"name": "ops"}).raise_for_status()
        for user in ("alice", "mallory"):
            client.post(f"/w/{WS}/workspaces/add_user",
                        json={"email": f"{user}@example.com", "is_admin": False, "operator": False}).raise_for_status()
        yield client


def test_secret_changed_out_of_band_is_found_without_decrypting(
    engine: Engine, api: httpx.Client, windmill: WindmillEmulator
) -> None:
    urn = engine.urn("Variable", "secret")
    inputs = {"workspace": WS, "path": "f/ops/token", "value": "original-secret", "is_secret": True}
    state = engine.up(urn, VariableProvider(), inputs).state
    assert state.outputs["encrypted_value"] == windmill.raw_variable(WS, "f/ops/token")["value"]

    audit = len(windmill.audit)
    same = engine.refresh(state)
    assert same is not None and same.outputs["value"] == "original-secret"
    assert len(windmill.audit) == audit
    decrypted = [r for r in windmill.requests if r.path.endswith("/f/ops/token") and
                 r.query.get("decrypt_secret", "true") != "false"]
    assert decrypted == []

    api.post(f"/w/{WS}/variables/update/f/ops/token", json={"value": "rotated-by-hand"}).raise_for_status()
    audit = len(windmill.audit)
    drifted = engine.refresh(state)
    assert drifted is not None
    assert "value" not in drifted.outputs and "value" not in drifted.inputs  # plaintext unknown: not kept
    assert drifted.outputs["encrypted_value"] != state.outputs["encrypted_value"]
    assert len(windmill.audit) == audit  # still no decrypt
    assert "rotated-by-hand" not in str(drifted.outputs)

    diff = engine.preview(urn, VariableProvider(), inputs, drifted)
    assert diff.changes == pb.DiffResponse.DIFF_SOME and list(diff.replaces) == []
    repaired = engine.up(urn, VariableProvider(), inputs, drifted)
    assert repaired.op == "update"
    live = api.get(f"/w/{WS}/variables/get/f/ops/token").json()
    assert live["value"] == "original-secret"
    again = engine.refresh(repaired.state)
    assert again is not None
    assert engine.preview(urn, VariableProvider(), inputs, again).changes == pb.DiffResponse.DIFF_NONE


def test_plain_variable_change_and_deletion_are_found(engine: Engine, api: httpx.Client) -> None:
    urn = engine.urn("Variable", "plain")
    inputs = {"workspace": WS, "path": "f/ops/region", "value": "eu", "is_secret": False}
    state = engine.up(urn, VariableProvider(), inputs).state
    api.post(f"/w/{WS}/variables/update/f/ops/region", json={"value": "us"}).raise_for_status()
    drifted = engine.refresh(state)
    assert drifted is not None and drifted.outputs["value"] == "us" and drifted.inputs["value"] == "us"
    api.delete(f"/w/{WS}/variables/delete/f/ops/region").raise_for_status()
    assert engine.refresh(state) is None


def test_resource_value_change_and_deletion_are_found(engine: Engine, api: httpx.Client) -> None:
    urn = engine.urn("Resource", "db")
    inputs = {"workspace": WS, "path": "f/ops/db", "resource_type": "postgresql", "value": {"host": "a"}}
    state = engine.up(urn, ResourceProvider(), inputs).state
    api.post(f"/w/{WS}/resources/update/f/ops/db", json={"value": {"host": "b"}}).raise_for_status()
    drifted = engine.refresh(state)
    assert drifted is not None and drifted.outputs["value"] == {"host": "b"}
    repaired = engine.up(urn, ResourceProvider(), inputs, drifted)
    assert repaired.op == "update"
    assert api.get(f"/w/{WS}/resources/get/f/ops/db").json()["value"] == {"host": "a"}
    api.delete(f"/w/{WS}/resources/delete/f/ops/db").raise_for_status()
    assert engine.refresh(repaired.state) is None


def test_folder_acl_drift_is_found_but_the_creator_is_not_drift(engine: Engine, api: httpx.Client) -> None:
    urn = engine.urn("Folder", "f")
    inputs = {"workspace": WS, "name": "team", "owners": ["g/ops"], "extra_perms": {"g/readers": False}}
    state = engine.up(urn, FolderProvider(), inputs).state
    live = api.get(f"/w/{WS}/folders/get/team").json()
    assert len(live["owners"]) == 2  # Windmill added the creator
    fresh = engine.refresh(state)
    assert fresh is not None and fresh.outputs["owners"] == ["g/ops"]
    assert fresh.outputs["extra_perms"] == {"g/readers": False}

    api.post(f"/w/{WS}/folders/update/team",
             json={"owners": live["owners"], "extra_perms": {**live["extra_perms"], "g/intruders": True}})
    drifted = engine.refresh(state)
    assert drifted is not None and drifted.outputs["extra_perms"]["g/intruders"] is True
    repaired = engine.up(urn, FolderProvider(), inputs, drifted)
    assert repaired.op == "update"
    assert "g/intruders" not in api.get(f"/w/{WS}/folders/get/team").json()["extra_perms"]


def test_group_member_added_out_of_band_is_drift_but_the_creator_is_not(engine: Engine, api: httpx.Client) -> None:
    urn = engine.urn("Group", "g")
    inputs = {"workspace": WS, "name": "crew", "members": ["alice"]}
    state = engine.up(urn, GroupProvider(), inputs).state
    fresh = engine.refresh(state)
    assert fresh is not None and fresh.outputs["members"] == ["alice"]
    api.post(f"/w/{WS}/groups/adduser/crew", json={"username": "mallory"}).raise_for_status()
    drifted = engine.refresh(state)
    assert drifted is not None and drifted.outputs["members"] == ["alice", "mallory"]
    repaired = engine.up(urn, GroupProvider(), inputs, drifted)
    assert repaired.op == "update"
    assert "mallory" not in api.get(f"/w/{WS}/groups/get/crew").json()["members"]
