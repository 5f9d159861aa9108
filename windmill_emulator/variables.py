"""Variables and secrets (docs/windmill-api.md §5)."""

from __future__ import annotations

import json
from typing import Any

from .crypto import DecryptError, decrypt, encrypt
from .framework import (
    Ctx,
    DbError,
    JsonValue,
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
    opt,
    page_slice,
    query_bool,
    req,
    text,
)
from .store import Authed, Store, Variable

LOC = "variables.rs:402:10"
# docs/windmill-api.md §5: ``value`` is VARCHAR(15000); secrets are stored encrypted, hence longer.
MAX_VALUE_LEN = 15000

CREATE = Struct(
    "CreateVariable",
    {
        "path": req("string"),
        "value": req("string"),
        "is_secret": req("bool"),
        "description": req("string"),
        "account": opt("i32"),
        "is_oauth": opt("bool"),
        "expires_at": opt("datetime"),
    },
)
EDIT = Struct(
    "EditVariable",
    {
        "path": opt("string"),
        "value": opt("string"),
        "is_secret": opt("bool"),
        "description": opt("string"),
        "account": opt("i32"),
    },
)


def workspace_key(store: Store, ws: str) -> str:
    """The workspace's encryption key (``build_crypt``)."""
    w = store.workspaces.get(ws)
    if w is None:
        raise internal(f"workspace key not found for {ws}")
    return w.key


def decrypt_value(store: Store, ws: str, var: Variable) -> str:
    """Decrypt a stored secret; a wrong key gives 500 (docs/windmill-api.md §5, #5154)."""
    try:
        return decrypt(workspace_key(store, ws), var.value)
    except DecryptError as exc:
        raise internal(f"Error decrypting variable {var.path}: {exc}") from exc


def check_value_len(stored: str) -> None:
    """The VARCHAR(15000) column limit applies to the stored (possibly encrypted) value."""
    if len(stored) > MAX_VALUE_LEN:
        raise DbError(f"value too long for type character varying({MAX_VALUE_LEN})", location=LOC)


def variable_json(store: Store, ws: str, v: Variable, value: str | None) -> dict[str, Any]:
    """``ListableVariable`` (docs/windmill-api.md §5): no OAuth accounts, so the account columns are null."""
    return {
        "workspace_id": v.workspace_id,
        "path": v.path,
        "value": value,
        "is_secret": v.is_secret,
        "description": v.description,
        "extra_perms": v.extra_perms,
        "account": v.account,
        "is_oauth": v.is_oauth,
        "is_expired": None,
        "refresh_error": None,
        "is_linked": v.path in store.ws_resources(ws),
        "is_refreshed": None,
        "expires_at": iso(v.expires_at),
    }


def explain_perm_error(store: Store, ws: str, path: str) -> None:
    """[VAR] ``explain_variable_perm_error``: 404 if missing, else 401 with the perms."""
    var = store.ws_variables(ws).get(path)
    if var is None:
        # docs/windmill-api.md §9.1: "Variables and resources without access say ``Variable {path} not found``".
        raise not_found(f"Variable {path} not found")
    perms = json.dumps(var.extra_perms, indent=2)
    msg = f"Variable exists but you don't have access to it:\nvariable perms: {perms}"
    if path.startswith("f/"):
        folder = store.ws_folders(ws).get(path.split("/")[1])
        msg += f"\nfolder perms: {json.dumps(folder.extra_perms if folder else None, indent=2)}"
    # docs/windmill-api.md §5: 401 ``Variable exists but you don't have access to it: …``.
    raise not_authorized(msg)


def readable(store: Store, authed: Authed, ws: str, path: str) -> Variable:
    """The variable if the caller may read it, else the 404/401 the server gives."""
    var = store.ws_variables(ws).get(path)
    if var is None or not store.can_read(authed, ws, path, var.extra_perms):
        explain_perm_error(store, ws, path)
    assert var is not None
    return var


def create(ctx: Ctx) -> Response:
    """POST /api/w/{id}/variables/create[?already_encrypted=true]: 201 (§5, §15 item 2)."""
    store, ws, b = ctx.store, ctx.ws, ctx.body
    already_encrypted = query_bool(ctx.query, "already_encrypted") or False
    path = b["path"]
    if path in store.ws_variables(ws):
        raise bad_request(f"Variable {path} already exists")
    value = b["value"]
    if b["is_secret"] and not already_encrypted:
        # docs/windmill-api.md §5: secrets are encrypted at rest with the per-workspace key (deterministic).
        value = encrypt(workspace_key(store, ws), value) if ws in store.workspaces else value
    # Postgres coerces the VARCHAR columns (path, then value) before RLS and CHECK constraints.
    if len(path) > 255:
        raise DbError("value too long for type character varying(255)", location=LOC)
    check_value_len(value)
    store.check_item_row(ctx.user, ws, "variable", path, LOC)
    store.variables[ws][path] = Variable(
        workspace_id=ws,
        path=path,
        value=value,
        is_secret=b["is_secret"],
        description=b["description"],
        account=b["account"],
        is_oauth=b["is_oauth"] or False,
        expires_at=b["expires_at"],
    )
    store.audit_log(ctx.user, "variables.create", "Create", ws, path)
    return text(f"variable {path} created", status=201)


