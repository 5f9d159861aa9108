"""Login, API tokens, instance users and workspace members (docs/windmill-api.md §2, §4.1)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from .auth import extract_token, require_admin, require_super_admin
from .crypto import rd_string
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
    page_slice,
    query_bool,
    query_int,
    req,
    text,
)
from .store import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    SUPERADMIN_SECRET_EMAIL,
    Folder,
    InstanceUser,
    Invite,
    Member,
    Store,
    Token,
)
from .workspaces import automate_username_creation, resolve_new_username

VALID_USERNAME = re.compile(r"^[a-zA-Z][a-zA-Z_0-9]*$")

SESSION_VALIDITY = timedelta(days=3)  # MAX_SESSION_VALIDITY_SECONDS default (docs/windmill-api.md §2.2)

# --------------------------------------------------------------------------------------------
# Login / logout
# --------------------------------------------------------------------------------------------


def login(ctx: Ctx) -> Response:
    """POST /api/auth/login: 200 with the token as plain text and a ``token`` cookie (§2.2)."""
    email = ctx.body["email"].lower()
    user = ctx.store.users.get(email)
    if user is None or user.login_type != "password" or user.password != ctx.body["password"]:
        # docs/windmill-api.md §2.2: wrong email or password is 400 ``Bad request: Invalid login``.
        raise bad_request("Invalid login")
    token = rd_string(32)
    ctx.store.tokens[token] = Token(
        token=token, email=email, label="session", super_admin=user.super_admin, expiration=now() + SESSION_VALIDITY
    )
    resp = text(token)
    resp.headers.append(("Set-Cookie", f"token={token}; HttpOnly; SameSite=Lax; Path=/"))
    return resp


def logout(ctx: Ctx) -> Response:
    """POST /api/auth/logout: deletes the current token, clears the cookie (§2.2)."""
    token = extract_token(ctx.headers, ctx.query)
    if token:
        ctx.store.tokens.pop(token, None)
    rd = ctx.query.get("rd")
    if rd:
        resp = Response(status=307, body=b"", content_type=None, headers=[("Location", rd)])
    else:
        resp = text("logged out successfully")
    resp.headers.append(("Set-Cookie", "token=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"))
    return resp


def is_first_time_setup(ctx: Ctx) -> Response:
    """GET /api/auth/is_first_time_setup: true while only the default admin exists (§2.2)."""
    store = ctx.store
    users = [u for u in store.users.values() if u.login_type == "password"]
    first = (
        len(users) == 1
        and users[0].email == DEFAULT_ADMIN_EMAIL
        and users[0].password == DEFAULT_ADMIN_PASSWORD
        and "base_url" not in store.global_settings
    )
    return json_response(first)


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------

NEW_TOKEN = Struct(
    "NewToken",
    {
        "label": opt("string"),
        "expiration": opt("datetime"),
        "scopes": opt("strings"),
        "workspace_id": opt("string"),
        "impersonate_email": opt("string"),
    },
)


def new_token(store: Store, email: str, *, super_admin: bool, label: str | None = None, **kw: Any) -> str:
    """Insert a token row and return the 32-character token (docs/windmill-api.md §2.3)."""
    token = rd_string(32)
    store.tokens[token] = Token(token=token, email=email, label=label, super_admin=super_admin, **kw)
    return token


def create_token(ctx: Ctx) -> Response:
    """POST /api/users/tokens/create: 201, body = the token as plain text (§2.3)."""
    b = ctx.body
    # docs/windmill-api.md §2.3: the token inherits the creator's super_admin flag at creation time,
    # read from the ``password`` table (windmill-labs/windmill backend/windmill-api-auth/src/tokens.rs
    # @ 2b8af5ddd48543bf785078a2972b2e54f3fff452, create_token_internal). The virtual SUPERADMIN_SECRET
    # user has no row there, so its tokens are not superadmin tokens.
    creator = ctx.store.users.get(ctx.user.email)
    super_admin = bool(creator and creator.super_admin)
    token = new_token(
        ctx.store,
        ctx.user.email,
        super_admin=super_admin,
        label=b["label"],
        expiration=b["expiration"],
        scopes=b["scopes"],
        workspace_id=b["workspace_id"],
    )
    return text(token, status=201)


def list_tokens(ctx: Ctx) -> Response:
    """GET /api/users/tokens/list: only the caller's tokens, ``token_prefix`` = first 10 chars (§2.3)."""
    exclude_ephemeral = query_bool(ctx.query, "exclude_ephemeral") or False
    rows = [t for t in ctx.store.tokens.values() if t.email == ctx.user.email]
    if exclude_ephemeral:
        rows = [t for t in rows if t.label != "ephemeral-script"]
    rows.sort(key=lambda t: t.created_at, reverse=True)
    out = [
        {
            "label": t.label,
            "token_prefix": t.token[:10],
            "expiration": iso(t.expiration),
            "created_at": iso(t.created_at),
            "last_used_at": iso(t.last_used_at),
            "scopes": t.scopes,
        }
        for t in rows
    ]
    return json_response(page_slice(out, ctx.query))


