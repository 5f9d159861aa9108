"""Workspace groups (docs/windmill-api.md §4.2)."""

from __future__ import annotations

from typing import Any

from .framework import (
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
    query_bool,
    req,
    text,
)
from .store import NAME_RE, Authed, Group, Store

# docs/windmill-api.md §4.2: the CE group limit message.
GROUP_LIMIT_MSG = (
    "You have reached the maximum number of groups (3 outside of native groups 'all', 'slack' and "
    "'error_handler') without an enterprise license"
)


def count_limited_groups(store: Store) -> int:
    """docs/windmill-api.md §4.2: COUNT(*) over ALL workspaces, excluding only all/error_handler/slack.

    ``wm_deployers`` (inserted by every workspace creation) is counted, as the source says.
    """
    return sum(
        1
        for groups in store.groups.values()
        for g in groups.values()
        if g.name not in ("all", "error_handler", "slack")
    )


def group_members(store: Store, ws: str, g: Group) -> list[str]:
    """``usr_to_group`` joined with ``usr``: usernames that are not members are not listed."""
    members = store.ws_members(ws)
    return [u for u in g.members if u in members]


def require_is_owner(store: Store, authed: Authed, ws: str, name: str) -> None:
    """[GRP] ``require_is_owner`` (skipped for admins by the callers): 400 when not an owner."""
    g = store.ws_groups(ws).get(name)
    perms = g.extra_perms if g else {}
    if perms.get(f"u/{authed.username}") is True:
        return
    if any(perms.get(f"g/{grp}") is True for grp in authed.groups):
        return
    # docs/windmill-api.md §4.2: 400 ``… is not an owner of X…``.
    raise bad_request(
        f"{authed.username} is not an owner of {name} and hence is not authorized to perform this operation"
    )


def group_json(g: Group) -> dict[str, Any]:
    """The ``Group`` row as listed."""
    return {"workspace_id": g.workspace_id, "name": g.name, "summary": g.summary, "extra_perms": g.extra_perms}


def create(ctx: Ctx) -> Response:
    """POST /api/w/{id}/groups/create: 200 ``Created group X`` (§4.2, §15 item 2)."""
    store, ws, name = ctx.store, ctx.ws, ctx.body["name"]
    if name in store.ws_groups(ws):
        raise bad_request(f"Group {name} already exists")
    if ctx.config.group_limit_active and count_limited_groups(store) >= 3:
        raise bad_request(GROUP_LIMIT_MSG)
    if len(name) > 50:
        raise DbError("value too long for type character varying(50)", location="groups.rs:268:6")
    if not NAME_RE.match(name):
        # docs/windmill-api.md §4.2: DB check ``proper_name`` on ``^[\w-]+$``.
        raise DbError(
            'new row for relation "group_" violates check constraint "proper_name"', location="groups.rs:268:6"
        )
    store.check_ws_fk(ws, "group_", "groups.rs:268:6")
    owner = f"u/{ctx.user.username}"
    # docs/windmill-api.md §4.2: the creator becomes owner (extra_perms true) and a member.
    store.groups[ws][name] = Group(ws, name, ctx.body["summary"], {owner: True}, [ctx.user.username])
    store.audit_log(ctx.user, "group.create", "Create", ws, name)
    return text(f"Created group {name}")


def get(ctx: Ctx) -> Response:
    """GET /api/w/{id}/groups/get/{name}: 404 ``Group not found at name X`` (§4.2)."""
    g = ctx.store.ws_groups(ctx.ws).get(ctx.params["name"])
    if g is None:
        raise not_found_at_name("Group", ctx.params["name"])
    out: dict[str, Any] = {"workspace_id": g.workspace_id, "name": g.name}
    if g.summary is not None:
        out["summary"] = g.summary
    out["members"] = group_members(ctx.store, ctx.ws, g)
    out["extra_perms"] = g.extra_perms
    return json_response(out)


