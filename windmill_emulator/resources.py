"""Resources (docs/windmill-api.md §6); their types are in ``resource_types.py``."""

from __future__ import annotations

import json
from typing import Any

from .crypto import DecryptError, decrypt
from .folders import auto_create_app_folder
from .framework import (
    Ctx,
    DbError,
    Response,
    Router,
    Struct,
    bad_request,
    internal,
    iso,
    json_response,
    not_authorized,
    not_found,
    not_found_at_name,
    now,
    opt,
    page_slice,
    query_bool,
    req,
    text,
)
from .store import Authed, Resource, Store

LOC = "resources.rs:655:10"

CREATE = Struct(
    "CreateResource",
    {"path": req("string"), "value": opt("any"), "description": opt("string"), "resource_type": req("string")},
)
EDIT = Struct("EditResource", {"path": opt("string"), "description": opt("string"), "value": opt("any")})


def resource_json(store: Store, ws: str, r: Resource, value: Any) -> dict[str, Any]:
    """``ListableResource`` (docs/windmill-api.md §6)."""
    var = store.ws_variables(ws).get(r.path)
    return {
        "workspace_id": r.workspace_id,
        "path": r.path,
        "value": value,
        "description": r.description,
        "resource_type": r.resource_type,
        "extra_perms": r.extra_perms,
        "created_by": r.created_by,
        "edited_at": iso(r.edited_at),
        "is_linked": var is not None,
        "is_refreshed": None,
        "is_oauth": var.is_oauth if var is not None else None,
        "is_expired": None,
        "refresh_error": None,
        "account": var.account if var is not None else None,
    }


def _authed_debug(a: Authed) -> str:
    return (
        f'ApiAuthed {{ email: "{a.email}", username: "{a.username}", is_admin: {str(a.is_admin).lower()}, '
        f"is_operator: {str(a.operator).lower()}, groups: {json.dumps(a.groups)} }}"
    )


def explain_perm_error(store: Store, ws: str, path: str, authed: Authed) -> None:
    """[RES] ``explain_resource_perm_error``: 404 if missing, else 401 with the perms."""
    r = store.ws_resources(ws).get(path)
    if r is None:
        raise not_found(f"Resource {path} not found")
    msg = f"Resource exists but you don't have access to it:\nresource perms: {json.dumps(r.extra_perms, indent=2)}"
    if path.startswith("f/"):
        folder = store.ws_folders(ws).get(path.split("/")[1])
        msg += f"\nfolder perms: {json.dumps(folder.extra_perms if folder else None, indent=2)}"
    msg += f"\nauthed as: {_authed_debug(authed)}"
    # docs/windmill-api.md §6: 401 ``Resource exists but you don't have access…``.
    raise not_authorized(msg)


def readable(store: Store, authed: Authed, ws: str, path: str) -> Resource:
    """The resource if the caller may read it, else the 404/401 the server gives."""
    r = store.ws_resources(ws).get(path)
    if r is None or not store.can_read(authed, ws, path, r.extra_perms):
        explain_perm_error(store, ws, path, authed)
    assert r is not None
    return r


def create(ctx: Ctx) -> Response:
    """POST /api/w/{id}/resources/create[?update_if_exists=true]: 201 (docs/windmill-api.md §6).

    ``update_if_exists=true`` skips the "already exists" check and turns the INSERT into an
    upsert of value, description and type. The resource type is not checked (§6).
    """
    store, ws, b = ctx.store, ctx.ws, ctx.body
    update_if_exists = query_bool(ctx.query, "update_if_exists") or False
    path = b["path"]
    existing = store.ws_resources(ws).get(path)
    if not update_if_exists and existing is not None:
        raise bad_request(f"Resource {path} already exists")
    # docs/windmill-api.md §4.3: f/app_themes|app_custom|app_groups auto-create their folder (outside the tx).
    auto_create_app_folder(store, ws, path, ctx.user.username)
    store.check_item_row(ctx.user, ws, "resource", path, LOC, extra_perms=existing.extra_perms if existing else None)
    if existing is not None:
        existing.value = b["value"]
        existing.description = b["description"]
        existing.resource_type = b["resource_type"]
        existing.edited_at = now()
    else:
        store.resources[ws][path] = Resource(
            workspace_id=ws,
            path=path,
            value=b["value"],
            description=b["description"],
            resource_type=b["resource_type"],
            created_by=ctx.user.username,
        )
    store.audit_log(ctx.user, "resources.create", "Create", ws, path)
    return text(f"resource {path} created", status=201)


def get(ctx: Ctx) -> Response:
    """GET …/resources/get/{path}: 404 / 401 as [RES] (docs/windmill-api.md §6)."""
    r = readable(ctx.store, ctx.user, ctx.ws, ctx.params["path"])
    return json_response(resource_json(ctx.store, ctx.ws, r, r.value))


