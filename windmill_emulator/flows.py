"""Flows: create, update, read, list, archive and delete (what ``wmill sync push/pull`` and ``wmill flow`` call).

Modelled on windmill-labs/windmill ``backend/windmill-api-scripts/src/flows.rs`` @
3783d6a3f06a9e88a6d55746c6260a99b791fde8 (``create_flow``, ``update_flow``, ``get_flow_by_path``,
``list_flows``, ``archive_flow_by_path``, ``delete_flow_by_path``, ``exists_flow_by_path``) and
``backend/windmill-types/src/flows.rs`` @ e700979a561c59c2f44f4f4218fc70ddb2f8c7bc (``Flow``,
``FlowWithStarred``, ``ListableFlow``, ``NewFlow``), checked against windmill-client 1.818.0.
Every create or update appends a ``flow_version``; the flow shows its newest version.
"""

from __future__ import annotations

from typing import Any

from .framework import (
    ApiError,
    Ctx,
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
    text,
)
from .runnables import FlowRow, FlowVersion, require_owner_of_path
from .store import Store

LOC = "flows.rs:420:10"

NEW_FLOW = Struct(
    "NewFlow",
    {
        "path": req("string"),
        "summary": req("string"),
        "description": opt("string"),
        "value": req("any"),
        "schema": opt("any"),
        "draft_only": opt("bool"),
        "tag": opt("string"),
        "dedicated_worker": opt("bool"),
        "timeout": opt("i32"),
        "deployment_message": opt("string"),
        "visible_to_runner_only": opt("bool"),
        "on_behalf_of_email": opt("string"),
        "ws_error_handler_muted": opt("bool"),
    },
)
ARCHIVED = Struct("Archived", {"archived": opt("bool")})


def ws_flows(store: Store, ws: str) -> dict[str, FlowRow]:
    """The workspace's ``flow`` rows by path."""
    return store.flows.get(ws, {})


def _next_version_id(store: Store) -> int:
    """``flow_version.id`` is one BIGSERIAL for the whole instance."""
    ids = [v.id for flows in store.flows.values() for f in flows.values() for v in f.versions]
    return max(ids, default=0) + 1


def flow_json(f: FlowRow) -> dict[str, Any]:
    """``FlowWithStarred`` as ``GET flows/get`` serializes it (None and false options skipped)."""
    v = f.latest
    out: dict[str, Any] = {
        "workspace_id": f.workspace_id,
        "path": f.path,
        "summary": f.summary,
        "description": f.description,
        "value": v.value,
        "edited_by": v.created_by,
        "edited_at": iso(v.created_at),
        "archived": f.archived,
        "schema": v.schema,
        "extra_perms": f.extra_perms,
    }
    optional = {"draft_only": f.draft_only, "dedicated_worker": f.dedicated_worker, "tag": f.tag}
    out.update({k: val for k, val in optional.items() if val is not None})
    if f.ws_error_handler_muted:
        out["ws_error_handler_muted"] = True
    if f.timeout is not None:
        out["timeout"] = f.timeout
    if f.visible_to_runner_only:
        out["visible_to_runner_only"] = True
    if f.on_behalf_of_email is not None:
        out["on_behalf_of_email"] = f.on_behalf_of_email
    out["lock_error_logs"] = f.lock_error_logs
    out["version_id"] = v.id
    return out


def listable_json(f: FlowRow, with_description: bool) -> dict[str, Any]:
    """``ListableFlow``."""
    out: dict[str, Any] = {"workspace_id": f.workspace_id, "path": f.path, "summary": f.summary}
    if with_description:
        out["description"] = f.description
    out.update(
        {
            "edited_by": f.latest.created_by,
            "edited_at": iso(f.latest.created_at),
            "archived": f.archived,
            "extra_perms": f.extra_perms,
            "starred": False,
            "has_draft": False,
        }
    )
    if f.draft_only is not None:
        out["draft_only"] = f.draft_only
    out["ws_error_handler_muted"] = f.ws_error_handler_muted
    return out


