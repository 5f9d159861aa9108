"""Login and instance users (docs/windmill-api.md §2): ``/api/auth/…`` and the global ``/api/users/…``
routes. API tokens are in ``tokens.py``, workspace members in ``members.py``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .auth import extract_token, require_super_admin
from .crypto import rd_string
from .framework import (
    Ctx,
    Response,
    Router,
    Struct,
    bad_request,
    json_response,
    not_found_at_name,
    now,
    opt,
    query_int,
    req,
    text,
)
from .store import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, SUPERADMIN_SECRET_EMAIL, InstanceUser, Store, Token

SESSION_VALIDITY = timedelta(days=3)  # MAX_SESSION_VALIDITY_SECONDS default (docs/windmill-api.md §2.2)


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
