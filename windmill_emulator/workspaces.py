"""Workspace endpoints (docs/windmill-api.md §3)."""

from __future__ import annotations

import copy
from typing import Any

from .auth import require_admin, require_super_admin
from .framework import (
    ROW_NOT_FOUND,
    ApiError,
    Ctx,
    DbError,
    Response,
    Router,
    Struct,
    bad_request,
    json_response,
    not_found_at_name,
    opt,
    page_slice,
    req,
    text,
)
from .store import WORKSPACE_ID_RE, Group, Member, Store, Workspace

# docs/windmill-api.md §3: the CE limit message.
WORKSPACE_LIMIT_MSG = (
    "You have reached the maximum number of workspaces (2 outside of default workspace 'admins') without an "
    "enterprise license. Archive/delete another workspace to create a new one"
)
SLACK_EMAIL_DEFAULT = "missing@email.xyz"

CREATE = Struct(
    "CreateWorkspace",
    {"id": req("string"), "name": req("string"), "username": opt("string"), "color": opt("string")},
)


def automate_username_creation(store: Store) -> bool:
    """Global setting ``automate_username_creation``, default true (docs/windmill-api.md §3)."""
    value = store.global_settings.get("automate_username_creation")
    return value if isinstance(value, bool) else True


def resolve_new_username(store: Store, email: str, username: str | None) -> str:
    """The username a new member gets (docs/windmill-api.md §3 "What the creator becomes")."""
    if automate_username_creation(store):
        if username:
            # docs/windmill-api.md §3: a non-empty username is rejected when creation is automated.
            raise bad_request("username is not allowed when username creation is automated")
        return store.instance_username(email)
    if username is None:
        raise bad_request("username is required")
    return username


def workspace_json(store: Store, w: Workspace) -> dict[str, Any]:
    """The ``Workspace`` struct: ``{id,name,owner,deleted,premium,color,parent_workspace_id}``."""
    return {
        "id": w.id,
        "name": w.name,
        "owner": w.owner,
        "deleted": w.deleted,
        "premium": w.premium,
        "color": w.settings.get("color"),
        "parent_workspace_id": w.parent_workspace_id,
    }


def add_workspace(store: Store, ws_id: str, name: str, owner: str, username: str, color: str | None) -> Workspace:
    """Insert a workspace as ``create_workspace`` does (settings, key, admin member, groups)."""
    w = Workspace(id=ws_id, name=name, owner=owner, key=store.new_workspace_key())
    w.settings["color"] = color
    store.workspaces[ws_id] = w
    store.ensure_ws_tables(ws_id)
    store.members[ws_id][username] = Member(workspace_id=ws_id, email=owner, username=username, is_admin=True)
    # docs/windmill-api.md §3: groups ``all`` and ``wm_deployers`` are created; the creator joins ``all``.
    store.groups[ws_id]["all"] = Group(
        ws_id, "all", "The group that always contains all users of this workspace", {}, [username]
    )
    store.groups[ws_id]["wm_deployers"] = Group(
        ws_id, "wm_deployers", "Members can preserve the original author when deploying to this workspace", {}, []
    )
    return w


def create(ctx: Ctx) -> Response:
    """POST /api/workspaces/create (docs/windmill-api.md §3)."""
    store, cfg, body = ctx.store, ctx.config, ctx.body
    if cfg.create_workspace_require_superadmin:
        # docs/windmill-api.md §3: CREATE_WORKSPACE_REQUIRE_SUPERADMIN defaults to true → 401 otherwise.
        require_super_admin(ctx)
    if cfg.workspace_limit_active:
        # docs/windmill-api.md §3: CE refuses a third non-archived workspace besides ``admins``.
        count = sum(1 for w in store.workspaces.values() if w.id != "admins" and not w.deleted)
        if count >= 2:
            raise bad_request(WORKSPACE_LIMIT_MSG)
    ws_id, name = body["id"], body["name"]
    if ws_id == "global":
        raise bad_request("'global' is not allowed as a workspace ID")
    if ws_id in store.workspaces:
        raise bad_request(f"Workspace {ws_id} already exists")
    # docs/windmill-api.md §3: no server-side regex; the INSERT fails on VARCHAR(50) / CHECK proper_id.
    if len(ws_id) > 50 or len(name) > 50:
        raise DbError("value too long for type character varying(50)", location="workspaces.rs:1187:6")
    if not WORKSPACE_ID_RE.match(ws_id):
        raise DbError(
            'new row for relation "workspace" violates check constraint "proper_id"', location="workspaces.rs:1187:6"
        )
    username = resolve_new_username(store, ctx.user.email, body["username"])
    add_workspace(store, ws_id, name, ctx.user.email, username, body["color"])
    store.audit_log(ctx.user, "workspaces.create", "Create", ws_id, name)
    # docs/windmill-api.md §3: 200 text (the openapi's 201 is wrong).
    return text(f"Created workspace {ws_id}")


