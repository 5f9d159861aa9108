"""Members (docs/windmill-api.md §4.1), groups (§4.2) and folders (§4.3)."""

from __future__ import annotations

import pytest

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, make_member, make_workspace

GROUP_LIMIT_MSG = (
    "Bad request: You have reached the maximum number of groups (3 outside of native groups 'all', 'slack' and "
    "'error_handler') without an enterprise license"
)

# ------------------------------------------------------------------------------------ members


def test_add_user_is_201_and_joins_all(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        r = c.post(
            "/w/ops/workspaces/add_user", json={"email": "Alice.Smith@Example.com", "is_admin": False, "operator": True}
        )
        assert (r.status_code, r.text) == (201, "user with email alice.smith@example.com added")
        row = c.get("/w/ops/users/get/alicesmith").json()
        assert row["email"] == "alice.smith@example.com"  # emails are lowercased
        assert row["operator"] is True and row["is_admin"] is False
        assert "alicesmith" in c.get("/w/ops/groups/get/all").json()["members"]
        r = c.post(
            "/w/ops/workspaces/add_user",
            json={"email": "alice.smith@example.com", "is_admin": False, "operator": False},
        )
        assert (r.status_code, r.text) == (
            400,
            "Bad request: user with email alice.smith@example.com already exists in workspace ops",
        )


def test_usernames_come_from_the_email_with_suffixes_on_collision(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        for email in ("bob@a.example", "bob@b.example", "b-o.b@c.example", "bob@d.example"):
            assert (
                c.post(
                    "/w/ops/workspaces/add_user", json={"email": email, "is_admin": False, "operator": False}
                ).status_code
                == 201
            )
        names = {m["email"]: m["username"] for m in c.get("/w/ops/users/list").json()}
    assert names["bob@a.example"] == "bob"
    assert names["bob@b.example"] == "bob2"
    assert names["b-o.b@c.example"] == "bob3"
    assert names["bob@d.example"] == "bob4"


def test_instance_username_is_reused_across_workspaces(windmill_ee: WindmillEmulator) -> None:
    make_workspace(windmill_ee, "a")
    make_workspace(windmill_ee, "b")
    with api(windmill_ee) as c:
        c.post("/w/a/workspaces/add_user", json={"email": "bob@x.example", "is_admin": False, "operator": False})
        c.post("/w/b/workspaces/add_user", json={"email": "bob@y.example", "is_admin": False, "operator": False})
        c.post("/w/b/workspaces/add_user", json={"email": "bob@x.example", "is_admin": False, "operator": False})
        b = {m["email"]: m["username"] for m in c.get("/w/b/users/list").json()}
    assert b == {"admin@windmill.dev": "admin", "bob@y.example": "bob2", "bob@x.example": "bob"}


def test_add_user_requires_is_admin_and_operator_and_rejects_username(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        r = c.post("/w/ops/workspaces/add_user", json={"email": "x@example.com", "is_admin": False})
        assert r.status_code == 422
        assert r.text.startswith("Failed to deserialize the JSON body into the target type: missing field `operator`")
        r = c.post(
            "/w/ops/workspaces/add_user",
            json={"email": "x@example.com", "is_admin": False, "operator": False, "username": "xx"},
        )
        assert (r.status_code, r.text) == (
            400,
            "Bad request: username is not allowed when username creation is automated",
        )


def test_member_get_update_delete(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    username, _ = make_member(windmill, "ops", "dev@example.com")
    with api(windmill) as c:
        r = c.get("/w/ops/users/get/ghost")
        assert (r.status_code, r.text) == (404, "Not found: User not found at name ghost")
        r = c.post(f"/w/ops/users/update/{username}", json={"is_admin": True})
        assert (r.status_code, r.text) == (200, "user dev@example.com updated")
        assert c.get(f"/w/ops/users/get/{username}").json()["is_admin"] is True
        r = c.post("/w/ops/users/update/ghost", json={"is_admin": True})
        assert r.status_code == 400
        assert r.text.startswith("SqlErr: no rows returned by a query that expected to return at least one row")
        r = c.delete(f"/w/ops/users/delete/{username}")
        assert (r.status_code, r.text) == (200, f"username {username} deleted")
        r = c.delete(f"/w/ops/users/delete/{username}")
        assert (r.status_code, r.text) == (404, f"Not found: User not found at name {username}")


def test_non_admin_members_get_403_on_member_management(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    _, token = make_member(windmill, "ops", "dev@example.com")
    with api(windmill, token) as c:
        assert c.get("/w/ops/users/list").status_code == 200
        for r in (
            c.post("/w/ops/workspaces/add_user", json={"email": "y@example.com", "is_admin": False, "operator": False}),
            c.get("/w/ops/users/get/admin"),
            c.post("/w/ops/users/update/admin", json={"is_admin": False}),
            c.delete("/w/ops/users/delete/admin"),
        ):
            assert (r.status_code, r.text) == (403, "Require Admin privileges for dev")


def test_invites_upsert_and_delete_invite_must_match_exactly(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        inv = {"email": "new@example.com", "is_admin": False, "operator": False}
        assert c.post("/w/ops/workspaces/invite_user", json=inv).status_code == 201
        assert c.post("/w/ops/workspaces/invite_user", json={**inv, "operator": True}).status_code == 201
        assert c.get("/w/ops/workspaces/list_pending_invites").json()[0]["operator"] is True
        assert c.post("/w/ops/workspaces/delete_invite", json=inv).status_code == 201  # no match, still 201
        assert len(c.get("/w/ops/workspaces/list_pending_invites").json()) == 1
        assert c.post("/w/ops/workspaces/delete_invite", json={**inv, "operator": True}).status_code == 201
        assert c.get("/w/ops/workspaces/list_pending_invites").json() == []


# ------------------------------------------------------------------------------------ groups


def test_group_create_200_creator_is_owner_and_member(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        r = c.post("/w/ops/groups/create", json={"name": "devs", "summary": "Developers"})
        assert (r.status_code, r.text) == (200, "Created group devs")
        g = c.get("/w/ops/groups/get/devs").json()
        assert g == {
            "workspace_id": "ops",
            "name": "devs",
            "summary": "Developers",
            "members": ["admin"],
            "extra_perms": {"u/admin": True},
        }
        r = c.post("/w/ops/groups/create", json={"name": "devs"})
        assert (r.status_code, r.text) == (400, "Bad request: Group devs already exists")
        r = c.post("/w/ops/groups/create", json={"name": "bad name"})
        assert r.status_code == 400 and 'violates check constraint "proper_name"' in r.text
        r = c.get("/w/ops/groups/get/ghost")
        assert (r.status_code, r.text) == (404, "Not found: Group not found at name ghost")


def test_group_membership_is_idempotent_and_unchecked(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    username, _ = make_member(windmill, "ops", "dev@example.com")
    with api(windmill) as c:
        c.post("/w/ops/groups/create", json={"name": "devs"})
        r = c.post("/w/ops/groups/adduser/devs", json={"username": username})
        assert (r.status_code, r.text) == (200, f"Added {username} to group devs")
        r = c.post("/w/ops/groups/adduser/devs", json={"username": username})
        assert (r.status_code, r.text) == (200, f"{username} is already a member of group devs")
        # §4.2: no check that the username exists; get joins with usr, so only members are listed
        assert c.post("/w/ops/groups/adduser/devs", json={"username": "nobody"}).status_code == 200
        assert c.get("/w/ops/groups/get/devs").json()["members"] == ["admin", username]
        assert c.post("/w/ops/groups/removeuser/devs", json={"username": username}).status_code == 200
        r = c.post("/w/ops/groups/removeuser/all", json={"username": "admin"})
        assert (r.status_code, r.text) == (400, "Bad request: Cannot delete users from all")
        r = c.post("/w/ops/groups/adduser/ghost", json={"username": username})
        assert r.status_code == 404


def test_group_update_and_delete(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    _, dev = make_member(windmill, "ops", "dev@example.com")
    with api(windmill) as c:
        c.post("/w/ops/groups/create", json={"name": "devs"})
        assert c.post("/w/ops/groups/update/devs", json={"summary": "new"}).text == "Edited group devs"
        assert c.post("/w/ops/groups/update/ghost", json={"summary": "x"}).status_code == 404
    with api(windmill, dev) as c:
        r = c.post("/w/ops/groups/update/devs", json={"summary": "hijack"})
        assert r.status_code == 400 and "dev is not an owner of devs" in r.text
    with api(windmill) as c:
        r = c.delete("/w/ops/groups/delete/all")
        assert r.status_code == 400
        assert (
            c.delete("/w/ops/groups/delete/devs").status_code,
            c.delete("/w/ops/groups/delete/devs").status_code,
        ) == (
            200,
            404,
        )


def test_ce_group_limit_counts_wm_deployers_across_workspaces(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "a")
    make_workspace(windmill, "b")  # two wm_deployers rows now count
    with api(windmill) as c:
        assert c.post("/w/a/groups/create", json={"name": "one"}).status_code == 200
        r = c.post("/w/b/groups/create", json={"name": "two"})
        assert (r.status_code, r.text) == (400, GROUP_LIMIT_MSG)
        # native groups are not counted
        assert c.post("/w/a/workspaces/edit_error_handler", json={"path": "script/f/a/h"}).status_code == 200


@pytest.mark.parametrize(
    "kwargs", [{"edition": "EE"}, {"workspace_limit": False}, {"group_limit": False}], ids=["ee", "no-limits", "flag"]
)
def test_group_limit_can_be_switched_off(kwargs: dict[str, object]) -> None:
    with WindmillEmulator(**kwargs) as emu:  # type: ignore[arg-type]
        make_workspace(emu, "a")
        make_workspace(emu, "b")
        with api(emu) as c:
            for name in ("g1", "g2", "g3", "g4"):
                assert c.post("/w/a/groups/create", json={"name": name}).status_code == 200


def test_group_limit_flag_can_be_on_without_the_workspace_limit() -> None:
    with WindmillEmulator(workspace_limit=False, group_limit=True) as emu:
        make_workspace(emu, "a")
        with api(emu) as c:
            assert c.post("/w/a/groups/create", json={"name": "g1"}).status_code == 200
            assert c.post("/w/a/groups/create", json={"name": "g2"}).status_code == 200
            assert c.post("/w/a/groups/create", json={"name": "g3"}).status_code == 400


# ------------------------------------------------------------------------------------ folders


def test_folder_create_adds_the_caller_as_owner_with_write(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        body = {"name": "team", "summary": "s", "owners": ["g/devs"], "extra_perms": {"u/bob": False, "g/devs": False}}
        r = c.post("/w/ops/folders/create", json=body)
        assert (r.status_code, r.text) == (200, "Created folder team")
        f = c.get("/w/ops/folders/get/team").json()
        assert f["owners"] == ["g/devs", "u/admin"]
        assert f["extra_perms"] == {"u/bob": False, "g/devs": True, "u/admin": True}
        assert f["display_name"] == "team" and f["created_by"] == "admin"
        assert c.get("/w/ops/folders/exists/team").json() is True
        assert c.get("/w/ops/folders/exists/ghost").json() is False


def test_folder_create_errors(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        for bad in ("my-folder", "a/b", "", "é"):
            r = c.post("/w/ops/folders/create", json={"name": bad})
            assert r.status_code == 400
            assert r.text == "Bad request: Folder name can only contain alphanumeric characters, underscores"
        c.post("/w/ops/folders/create", json={"name": "ops"})
        r = c.post("/w/ops/folders/create", json={"name": "ops"})
        assert (r.status_code, r.text) == (400, "Bad request: Folder ops already exists")
        r = c.post("/w/ops/folders/create", json={"name": "x", "extra_perms": ["u/a"]})
        assert (r.status_code, r.text) == (400, "Bad request: extra_perms must be an object")


def test_folder_update_quirks(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        c.post("/w/ops/folders/create", json={"name": "team"})
        r = c.post("/w/ops/folders/update/ghost", json={"summary": "x"})
        # §4.3 / §9.2: 401 also for a folder that does not exist
        assert (r.status_code, r.text) == (
            401,
            "Not authorized: You are not an owner of ghost and hence cannot modify it",
        )
        r = c.post(
            "/w/ops/folders/update/team", json={"owners": ["u/admin", "g/ops"], "extra_perms": {"u/admin": True}}
        )
        assert r.status_code == 400
        assert (
            r.text
            == "Bad request: Owner g/ops would not have permission to write to folder and that is an invalid state"
        )
        r = c.post(
            "/w/ops/folders/update/team",
            json={"summary": "new", "owners": ["u/admin"], "extra_perms": {"u/admin": True, "g/all": False}},
        )
        assert (r.status_code, r.text) == (200, "Updated folder team")
        f = c.get("/w/ops/folders/get/team").json()
        assert f["summary"] == "new" and f["extra_perms"] == {"u/admin": True, "g/all": False}


def test_folder_update_by_a_non_admin_owner_re_adds_them(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    username, dev = make_member(windmill, "ops", "dev@example.com")
    with api(windmill, dev) as c:
        assert c.post("/w/ops/folders/create", json={"name": "mine"}).status_code == 200
        r = c.post("/w/ops/folders/update/mine", json={"owners": [], "extra_perms": {"g/all": False}})
        assert r.status_code == 200
        f = c.get("/w/ops/folders/get/mine").json()
        assert f["owners"] == [f"u/{username}"]
        assert f["extra_perms"] == {"g/all": False, f"u/{username}": True}
    with api(windmill) as c:
        c.post("/w/ops/folders/create", json={"name": "admins_only"})
    with api(windmill, dev) as c:
        r = c.post("/w/ops/folders/update/admins_only", json={"summary": "x"})
        assert r.status_code == 401


def test_folder_delete_404_and_keeps_items(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        c.post("/w/ops/folders/create", json={"name": "team"})
        c.post(
            "/w/ops/variables/create", json={"path": "f/team/v", "value": "1", "is_secret": False, "description": ""}
        )
        r = c.delete("/w/ops/folders/delete/team")
        assert (r.status_code, r.text) == (200, "delete folder at name team")
        r = c.delete("/w/ops/folders/delete/team")
        assert (r.status_code, r.text) == (404, "Not found: Folder not found at name team")
        assert c.get("/w/ops/variables/exists/f/team/v").json() is True


def test_folder_owners_add_and_remove(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        c.post("/w/ops/folders/create", json={"name": "team"})
        assert c.post("/w/ops/folders/addowner/team", json={"owner": "g/devs"}).text == "Added g/devs to folder team"
        f = c.get("/w/ops/folders/get/team").json()
        assert "g/devs" in f["owners"] and f["extra_perms"]["g/devs"] is True
        assert c.post("/w/ops/folders/removeowner/team", json={"owner": "g/devs", "write": False}).status_code == 200
        f = c.get("/w/ops/folders/get/team").json()
        assert "g/devs" not in f["owners"] and f["extra_perms"]["g/devs"] is False
        r = c.post("/w/ops/folders/removeowner/team", json={"owner": "g/devs"})
        assert r.text == "Owner g/devs is already not a member of folder team"
        assert c.post("/w/ops/folders/addowner/ghost", json={"owner": "g/devs"}).status_code == 404


def test_resource_under_app_folders_creates_the_folder(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        body = {"path": "f/app_themes/dark", "resource_type": "app_theme", "value": {}}
        assert c.post("/w/ops/resources/create", json=body).status_code == 201
        assert c.get("/w/ops/folders/exists/app_themes").json() is True


# ------------------------------------------------------------------------------- granular ACLs


def test_granular_acls_on_groups_folders_and_items(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    with api(windmill) as c:
        c.post("/w/ops/groups/create", json={"name": "devs"})
        r = c.post("/w/ops/acls/add/group_/devs", json={"owner": "u/bob", "write": True})
        assert (r.status_code, r.text) == (200, "Successfully modified granular acl")
        assert c.get("/w/ops/acls/get/group_/devs").json() == {"u/admin": True, "u/bob": True}
        assert c.get("/w/ops/groups/get/devs").json()["extra_perms"]["u/bob"] is True
        c.post("/w/ops/folders/create", json={"name": "team"})
        c.post("/w/ops/acls/add/folder/team", json={"owner": "g/devs"})
        assert c.get("/w/ops/folders/get/team").json()["extra_perms"]["g/devs"] is False
        body = {"path": "f/team/v", "value": "x", "is_secret": False, "description": ""}
        c.post("/w/ops/variables/create", json=body)
        c.post("/w/ops/acls/add/variable/f/team/v", json={"owner": "u/bob", "write": False})
        assert c.get("/w/ops/variables/get/f/team/v").json()["extra_perms"] == {"u/bob": False}
        r = c.post("/w/ops/acls/remove/variable/f/team/v", json={"owner": "u/bob"})
        assert (r.status_code, r.text) == (200, "Successfully removed granular acl")
        assert c.get("/w/ops/acls/get/variable/f/team/v").json() == {}
        r = c.get("/w/ops/acls/get/resource/f/team/ghost")
        assert (r.status_code, r.text) == (404, "Not found: resource not found at name f/team/ghost")


def test_item_acl_grants_read_access_to_a_developer(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    username, dev = make_member(windmill, "ops", "dev@example.com")
    with api(windmill) as c:
        c.post(
            "/w/ops/variables/create", json={"path": "u/admin/v", "value": "x", "is_secret": False, "description": ""}
        )
    with api(windmill, dev) as d:
        assert d.get("/w/ops/variables/get/u/admin/v").status_code == 401
    with api(windmill) as c:
        c.post("/w/ops/acls/add/variable/u/admin/v", json={"owner": f"u/{username}"})
    with api(windmill, dev) as d:
        assert d.get("/w/ops/variables/get/u/admin/v").json()["value"] == "x"
