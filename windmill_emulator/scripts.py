"""Scripts: deploy, read, list, archive and delete (what ``wmill sync push/pull`` and ``wmill script`` call).

Modelled on windmill-labs/windmill ``backend/windmill-api-scripts/src/scripts.rs`` @
96b5b3e8bb9c5ed27fcb8531c2849dacba97c0ea (``create_script_internal``, ``get_script_by_path``,
``list_scripts``, ``archive_script_by_path``, ``delete_script_by_path``, ``exists_script_by_path``)
and checked against the ``Script``/``NewScript`` types of the published client (windmill-client
1.818.0). A deploy never edits a row: it inserts a new version whose ``parent_hashes`` chain to
the version it supersedes, which is archived in the same transaction.
"""

from __future__ import annotations

from typing import Any

from .framework import (
    ROW_NOT_FOUND,
    ApiError,
    Ctx,
    DbError,
    Response,
    Router,
    Struct,
    bad_request,
    iso,
    json_response,
    not_authorized,
    not_found_at_name,
    opt,
    page_slice,
    query_bool,
    req,
    require_admin_error,
    text,
)
from .runnables import (
    LANGUAGES,
    SCRIPT_KINDS,
    SCRIPT_SETTINGS,
    ScriptVersion,
    hash_hex,
    hash_new_script,
    parse_hash,
    require_owner_of_path,
)
from .store import Store

LOC = "scripts.rs:402:10"
MAX_HASH_HISTORY = 20  # MAX_HASH_HISTORY_LENGTH_STORED
# Languages whose deploy queues a dependency job when no lock is sent; every other language is
# stored with an empty lock (create_script_internal).
LOCKED_LANGUAGES = {
    "python3", "go", "bun", "bunnative", "deno", "rust", "ansible", "csharp", "nu", "php", "java", "ruby",
}  # fmt: skip

NEW_SCRIPT = Struct(
    "NewScript",
    {
        "path": req("string"),
        "parent_hash": opt("string"),
        "summary": req("string"),
        "description": opt("string"),
        "content": req("string"),
        "schema": opt("any"),
        "is_template": opt("bool"),
        "lock": opt("any"),
        "language": req("string"),
        "kind": opt("string"),
        "tag": opt("string"),
        "draft_only": opt("bool"),
        "envs": opt("strings"),
        "cache_ttl": opt("i32"),
        "dedicated_worker": opt("bool"),
        "ws_error_handler_muted": opt("bool"),
        "priority": opt("i32"),
        "timeout": opt("i32"),
        "delete_after_use": opt("bool"),
        "restart_unless_cancelled": opt("bool"),
        "deployment_message": opt("string"),
        "visible_to_runner_only": opt("bool"),
        "no_main_func": opt("bool"),
        "codebase": opt("string"),
        "has_preprocessor": opt("bool"),
        "on_behalf_of_email": opt("string"),
        "preserve_on_behalf_of": opt("bool"),
        "auto_parent": opt("bool"),
        "labels": opt("strings"),
        "modules": opt("any"),
        "assets": opt("any"),
        "skip_draft_deletion": opt("bool"),
    },
)


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


def ws_scripts(store: Store, ws: str) -> list[ScriptVersion]:
    """Every version of every script of the workspace, oldest first."""
    return store.scripts.get(ws, [])


def latest_version(store: Store, ws: str, path: str) -> ScriptVersion | None:
    """``ORDER BY created_at DESC LIMIT 1`` on the path, archived versions included."""
    rows = [s for s in ws_scripts(store, ws) if s.path == path]
    return rows[-1] if rows else None


def deployed_scripts(store: Store, ws: str) -> list[ScriptVersion]:
    """The non-archived head of every path (what an export contains)."""
    heads: dict[str, ScriptVersion] = {}
    for s in ws_scripts(store, ws):
        heads[s.path] = s
    return [s for s in heads.values() if not s.archived]


def script_json(s: ScriptVersion) -> dict[str, Any]:
    """``ScriptWithStarred`` as ``GET scripts/get/p`` serializes it (None options skipped)."""
    out: dict[str, Any] = {
        "workspace_id": s.workspace_id,
        "hash": hash_hex(s.hash),
        "path": s.path,
        "parent_hashes": None if s.parent_hashes is None else [hash_hex(h) for h in s.parent_hashes],
        "summary": s.summary,
        "description": s.description,
        "content": s.content,
        "created_by": s.created_by,
        "created_at": iso(s.created_at),
        "archived": s.archived,
        "schema": s.schema,
        "deleted": s.deleted,
        "is_template": s.is_template,
        "extra_perms": s.extra_perms,
    }
    if s.lock is not None:
        out["lock"] = s.lock
    out.update({"lock_error_logs": None, "language": s.language, "kind": s.kind, "tag": s.tag})
    if s.draft_only is not None:
        out["draft_only"] = s.draft_only
    out["ws_error_handler_muted"] = s.ws_error_handler_muted
    out.update({k: v for k, v in s.settings.items() if v is not None})
    return out