def exists(ctx: Ctx) -> Response:
    """POST /api/workspaces/exists: JSON bool, archived workspaces included (§3)."""
    return json_response(ctx.body["id"] in ctx.store.workspaces)


def list_mine(ctx: Ctx) -> Response:
    """GET /api/workspaces/list: caller is a member and the workspace is not archived (§3)."""
    store = ctx.store
    out = [
        workspace_json(store, w)
        for w in store.workspaces.values()
        if not w.deleted and store.member_by_email(w.id, ctx.user.email) is not None
    ]
    return json_response(out)


def user_workspaces(ctx: Ctx) -> Response:
    """GET /api/workspaces/users: ``{email, workspaces:[…username…]}`` (§3)."""
    store = ctx.store
    out = []
    for w in store.workspaces.values():
        m = store.member_by_email(w.id, ctx.user.email)
        if w.deleted or m is None:
            continue
        out.append(
            {
                "id": w.id,
                "name": w.name,
                "username": m.username,
                "color": w.settings.get("color"),
                "operator_settings": w.settings.get("operator_settings") if m.operator else None,
                "parent_workspace_id": w.parent_workspace_id,
                "disabled": m.disabled,
            }
        )
    return json_response({"email": ctx.user.email, "workspaces": out})


def list_as_superadmin(ctx: Ctx) -> Response:
    """GET /api/workspaces/list_as_superadmin: every workspace incl. archived; superadmin only (§3)."""
    require_super_admin(ctx)
    rows = [workspace_json(ctx.store, w) for w in ctx.store.workspaces.values()]
    return json_response(page_slice(rows, ctx.query))


def unarchive(ctx: Ctx) -> Response:
    """POST /api/workspaces/unarchive/{id}.

    docs/windmill-api.md §3: a global route, so ``is_admin`` means superadmin; it only flips
    ``deleted`` (schedules stay disabled, deleted tokens stay gone).
    """
    if not ctx.user.is_admin:
        raise ApiError(403, f"Require Admin privileges for {ctx.user.username}")
    ws_id = ctx.params["workspace"]
    w = ctx.store.workspaces.get(ws_id)
    if w is not None:
        w.deleted = False
    ctx.store.audit_log(ctx.user, "workspaces.unarchive", "Update", ws_id, None)
    return text(f"Unarchived workspace {ws_id}")


def delete(ctx: Ctx) -> Response:
    """DELETE /api/workspaces/delete/{id}: superadmin; 200 even if it never existed (§3, §9.2)."""
    require_super_admin(ctx)
    ws_id = ctx.params["workspace"]
    if ws_id in ("admins", "starter"):
        # docs/windmill-api.md §3: ``admins`` and ``starter`` cannot be deleted.
        raise bad_request(f"Cannot delete the {ws_id} workspace")
    store = ctx.store
    store.workspaces.pop(ws_id, None)
    store.drop_ws_rows(ws_id)
    store.audit_log(ctx.user, "workspaces.delete", "Delete", ws_id, None)
    return text(f"Deleted workspace {ws_id}")


def create_workspace_require_superadmin(ctx: Ctx) -> Response:
    """GET /api/workspaces/create_workspace_require_superadmin: text true/false (§3)."""
    return text("true" if ctx.config.create_workspace_require_superadmin else "false")


def get_as_superadmin(ctx: Ctx) -> Response:
    """GET /api/w/{id}/workspaces/get_as_superadmin: 401 unless superadmin, 404 if missing (§3)."""
    require_super_admin(ctx)
    w = ctx.store.workspaces.get(ctx.ws)
    if w is None:
        raise not_found_at_name("workspace", ctx.ws)
    return json_response(workspace_json(ctx.store, w))