def list_groups(ctx: Ctx) -> Response:
    """GET /api/w/{id}/groups/list: ordered by name."""
    groups = sorted(ctx.store.ws_groups(ctx.ws).values(), key=lambda g: g.name)
    return json_response(page_slice([group_json(g) for g in groups], ctx.query))


def list_names(ctx: Ctx) -> Response:
    """GET /api/w/{id}/groups/listnames[?only_member_of=true]."""
    if query_bool(ctx.query, "only_member_of"):
        return json_response(ctx.store.groups_of(ctx.ws, ctx.user.username))
    return json_response(sorted(ctx.store.ws_groups(ctx.ws)))


def _load_for_change(ctx: Ctx) -> Group:
    name = ctx.params["name"]
    if not ctx.user.is_admin:
        require_is_owner(ctx.store, ctx.user, ctx.ws, name)
    g = ctx.store.ws_groups(ctx.ws).get(name)
    if g is None:
        raise not_found_at_name("Group", name)
    return g


def update(ctx: Ctx) -> Response:
    """POST /api/w/{id}/groups/update/{name}: 200 ``Edited group X`` (§4.2)."""
    g = _load_for_change(ctx)
    g.summary = ctx.body["summary"]
    ctx.store.audit_log(ctx.user, "group.edit", "Update", ctx.ws, g.name)
    return text(f"Edited group {g.name}")


def add_user(ctx: Ctx) -> Response:
    """POST …/adduser/{name}: idempotent, no check that the username exists (§4.2, §9.3)."""
    g = _load_for_change(ctx)
    username = ctx.body["username"]
    if username in g.members:
        return text(f"{username} is already a member of group {g.name}")
    g.members.append(username)
    ctx.store.audit_log(ctx.user, "group.adduser", "Update", ctx.ws, g.name)
    return text(f"Added {username} to group {g.name}")


def remove_user(ctx: Ctx) -> Response:
    """POST …/removeuser/{name}: 400 ``Cannot delete users from all`` (§4.2)."""
    g = _load_for_change(ctx)
    if g.name == "all":
        raise bad_request("Cannot delete users from all")
    username = ctx.body["username"]
    if username in g.members:
        g.members.remove(username)
    ctx.store.audit_log(ctx.user, "group.removeuser", "Update", ctx.ws, g.name)
    return text(f"Removed {username} to group {g.name}")


def delete(ctx: Ctx) -> Response:
    """DELETE …/delete/{name}: 400 for ``all``, 404 when missing (§4.2, §9.2)."""
    name = ctx.params["name"]
    if name == "all":
        raise bad_request("The group 'all' is a special group that contains all users and cannot be deleted")
    _load_for_change(ctx)
    del ctx.store.groups[ctx.ws][name]
    ctx.store.audit_log(ctx.user, "group.delete", "Delete", ctx.ws, name)
    return text(f"delete group at name {name}")


def is_owner(ctx: Ctx) -> Response:
    """GET …/is_owner/{name}."""
    if ctx.user.is_admin:
        return json_response(True)
    try:
        require_is_owner(ctx.store, ctx.user, ctx.ws, ctx.params["name"])
    except Exception:
        return json_response(False)
    return json_response(True)


def register(router: Router) -> None:
    """Add this module's routes."""
    g = "/api/w/{workspace}/groups"
    router.add("GET", f"{g}/list", list_groups)
    router.add("GET", f"{g}/listnames", list_names)
    router.add(
        "POST", f"{g}/create", create, body=Struct("NewGroup", {"name": req("string"), "summary": opt("string")})
    )
    router.add("GET", f"{g}/get/{{name}}", get)
    router.add("POST", f"{g}/update/{{name}}", update, body=Struct("EditGroup", {"summary": opt("string")}))
    router.add("DELETE", f"{g}/delete/{{name}}", delete)
    username = Struct("Username", {"username": req("string")})
    router.add("POST", f"{g}/adduser/{{name}}", add_user, body=username)
    router.add("POST", f"{g}/removeuser/{{name}}", remove_user, body=username)
    router.add("GET", f"{g}/is_owner/{{name}}", is_owner)