def get(ctx: Ctx) -> Response:
    """GET …/variables/get/{path}?decrypt_secret=&include_encrypted= (docs/windmill-api.md §5).

    docs/windmill-api.md §5 / §15 item 3: ``decrypt_secret`` defaults to TRUE and every decryption
    writes a ``variables.decrypt_secret`` audit entry. With ``decrypt_secret=false`` the value
    is null, or the ciphertext with ``include_encrypted=true``.
    """
    store, ws = ctx.store, ctx.ws
    decrypt_secret = query_bool(ctx.query, "decrypt_secret")
    include_encrypted = query_bool(ctx.query, "include_encrypted") or False
    if decrypt_secret is None:
        decrypt_secret = True
    var = readable(store, ctx.user, ws, ctx.params["path"])
    value: str | None = var.value
    if var.is_secret:
        if decrypt_secret:
            store.audit_log(ctx.user, "variables.decrypt_secret", "Execute", ws, var.path)
        if var.value and decrypt_secret:
            value = decrypt_value(store, ws, var)
        elif include_encrypted:
            value = var.value
        else:
            value = None
    return json_response(variable_json(store, ws, var, value))


def get_value(ctx: Ctx) -> Response:
    """GET …/variables/get_value/{path}: JSON string, decrypted (audit entry for secrets) (§5)."""
    store, ws = ctx.store, ctx.ws
    var = readable(store, ctx.user, ws, ctx.params["path"])
    if not var.is_secret:
        return json_response(var.value)
    store.audit_log(ctx.user, "variables.decrypt_secret", "Execute", ws, var.path)
    return json_response(decrypt_value(store, ws, var) if var.value else "")


def exists(ctx: Ctx) -> Response:
    """GET …/variables/exists/{path}: JSON bool, no RLS (§5, §9.3)."""
    return json_response(ctx.params["path"] in ctx.store.ws_variables(ctx.ws))


def list_variables(ctx: Ctx) -> Response:
    """GET …/variables/list: ``value`` is null for secrets (docs/windmill-api.md §5)."""
    store, ws, q = ctx.store, ctx.ws, ctx.query
    rows = []
    for var in sorted(store.ws_variables(ws).values(), key=lambda v: v.path):
        if not store.can_read(ctx.user, ws, var.path, var.extra_perms):
            continue
        if var.path.startswith(f"u/{ctx.user.username}/secret_arg/"):
            continue
        if "path_start" in q and not var.path.startswith(q["path_start"]):
            continue
        if "path" in q and var.path != q["path"]:
            continue
        if "description" in q and q["description"].lower() not in var.description.lower():
            continue
        if "value" in q and (var.is_secret or q["value"].lower() not in var.value.lower()):
            continue
        # docs/windmill-api.md §5: list never returns secret values.
        rows.append(variable_json(store, ws, var, None if var.is_secret else var.value))
    return json_response(page_slice(rows, q))


