"""Workspaces (docs/windmill-api.md §3) and workspace settings (§8)."""

from __future__ import annotations

import httpx
import pytest

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, deploy_script, make_member, make_workspace

LIMIT_MSG = (
    "Bad request: You have reached the maximum number of workspaces (2 outside of default workspace 'admins') "
    "without an enterprise license. Archive/delete another workspace to create a new one"
)


def test_create_is_200_text_and_the_creator_is_admin_member(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        r = c.post("/workspaces/create", json={"id": "ops", "name": "Ops", "color": "#ff0000"})
        assert (r.status_code, r.text) == (200, "Created workspace ops")  # §3: 200, not the openapi's 201
        members = c.get("/w/ops/users/list").json()
        assert [(m["email"], m["username"], m["is_admin"]) for m in members] == [("admin@windmill.dev", "admin", True)]
        assert sorted(c.get("/w/ops/groups/listnames").json()) == ["all", "wm_deployers"]
        assert c.get("/w/ops/groups/get/all").json()["members"] == ["admin"]
        assert c.get("/w/ops/users/whoami").json()["groups"] == ["all"]
        assert c.get("/w/ops/workspaces/get_settings").json()["color"] == "#ff0000"
    key = windmill.workspace_key("ops")
    assert len(key) == 64 and key.isalnum()
    assert key != windmill.workspace_key("admins")


def test_create_errors(windmill_ee: WindmillEmulator) -> None:
    with api(windmill_ee) as c:
        c.post("/workspaces/create", json={"id": "ops", "name": "Ops"})
        r = c.post("/workspaces/create", json={"id": "ops", "name": "Ops"})
        assert (r.status_code, r.text) == (400, "Bad request: Workspace ops already exists")
        r = c.post("/workspaces/create", json={"id": "global", "name": "G"})
        assert (r.status_code, r.text) == (400, "Bad request: 'global' is not allowed as a workspace ID")
        for bad in ("-ops", "ops-", "o--ps", "o ps", "a/b"):
            r = c.post("/workspaces/create", json={"id": bad, "name": "x"})
            assert r.status_code == 400, bad
            assert r.text.startswith("SqlErr: error returned from database: ")
            assert 'violates check constraint "proper_id"' in r.text
        assert c.post("/workspaces/create", json={"id": "my-ops_2", "name": "x"}).status_code == 200
        r = c.post("/workspaces/create", json={"id": "a" * 51, "name": "x"})
        assert r.status_code == 400 and r.text.startswith("SqlErr:") and "character varying(50)" in r.text
        assert c.post("/workspaces/create", json={"id": "a" * 50, "name": "x"}).status_code == 200
        r = c.post("/workspaces/create", json={"id": "named"})
        assert r.status_code == 422 and "missing field `name`" in r.text


def test_username_in_body_is_rejected_when_usernames_are_automated(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        r = c.post("/workspaces/create", json={"id": "ops", "name": "Ops", "username": "boss"})
        assert (r.status_code, r.text) == (
            400,
            "Bad request: username is not allowed when username creation is automated",
        )
        assert c.post("/workspaces/exists", json={"id": "ops"}).json() is False
        assert c.post("/workspaces/create", json={"id": "ops", "name": "Ops", "username": ""}).status_code == 200


def test_username_required_when_automation_is_off(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        assert c.post("/settings/global/automate_username_creation", json={"value": False}).status_code == 200
        r = c.post("/workspaces/create", json={"id": "ops", "name": "Ops"})
        assert (r.status_code, r.text) == (400, "Bad request: username is required")
        assert c.post("/workspaces/create", json={"id": "ops", "name": "Ops", "username": "boss"}).status_code == 200
        assert c.get("/w/ops/users/whoami").json()["username"] == "boss"


def test_ce_workspace_limit_counts_non_archived_besides_admins(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        assert c.post("/workspaces/create", json={"id": "a", "name": "A"}).status_code == 200
        assert c.post("/workspaces/create", json={"id": "b", "name": "B"}).status_code == 200
        r = c.post("/workspaces/create", json={"id": "c", "name": "C"})
        assert (r.status_code, r.text) == (400, LIMIT_MSG)
        assert c.post("/w/b/workspaces/archive").status_code == 200
        assert c.post("/workspaces/create", json={"id": "c", "name": "C"}).status_code == 200


@pytest.mark.parametrize("kwargs", [{"edition": "EE"}, {"workspace_limit": False}])
def test_workspace_limit_off_for_ee_or_by_flag(kwargs: dict[str, object]) -> None:
    with WindmillEmulator(**kwargs) as emu, api(emu) as c:  # type: ignore[arg-type]
        for ws in ("a", "b", "c", "d"):
            assert c.post("/workspaces/create", json={"id": ws, "name": ws}).status_code == 200


def test_create_requires_superadmin_by_default(windmill: WindmillEmulator) -> None:
    windmill.add_instance_user("bob@example.com")
    with api(windmill, windmill.create_token("bob@example.com")) as c:
        r = c.post("/workspaces/create", json={"id": "bobs", "name": "Bob"})
        assert (r.status_code, r.text) == (401, "Not authorized: This endpoint requires the caller to be a super admin")
        assert c.get("/workspaces/create_workspace_require_superadmin").text == "true"
    with WindmillEmulator(create_workspace_require_superadmin=False) as emu:
        emu.add_instance_user("bob@example.com")
        with api(emu, emu.create_token("bob@example.com")) as c:
            assert c.post("/workspaces/create", json={"id": "bobs", "name": "Bob"}).status_code == 200
            assert c.get("/w/bobs/users/whoami").json()["is_admin"] is True


def test_exists_includes_archived_and_list_excludes_them(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        assert c.post("/workspaces/exists", json={"id": "ops"}).json() is True
        assert c.post("/workspaces/exists", json={"id": "nope"}).json() is False
        assert {w["id"] for w in c.get("/workspaces/list").json()} == {"admins", "ops"}
        c.post("/w/ops/workspaces/archive")
        assert c.post("/workspaces/exists", json={"id": "ops"}).json() is True
        assert {w["id"] for w in c.get("/workspaces/list").json()} == {"admins"}
        every = {w["id"]: w for w in c.get("/workspaces/list_as_superadmin").json()}
        assert every["ops"]["deleted"] is True
        assert set(every["ops"]) == {"id", "name", "owner", "deleted", "premium", "color", "parent_workspace_id"}


def test_workspaces_users_gives_the_username_per_workspace(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        body = c.get("/workspaces/users").json()
        assert body["email"] == "admin@windmill.dev"
        assert {w["id"]: w["username"] for w in body["workspaces"]} == {"admins": "admin", "ops": "admin"}


def test_get_as_superadmin(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    _, dev = make_member(windmill, "ops", "dev@example.com", is_admin=True)
    with api(windmill) as c:
        assert c.get("/w/ops/workspaces/get_as_superadmin").json()["owner"] == "admin@windmill.dev"
        r = c.get("/w/ghost/workspaces/get_as_superadmin")
        assert (r.status_code, r.text) == (404, "Not found: workspace not found at name ghost")
    with api(windmill, dev) as c:
        assert c.get("/w/ops/workspaces/get_as_superadmin").status_code == 401


def test_settings_rename_and_color(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops", "Ops")
    _, dev = make_member(windmill, "ops", "dev@example.com")
    with api(windmill) as c:
        s = c.get("/w/ops/workspaces/get_settings").json()
        assert s["workspace_id"] == "ops" and "color" not in s  # unset fields are omitted (§8.1)
        r = c.post("/w/ops/workspaces/change_workspace_name", json={"new_name": "Operations"})
        assert (r.status_code, r.text) == (200, "updated workspace name to Operations")
        assert c.get("/w/ops/workspaces/get_workspace_name").text == "Operations"
        assert c.post("/w/ops/workspaces/change_workspace_color", json={"color": "not-a-color"}).status_code == 200
        assert c.get("/w/ops/workspaces/get_settings").json()["color"] == "not-a-color"
        assert c.post("/w/ops/workspaces/change_workspace_color", json={"color": None}).status_code == 200
        assert "color" not in c.get("/w/ops/workspaces/get_settings").json()
        # §9.2: renaming a workspace that does not exist updates 0 rows and answers 200
        assert c.post("/w/ghost/workspaces/change_workspace_name", json={"new_name": "x"}).status_code == 200
    with api(windmill, dev) as c:
        assert c.get("/w/ops/workspaces/get_settings").status_code == 200  # readable by any member
        r = c.post("/w/ops/workspaces/change_workspace_color", json={"color": "#000"})
        assert (r.status_code, r.text) == (403, "Require Admin privileges for dev")
        assert c.post("/w/ops/workspaces/archive").status_code == 403


def test_archive_disables_schedules_and_deletes_scoped_tokens_except_sessions(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    scoped = windmill.create_token(workspace_id="ops", label="scoped")
    session = windmill.create_token(workspace_id="ops", label="session")
    unscoped = windmill.create_token(label="global")
    sched = {
        "path": "f/ops/s",
        "schedule": "0 0 12 * * *",
        "timezone": "UTC",
        "script_path": "f/ops/x",
        "is_flow": False,
    }
    deploy_script(windmill, "ops", "f/ops/x")  # an enabled schedule needs its target deployed
    with api(windmill) as c:
        assert c.post("/w/ops/schedules/create", json={**sched, "enabled": True}).status_code == 200
        r = c.post("/w/ops/workspaces/archive")
        assert r.status_code == 200
        assert r.text == "Archived workspace ops, disabled 1 schedules, canceled 0 jobs and deleted 1 tokens"
        assert c.get("/w/ops/schedules/get/f/ops/s").json()["enabled"] is False
        assert c.get("/w/ops/workspaces/get_as_superadmin").json()["deleted"] is True
    url = windmill.url + "/api/w/ops/users/whoami"
    assert httpx.get(url, headers={"Authorization": f"Bearer {scoped}"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {session}"}).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"Bearer {unscoped}"}).status_code == 200
    # §3: unarchive only flips deleted
    with api(windmill) as c:
        r = c.post("/workspaces/unarchive/ops")
        assert (r.status_code, r.text) == (200, "Unarchived workspace ops")
        assert c.get("/w/ops/workspaces/get_as_superadmin").json()["deleted"] is False
        assert c.get("/w/ops/schedules/get/f/ops/s").json()["enabled"] is False
    assert httpx.get(url, headers={"Authorization": f"Bearer {scoped}"}).status_code == 401


def test_only_superadmins_unarchive(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    _, dev = make_member(windmill, "ops", "dev@example.com", is_admin=True)
    with api(windmill, dev) as c:
        assert c.post("/w/ops/workspaces/archive").status_code == 200  # a workspace admin may archive
        r = c.post("/workspaces/unarchive/ops")
        assert r.status_code == 403 and r.text.startswith("Require Admin privileges for ")


def test_delete_is_200_even_if_missing_but_protected_and_superadmin_only(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    _, dev = make_member(windmill, "ops", "dev@example.com", is_admin=True)
    with api(windmill, dev) as c:
        r = c.delete("/workspaces/delete/ops")
        assert (r.status_code, r.text) == (401, "Not authorized: This endpoint requires the caller to be a super admin")
    with api(windmill) as c:
        assert (
            c.delete("/workspaces/delete/ops").status_code,
            c.post("/workspaces/exists", json={"id": "ops"}).json(),
        ) == (
            200,
            False,
        )
        r = c.delete("/workspaces/delete/never-existed")
        assert (r.status_code, r.text) == (200, "Deleted workspace never-existed")
        for protected in ("admins", "starter"):
            r = c.delete(f"/workspaces/delete/{protected}")
            assert r.status_code == 400 and r.text.startswith("Bad request: ")
        # the scoped-token-holder's rows went with the workspace
        assert c.get("/w/ops/users/list").json() == []


def test_admins_workspace_exists_with_hub_resource_types(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        assert c.post("/workspaces/exists", json={"id": "admins"}).json() is True
        names = c.get("/w/ops/resources/type/listnames").json()
        for hub in ("postgresql", "s3", "slack", "smtp", "mysql", "github"):
            assert hub in names
        assert c.get("/w/ops/resources/type/get/postgresql").json()["workspace_id"] == "admins"
        assert c.get("/w/ops/resources/type/exists/s3").json() is True


def test_ce_only_settings_and_oss_stubs(windmill: WindmillEmulator, windmill_ee: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    make_workspace(windmill_ee, "ops")
    with api(windmill) as c:
        r = c.post("/w/ops/workspaces/edit_auto_invite", json={"operator": False})
        assert (r.status_code, r.text) == (500, "Internal: Not implemented on OSS")
        r = c.post("/w/ops/workspaces/edit_deploy_to", json={"deploy_to": "prod"})
        assert (r.status_code, r.text) == (400, "Bad request: Deploy to is only available on enterprise")
        r = c.post("/w/ops/workspaces/edit_git_sync_config", json={"git_sync_settings": None})
        assert (r.status_code, r.text) == (
            400,
            "Bad request: Git sync is only available on Windmill Enterprise Edition",
        )
        r = c.post("/w/ops/workspaces/edit_default_app", json={"default_app_path": "f/a/b"})
        assert r.status_code == 400
    with api(windmill_ee) as c:
        assert c.post("/w/ops/workspaces/edit_deploy_to", json={"deploy_to": "prod"}).status_code == 200
        assert c.get("/w/ops/workspaces/get_settings").json()["deploy_to"] == "prod"


def test_error_handler_serde_quirk_clears_on_unknown_fields(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        r = c.post("/w/ops/workspaces/edit_error_handler", json={"path": "script/f/ops/notify", "extra_args": {"a": 1}})
        assert r.status_code == 200
        handler = c.get("/w/ops/workspaces/get_settings").json()["error_handler"]
        assert handler["path"] == "script/f/ops/notify"
        assert "error_handler" in c.get("/w/ops/groups/listnames").json()
        # §13: an unknown field makes serde pick the legacy variant, which ignores ``path``
        body = {"path": "script/f/ops/notify", "fallback_to_instance_alerts": True}
        assert c.post("/w/ops/workspaces/edit_error_handler", json=body).status_code == 200
        assert "error_handler" not in c.get("/w/ops/workspaces/get_settings").json()


def test_environment_variables_show_in_list_contextual(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        c.post("/w/ops/workspaces/set_environment_variable", json={"name": "REGION", "value": "eu"})
        custom = [v for v in c.get("/w/ops/variables/list_contextual").json() if v["is_custom"]]
        assert custom == [{"name": "REGION", "value": "eu", "description": "", "is_custom": True}]
        c.post("/w/ops/workspaces/set_environment_variable", json={"name": "REGION"})
        assert [v for v in c.get("/w/ops/variables/list_contextual").json() if v["is_custom"]] == []


def test_change_workspace_id_copies_then_archives_the_old_one(windmill_ee: WindmillEmulator) -> None:
    make_workspace(windmill_ee, "old")
    with api(windmill_ee) as c:
        body = {"path": "f/x/s", "value": "pw", "is_secret": True, "description": ""}
        assert c.post("/w/old/variables/create", json=body).status_code == 201
        r = c.post("/w/old/workspaces/change_workspace_id", json={"new_id": "new", "new_name": "New"})
        assert (r.status_code, r.text) == (200, "Moved workspace from old to new, archived old workspace old")
        assert c.get("/w/new/variables/get/f/x/s").json()["value"] == "pw"
        assert c.get("/w/new/users/whoami").json()["username"] == "admin"
        assert c.get("/w/old/workspaces/get_as_superadmin").json()["deleted"] is True
        r = c.post("/w/new/workspaces/change_workspace_id", json={"new_id": "old", "new_name": "x"})
        assert (r.status_code, r.text) == (400, "Bad request: Workspace old already exists")
        r = c.post("/w/new/workspaces/change_workspace_id", json={"new_id": "newer"})
        assert r.status_code == 422
