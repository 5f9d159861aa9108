"""Granular ACLs on any item kind (docs/windmill-api.md §4.4)."""

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
    not_authorized,
    not_found_at_name,
    opt,
    req,
    text,
)
from .groups import require_is_owner as require_group_owner

LOC = "granular_acls.rs:70:10"
# Item kinds the emulator has no table rows for: they exist on the server, so they are "not found".
UNMODELLED_KINDS = {
    "app",
    "raw_app",
    "http_trigger",
    "websocket_trigger",
    "kafka_trigger",
    "nats_trigger",
    "postgres_trigger",
    "mqtt_trigger",
    "sqs_trigger",
    "gcp_trigger",
    "email_trigger",
}


def _split(ctx: Ctx) -> tuple[str, str]:
    full = ctx.params["path"]
    if "/" not in full:
        raise bad_request("Invalid path or kind")
    kind, path = full.split("/", 1)
    return kind, path


def _perms(ctx: Ctx, kind: str, path: str) -> dict[str, Any] | None:
    """The ``extra_perms`` map of the item, None when no such row (a missing table is a SQL error)."""
    store, ws = ctx.store, ctx.ws
    if kind == "variable":
        row: Any = store.ws_variables(ws).get(path)
        return None if row is None else row.extra_perms
    if kind == "resource":
        row = store.ws_resources(ws).get(path)
        return None if row is None else row.extra_perms
    if kind == "schedule":
        sched = store.ws_schedules(ws).get(path)
        return None if sched is None else sched["extra_perms"]
    if kind == "folder":
        folder = store.ws_folders(ws).get(path)
        if folder is None:
            return None
        if not isinstance(folder.extra_perms, dict):
            folder.extra_perms = {}
        return folder.extra_perms
    if kind == "group_":
        group = store.ws_groups(ws).get(path)
        return None if group is None else group.extra_perms
    if kind == "script":
        # ``UPDATE script SET extra_perms … WHERE path = $1``: every version of the path.
        versions = [s for s in store.scripts.get(ws, []) if s.path == path]
        for version in versions[:-1]:
            version.extra_perms = versions[-1].extra_perms
        return versions[-1].extra_perms if versions else None
    if kind == "flow":
        flow = store.flows.get(ws, {}).get(path)
        return None if flow is None else flow.extra_perms
    if kind in UNMODELLED_KINDS:
        return None
    raise DbError(f'relation "{kind}" does not exist', location=LOC)


def _require_owner(ctx: Ctx, kind: str, path: str) -> None:
    a, store = ctx.user, ctx.store
    if a.is_admin:
        return
    if kind == "folder":
        folder = store.ws_folders(ctx.ws).get(path)
        if folder is None or not store.folder_owner(a, folder):
            raise not_authorized(f"You are not owner of the folder {path}")
        return
    if kind == "group_":
        require_group_owner(store, a, ctx.ws, path)
        return
    parts = path.split("/")
    if len(parts) >= 2 and parts[0] == "u" and parts[1] == a.username:
        return
    if len(parts) >= 2 and parts[0] == "f":
        folder = store.ws_folders(ctx.ws).get(parts[1])
        if folder is not None and store.folder_owner(a, folder):
            return
    raise not_authorized(f"You are not owner of the path {path}")


def add(ctx: Ctx) -> Response:
    """POST /api/w/{id}/acls/add/{kind}/{path} ``{owner, write?}`` (§4.4)."""
    kind, path = _split(ctx)
    _require_owner(ctx, kind, path)
    perms = _perms(ctx, kind, path)
    if perms is None:
        raise not_found_at_name(kind, path)
    perms[ctx.body["owner"]] = bool(ctx.body["write"])
    return text("Successfully modified granular acl")


def remove(ctx: Ctx) -> Response:
    """POST /api/w/{id}/acls/remove/{kind}/{path} ``{owner}`` (§4.4)."""
    kind, path = _split(ctx)
    _require_owner(ctx, kind, path)
    perms = _perms(ctx, kind, path)
    if perms is None:
        raise not_found_at_name(kind, path)
    perms.pop(ctx.body["owner"], None)
    return text("Successfully removed granular acl")


def get(ctx: Ctx) -> Response:
    """GET /api/w/{id}/acls/get/{kind}/{path}: the ``extra_perms`` map (§4.4)."""
    kind, path = _split(ctx)
    perms = _perms(ctx, kind, path)
    if perms is None:
        raise not_found_at_name(kind, path)
    return json_response(perms)


def register(router: Router) -> None:
    """Add this module's routes."""
    acl = Struct("GranularAcl", {"owner": req("string"), "write": opt("bool")})
    router.add("GET", "/api/w/{workspace}/acls/get/{path:path}", get)
    router.add("POST", "/api/w/{workspace}/acls/add/{path:path}", add, body=acl)
    router.add("POST", "/api/w/{workspace}/acls/remove/{path:path}", remove, body=acl)