def get_value(ctx: Ctx) -> Response:
    """GET …/resources/get_value/{path}: the raw JSON value, ``$var:`` not resolved (§6)."""
    r = readable(ctx.store, ctx.user, ctx.ws, ctx.params["path"])
    return json_response(r.value)


def _var_value(ctx: Ctx, path: str) -> str:
    store, ws = ctx.store, ctx.ws
    var = store.ws_variables(ws).get(path)
    if var is None or not store.can_read(ctx.user, ws, path, var.extra_perms):
        from .variables import explain_perm_error as explain_var

        explain_var(store, ws, path)
    assert var is not None
    if not var.is_secret:
        return var.value
    store.audit_log(ctx.user, "variables.decrypt_secret", "Execute", ws, var.path)
    if not var.value:
        return ""
    try:
        return decrypt(store.workspaces[ws].key, var.value)
    except (DecryptError, KeyError) as exc:
        raise internal(f"Error decrypting variable {var.path}: {exc}") from exc


def _interpolate(ctx: Ctx, value: Any, depth: int) -> Any:
    """[RES] ``transform_json_value``: ``$var:``/``$res:`` resolved recursively (§6)."""
    if isinstance(value, str) and value.startswith("$var:"):
        return _var_value(ctx, value[len("$var:") :])
    if isinstance(value, str) and value.startswith("$res:"):
        path = value[len("$res:") :]
        if len(path.split("/")) < 2:
            raise internal(f"Invalid resource path: {path}")
        r = ctx.store.ws_resources(ctx.ws).get(path)
        if r is None or not ctx.store.can_read(ctx.user, ctx.ws, path, r.extra_perms):
            raise not_found_at_name("Resource", path)
        return None if r.value is None else _interpolate(ctx, r.value, depth + 1)
    if isinstance(value, list):
        if depth <= 2 and len(value) <= 1000:
            return [_interpolate(ctx, v, depth + 1) for v in value]
        return value
    if isinstance(value, dict):
        return {k: _interpolate(ctx, v, depth + 1) for k, v in value.items()}
    return value


def get_value_interpolated(ctx: Ctx) -> Response:
    """GET …/resources/get_value_interpolated/{path}: references resolved at read time (§6)."""
    r = readable(ctx.store, ctx.user, ctx.ws, ctx.params["path"])
    return json_response(None if r.value is None else _interpolate(ctx, r.value, 0))


def exists(ctx: Ctx) -> Response:
    """GET …/resources/exists/{path}: JSON bool, no RLS (§6, §9.3)."""
    return json_response(ctx.params["path"] in ctx.store.ws_resources(ctx.ws))


def json_contains(container: Any, contained: Any) -> bool:
    """Postgres ``jsonb @>``."""
    if isinstance(contained, dict):
        return isinstance(container, dict) and all(
            k in container and json_contains(container[k], v) for k, v in contained.items()
        )
    if isinstance(contained, list):
        if not isinstance(container, list):
            return False
        return all(any(json_contains(c, item) for c in container) for item in contained)
    if isinstance(container, list) and not isinstance(contained, list | dict):
        return contained in container
    return container == contained


def list_resources(ctx: Ctx) -> Response:
    """GET …/resources/list: value always null; ordered by path DESC as the source does (§6)."""
    store, ws, q = ctx.store, ctx.ws, ctx.query
    wanted = q["resource_type"].split(",") if "resource_type" in q else None
    excluded = q["resource_type_exclude"].split(",") if "resource_type_exclude" in q else []
    contains: Any = None
    if "value" in q:
        try:
            contains = json.loads(q["value"])
        except json.JSONDecodeError as exc:
            raise DbError("invalid input syntax for type json", location=LOC) from exc
    rows = []
    for r in sorted(store.ws_resources(ws).values(), key=lambda r: r.path, reverse=True):
        if not store.can_read(ctx.user, ws, r.path, r.extra_perms):
            continue
        if wanted is not None and r.resource_type not in wanted:
            continue
        if r.resource_type in excluded:
            continue
        if "path_start" in q and not r.path.startswith(q["path_start"]):
            continue
        if "path" in q and r.path != q["path"]:
            continue
        if "description" in q and q["description"].lower() not in (r.description or "").lower():
            continue
        if "value" in q and not json_contains(r.value, contains):
            continue
        # docs/windmill-api.md §6: list returns ``value`` null.
        rows.append(resource_json(store, ws, r, None))
    return json_response(page_slice(rows, q))


