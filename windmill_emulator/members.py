"""Workspace members and invites (docs/windmill-api.md §4.1): ``/api/w/{workspace}/users/…`` and the
``workspaces/add_user``, ``invite_user``, ``delete_invite`` and ``list_pending_invites`` routes."""

from __future__ import annotations

import re
from typing import Any

from .auth import require_admin
from .framework import (
    ROW_NOT_FOUND,
    Ctx,
    DbError,
    Response,
    Router,
    Struct,
    bad_request,
    iso,
    json_response,
    not_found_at_name,
    now,
    opt,
    req,
    text,
)
from .store import Folder, Invite, Member, Store
from .workspaces import automate_username_creation, resolve_new_username

VALID_USERNAME = re.compile(r"^[a-zA-Z][a-zA-Z_0-9]*$")


def role_of(m: Member) -> str:
    """admin / operator / developer from the two booleans (docs/windmill-api.md §4.1)."""
    if m.is_admin:
        return "admin"
    if m.operator:
        return "operator"
    return "developer"


def member_json(m: Member) -> dict[str, Any]:
    """A ``usr`` row as [USR] ``User`` serializes it (docs/windmill-api.md §4.1)."""
    return {
        "workspace_id": m.workspace_id,
        "email": m.email,
        "username": m.username,
        "is_admin": m.is_admin,
        "created_at": iso(m.created_at),
        "operator": m.operator,
        "disabled": m.disabled,
        "role": role_of(m),
        "added_via": None,
    }


NEW_MEMBER = Struct(
    "NewWorkspaceUser",
    {"email": req("string"), "username": opt("string"), "is_admin": req("bool"), "operator": req("bool")},
)
INVITE = Struct("NewWorkspaceInvite", {"email": req("string"), "is_admin": req("bool"), "operator": req("bool")})


def add_member(store: Store, ws: str, email: str, username: str, is_admin: bool, operator: bool) -> Member:
    """Insert a ``usr`` row, join group ``all`` and drop any pending invite (docs/windmill-api.md §4.1)."""
    member = Member(workspace_id=ws, email=email, username=username, is_admin=is_admin, operator=operator)
    store.ensure_ws_tables(ws)
    store.members[ws][username] = member
    everyone = store.groups[ws].get("all")
    if everyone is not None and username not in everyone.members:
        everyone.members.append(username)
    store.invites[ws].pop(email, None)
    return member


def add_user(ctx: Ctx) -> Response:
    """POST /api/w/{id}/workspaces/add_user: 201; the email need not be an instance user (§4.1)."""
    require_admin(ctx)
    store, ws = ctx.store, ctx.ws
    email = ctx.body["email"].lower()
    if store.member_by_email(ws, email) is not None:
        raise bad_request(f"user with email {email} already exists in workspace {ws}")
    username = resolve_new_username(store, email, ctx.body["username"])
    if not automate_username_creation(store):
        if username in store.ws_members(ws):
            raise bad_request(f"user with username {username} already exists in workspace {ws}")
        if not VALID_USERNAME.match(username):
            raise bad_request(
                "Usermame can only contain alphanumeric characters and underscores and must start with a letter"
            )
    store.check_ws_fk(ws, "usr", "workspaces.rs:1690:6")
    add_member(store, ws, email, username, ctx.body["is_admin"], ctx.body["operator"])
    store.audit_log(ctx.user, "workspaces.add_user", "Create", ws, email)
    return text(f"user with email {email} added", status=201)


def invite_user(ctx: Ctx) -> Response:
    """POST …/invite_user: 201, an upsert of the flags; 400 for a member (§4.1)."""
    require_admin(ctx)
    store, ws = ctx.store, ctx.ws
    email = ctx.body["email"].lower()
    if store.member_by_email(ws, email) is not None:
        raise bad_request(f"user with email {email} already exists in workspace {ws}")
    store.check_ws_fk(ws, "workspace_invite", "workspaces.rs:1610:6")
    store.invites[ws][email] = Invite(ws, email, ctx.body["is_admin"], ctx.body["operator"])
    return text(f"user with email {email} invited", status=201)


def delete_invite(ctx: Ctx) -> Response:
    """POST …/delete_invite: must match the exact tuple; 201 always (§4.1, §15 item 12)."""
    require_admin(ctx)
    invites = ctx.store.invites.get(ctx.ws, {})
    email = ctx.body["email"]
    inv = invites.get(email)
    if inv is not None and inv.is_admin == ctx.body["is_admin"] and inv.operator == ctx.body["operator"]:
        del invites[email]
    return text(f"invite {email} deleted", status=201)


def list_pending_invites(ctx: Ctx) -> Response:
    """GET …/list_pending_invites: admin (§4.1)."""
    require_admin(ctx)
    w = ctx.store.workspaces.get(ctx.ws)
    return json_response(
        [
            {
                "workspace_id": i.workspace_id,
                "email": i.email,
                "is_admin": i.is_admin,
                "operator": i.operator,
                "parent_workspace_id": w.parent_workspace_id if w else None,
            }
            for i in ctx.store.invites.get(ctx.ws, {}).values()
        ]
    )