def _replace_path(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: _replace_path(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_path(v, old, new) for v in value]
    if value == old:
        return new
    return value


def update(ctx: Ctx) -> Response:
    """POST …/variables/update/{path}[?already_encrypted=true] (docs/windmill-api.md §5).

    Quirks modelled: a value is encrypted when the (new or current) ``is_secret`` is true;
    changing ``is_secret`` without a value is 400 ``cannot change is_secret without updating
    value too``; a rename to an existing path is 400; a rename also moves the same-path resource
    and rewrites its ``$var:<old>`` references; a missing variable is 404.
    """
    store, ws, b = ctx.store, ctx.ws, ctx.body
    path = ctx.params["path"]
    already_encrypted = query_bool(ctx.query, "already_encrypted") or False
    current = store.ws_variables(ws).get(path)
    new_path = b["path"]
    target_path = new_path if new_path is not None else path
    stored_value: str | None = None
    if b["value"] is not None:
        is_secret = b["is_secret"] if b["is_secret"] is not None else bool(current and current.is_secret)
        stored_value = b["value"]
        if is_secret and not already_encrypted and ws in store.workspaces:
            stored_value = encrypt(workspace_key(store, ws), b["value"])
    if b["is_secret"] is not None:
        old_secret = bool(current and current.is_secret)
        if old_secret != b["is_secret"] and b["value"] is None:
            raise bad_request("cannot change is_secret without updating value too")
    renaming = new_path is not None and new_path != path
    if renaming and new_path in store.ws_variables(ws):
        raise bad_request(f"Variable {new_path} already exists")
    if current is None or not store.can_write(ctx.user, ws, path, current.extra_perms):
        raise not_found_at_name("Variable", path)
    if stored_value is not None:
        check_value_len(stored_value)
    if renaming:
        store.check_item_row(ctx.user, ws, "variable", target_path, LOC, extra_perms=current.extra_perms)
    # All checks passed: apply.
    if stored_value is not None:
        current.value = stored_value
    if b["description"] is not None:
        current.description = b["description"]
    if b["account"] is not None:
        current.account = b["account"]
    if b["is_secret"] is not None:
        current.is_secret = b["is_secret"]
    if renaming:
        del store.variables[ws][path]
        current.path = target_path
        store.variables[ws][target_path] = current
        res = store.ws_resources(ws).pop(path, None)
        if res is not None:
            res.value = _replace_path(res.value, f"$var:{path}", f"$var:{target_path}")
            res.path = target_path
            store.resources[ws][target_path] = res
    store.audit_log(ctx.user, "variables.update", "Update", ws, path)
    return text(f'variable {path} updated (npath: "{target_path}")')


def delete(ctx: Ctx) -> Response:
    """DELETE …/variables/delete/{path}: 200 even when missing (docs/windmill-api.md §5, §9.2).

    docs/windmill-api.md §5 / §15 item 4: also deletes the resource at the same path.
    """
    store, ws, path = ctx.store, ctx.ws, ctx.params["path"]
    var = store.ws_variables(ws).get(path)
    if var is not None and store.can_write(ctx.user, ws, path, var.extra_perms):
        del store.variables[ws][path]
    res = store.ws_resources(ws).get(path)
    if res is not None and store.can_write(ctx.user, ws, path, res.extra_perms):
        del store.resources[ws][path]
    store.audit_log(ctx.user, "variables.delete", "Delete", ws, path)
    return text(f"variable {path} deleted")


def delete_bulk(ctx: Ctx) -> Response:
    """DELETE …/variables/delete_bulk ``{paths}``: JSON list of the deleted paths (§5)."""
    store, ws = ctx.store, ctx.ws
    deleted = []
    for path in ctx.body["paths"]:
        var = store.ws_variables(ws).get(path)
        if var is not None and store.can_write(ctx.user, ws, path, var.extra_perms):
            del store.variables[ws][path]
            deleted.append(path)
            store.ws_resources(ws).pop(path, None)
    store.audit_log(ctx.user, "variables.delete_bulk", "Delete", ws, ", ".join(deleted))
    return json_response(deleted)


def encrypt_value(ctx: Ctx) -> Response:
    """POST …/variables/encrypt: JSON string in, ciphertext text out (§5)."""
    return text(encrypt(workspace_key(ctx.store, ctx.ws), ctx.body))


def list_contextual(ctx: Ctx) -> Response:
    """GET …/variables/list_contextual: reserved WM_* variables plus custom env entries (§5, §8.2)."""
    a, ws = ctx.user, ctx.ws
    reserved = {
        "WM_WORKSPACE": ws,
        "WM_TOKEN": "q1A0qcPuO00yxioll7iph76N9CJDqn",
        "WM_EMAIL": a.email,
        "WM_USERNAME": a.username,
        "WM_JOB_ID": "017e0ad5-f499-73b6-5488-92a61c5196dd",
        "WM_PERMISSIONED_AS": f"u/{a.username}",
        "WM_BASE_URL": ctx.config.base_url,
    }
    out: list[dict[str, Any]] = [
        {"name": k, "value": v, "description": f"reserved variable {k}", "is_custom": False}
        for k, v in reserved.items()
    ]
    w = ctx.store.workspaces.get(ws)
    if w is not None:
        for name, value in w.env.items():
            out.append({"name": name, "value": value, "description": "", "is_custom": True})
    return json_response(out)


def register(router: Router) -> None:
    """Add this module's routes."""
    v = "/api/w/{workspace}/variables"
    router.add("GET", f"{v}/list", list_variables)
    router.add("GET", f"{v}/list_contextual", list_contextual)
    router.add("GET", f"{v}/get/{{path:path}}", get)
    router.add("GET", f"{v}/get_value/{{path:path}}", get_value)
    router.add("GET", f"{v}/exists/{{path:path}}", exists)
    router.add("POST", f"{v}/update/{{path:path}}", update, body=EDIT)
    router.add("DELETE", f"{v}/delete/{{path:path}}", delete)
    router.add("DELETE", f"{v}/delete_bulk", delete_bulk, body=Struct("BulkDeleteRequest", {"paths": req("strings")}))
    router.add("POST", f"{v}/create", create, body=CREATE)
    router.add("POST", f"{v}/encrypt", encrypt_value, body=JsonValue("string"))