def delete_token(ctx: Ctx) -> Response:
    """DELETE /api/users/tokens/delete/{prefix}: deletes all the caller's tokens with that prefix.

    docs/windmill-api.md §2.3: 200 text ``deleted N tokens […] with prefix X`` even when N = 0.
    """
    prefix = ctx.params["prefix"]
    doomed = [t for t, row in ctx.store.tokens.items() if row.email == ctx.user.email and t.startswith(prefix)]
    for t in doomed:
        del ctx.store.tokens[t]
    listed = "[" + ", ".join(f'"{t[:10]}"' for t in doomed) + "]"
    return text(f"deleted {len(doomed)} tokens {listed} with prefix {prefix}")


# --------------------------------------------------------------------------------------------
# Instance users
# --------------------------------------------------------------------------------------------


def global_user_json(user: InstanceUser) -> dict[str, Any]:
    """``GlobalUserInfo``."""
    return {
        "email": user.email,
        "login_type": user.login_type,
        "super_admin": user.super_admin,
        "devops": user.devops,
        "verified": user.verified,
        "name": user.name,
        "company": user.company,
        "username": user.username,
        "operator_only": False,
        "first_time_user": user.first_time_user,
        # windmill-api 1.819.0 contract (GlobalUserInfo): both required.
        "disabled": user.disabled,
        "role_source": "manual",
    }


def global_whoami(ctx: Ctx) -> Response:
    """GET /api/users/whoami (§2.2)."""
    if ctx.user.email == SUPERADMIN_SECRET_EMAIL and ctx.config.superadmin_secret is not None:
        virtual = InstanceUser(
            email=SUPERADMIN_SECRET_EMAIL, password=None, super_admin=True, username="superadmin_secret"
        )
        return json_response(global_user_json(virtual))
    user = ctx.store.users.get(ctx.user.email)
    if user is None:
        raise not_found_at_name("User", ctx.user.email)
    return json_response(global_user_json(user))


CREATE_USER = Struct(
    "NewUser",
    {
        "email": req("string"),
        "password": req("string"),
        "super_admin": req("bool"),
        "name": opt("string"),
        "company": opt("string"),
        "skip_email": opt("bool"),
    },
)


def add_instance_user(
    store: Store, email: str, password: str | None, super_admin: bool, name: str | None
) -> InstanceUser:
    """Insert a ``password`` row, reusing a pending username when one was reserved."""
    email = email.lower()
    username = store.pending_usernames.pop(email, None) or store.generate_username(email)
    user = InstanceUser(email=email, password=password, super_admin=super_admin, username=username, name=name)
    store.users[email] = user
    return user


def create_user(ctx: Ctx) -> Response:
    """POST /api/users/create: 201 text; superadmin only (§2.2)."""
    require_super_admin(ctx)
    email = ctx.body["email"].lower()
    if email in ctx.store.users:
        raise bad_request(f"User with email {email} already exists")
    add_instance_user(ctx.store, email, ctx.body["password"], ctx.body["super_admin"], ctx.body["name"])
    ctx.store.users[email].company = ctx.body["company"]
    return text(f"email {email} created", status=201)


def set_password(ctx: Ctx) -> Response:
    """POST /api/users/setpassword: the caller's own password (§2.2)."""
    user = ctx.store.users.get(ctx.user.email)
    if user is None:
        raise not_found_at_name("User", ctx.user.email)
    user.password = ctx.body["password"]
    return text(f"password set for {ctx.user.email}")


def set_password_of(ctx: Ctx) -> Response:
    """POST /api/users/set_password_of/{email}: superadmin (§2.2)."""
    require_super_admin(ctx)
    email = ctx.params["email"].lower()
    user = ctx.store.users.get(email)
    if user is None:
        raise not_found_at_name("User", email)
    user.password = ctx.body["password"]
    return text(f"password set for {email}")