def list_names(ctx: Ctx) -> Response:
    """GET …/resources/list_names/{type}: ``[{name: value.name, path}]``."""
    store, ws = ctx.store, ctx.ws
    out = []
    for r in store.ws_resources(ws).values():
        if r.resource_type != ctx.params["type"] or not store.can_read(ctx.user, ws, r.path, r.extra_perms):
            continue
        if isinstance(r.value, dict) and isinstance(r.value.get("name"), str):
            out.append({"name": r.value["name"], "path": r.path})
    return json_response(out)


def update(ctx: Ctx) -> Response:
    """POST …/resources/update/{path}: 404 when missing; a rename also moves the same-path variable (§6)."""
    store, ws, b = ctx.store, ctx.ws, ctx.body
    path = ctx.params["path"]
    new_path = b["path"]
    renaming = new_path is not None and new_path != path
    if renaming and new_path in store.ws_resources(ws):
        raise bad_request(f"Resource {new_path} already exists")
    r = store.ws_resources(ws).get(path)
    if r is None or not store.can_write(ctx.user, ws, path, r.extra_perms):
        raise not_found_at_name("Resource", path)
    if renaming:
        store.check_item_row(ctx.user, ws, "resource", new_path, LOC, extra_perms=r.extra_perms)
    if b["value"] is not None:
        r.value = b["value"]
    if b["description"] is not None:
        r.description = b["description"]
    r.edited_at = now()
    target = new_path if renaming else path
    if renaming:
        del store.resources[ws][path]
        r.path = target
        store.resources[ws][target] = r
        var = store.ws_variables(ws).pop(path, None)
        if var is not None:
            var.path = target
            store.variables[ws][target] = var
    store.audit_log(ctx.user, "resources.update", "Update", ws, path)
    return text(f'resource {path} updated (npath: "{target}")')


def update_value(ctx: Ctx) -> Response:
    """POST …/resources/update_value/{path}: ``{value}``; 200 with no existence check (§6, §9.2)."""
    store, ws, path = ctx.store, ctx.ws, ctx.params["path"]
    r = store.ws_resources(ws).get(path)
    if r is not None and store.can_write(ctx.user, ws, path, r.extra_perms):
        r.value = ctx.body["value"]
        r.edited_at = now()
    store.audit_log(ctx.user, "resources.update", "Update", ws, path)
    return text(f"value of resource {path} updated")


def delete(ctx: Ctx) -> Response:
    """DELETE …/resources/delete/{path}: 404 when missing (docs/windmill-api.md §6, §9.2).

    docs/windmill-api.md §6 / §15 item 4: also deletes the variable at the same path.
    """
    store, ws, path = ctx.store, ctx.ws, ctx.params["path"]
    r = store.ws_resources(ws).get(path)
    if r is None or not store.can_write(ctx.user, ws, path, r.extra_perms):
        raise not_found_at_name("Resource", path)
    del store.resources[ws][path]
    var = store.ws_variables(ws).get(path)
    if var is not None and store.can_write(ctx.user, ws, path, var.extra_perms):
        del store.variables[ws][path]
    store.audit_log(ctx.user, "resources.delete", "Delete", ws, path)
    return text(f"resource {path} deleted")


def delete_bulk(ctx: Ctx) -> Response:
    """DELETE …/resources/delete_bulk ``{paths}``: JSON list of deleted paths (no variable cascade)."""
    store, ws = ctx.store, ctx.ws
    deleted = []
    for path in ctx.body["paths"]:
        r = store.ws_resources(ws).get(path)
        if r is not None and store.can_write(ctx.user, ws, path, r.extra_perms):
            del store.resources[ws][path]
            deleted.append(path)
    store.audit_log(ctx.user, "resources.delete_bulk", "Delete", ws, ", ".join(deleted))
    return json_response(deleted)


def register(router: Router) -> None:
    """Add this module's routes."""
    r = "/api/w/{workspace}/resources"
    router.add("GET", f"{r}/list", list_resources)
    router.add("GET", f"{r}/list_names/{{type}}", list_names)
    router.add("GET", f"{r}/get/{{path:path}}", get)
    router.add("GET", f"{r}/exists/{{path:path}}", exists)
    router.add("GET", f"{r}/get_value/{{path:path}}", get_value)
    router.add("GET", f"{r}/get_value_interpolated/{{path:path}}", get_value_interpolated)
    router.add("POST", f"{r}/update/{{path:path}}", update, body=EDIT)
    router.add(
        "POST", f"{r}/update_value/{{path:path}}", update_value, body=Struct("UpdateResource", {"value": opt("any")})
    )
    router.add("DELETE", f"{r}/delete/{{path:path}}", delete)
    router.add("DELETE", f"{r}/delete_bulk", delete_bulk, body=Struct("BulkDeleteRequest", {"paths": req("strings")}))
    router.add("POST", f"{r}/create", create, body=CREATE)
