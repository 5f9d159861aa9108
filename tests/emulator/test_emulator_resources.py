"""Resources and resource types (docs/windmill-api.md §6)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, make_member, make_workspace

PG = {"path": "f/ops/db", "resource_type": "postgresql", "value": {"host": "db", "port": 5432}, "description": "main"}


@pytest.fixture
def c(windmill: WindmillEmulator) -> Iterator[httpx.Client]:
    make_workspace(windmill, "ops")
    with api(windmill) as client:
        client.post("/w/ops/folders/create", json={"name": "ops"})
        yield client


def test_create_is_201_and_400_when_it_exists(c: httpx.Client) -> None:
    r = c.post("/w/ops/resources/create", json=PG)
    assert (r.status_code, r.text) == (201, "resource f/ops/db created")
    r = c.post("/w/ops/resources/create", json=PG)
    assert (r.status_code, r.text) == (400, "Bad request: Resource f/ops/db already exists")
    r = c.post("/w/ops/resources/create", json={"path": "f/ops/x", "value": {}})
    assert r.status_code == 422 and "missing field `resource_type`" in r.text
    # §6: the resource type is not checked; value defaults to null
    r = c.post("/w/ops/resources/create", json={"path": "f/ops/free", "resource_type": "does_not_exist"})
    assert r.status_code == 201
    assert c.get("/w/ops/resources/get_value/f/ops/free").json() is None
    r = c.post("/w/ops/resources/create", json={**PG, "path": "nope"})
    assert r.status_code == 400 and 'relation "resource" violates check constraint "proper_id"' in r.text


def test_update_if_exists_is_an_upsert(c: httpx.Client) -> None:
    c.post("/w/ops/resources/create", json=PG)
    changed = {**PG, "value": {"host": "db2"}, "description": "moved", "resource_type": "mysql"}
    r = c.post("/w/ops/resources/create", params={"update_if_exists": "true"}, json=changed)
    assert r.status_code == 201
    got = c.get("/w/ops/resources/get/f/ops/db").json()
    assert (got["value"], got["description"], got["resource_type"]) == ({"host": "db2"}, "moved", "mysql")


def test_get_get_value_list_and_exists(c: httpx.Client) -> None:
    c.post("/w/ops/resources/create", json=PG)
    c.post("/w/ops/resources/create", json={"path": "f/ops/mail", "resource_type": "smtp", "value": {"host": "m"}})
    got = c.get("/w/ops/resources/get/f/ops/db").json()
    assert got["value"] == PG["value"] and got["resource_type"] == "postgresql" and got["created_by"] == "admin"
    assert got["is_linked"] is False
    assert c.get("/w/ops/resources/get_value/f/ops/db").json() == PG["value"]
    rows = c.get("/w/ops/resources/list").json()
    assert all(row["value"] is None for row in rows)  # §6: list value is always null
    assert {row["path"] for row in rows} == {"f/ops/db", "f/ops/mail"}
    only = c.get("/w/ops/resources/list", params={"resource_type": "smtp,mysql"}).json()
    assert [row["path"] for row in only] == ["f/ops/mail"]
    assert c.get("/w/ops/resources/exists/f/ops/db").json() is True
    assert c.get("/w/ops/resources/exists/f/ops/no").json() is False
    r = c.get("/w/ops/resources/get/f/ops/no")
    assert (r.status_code, r.text) == (404, "Not found: Resource f/ops/no not found")


def test_update_404_update_value_has_no_existence_check(c: httpx.Client) -> None:
    c.post("/w/ops/resources/create", json=PG)
    r = c.post("/w/ops/resources/update/f/ops/db", json={"value": {"host": "new"}, "description": "d2"})
    assert (r.status_code, r.text) == (200, 'resource f/ops/db updated (npath: "f/ops/db")')
    got = c.get("/w/ops/resources/get/f/ops/db").json()
    assert (got["value"], got["description"]) == ({"host": "new"}, "d2")
    r = c.post("/w/ops/resources/update/f/ops/ghost", json={"description": "x"})
    assert (r.status_code, r.text) == (404, "Not found: Resource not found at name f/ops/ghost")
    r = c.post("/w/ops/resources/update_value/f/ops/ghost", json={"value": {"a": 1}})
    assert (r.status_code, r.text) == (200, "value of resource f/ops/ghost updated")
    assert c.get("/w/ops/resources/exists/f/ops/ghost").json() is False
    c.post("/w/ops/resources/update_value/f/ops/db", json={"value": [1, 2]})
    assert c.get("/w/ops/resources/get_value/f/ops/db").json() == [1, 2]


def test_rename_moves_the_same_path_variable(c: httpx.Client) -> None:
    c.post("/w/ops/resources/create", json=PG)
    c.post("/w/ops/variables/create", json={"path": "f/ops/db", "value": "x", "is_secret": False, "description": ""})
    r = c.post("/w/ops/resources/update/f/ops/db", json={"path": "f/ops/db2"})
    assert r.status_code == 200
    assert c.get("/w/ops/variables/exists/f/ops/db2").json() is True
    assert c.get("/w/ops/variables/exists/f/ops/db").json() is False


def test_delete_is_404_when_missing(c: httpx.Client) -> None:
    c.post("/w/ops/resources/create", json=PG)
    r = c.delete("/w/ops/resources/delete/f/ops/db")
    assert (r.status_code, r.text) == (200, "resource f/ops/db deleted")
    r = c.delete("/w/ops/resources/delete/f/ops/db")
    assert (r.status_code, r.text) == (404, "Not found: Resource not found at name f/ops/db")


def test_interpolation_resolves_var_and_res_at_read_time(windmill: WindmillEmulator, c: httpx.Client) -> None:
    c.post(
        "/w/ops/variables/create", json={"path": "f/ops/pw", "value": "hunter2", "is_secret": True, "description": ""}
    )
    c.post("/w/ops/resources/create", json={"path": "f/ops/base", "resource_type": "x", "value": {"host": "db"}})
    value = {"password": "$var:f/ops/pw", "base": "$res:f/ops/base", "list": ["$var:f/ops/pw"]}
    c.post("/w/ops/resources/create", json={"path": "f/ops/app", "resource_type": "x", "value": value})
    assert c.get("/w/ops/resources/get_value/f/ops/app").json() == value  # storage keeps the literal
    resolved = c.get("/w/ops/resources/get_value_interpolated/f/ops/app").json()
    assert resolved == {"password": "hunter2", "base": {"host": "db"}, "list": ["hunter2"]}
    assert [e["resource"] for e in windmill.audit if e["operation"] == "variables.decrypt_secret"] == ["f/ops/pw"] * 2


def test_resource_rls_for_a_developer(windmill: WindmillEmulator, c: httpx.Client) -> None:
    _, dev = make_member(windmill, "ops", "dev@example.com")
    c.post("/w/ops/resources/create", json=PG)
    with api(windmill, dev) as d:
        r = d.get("/w/ops/resources/get/f/ops/db")
        assert r.status_code == 401 and r.text.startswith("Not authorized: Resource exists but you don't have access")
        assert d.get("/w/ops/resources/list").json() == []
        assert d.delete("/w/ops/resources/delete/f/ops/db").status_code == 404
        r = d.post("/w/ops/resources/create", json={**PG, "path": "f/ops/mine"})
        assert r.status_code == 400 and 'row-level security policy for table "resource"' in r.text


# ------------------------------------------------------------------------------ resource types


def test_resource_type_lifecycle(c: httpx.Client) -> None:
    body = {"name": "c_thing", "schema": {"type": "object"}, "description": "custom"}
    r = c.post("/w/ops/resources/type/create", json=body)
    assert (r.status_code, r.text) == (201, "resource_type c_thing created")
    r = c.post("/w/ops/resources/type/create", json=body)
    assert (r.status_code, r.text) == (400, "Bad request: Resource type c_thing already exists")
    got = c.get("/w/ops/resources/type/get/c_thing").json()
    assert (got["workspace_id"], got["schema"], got["description"]) == ("ops", {"type": "object"}, "custom")
    assert "c_thing" in c.get("/w/ops/resources/type/listnames").json()
    assert c.get("/w/ops/resources/type/exists/c_thing").json() is True
    r = c.post("/w/ops/resources/type/update/c_thing", json={"description": "changed"})
    assert (r.status_code, r.text) == (200, "resource_type c_thing updated")
    assert c.get("/w/ops/resources/type/get/c_thing").json()["description"] == "changed"
    # §6 / §9.2: update of a missing type is 200
    assert c.post("/w/ops/resources/type/update/ghost", json={"description": "x"}).status_code == 200
    assert c.get("/w/ops/resources/type/exists/ghost").json() is False
    r = c.delete("/w/ops/resources/type/delete/c_thing")
    assert (r.status_code, r.text) == (200, "resource_type c_thing deleted")
    r = c.delete("/w/ops/resources/type/delete/c_thing")
    assert (r.status_code, r.text) == (404, "Not found: ResourceType not found at name c_thing")
    r = c.get("/w/ops/resources/type/get/c_thing")
    assert (r.status_code, r.text) == (404, "Not found: ResourceType not found at name c_thing")


def test_resource_type_name_rules_and_fileset(c: httpx.Client) -> None:
    r = c.post("/w/ops/resources/type/create", json={"name": "bad name"})
    assert r.status_code == 400 and r.text.startswith("SqlErr: ")
    assert c.post("/w/ops/resources/type/create", json={"name": "ok-name_1"}).status_code == 201
    r = c.post("/w/ops/resources/type/create", json={"name": "fs", "is_fileset": True, "format_extension": "csv"})
    assert (r.status_code, r.text) == (400, "Bad request: A fileset resource type cannot have a format_extension")


def test_hub_types_are_visible_but_can_be_shadowed_and_not_deleted(c: httpx.Client) -> None:
    assert c.get("/w/ops/resources/type/get/s3").json()["workspace_id"] == "admins"
    # §6: conflicts are checked only within the own workspace
    assert c.post("/w/ops/resources/type/create", json={"name": "s3", "description": "mine"}).status_code == 201
    assert c.get("/w/ops/resources/type/get/s3").json()["workspace_id"] == "ops"
    listed = [t["workspace_id"] for t in c.get("/w/ops/resources/type/list").json() if t["name"] == "s3"]
    assert sorted(listed) == ["admins", "ops"]  # the list query returns both rows
    assert c.delete("/w/ops/resources/type/delete/slack").status_code == 404


def test_resource_type_delete_is_admin_only(windmill: WindmillEmulator, c: httpx.Client) -> None:
    _, dev = make_member(windmill, "ops", "dev@example.com")
    with api(windmill, dev) as d:
        assert d.post("/w/ops/resources/type/create", json={"name": "c_dev"}).status_code == 201
        r = d.delete("/w/ops/resources/type/delete/c_dev")
        assert (r.status_code, r.text) == (403, "Require Admin privileges for dev")