def list_members(ctx: Ctx) -> Response:
    """GET /api/w/{id}/users/list: the plain ``usr`` rows (§4.1)."""
    return json_response([member_json(m) for m in ctx.store.ws_members(ctx.ws).values()])


def list_usernames(ctx: Ctx) -> Response:
    """GET /api/w/{id}/users/list_usernames."""
    return json_response(list(ctx.store.ws_members(ctx.ws)))


def get_member(ctx: Ctx) -> Response:
    """GET /api/w/{id}/users/get/{username}: admin; 404 ``User not found at name …`` (§4.1)."""
    require_admin(ctx)
    m = ctx.store.ws_members(ctx.ws).get(ctx.params["username"])
    if m is None:
        raise not_found_at_name("User", ctx.params["username"])
    return json_response(member_json(m))


UPDATE_MEMBER = Struct("EditWorkspaceUser", {"is_admin": opt("bool"), "operator": opt("bool"), "disabled": opt("bool")})


def update_member(ctx: Ctx) -> Response:
    """POST /api/w/{id}/users/update/{username}: admin.

    docs/windmill-api.md §4.1: an unknown username updates 0 rows, then ``fetch_one`` fails with
    400 SqlErr "no rows returned…".
    """
    require_admin(ctx)
    m = ctx.store.ws_members(ctx.ws).get(ctx.params["username"])
    if m is None:
        raise DbError(ROW_NOT_FOUND, location="users.rs:1032:10", raw=True)
    b = ctx.body
    if b["is_admin"] is not None:
        m.is_admin = b["is_admin"]
    if b["operator"] is not None:
        m.operator = b["operator"]
    if b["disabled"] is not None:
        m.disabled = b["disabled"]
    ctx.store.audit_log(ctx.user, "users.update", "Update", ctx.ws, m.username)
    return text(f"user {m.email} updated")


def delete_member(ctx: Ctx) -> Response:
    """DELETE /api/w/{id}/users/delete/{username}: admin; 404 for unknown (§4.1, §9.2)."""
    require_admin(ctx)
    store, ws, username = ctx.store, ctx.ws, ctx.params["username"]
    if username not in store.ws_members(ws):
        raise not_found_at_name("User", username)
    del store.members[ws][username]
    for g in store.ws_groups(ws).values():
        if username in g.members:
            g.members.remove(username)
    store.audit_log(ctx.user, "users.delete", "Delete", ws, username)
    return text(f"username {username} deleted")


def _folder_lists(store: Store, ws: str, principals: set[str]) -> tuple[list[str], list[str], list[str]]:
    read: list[str] = []
    write: list[str] = []
    owners: list[str] = []
    f: Folder
    for f in store.ws_folders(ws).values():
        perms = f.extra_perms if isinstance(f.extra_perms, dict) else {}
        is_owner = bool(principals & set(f.owners))
        if is_owner:
            owners.append(f.name)
        if is_owner or any(perms.get(p) is True for p in principals):
            write.append(f.name)
        if is_owner or principals & set(perms):
            read.append(f.name)
    return read, write, owners


def whoami(ctx: Ctx) -> Response:
    """GET /api/w/{id}/users/whoami (§4.1); synthesized with username = email for a non-member superadmin."""
    a, store = ctx.user, ctx.store
    m = a.member
    read, write, owners = _folder_lists(store, ctx.ws, store.principals(a))
    user = store.users.get(a.email)
    return json_response(
        {
            "workspace_id": ctx.ws,
            "email": a.email,
            "username": a.username,
            "is_admin": a.is_admin,
            "is_super_admin": a.is_super_admin,
            "created_at": iso(m.created_at if m else now()),
            "groups": a.groups,
            "operator": m.operator if m else False,
            "disabled": m.disabled if m else False,
            "role": role_of(m) if m else "admin",
            "folders_read": read,
            "folders": write,
            "folders_owners": owners,
            "name": user.name if user else None,
        }
    )


def register(router: Router) -> None:
    """Add this module's routes."""
    w = "/api/w/{workspace}"
    router.add("POST", f"{w}/workspaces/add_user", add_user, body=NEW_MEMBER)
    router.add("POST", f"{w}/workspaces/invite_user", invite_user, body=INVITE)
    router.add("POST", f"{w}/workspaces/delete_invite", delete_invite, body=INVITE)
    router.add("GET", f"{w}/workspaces/list_pending_invites", list_pending_invites)
    router.add("GET", f"{w}/users/list", list_members)
    router.add("GET", f"{w}/users/list_usernames", list_usernames)
    router.add("GET", f"{w}/users/get/{{username}}", get_member)
    router.add("POST", f"{w}/users/update/{{username}}", update_member, body=UPDATE_MEMBER)
    router.add("DELETE", f"{w}/users/delete/{{username}}", delete_member)
    router.add("GET", f"{w}/users/whoami", whoami)