def _check_new_flow(ctx: Ctx) -> dict[str, Any]:
    """``validate_flow_value`` and ``validate_flow``: the value must parse as a ``FlowValue``."""
    b = ctx.body
    value = b["value"]
    if not isinstance(value, dict) or not isinstance(value.get("modules"), list):
        reason = "missing field `modules`" if isinstance(value, dict) else "invalid type: expected struct FlowValue"
        raise ApiError(
            422, f"Failed to deserialize the JSON body into the target type: value: Invalid flow value: {reason}"
        )
    if ctx.user.operator:
        raise not_authorized("Operators cannot create flows for security reasons")
    if ctx.config.edition != "EE" and b["ws_error_handler_muted"]:
        raise bad_request("Muting the error handler for certain flow is only available in enterprise version")
    return b


def _check_schedule_conflict(ctx: Ctx, path: str) -> None:
    """A flow may share its path only with a schedule that runs that flow."""
    sched = ctx.store.ws_schedules(ctx.ws).get(path)
    if sched is not None and sched.get("script_path") != path:
        raise ApiError(
            400,
            "Bad config: A flow cannot have the same path as a schedule if the schedule does not trigger "
            f"that same flow: {path}",
        )


def _on_behalf_of(ctx: Ctx, b: dict[str, Any]) -> str | None:
    # ``nf.on_behalf_of_email.and(Some(&authed.email))``: asking for run-as makes it the deployer.
    return ctx.user.email if b["on_behalf_of_email"] is not None else None


def create(ctx: Ctx) -> Response:
    """POST /api/w/{id}/flows/create: 201 with the path as plain text."""
    store, ws = ctx.store, ctx.ws
    b = _check_new_flow(ctx)
    path = b["path"]
    if path in ws_flows(store, ws):
        raise bad_request(f"Flow {path} already exists")
    _check_schedule_conflict(ctx, path)
    store.check_item_row(ctx.user, ws, "flow", path, LOC)
    version = FlowVersion(_next_version_id(store), path, b["value"], b["schema"], ctx.user.username)
    store.flows.setdefault(ws, {})[path] = FlowRow(
        workspace_id=ws,
        path=path,
        summary=b["summary"],
        description=b["description"] or "",
        versions=[version],
        tag=b["tag"],
        draft_only=b["draft_only"],
        dedicated_worker=b["dedicated_worker"],
        timeout=b["timeout"],
        visible_to_runner_only=b["visible_to_runner_only"] or False,
        on_behalf_of_email=_on_behalf_of(ctx, b),
        ws_error_handler_muted=b["ws_error_handler_muted"] or False,
    )
    store.audit_log(ctx.user, "flows.create", "Create", ws, path)
    return text(path, status=201)


def update(ctx: Ctx) -> Response:
    """POST /api/w/{id}/flows/update/{path}: a new version (and a move when ``path`` changes)."""
    store, ws, old_path = ctx.store, ctx.ws, ctx.params["path"]
    b = _check_new_flow(ctx)
    _check_schedule_conflict(ctx, old_path)
    flow = ws_flows(store, ws).get(old_path)
    if flow is None or not store.can_read(ctx.user, ws, old_path, flow.extra_perms):
        raise not_found_at_name("Flow", old_path)
    new_path = b["path"]
    store.check_item_row(ctx.user, ws, "flow", new_path, LOC, extra_perms=flow.extra_perms)
    if new_path != old_path:
        if new_path in ws_flows(store, ws):
            raise ApiError(
                500,
                "Internal: Error updating flow due to create new flow: error returned from database: duplicate "
                'key value violates unique constraint "flow_pkey"',
            )
        _check_schedule_conflict(ctx, new_path)
        require_owner_of_path(ctx, old_path)
        del store.flows[ws][old_path]
        store.flows[ws][new_path] = flow
        flow.path = new_path
        for v in flow.versions:
            v.path = new_path
    flow.summary = b["summary"]
    flow.description = b["description"] or ""
    flow.tag = b["tag"]
    flow.draft_only = None
    flow.dedicated_worker = b["dedicated_worker"]
    flow.visible_to_runner_only = b["visible_to_runner_only"] or False
    flow.on_behalf_of_email = _on_behalf_of(ctx, b)
    flow.ws_error_handler_muted = b["ws_error_handler_muted"] or False
    flow.lock_error_logs = ""
    flow.versions.append(FlowVersion(_next_version_id(store), new_path, b["value"], b["schema"], ctx.user.username))
    store.audit_log(ctx.user, "flows.update", "Create", ws, new_path)
    return text(new_path)