def update_user(ctx: Ctx) -> Response:
    """POST /api/users/update/{email}: superadmin (§2.2).

    Changing the superadmin flag deletes that user's ``session`` tokens and updates
    ``super_admin`` on the others.
    """
    require_super_admin(ctx)
    email = ctx.params["email"]
    user = ctx.store.users.get(email)
    if user is None:
        raise not_found_at_name("User", email)
    b = ctx.body
    if b["is_super_admin"] is not None and b["is_super_admin"] != user.super_admin:
        user.super_admin = b["is_super_admin"]
        for t, row in list(ctx.store.tokens.items()):
            if row.email != email:
                continue
            if row.label == "session":
                del ctx.store.tokens[t]
            else:
                row.super_admin = user.super_admin
    if b["is_devops"] is not None:
        user.devops = b["is_devops"]
    if b["name"] is not None:
        user.name = b["name"]
    if b["disabled"] is not None:
        # GlobalUserUpdate.disabled (windmill-api 1.819.0 contract); stored and listed. What a disabled
        # account may still do is not modelled: the source read (users.rs @ 82e5f6de) predates the flag.
        user.disabled = b["disabled"]
    return text(f"user {email} updated")


def delete_user(ctx: Ctx) -> Response:
    """DELETE /api/users/delete/{email}: superadmin; removes the user from every workspace (§2.2)."""
    require_super_admin(ctx)
    email = ctx.params["email"]
    store = ctx.store
    if email not in store.users:
        raise not_found_at_name("User", email)
    user = store.users.pop(email)
    for ws, members in store.members.items():
        for username, m in list(members.items()):
            if m.email == email:
                del members[username]
                for g in store.ws_groups(ws).values():
                    if username in g.members:
                        g.members.remove(username)
    # users.rs @ 82e5f6de48e246a49b25e7d4ea7be65122e8772c (delete_user): the user's rows in password, usr,
    # usr_to_group, workspace_invite and email_to_igroup go; its tokens are NOT deleted, so API tokens the
    # user minted keep authenticating (with the super_admin flag they were minted with). Revoke them first.
    for group in store.instance_groups.values():
        if email in group.emails:
            group.emails.remove(email)
    return text(f"email {user.email} deleted")


def list_users_as_super_admin(ctx: Ctx) -> Response:
    """GET /api/users/list_as_super_admin: superadmin; superadmins first, then devops, then by email.

    windmill-labs/windmill backend/windmill-api-users/src/users.rs @ 82e5f6de48e246a49b25e7d4ea7be65122e8772c:
    ``per_page`` defaults to 10000 and pages start at 1 (``page=0`` is the first page too, which
    ``wmill user`` asks for before ``page=1``).
    """
    require_super_admin(ctx)
    users = sorted(ctx.store.users.values(), key=lambda u: (not u.super_admin, not u.devops, u.email))
    per_page = max(query_int(ctx.query, "per_page") or 10000, 1)
    offset = (max(query_int(ctx.query, "page") or 1, 1) - 1) * per_page
    return json_response([global_user_json(u) for u in users[offset : offset + per_page]])


# --------------------------------------------------------------------------------------------
# Workspace members
# --------------------------------------------------------------------------------------------


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
    router.add(
        "POST",
        "/api/auth/login",
        login,
        auth="none",
        body=Struct("Login", {"email": req("string"), "password": req("string")}),
    )
    router.add("POST", "/api/auth/logout", logout, auth="none")
    router.add("GET", "/api/auth/is_first_time_setup", is_first_time_setup, auth="none")
    router.add("POST", "/api/users/tokens/create", create_token, auth="global", body=NEW_TOKEN)
    router.add("GET", "/api/users/tokens/list", list_tokens, auth="global")
    router.add("DELETE", "/api/users/tokens/delete/{prefix}", delete_token, auth="global")
    router.add("GET", "/api/users/whoami", global_whoami, auth="global")
    router.add("POST", "/api/users/create", create_user, auth="global", body=CREATE_USER)
    password = Struct("EditPassword", {"password": req("string")})
    router.add("POST", "/api/users/setpassword", set_password, auth="global", body=password)
    router.add("POST", "/api/users/set_password_of/{email}", set_password_of, auth="global", body=password)
    router.add(
        "POST",
        "/api/users/update/{email}",
        update_user,
        auth="global",
        body=Struct(
            "GlobalUserUpdate",
            {"is_super_admin": opt("bool"), "is_devops": opt("bool"), "name": opt("string"), "disabled": opt("bool")},
        ),
    )
    router.add("DELETE", "/api/users/delete/{email}", delete_user, auth="global")
    router.add("GET", "/api/users/list_as_super_admin", list_users_as_super_admin, auth="global")
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
