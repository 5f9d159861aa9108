"""API tokens (docs/windmill-api.md §2.3): ``/api/users/tokens/…``, as Windmill's
``backend/windmill-api-auth/src/tokens.rs`` serves them (commit cited where the behaviour is)."""

from __future__ import annotations

from typing import Any

from .crypto import rd_string
from .framework import Ctx, Response, Router, Struct, iso, json_response, opt, page_slice, query_bool, text
from .store import Store, Token

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


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("POST", "/api/users/tokens/create", create_token, auth="global", body=NEW_TOKEN)
    router.add("GET", "/api/users/tokens/list", list_tokens, auth="global")
    router.add("DELETE", "/api/users/tokens/delete/{prefix}", delete_token, auth="global")