def _readable(ctx: Ctx, path: str) -> FlowRow | None:
    flow = ws_flows(ctx.store, ctx.ws).get(path)
    if flow is None or not ctx.store.can_read(ctx.user, ctx.ws, path, flow.extra_perms):
        return None
    return flow


def get(ctx: Ctx) -> Response:
    """GET …/flows/get/{path}: the flow with its newest version; 404 when not readable."""
    path = ctx.params["path"]
    flow = _readable(ctx, path)
    if flow is None:
        raise not_found_at_name("Flow", path)
    return json_response(flow_json(flow))


def exists(ctx: Ctx) -> Response:
    """GET …/flows/exists/{path}: without row-level security, archived flows included."""
    return json_response(ctx.params["path"] in ws_flows(ctx.store, ctx.ws))


def list_flows(ctx: Ctx) -> Response:
    """GET …/flows/list: archived or not (``show_archived``), newest version first."""
    q = ctx.query
    archived = query_bool(q, "show_archived") or False
    rows = [f for f in ws_flows(ctx.store, ctx.ws).values() if f.archived == archived and _readable(ctx, f.path)]
    if not (query_bool(q, "include_draft_only") or False) or ctx.user.operator:
        rows = [f for f in rows if not f.draft_only]
    if "path_start" in q:
        rows = [f for f in rows if f.path.startswith(q["path_start"])]
    if "path_exact" in q:
        rows = [f for f in rows if f.path == q["path_exact"]]
    if "edited_by" in q:
        rows = [f for f in rows if f.latest.created_by == q["edited_by"]]
    rows.sort(key=lambda f: f.latest.created_at, reverse=query_bool(q, "order_desc") is not False)
    with_description = not (query_bool(q, "without_description") or False)
    return json_response(page_slice([listable_json(f, with_description) for f in rows], q))


def list_paths(ctx: Ctx) -> Response:
    """GET …/flows/list_paths."""
    return json_response(sorted(f.path for f in ws_flows(ctx.store, ctx.ws).values() if _readable(ctx, f.path)))


def archive(ctx: Ctx) -> Response:
    """POST …/flows/archive/{path} ``{archived?}``: an UPDATE, so a missing flow still answers 200."""
    path = ctx.params["path"]
    flow = _readable(ctx, path)
    archived = ctx.body["archived"]
    if flow is not None and ctx.store.can_write(ctx.user, ctx.ws, path, flow.extra_perms):
        flow.archived = True if archived is None else archived
    ctx.store.audit_log(ctx.user, "flows.archive", "Delete", ctx.ws, path)
    return text(f"Flow {path} archived")


def delete(ctx: Ctx) -> Response:
    """DELETE …/flows/delete/{path}: a DELETE under row-level security; 200 even when nothing matched."""
    path = ctx.params["path"]
    flow = _readable(ctx, path)
    if flow is not None and ctx.store.can_write(ctx.user, ctx.ws, path, flow.extra_perms):
        del ctx.store.flows[ctx.ws][path]
    ctx.store.audit_log(ctx.user, "flows.delete", "Delete", ctx.ws, path)
    return text(f"Flow {path} deleted")


def register(router: Router) -> None:
    """Add this module's routes."""
    w = "/api/w/{workspace}/flows"
    router.add("GET", f"{w}/list", list_flows)
    router.add("GET", f"{w}/list_paths", list_paths)
    router.add("POST", f"{w}/create", create, body=NEW_FLOW)
    router.add("POST", f"{w}/update/{{path:path}}", update, body=NEW_FLOW)
    router.add("POST", f"{w}/archive/{{path:path}}", archive, body=ARCHIVED)
    router.add("DELETE", f"{w}/delete/{{path:path}}", delete)
    router.add("GET", f"{w}/exists/{{path:path}}", exists)
    router.add("GET", f"{w}/get/{{path:path}}", get)