def listable_json(s: ScriptVersion, with_description: bool) -> dict[str, Any]:
    """``ListableScript``."""
    out: dict[str, Any] = {
        "hash": hash_hex(s.hash),
        "path": s.path,
        "summary": s.summary,
        "created_at": iso(s.created_at),
        "archived": s.archived,
        "extra_perms": s.extra_perms,
        "language": s.language,
        "starred": False,
        "tag": s.tag,
    }
    if with_description:
        out["description"] = s.description
    out["has_draft"] = False
    if s.draft_only is not None:
        out["draft_only"] = s.draft_only
    out["has_deploy_errors"] = False
    out["ws_error_handler_muted"] = s.ws_error_handler_muted
    if s.settings.get("no_main_func"):
        out["no_main_func"] = True
    if s.settings.get("codebase") is not None:
        out["use_codebase"] = True
    out["kind"] = s.kind
    return out


# --------------------------------------------------------------------------------------------
# Create
# --------------------------------------------------------------------------------------------


def _check_enums(b: dict[str, Any]) -> None:
    """serde's enum check on ``language`` and ``kind`` (422 from the Json extractor)."""
    for name, allowed, value in (("language", LANGUAGES, b["language"]), ("kind", SCRIPT_KINDS, b["kind"])):
        if value is not None and value not in allowed:
            expected = ", ".join(f"`{v}`" for v in allowed)
            raise ApiError(
                422,
                "Failed to deserialize the JSON body into the target type: "
                f"{name}: unknown variant `{value}`, expected one of {expected}",
            )


def _lock_of(b: dict[str, Any]) -> str | None:
    """The stored lock: empty for languages without one, else what was sent (an array is joined)."""
    if b["codebase"] is not None or b["language"] not in LOCKED_LANGUAGES:
        return ""
    lock = b["lock"]
    if isinstance(lock, list):
        lock = "\n".join(str(line) for line in lock)
    return lock or None


def _parent(ctx: Ctx, b: dict[str, Any]) -> ScriptVersion | None:
    """Resolve and check the superseded version (the lineage rules of create_script_internal)."""
    store, ws, path = ctx.store, ctx.ws, b["path"]
    clashing = next((s for s in ws_scripts(store, ws) if s.path == path and not s.archived), None)
    parent_hash = parse_hash(b["parent_hash"]) if b["parent_hash"] is not None else None
    if b["parent_hash"] is not None and parent_hash is None:
        raise bad_request(f"invalid hash {b['parent_hash']}")
    if b["auto_parent"] and clashing is not None:
        # windmill-client NewScript.auto_parent: the backend resolves the parent to the deployed head.
        parent_hash = clashing.hash
    if parent_hash is None:
        if clashing is not None and not clashing.draft_only:
            raise bad_request(f"Path conflict for {path} with non-archived hash {hash_hex(clashing.hash)}")
        if clashing is not None:
            store.scripts[ws].remove(clashing)
        return None
    parent = next((s for s in ws_scripts(store, ws) if s.hash == parent_hash), None)
    if parent is None:
        raise bad_request("The parent hash does not seem to exist")
    child = next((s for s in ws_scripts(store, ws) if s.parent_hashes and s.parent_hashes[0] == parent_hash), None)
    if child is not None:
        raise bad_request(
            f"A script with hash {hash_hex(child.hash)} with same parent_hash has been found. However, the "
            "lineage must be linear: no 2 scripts can have the same parent"
        )
    if parent.path != path:
        require_owner_of_path(ctx, parent.path)
    if clashing is not None and clashing.hash != parent_hash:
        raise bad_request(f"Path conflict for {path} with non-archived hash {hash_hex(clashing.hash)}")
    return parent


def _candidate(ctx: Ctx) -> ScriptVersion:
    """The row a deploy of the request body would insert (hash and lineage still unset)."""
    b = ctx.body
    settings = {k: b.get(k) for k in SCRIPT_SETTINGS}
    if not settings["envs"]:
        settings["envs"] = None
    # resolve_on_behalf_of_email: a deployer keeps the run-as identity only when asked to.
    if settings["on_behalf_of_email"] is not None and not b["preserve_on_behalf_of"]:
        settings["on_behalf_of_email"] = ctx.user.email
    return ScriptVersion(
        workspace_id=ctx.ws,
        hash=0,
        path=b["path"],
        parent_hashes=None,
        summary=b["summary"],
        description=b["description"] or "",
        content=b["content"],
        created_by=ctx.user.username,
        schema=b["schema"],
        language=b["language"],
        kind=b["kind"] or "script",
        lock=_lock_of(b),
        tag=b["tag"],
        is_template=b["is_template"] or False,
        draft_only=b["draft_only"],
        ws_error_handler_muted=b["ws_error_handler_muted"] or False,
        settings=settings,
    )


