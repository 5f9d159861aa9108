"""Token extraction and resolution (Windmill's ``ApiAuthed`` extractor), docs/windmill-api.md §2."""

from __future__ import annotations

from email.message import Message
from http.cookies import CookieError, SimpleCookie
from typing import Any

from .framework import SUPER_ADMIN_REQUIRED, Ctx, not_authorized, now, require_admin_error, unauthorized
from .store import SUPERADMIN_SECRET_EMAIL, Authed, Store


def extract_token(headers: Message, query: dict[str, str]) -> str | None:
    """docs/windmill-api.md §2.1: Bearer header, then the ``token`` cookie, then ``?token=``."""
    header = headers.get("Authorization")
    if header and header[:7].lower() == "bearer ":
        value = header[7:].strip()
        if value:
            return value
    cookie_header = headers.get("Cookie")
    if cookie_header:
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(cookie_header)
        except CookieError:
            cookie = SimpleCookie()
        if "token" in cookie and cookie["token"].value:
            return cookie["token"].value
    return query.get("token") or None


def authenticate(store: Store, config: Any, token: str | None, ws: str | None) -> Authed:
    """Resolve the caller for a global route (``ws`` None) or a ``/api/w/<ws>/…`` route.

    Raises the extractor's 401 ``Unauthorized`` when the token is missing, unknown, expired,
    scoped to another workspace, or when a non-superadmin is not a member of ``ws``.
    """
    if token is None:
        raise unauthorized()
    secret = config.superadmin_secret
    if secret is not None and token == secret:
        # docs/windmill-api.md §2.2: SUPERADMIN_SECRET authenticates as a virtual superadmin.
        authed = Authed(email=SUPERADMIN_SECRET_EMAIL, username="superadmin_secret", is_admin=True, is_super_admin=True)
        if ws is not None:
            member = store.member_by_email(ws, SUPERADMIN_SECRET_EMAIL)
            if member is not None:
                authed.username = member.username
                authed.member = member
                authed.groups = store.groups_of(ws, member.username)
        return authed
    row = store.tokens.get(token)
    if row is None:
        raise unauthorized()
    if row.expiration is not None and row.expiration < now():
        raise unauthorized()
    # docs/windmill-api.md §2.3: the lookup is ``workspace_id IS NULL OR workspace_id = $2`` with $2 NULL
    # on global routes, so a workspace-scoped token only works on /api/w/<that id>/… routes
    # (windmill-labs/windmill backend/windmill-api-auth/src/auth.rs @ 186ebbf40f021ca1c9e8ab321e98702acf063a57).
    if row.workspace_id is not None and row.workspace_id != ws:
        raise unauthorized()
    row.last_used_at = now()
    if ws is None:
        user = store.users.get(row.email)
        username = user.username if user else store.pending_usernames.get(row.email, row.email)
        # On global routes ``is_admin`` is the superadmin flag (docs/windmill-api.md §3, unarchive).
        return Authed(
            email=row.email, username=username, is_admin=row.super_admin, is_super_admin=row.super_admin, token=row
        )
    member = store.member_by_email(ws, row.email)
    if member is not None:
        return Authed(
            email=row.email,
            username=member.username,
            # docs/windmill-api.md conventions: a superadmin always counts as a workspace admin.
            is_admin=member.is_admin or row.super_admin,
            is_super_admin=row.super_admin,
            operator=member.operator,
            groups=store.groups_of(ws, member.username),
            token=row,
            member=member,
        )
    if row.super_admin:
        # docs/windmill-api.md §2.3 / §15 item 9: a non-member superadmin acts as an admin whose
        # username is their email.
        return Authed(email=row.email, username=row.email, is_admin=True, is_super_admin=True, token=row)
    # docs/windmill-api.md §2.3: a non-member who is not a superadmin gets 401.
    raise unauthorized()


def require_admin(ctx: Ctx) -> None:
    """``require_admin``: 403 ``Require Admin privileges for <username>`` (docs/windmill-api.md §9.1)."""
    if not ctx.user.is_admin:
        raise require_admin_error(ctx.user.username)


def require_super_admin(ctx: Ctx) -> None:
    """``require_super_admin`` checks the DB by email: 401 ``Not authorized: …`` (docs/windmill-api.md §9.1)."""
    if not ctx.store.is_super_admin_email(ctx.user.email, ctx.config.superadmin_secret):
        raise not_authorized(SUPER_ADMIN_REQUIRED)