def settings_json(w: Workspace, is_admin: bool) -> dict[str, Any]:
    """The ``WorkspaceSettings`` struct: unset fields omitted (docs/windmill-api.md §8.1)."""
    out: dict[str, Any] = {"workspace_id": w.id}
    order = [
        "slack_team_id",
        "teams_team_id",
        "teams_team_name",
        "teams_team_guid",
        "slack_name",
        "slack_command_script",
        "teams_command_script",
        "slack_email",
        "slack_oauth_client_id",
        "slack_oauth_client_secret",
        "customer_id",
        "plan",
        "webhook",
        "deploy_to",
        "ai_config",
        "large_file_storage",
        "ducklake",
        "datatable",
        "git_sync",
        "deploy_ui",
        "default_app",
        "default_scripts",
        "mute_critical_alerts",
        "color",
        "operator_settings",
        "git_app_installations",
        "auto_invite",
        "error_handler",
        "success_handler",
        "public_app_execution_limit_per_minute",
    ]
    for key in order:
        value = w.settings.get(key)
        if key == "slack_email":
            # NOT NULL column with default 'missing@email.xyz', always serialized.
            out[key] = value if value is not None else SLACK_EMAIL_DEFAULT
        elif key == "teams_command_script":
            # The struct has no skip_serializing_if on this one field.
            out[key] = value
        elif key == "slack_oauth_client_secret" and not is_admin:
            # docs/windmill-api.md §3: the secret is hidden from non-admins.
            continue
        elif value is not None:
            out[key] = value
    return out


def get_settings(ctx: Ctx) -> Response:
    """GET /api/w/{id}/workspaces/get_settings: readable by any member (§3, §8.1)."""
    w = ctx.store.workspaces.get(ctx.ws)
    if w is None:
        raise not_found_at_name("workspace settings", ctx.ws)
    return json_response(settings_json(w, ctx.user.is_admin))


def get_workspace_name(ctx: Ctx) -> Response:
    """GET /api/w/{id}/workspaces/get_workspace_name: text (§3)."""
    w = ctx.store.workspaces.get(ctx.ws)
    if w is None:
        # ``fetch_one`` on a missing row: sqlx RowNotFound → 400 SqlErr (docs/windmill-api.md §9.1).
        raise DbError(ROW_NOT_FOUND, location="workspaces.rs:2540:6", raw=True)
    return text(w.name)


def change_workspace_name(ctx: Ctx) -> Response:
    """POST …/change_workspace_name: admin; a missing workspace updates 0 rows and answers 200 (§9.2)."""
    require_admin(ctx)
    new_name = ctx.body["new_name"]
    if len(new_name) > 50:
        raise DbError("value too long for type character varying(50)", location="workspaces.rs:2571:6")
    w = ctx.store.workspaces.get(ctx.ws)
    if w is not None:
        w.name = new_name
    ctx.store.audit_log(ctx.user, "workspace.change_workspace_name", "Update", ctx.ws, ctx.user.email)
    return text(f"updated workspace name to {new_name}")


def change_workspace_color(ctx: Ctx) -> Response:
    """POST …/change_workspace_color: admin; no format check on color (§3)."""
    require_admin(ctx)
    color = ctx.body["color"]
    w = ctx.store.workspaces.get(ctx.ws)
    if w is not None:
        w.settings["color"] = color
    return text(f"updated workspace color to {color if color is not None else 'no color'}")


def edit_workspace(ctx: Ctx) -> Response:
    """POST …/workspaces/update (legacy): ``{name, owner}`` both required; admin (§3)."""
    require_admin(ctx)
    w = ctx.store.workspaces.get(ctx.ws)
    if w is not None:
        w.name = ctx.body["name"]
        w.owner = ctx.body["owner"]
    return text(f"Updated workspace {ctx.ws}")


def archive(ctx: Ctx) -> Response:
    """POST …/workspaces/archive (docs/windmill-api.md §3 "Archive side effects", §15 item 6).

    Disables every schedule, deletes the workspace-scoped tokens except ``session`` ones, and
    sets ``deleted = true``.
    """
    require_admin(ctx)
    store = ctx.store
    schedules = store.ws_schedules(ctx.ws)
    for s in schedules.values():
        s["enabled"] = False
    doomed = [t for t, row in store.tokens.items() if row.workspace_id == ctx.ws and row.label != "session"]
    for t in doomed:
        del store.tokens[t]
    w = store.workspaces.get(ctx.ws)
    if w is not None:
        w.deleted = True
    store.audit_log(ctx.user, "workspaces.archive", "Update", ctx.ws, None)
    return text(
        f"Archived workspace {ctx.ws}, disabled {len(schedules)} schedules, canceled 0 jobs and deleted "
        f"{len(doomed)} tokens"
    )