def _definition(s: ScriptVersion) -> tuple[Any, ...]:
    """What a ``skip_if_noop`` deploy compares: every deployed field, not the identity or lineage."""
    settings = {k: v for k, v in s.settings.items() if v is not None}
    return (s.path, s.summary, s.description, s.content, s.schema, s.language, s.kind, s.lock or "", s.tag,
            s.is_template, bool(s.draft_only), s.ws_error_handler_muted, settings)  # fmt: skip


def _unique_hash(store: Store, ws: str, body: dict[str, Any]) -> int:
    """The version hash; a path redeployed with content it held before gets a fresh one.

    The hash covers (path, parent, content, metadata), so redeploying a retired path unchanged
    re-derives the hash of an archived version; Windmill's backend tests pin that such a deploy
    succeeds as a new version (backend/tests/ at 3bdf78f9353edb7b9fc0e2c678762c093aea6e16).
    """
    hashed = {k: v for k, v in body.items() if k not in ("auto_parent", "preserve_on_behalf_of")}
    new_hash = hash_new_script(hashed)
    taken = {s.hash: s for s in ws_scripts(store, ws)}
    if new_hash in taken and not taken[new_hash].archived:
        raise bad_request("A script with same hash (hence same path, description, summary, content) already exists!")
    while new_hash in taken:
        new_hash = hash_new_script({**hashed, "__redeploy_of__": new_hash})
    return new_hash


def create(ctx: Ctx) -> Response:
    """POST /api/w/{id}/scripts/create[?skip_if_noop=true]: 201 with the version's hash as plain text.

    With ``skip_if_noop`` (sent by wmill ≥ 1.8xx), a body identical to the deployed version cuts no
    new version and answers that version's hash (backend/tests/preserve_on_behalf_of.rs @
    3bdf78f9353edb7b9fc0e2c678762c093aea6e16: "an identical push … must not cut a new version").
    """
    store, ws, b = ctx.store, ctx.ws, ctx.body
    if ctx.user.operator:
        raise not_authorized("Operators cannot create scripts for security reasons")
    _check_enums(b)
    if ctx.config.edition != "EE" and b["ws_error_handler_muted"]:
        raise bad_request("Muting the error handler for certain script is only available in enterprise version")
    row = _candidate(ctx)
    head = next((s for s in ws_scripts(store, ws) if s.path == row.path and not s.archived), None)
    if query_bool(ctx.query, "skip_if_noop") and head is not None and _definition(head) == _definition(row):
        return text(hash_hex(head.hash), status=201)
    row.hash = _unique_hash(store, ws, b)
    store.check_item_row(ctx.user, ws, "script", row.path, LOC)
    parent = _parent(ctx, b)
    if parent is not None:
        row.parent_hashes = [parent.hash, *(parent.parent_hashes or [])][:MAX_HASH_HISTORY]
        row.extra_perms = dict(parent.extra_perms)
        parent.archived = True
    store.scripts.setdefault(ws, []).append(row)
    operation, action = ("scripts.update", "Update") if parent is not None else ("scripts.create", "Create")
    store.audit_log(ctx.user, operation, action, ws, row.path)
    return text(hash_hex(row.hash), status=201)


# --------------------------------------------------------------------------------------------
# Read
# --------------------------------------------------------------------------------------------


def _readable(ctx: Ctx, s: ScriptVersion | None) -> bool:
    return s is not None and ctx.store.can_read(ctx.user, ctx.ws, s.path, s.extra_perms)


def get_by_path(ctx: Ctx) -> Response:
    """GET …/scripts/get/p/{path}: the newest version (archived or not); 404 when none is readable."""
    path = ctx.params["path"]
    s = latest_version(ctx.store, ctx.ws, path)
    if s is None or not _readable(ctx, s):
        raise not_found_at_name("Script", path)
    return json_response(script_json(s))


def get_by_hash(ctx: Ctx) -> Response:
    """GET …/scripts/get/h/{hash}: one version, read without row-level security."""
    value = parse_hash(ctx.params["hash"])
    s = next((s for s in ws_scripts(ctx.store, ctx.ws) if s.hash == value), None)
    if s is None:
        raise not_found_at_name("Script", ctx.params["hash"])
    return json_response(script_json(s))


