"""Scripts and flows: deploy, lineage, no-op deploys, archive, delete (windmill-api-scripts scripts.rs/flows.rs)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, make_member, make_workspace

WS = "ops"
HELLO = "export async function main() { return 1; }\n"


def script(path: str = "f/ops/hello", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"path": path, "summary": "Hello", "description": "", "content": HELLO, "language": "bun"}
    return {**body, **extra}


def flow(path: str = "f/ops/daily", summary: str = "Daily", **extra: Any) -> dict[str, Any]:
    value = {"modules": [{"id": "a", "value": {"type": "rawscript", "content": HELLO, "language": "bun"}}]}
    return {"path": path, "summary": summary, "value": value, **extra}


def setup(emu: WindmillEmulator) -> httpx.Client:
    make_workspace(emu, WS)
    with api(emu) as c:
        assert c.post(f"/w/{WS}/folders/create", json={"name": "ops"}).status_code == 200
    return api(emu)


def test_deploy_returns_the_hash_and_get_by_path_the_script(windmill: WindmillEmulator) -> None:
    with setup(windmill) as c:
        r = c.post(f"/w/{WS}/scripts/create", json=script(schema={"type": "object"}, lock="lock-1"))
        assert r.status_code == 201 and re.fullmatch(r"[0-9a-f]{16}", r.text)
        got = c.get(f"/w/{WS}/scripts/get/p/f/ops/hello").json()
        assert got["hash"] == r.text and got["parent_hashes"] is None and got["archived"] is False
        assert (got["content"], got["language"], got["kind"], got["lock"]) == (HELLO, "bun", "script", "lock-1")
        assert got["schema"] == {"type": "object"} and got["created_by"] == "admin"
        assert got["ws_error_handler_muted"] is False and "envs" not in got
        assert c.get(f"/w/{WS}/scripts/exists/p/f/ops/hello").json() is True
        missing = c.get(f"/w/{WS}/scripts/get/p/f/ops/nope")
        assert (missing.status_code, missing.text) == (404, "Not found: Script not found at name f/ops/nope")


def test_a_new_version_chains_to_its_parent_and_archives_it(windmill: WindmillEmulator) -> None:
    with setup(windmill) as c:
        first = c.post(f"/w/{WS}/scripts/create", json=script()).text
        conflict = c.post(f"/w/{WS}/scripts/create", json=script(summary="v2"))
        assert conflict.status_code == 400
        assert conflict.text == f"Bad request: Path conflict for f/ops/hello with non-archived hash {first}"
        second = c.post(f"/w/{WS}/scripts/create", json=script(summary="v2", parent_hash=first)).text
        got = c.get(f"/w/{WS}/scripts/get/p/f/ops/hello").json()
        assert (got["hash"], got["parent_hashes"], got["summary"]) == (second, [first], "v2")
        assert c.get(f"/w/{WS}/scripts/get/h/{first}").json()["archived"] is True
        # A second child of the same parent breaks the linear lineage...
        stale = c.post(f"/w/{WS}/scripts/create", json=script(summary="v3", parent_hash=first))
        assert stale.status_code == 400 and "lineage must be linear" in stale.text
        # ... unless the client asks the server to resolve the parent (what wmill 1.819 sends).
        third = c.post(f"/w/{WS}/scripts/create", json=script(summary="v3", parent_hash=first, auto_parent=True))
        assert third.status_code == 201
        assert c.get(f"/w/{WS}/scripts/get/p/f/ops/hello").json()["parent_hashes"] == [second, first]
        listed = c.get(f"/w/{WS}/scripts/list").json()
        assert [(s["path"], s["hash"], s["summary"]) for s in listed] == [("f/ops/hello", third.text, "v3")]


def test_skip_if_noop_answers_the_deployed_version_without_a_new_one(windmill: WindmillEmulator) -> None:
    with setup(windmill) as c:
        first = c.post(f"/w/{WS}/scripts/create", json=script()).text
        same = c.post(f"/w/{WS}/scripts/create?skip_if_noop=true", json=script(parent_hash=first, auto_parent=True))
        assert (same.status_code, same.text) == (201, first)
        changed = c.post(f"/w/{WS}/scripts/create?skip_if_noop=true", json=script(summary="new", parent_hash=first))
        assert changed.status_code == 201 and changed.text != first
        duplicate = c.post(f"/w/{WS}/scripts/create", json=script(summary="new", parent_hash=first))
        assert duplicate.status_code == 400 and "same hash" in duplicate.text


def test_archive_then_redeploy_unchanged_content_and_delete(windmill: WindmillEmulator) -> None:
    with setup(windmill) as c:
        first = c.post(f"/w/{WS}/scripts/create", json=script()).text
        archived = c.post(f"/w/{WS}/scripts/archive/p/f/ops/hello")
        assert (archived.status_code, archived.text) == (200, "")
        assert c.get(f"/w/{WS}/scripts/list").json() == []
        assert [s["hash"] for s in c.get(f"/w/{WS}/scripts/list", params={"show_archived": "true"}).json()] == [first]
        assert c.get(f"/w/{WS}/scripts/get/p/f/ops/hello").json()["archived"] is True
        again = c.post(f"/w/{WS}/scripts/create", json=script())  # the same content onto the retired path
        assert again.status_code == 201 and again.text != first
        deleted = c.post(f"/w/{WS}/scripts/delete/p/f/ops/hello")
        assert (deleted.status_code, deleted.json()) == (200, "f/ops/hello")
        assert c.get(f"/w/{WS}/scripts/exists/p/f/ops/hello").json() is False


def test_script_permissions_and_body_checks(windmill: WindmillEmulator) -> None:
    with setup(windmill) as c:
        c.post(f"/w/{WS}/scripts/create", json=script())
        bad = c.post(f"/w/{WS}/scripts/create", json=script(path="f/ops/x", language="cobol"))
        assert bad.status_code == 422 and "unknown variant `cobol`" in bad.text
        assert c.post(f"/w/{WS}/scripts/create", json={"path": "f/ops/x"}).status_code == 422
        muted = c.post(f"/w/{WS}/scripts/create", json=script(path="f/ops/m", ws_error_handler_muted=True))
        assert muted.status_code == 400 and "enterprise" in muted.text
    _, dev = make_member(windmill, WS, "dev@example.com")
    _, op = make_member(windmill, WS, "op@example.com", operator=True)
    with api(windmill, dev) as d:
        # Not in the folder's ACL: row-level security hides the script and refuses the write.
        assert d.get(f"/w/{WS}/scripts/get/p/f/ops/hello").status_code == 404
        own = d.post(f"/w/{WS}/scripts/create", json=script(path="u/dev/mine"))
        assert own.status_code == 201
        assert d.post(f"/w/{WS}/scripts/delete/p/u/dev/mine").status_code == 403  # deleting needs an admin
        denied = d.post(f"/w/{WS}/scripts/create", json=script(path="f/ops/other"))
        assert denied.status_code == 400 and "row-level security" in denied.text
    with api(windmill, op) as o:
        refused = o.post(f"/w/{WS}/scripts/create", json=script(path="u/op/x"))
        assert refused.status_code == 401 and "Operators cannot create scripts" in refused.text


def test_flow_create_get_update_list(windmill: WindmillEmulator) -> None:
    with setup(windmill) as c:
        created = c.post(f"/w/{WS}/flows/create", json=flow(schema={"type": "object"}))
        assert (created.status_code, created.text) == (201, "f/ops/daily")
        again = c.post(f"/w/{WS}/flows/create", json=flow())
        assert (again.status_code, again.text) == (400, "Bad request: Flow f/ops/daily already exists")
        got = c.get(f"/w/{WS}/flows/get/f/ops/daily").json()
        assert got["value"] == flow()["value"] and got["schema"] == {"type": "object"} and got["archived"] is False
        assert got["description"] == "" and got["lock_error_logs"] == "" and got["edited_by"] == "admin"
        updated = c.post(f"/w/{WS}/flows/update/f/ops/daily", json=flow(summary="Nightly"))
        assert (updated.status_code, updated.text) == (200, "f/ops/daily")
        newer = c.get(f"/w/{WS}/flows/get/f/ops/daily").json()
        assert newer["summary"] == "Nightly" and newer["version_id"] > got["version_id"]
        moved = c.post(f"/w/{WS}/flows/update/f/ops/daily", json=flow(path="f/ops/nightly"))
        assert moved.text == "f/ops/nightly"
        assert c.get(f"/w/{WS}/flows/exists/f/ops/daily").json() is False
        assert [f["path"] for f in c.get(f"/w/{WS}/flows/list").json()] == ["f/ops/nightly"]
        missing = c.post(f"/w/{WS}/flows/update/f/ops/none", json=flow(path="f/ops/none"))
        assert (missing.status_code, missing.text) == (404, "Not found: Flow not found at name f/ops/none")
        invalid = c.post(f"/w/{WS}/flows/create", json={"path": "f/ops/bad", "summary": "", "value": {}})
        assert invalid.status_code == 422 and "missing field `modules`" in invalid.text


def test_flow_archive_and_delete(windmill: WindmillEmulator) -> None:
    with setup(windmill) as c:
        c.post(f"/w/{WS}/flows/create", json=flow())
        assert c.post(f"/w/{WS}/flows/archive/f/ops/daily").status_code == 415  # Json<Archived> body
        archived = c.post(f"/w/{WS}/flows/archive/f/ops/daily", json={})
        assert (archived.status_code, archived.text) == (200, "Flow f/ops/daily archived")
        assert c.get(f"/w/{WS}/flows/list").json() == []
        assert [f["path"] for f in c.get(f"/w/{WS}/flows/list", params={"show_archived": "true"}).json()] == [
            "f/ops/daily"
        ]
        c.post(f"/w/{WS}/flows/archive/f/ops/daily", json={"archived": False})
        assert c.get(f"/w/{WS}/flows/get/f/ops/daily").json()["archived"] is False
        deleted = c.delete(f"/w/{WS}/flows/delete/f/ops/daily")
        assert (deleted.status_code, deleted.text) == (200, "Flow f/ops/daily deleted")
        assert c.get(f"/w/{WS}/flows/get/f/ops/daily").status_code == 404
        assert c.delete(f"/w/{WS}/flows/delete/f/ops/daily").status_code == 200  # a DELETE of nothing