def change_workspace_id(ctx: Ctx) -> Response:
    """POST …/change_workspace_id ``{new_id, new_name}`` (docs/windmill-api.md §3 "Change id").

    Superadmin when CREATE_WORKSPACE_REQUIRE_SUPERADMIN (default), else admin. Every row is
    copied to the new id, then the old workspace is archived: model it as replace-and-delete.
    """
    if ctx.config.create_workspace_require_superadmin:
        require_super_admin(ctx)
    else:
        require_admin(ctx)
    store, old, body = ctx.store, ctx.ws, ctx.body
    new_id, new_name = body["new_id"], body["new_name"]
    w = store.workspaces.get(old)
    if w is None:
        raise not_found_at_name("workspace", old)
    if new_id == "global":
        raise bad_request("'global' is not allowed as a workspace ID")
    if new_id in store.workspaces:
        raise bad_request(f"Workspace {new_id} already exists")
    if len(new_id) > 50 or len(new_name) > 50:
        raise DbError("value too long for type character varying(50)", location="workspaces_extra.rs:120:6")
    if not WORKSPACE_ID_RE.match(new_id):
        raise DbError(
            'new row for relation "workspace" violates check constraint "proper_id"',
            location="workspaces_extra.rs:120:6",
        )
    moved = Workspace(
        id=new_id,
        name=new_name,
        owner=w.owner,
        key=w.key,
        premium=w.premium,
        settings=copy.deepcopy(w.settings),
        env=dict(w.env),
    )
    store.workspaces[new_id] = moved
    store.ensure_ws_tables(new_id)
    for table in (
        store.members,
        store.groups,
        store.folders,
        store.variables,
        store.resources,
        store.resource_types,
        store.schedules,
        store.invites,
    ):
        for key, row in table.get(old, {}).items():
            clone = copy.deepcopy(row)
            if isinstance(clone, dict):
                clone["workspace_id"] = new_id
            else:
                clone.workspace_id = new_id
            table[new_id][key] = clone
    w.deleted = True
    store.audit_log(ctx.user, "workspaces.change_workspace_id", "Update", new_id, old)
    return text(f"Moved workspace from {old} to {new_id}, archived old workspace {old}")


def is_premium(ctx: Ctx) -> Response:
    """GET …/workspaces/is_premium: admin; always false outside cloud."""
    require_admin(ctx)
    return json_response(False)


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("POST", "/api/workspaces/create", create, auth="global", body=CREATE)
    router.add(
        "POST", "/api/workspaces/exists", exists, auth="global", body=Struct("WorkspaceId", {"id": req("string")})
    )
    router.add("GET", "/api/workspaces/list", list_mine, auth="global")
    router.add("GET", "/api/workspaces/users", user_workspaces, auth="global")
    router.add("GET", "/api/workspaces/list_as_superadmin", list_as_superadmin, auth="global")
    router.add("POST", "/api/workspaces/unarchive/{workspace}", unarchive, auth="global")
    router.add("DELETE", "/api/workspaces/delete/{workspace}", delete, auth="global")
    router.add(
        "GET", "/api/workspaces/create_workspace_require_superadmin", create_workspace_require_superadmin, auth="global"
    )
    w = "/api/w/{workspace}/workspaces"
    router.add("GET", f"{w}/get_as_superadmin", get_as_superadmin)
    router.add("GET", f"{w}/get_settings", get_settings)
    router.add("GET", f"{w}/get_workspace_name", get_workspace_name)
    router.add(
        "POST",
        f"{w}/change_workspace_name",
        change_workspace_name,
        body=Struct("ChangeWorkspaceName", {"new_name": req("string")}),
    )
    router.add(
        "POST",
        f"{w}/change_workspace_color",
        change_workspace_color,
        body=Struct("ChangeWorkspaceColor", {"color": opt("string")}),
    )
    router.add(
        "POST",
        f"{w}/update",
        edit_workspace,
        body=Struct("EditWorkspace", {"name": req("string"), "owner": req("string")}),
    )
    router.add("POST", f"{w}/archive", archive)
    router.add(
        "POST",
        f"{w}/change_workspace_id",
        change_workspace_id,
        body=Struct("ChangeWorkspaceId", {"new_id": req("string"), "new_name": req("string")}),
    )
    router.add("GET", f"{w}/is_premium", is_premium)
