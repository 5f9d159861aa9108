"""The workspace export (workspaces_export.rs) and the list calls wmill makes around a sync."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile

import httpx

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, make_member, make_workspace

WS = "ops"
HELLO = "export async function main() { return 1; }\n"


def populate(emu: WindmillEmulator) -> None:
    make_workspace(emu, WS)
    with api(emu) as c:
        c.post(f"/w/{WS}/folders/create", json={"name": "ops", "summary": "operations"})
        for path, language in (("f/ops/hello", "bun"), ("f/ops/legacy", "deno"), ("f/ops/job", "python3")):
            body = {"path": path, "summary": "S", "description": "", "content": HELLO, "language": language}
            assert c.post(f"/w/{WS}/scripts/create", json=body).status_code == 201
        value = {"modules": []}
        assert c.post(f"/w/{WS}/flows/create", json={"path": "f/ops/daily", "summary": "D", "value": value}).is_success
        for path, secret in (("f/ops/token", True), ("f/ops/region", False)):
            body = {"path": path, "value": "v", "is_secret": secret, "description": ""}
            assert c.post(f"/w/{WS}/variables/create", json=body).status_code == 201
        body = {"path": "f/ops/db", "value": {"password": "$var:f/ops/token"}, "resource_type": "postgresql"}
        assert c.post(f"/w/{WS}/resources/create", json=body).status_code == 201


def tarball(c: httpx.Client, **params: str) -> dict[str, str]:
    r = c.get(f"/w/{WS}/workspaces/tarball", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/x-tar"
    kind = params.get("archive_type", "tar")
    assert r.headers["content-disposition"] == f'attachment; filename="windmill-{WS}.{kind}"'
    if kind == "zip":
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            return {n: z.read(n).decode() for n in z.namelist()}
    with tarfile.open(fileobj=io.BytesIO(r.content)) as t:
        return {m.name: t.extractfile(m).read().decode() for m in t.getmembers()}  # type: ignore[union-attr]


def test_export_layout_tar_and_zip(windmill: WindmillEmulator) -> None:
    populate(windmill)
    with api(windmill) as c:
        files = tarball(c)
        assert tarball(c, archive_type="zip") == files
        bad = c.get(f"/w/{WS}/workspaces/tarball", params={"archive_type": "rar"})
        assert (bad.status_code, bad.text) == (400, "Bad request: Invalid Archive Type rar")
    assert sorted(files) == [
        "f/ops/daily.flow.json", "f/ops/db.resource.json", "f/ops/folder.meta.json", "f/ops/hello.bun.ts",
        "f/ops/hello.script.json", "f/ops/job.py", "f/ops/job.script.json", "f/ops/legacy.script.json",
        "f/ops/legacy.ts", "f/ops/region.variable.json", "f/ops/token.variable.json",
    ]  # fmt: skip
    assert files["f/ops/hello.bun.ts"] == HELLO
    assert json.loads(files["f/ops/hello.script.json"]) == {
        "summary": "S", "description": "", "schema": None, "lock": None, "kind": "script",
    }  # fmt: skip
    assert json.loads(files["f/ops/job.script.json"])["lock"] is None
    assert json.loads(files["f/ops/daily.flow.json"]) == {"summary": "D", "description": "", "value": {"modules": []},
                                                          "schema": None}  # fmt: skip
    folder = json.loads(files["f/ops/folder.meta.json"])
    assert folder["summary"] == "operations" and "name" not in folder and "extra_perms" in folder
    secret = json.loads(files["f/ops/token.variable.json"])
    assert secret["is_secret"] is True and secret["value"] != "v"  # the ciphertext
    assert json.loads(files["f/ops/db.resource.json"])["resource_type"] == "postgresql"


def test_export_flags_as_wmill_sends_them(windmill: WindmillEmulator) -> None:
    populate(windmill)
    with api(windmill) as c:
        synced = tarball(
            c, archive_type="zip", skip_variables="true", skip_secrets="true", skip_resources="true",
            skip_resource_types="true", default_ts="bun", preserve_extra_perms="true",
        )  # fmt: skip
        assert not [n for n in synced if ".variable." in n or ".resource" in n]
        assert "f/ops/hello.ts" in synced and "f/ops/legacy.deno.ts" in synced  # default_ts=bun swaps the names
        plain = tarball(c, plain_secret="true")
        assert json.loads(plain["f/ops/token.variable.json"])["value"] == "v"
        assert [e["resource"] for e in windmill.audit if e["operation"] == "variables.decrypt_secret"] == [
            "workspace_tarball_export"
        ]
        no_secrets = tarball(c, skip_secrets="true")
        assert "f/ops/token.variable.json" not in no_secrets and "f/ops/region.variable.json" in no_secrets
        key = tarball(c, include_key="true", include_users="true", include_groups="true")
        assert json.loads(key["encryption_key.json"]) == windmill.workspace_key(WS)
        assert json.loads(key["users/admin@windmill.dev.user.json"]) == {
            "username": "admin", "role": "admin", "disabled": False,
        }  # fmt: skip
        assert c.get(f"/w/{WS}/workspaces/tarball", params={"skip_secrets": "maybe"}).status_code == 400


def test_export_reads_with_the_callers_permissions(windmill: WindmillEmulator) -> None:
    populate(windmill)
    _, dev = make_member(windmill, WS, "dev@example.com")
    with api(windmill, dev) as d:
        assert tarball(d) == {}  # nothing under f/ops is shared with the member
        refused = d.get(f"/w/{WS}/workspaces/tarball", params={"include_key": "true"})
        assert (refused.status_code, refused.text) == (403, "Require Admin privileges for dev")


def test_the_lists_wmill_calls_around_a_sync_are_empty(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, WS)
    scoped = windmill.create_token(workspace_id=WS, label="sync")
    with api(windmill, scoped) as s:
        for path in ("workspaces/list_ws_specific", "jobs/list", "jobs/queue/list", "jobs/completed/list",
                     "http_triggers/list", "kafka_triggers/list", "email_triggers/list"):  # fmt: skip
            r = s.get(f"/w/{WS}/{path}", params={"per_page": "10"})
            assert (r.status_code, r.json()) == (200, []), path
        assert s.get(f"/w/{WS}/jobs/completed/list", params={"success": "maybe"}).status_code == 400
        assert s.get(f"/w/{WS}/shared_ui/get").json()["files"] == {}
        # The token is limited to its workspace: the workspace whoami works, global routes do not.
        assert s.get(f"/w/{WS}/users/whoami").json()["is_admin"] is True
        assert (s.get("/users/whoami").status_code, s.get("/users/list_as_super_admin").status_code) == (401, 401)


def test_users_list_as_super_admin_pages_as_wmill_user_reads_it(windmill: WindmillEmulator) -> None:
    for email in ("zed@example.com", "bob@example.com"):
        windmill.add_instance_user(email)
    with api(windmill) as c:
        first = [u["email"] for u in c.get("/users/list_as_super_admin", params={"page": "0", "per_page": "2"}).json()]
        assert first == ["admin@windmill.dev", "bob@example.com"]  # superadmins first, then by email
        again = c.get("/users/list_as_super_admin", params={"page": "1", "per_page": "2"}).json()
        assert [u["email"] for u in again] == first  # pages start at 1; page 0 is page 1
        rest = c.get("/users/list_as_super_admin", params={"page": "2", "per_page": "2"}).json()
        assert [u["email"] for u in rest] == ["zed@example.com"]