def exists(ctx: Ctx) -> Response:
    """GET …/scripts/exists/p/{path}: any version at the path, without row-level security."""
    return json_response(latest_version(ctx.store, ctx.ws, ctx.params["path"]) is not None)


def list_scripts(ctx: Ctx) -> Response:
    """GET …/scripts/list: one row per version matching the filters, newest first (list_scripts)."""
    q = ctx.query
    show_archived = query_bool(q, "show_archived") or False
    rows = deployed_scripts(ctx.store, ctx.ws)
    if show_archived:
        heads = {s.path: s for s in ws_scripts(ctx.store, ctx.ws)}
        rows = [s for s in heads.values() if s.archived]
    rows = [s for s in rows if _readable(ctx, s)]
    if not (query_bool(q, "include_draft_only") or False):
        rows = [s for s in rows if not s.draft_only]
    if not (query_bool(q, "include_without_main") or False):
        rows = [s for s in rows if not s.settings.get("no_main_func")]
    if "path_start" in q:
        rows = [s for s in rows if s.path.startswith(q["path_start"])]
    if "path_exact" in q:
        rows = [s for s in rows if s.path == q["path_exact"]]
    if "created_by" in q:
        rows = [s for s in rows if s.created_by == q["created_by"]]
    if "kinds" in q:
        kinds = {k.lower() for k in q["kinds"].split(",") if k}
        rows = [s for s in rows if not kinds or s.kind in kinds]
    if "languages" in q:
        languages = set(q["languages"].split(","))
        rows = [s for s in rows if s.language in languages]
    rows.sort(key=lambda s: s.created_at, reverse=query_bool(q, "order_desc") is not False)
    with_description = not (query_bool(q, "without_description") or False)
    return json_response(page_slice([listable_json(s, with_description) for s in rows], q))


def list_paths(ctx: Ctx) -> Response:
    """GET …/scripts/list_paths: every distinct path, archived included."""
    paths = sorted({s.path for s in ws_scripts(ctx.store, ctx.ws) if _readable(ctx, s)})
    return json_response(paths)


# --------------------------------------------------------------------------------------------
# Archive / delete
# --------------------------------------------------------------------------------------------


def archive_by_path(ctx: Ctx) -> Response:
    """POST …/scripts/archive/p/{path}: archives every version; 200 with an empty body."""
    store, ws, path = ctx.store, ctx.ws, ctx.params["path"]
    if ctx.user.operator:
        raise not_authorized("Operators cannot archive scripts for security reasons")
    require_owner_of_path(ctx, path)
    rows = [s for s in ws_scripts(store, ws) if s.path == path]
    if not rows:
        # ``UPDATE … RETURNING hash`` + ``fetch_one`` maps the missing row to internal_err.
        raise ApiError(500, f"Internal: archiving script in {ws}: {ROW_NOT_FOUND}")
    for s in rows:
        s.archived = True
    store.audit_log(ctx.user, "scripts.archive", "Delete", ws, hash_hex(rows[-1].hash))
    return Response(status=200, body=b"", content_type=None)


def delete_by_path(ctx: Ctx) -> Response:
    """POST …/scripts/delete/p/{path}: deletes every version (admins only); answers the path as JSON."""
    store, ws, path = ctx.store, ctx.ws, ctx.params["path"]
    if path == "u/admin/hub_sync" and ws == "admins":
        raise bad_request("Cannot delete the global setup app")
    rows = [s for s in ws_scripts(store, ws) if s.path == path]
    if not rows:
        raise DbError(ROW_NOT_FOUND, location="scripts.rs:1499:6", raw=True)
    if not any(s.draft_only for s in rows) and not ctx.user.is_admin:
        raise require_admin_error(ctx.user.username)
    store.scripts[ws] = [s for s in ws_scripts(store, ws) if s.path != path]
    store.audit_log(ctx.user, "scripts.delete", "Delete", ws, path)
    return json_response(path)


def register(router: Router) -> None:
    """Add this module's routes."""
    w = "/api/w/{workspace}/scripts"
    router.add("GET", f"{w}/list", list_scripts)
    router.add("GET", f"{w}/list_paths", list_paths)
    router.add("POST", f"{w}/create", create, body=NEW_SCRIPT)
    router.add("POST", f"{w}/archive/p/{{path:path}}", archive_by_path)
    router.add("GET", f"{w}/get/p/{{path:path}}", get_by_path)
    router.add("GET", f"{w}/exists/p/{{path:path}}", exists)
    router.add("POST", f"{w}/delete/p/{{path:path}}", delete_by_path)
    router.add("GET", f"{w}/get/h/{{hash}}", get_by_hash)
