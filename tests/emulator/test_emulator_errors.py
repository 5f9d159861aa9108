"""Error format and the axum extractor errors (docs/windmill-api.md §9, §15 item 1)."""

from __future__ import annotations

import json

import pytest

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, make_workspace


def test_missing_json_content_type_is_415(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        r = c.post("/workspaces/create", content=b'{"id": "ops", "name": "Ops"}')
        assert (r.status_code, r.text) == (415, "Expected request with `Content-Type: application/json`")
        r = c.post(
            "/workspaces/create", content=b'{"id": "ops", "name": "Ops"}', headers={"Content-Type": "text/plain"}
        )
        assert r.status_code == 415
        ok = {"Content-Type": "application/json; charset=utf-8"}
        assert c.post("/workspaces/create", content=b'{"id": "ops", "name": "Ops"}', headers=ok).status_code == 200


def test_routes_without_a_body_ignore_content_type(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        assert c.post("/w/ops/workspaces/archive").status_code == 200
        assert c.post("/workspaces/unarchive/ops", content=b"whatever").status_code == 200


def test_auth_is_checked_before_the_body(windmill: WindmillEmulator) -> None:
    with api(windmill, "bogus") as c:
        r = c.post("/workspaces/create", content=b"not json")
        assert (r.status_code, r.text) == (401, "Unauthorized")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "EOF while parsing a value at line 1 column 0"),
        (b'{"id": "ops",', "EOF while parsing an object at line 1 column 13"),
        (b"{id: 1}", "key must be a string at line 1 column 2"),
        (b'{"id": "x"} trailing', "trailing characters at line 1 column 13"),
    ],
)
def test_malformed_json_is_400_with_serde_messages(windmill: WindmillEmulator, raw: bytes, message: str) -> None:
    with api(windmill) as c:
        r = c.post("/workspaces/create", content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        assert r.text == f"Failed to parse the request body as JSON: {message}"


def test_wrong_types_and_missing_fields_are_422(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        r = c.post("/workspaces/create", json={"id": 1, "name": "x"})
        assert r.status_code == 422
        assert r.text == (
            "Failed to deserialize the JSON body into the target type: "
            "id: invalid type: integer `1`, expected a string at line 1 column 7"
        )
        r = c.post("/workspaces/create", json={"id": "x"})
        assert r.text == (
            "Failed to deserialize the JSON body into the target type: missing field `name` at line 1 column 10"
        )
        r = c.post("/workspaces/create", json=["x"])
        assert r.status_code == 422 and "expected struct CreateWorkspace" in r.text
        r = c.post("/workspaces/create", json={"id": "x", "name": None})
        assert r.status_code == 422 and "name: invalid type: null, expected a string" in r.text
        # unknown fields are ignored (no deny_unknown_fields)
        assert c.post("/workspaces/create", json={"id": "x", "name": "x", "extra": 1}).status_code == 200


def test_every_error_is_text_plain_never_json(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        responses = [
            c.get("/w/ops/variables/get/f/a/b"),
            c.post("/workspaces/create", json={"id": "ops", "name": "x"}),
            c.post("/w/ops/folders/update/ghost", json={}),
            c.post("/w/ops/users/update/ghost", json={}),
            c.post("/w/ops/variables/create", json={"path": "f/a/b"}),
        ]
    assert [r.status_code for r in responses] == [404, 400, 401, 400, 422]
    for r in responses:
        assert r.headers["content-type"].startswith("text/plain")
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.text)


def test_already_exists_is_400_never_409(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        calls = [
            ("/w/ops/folders/create", {"name": "f"}),
            ("/w/ops/groups/create", {"name": "g"}),
            ("/w/ops/variables/create", {"path": "f/f/v", "value": "", "is_secret": False, "description": ""}),
            ("/w/ops/resources/create", {"path": "f/f/r", "resource_type": "x"}),
            ("/w/ops/resources/type/create", {"name": "c_t"}),
            (
                "/w/ops/schedules/create",
                {
                    "path": "f/f/s",
                    "schedule": "0 0 1 * * *",
                    "timezone": "UTC",
                    "script_path": "f/f/x",
                    "is_flow": False,
                    "enabled": False,  # enabled would need f/f/x deployed (the first job is pushed)
                },
            ),
        ]
        for path, body in calls:
            assert c.post(path, json=body).status_code in (200, 201)
            second = c.post(path, json=body)
            assert second.status_code == 400, path
            assert "already exists" in second.text


def test_success_codes_follow_the_reference(windmill: WindmillEmulator) -> None:
    """§15 item 2: workspace/folder/group/schedule create 200; variable/resource/type/token/add_user 201."""
    with api(windmill) as c:
        assert c.post("/workspaces/create", json={"id": "ops", "name": "Ops"}).status_code == 200
        assert c.post("/w/ops/folders/create", json={"name": "f"}).status_code == 200
        assert c.post("/w/ops/groups/create", json={"name": "g"}).status_code == 200
        sched = {
            "path": "f/f/s",
            "schedule": "0 0 1 * * *",
            "timezone": "UTC",
            "script_path": "f/f/x",
            "is_flow": False,
            "enabled": False,  # enabled would need f/f/x deployed (the first job is pushed)
        }
        assert c.post("/w/ops/schedules/create", json=sched).status_code == 200
        var = {"path": "f/f/v", "value": "", "is_secret": False, "description": ""}
        assert c.post("/w/ops/variables/create", json=var).status_code == 201
        assert c.post("/w/ops/resources/create", json={"path": "f/f/r", "resource_type": "x"}).status_code == 201
        assert c.post("/w/ops/resources/type/create", json={"name": "c_t"}).status_code == 201
        assert c.post("/users/tokens/create", json={}).status_code == 201
        member = {"email": "m@example.com", "is_admin": False, "operator": False}
        assert c.post("/w/ops/workspaces/add_user", json=member).status_code == 201
        assert c.post("/w/ops/workspaces/invite_user", json={**member, "email": "i@example.com"}).status_code == 201
        assert c.post("/w/ops/workspaces/delete_invite", json={**member, "email": "i@example.com"}).status_code == 201
