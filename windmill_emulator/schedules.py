"""Schedules (docs/windmill-api.md §7.1)."""

from __future__ import annotations

from typing import Any

from . import cron
from .framework import (
    ROW_NOT_FOUND,
    ApiError,
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
from .store import Authed, Store

LOC = "lib.rs:243:6"

_OPTIONAL_FIELDS: dict[str, str] = {
    "summary": "string",
    "description": "string",
    "no_flow_overlap": "bool",
    "args": "any",
    "on_failure": "string",
    "on_failure_times": "i32",
    "on_failure_exact": "bool",
    "on_failure_extra_args": "any",
    "on_recovery": "string",
    "on_recovery_times": "i32",
    "on_recovery_extra_args": "any",
    "on_success": "string",
    "on_success_extra_args": "any",
    "ws_error_handler_muted": "bool",
    "retry": "any",
    "tag": "string",
    "paused_until": "datetime",
    "cron_version": "string",
    "dynamic_skip": "string",
}

NEW = Struct(
    "NewSchedule",
    {
        "path": req("string"),
        "schedule": req("string"),
        "timezone": req("string"),
        "script_path": req("string"),
        "is_flow": req("bool"),
        "enabled": opt("bool"),
        **{k: opt(v) for k, v in _OPTIONAL_FIELDS.items()},
    },
)
# docs/windmill-api.md §7.1: update requires schedule and timezone; script_path, is_flow, enabled and
# path are not part of the struct, so they are ignored when sent.
EDIT = Struct(
    "EditSchedule",
    {"schedule": req("string"), "timezone": req("string"), **{k: opt(v) for k, v in _OPTIONAL_FIELDS.items()}},
)


def parse_cron(schedule: str, cron_version: str | None) -> cron.CronSpec:
    """``ScheduleType::from_str``: 400 ``cron: …`` on a bad expression."""
    try:
        return cron.parse(schedule, cron_version)
    except cron.CronError as exc:
        raise bad_request(f"cron: {exc}") from exc


def push_scheduled_job(store: Store, ws: str, row: dict[str, Any]) -> None:
    """``push_scheduled_job``: the timezone is only checked here (400 on an unknown zone)."""
    spec = parse_cron(row["schedule"], row["cron_version"])
    tz = cron.timezone(row["timezone"])
    if tz is None:
        raise bad_request(f"'{row['timezone']}' is not a valid timezone")
    _require_target(store, ws, row)
    nxt = cron.upcoming(spec, tz, 1)
    store.scheduled_jobs.append(
        {
            "workspace_id": ws,
            "schedule_path": row["path"],
            "script_path": row["script_path"],
            "is_flow": row["is_flow"],
            "scheduled_for": nxt[0] if nxt else None,
        }
    )


def _require_target(store: Store, ws: str, row: dict[str, Any]) -> None:
    """Pushing a job resolves the target: the latest non-archived script, or the flow's latest
    version, else 404 ``script|flow not found at name <path>`` and the transaction (the create,
    update or setenabled) is rolled back (windmill-labs/windmill
    ``backend/windmill-queue/src/schedule.rs`` @ 21ea1be748c2c0e3c106380c6e3a3da84dd59fe0,
    ``push_scheduled_job``; ``backend/windmill-common/src/lib.rs`` @
    a3b6fa4eb3bbd3f43e59bf6439027a548b564dd2, ``get_latest_hash_for_path``)."""
    from .flows import ws_flows
    from .scripts import ws_scripts

    path = row["script_path"]
    if row["is_flow"]:
        if path not in ws_flows(store, ws):  # the flow's latest version; archived flows still resolve
            raise not_found_at_name("flow", path)
    elif not any(s.path == path and not s.archived for s in ws_scripts(store, ws)):
        raise not_found_at_name("script", path)


def clear_schedule(store: Store, ws: str, path: str) -> None:
    """Drop the queued jobs of a schedule (``clear_schedule``)."""
    store.scheduled_jobs[:] = [
        j for j in store.scheduled_jobs if not (j["workspace_id"] == ws and j["schedule_path"] == path)
    ]


def schedule_json(row: dict[str, Any]) -> dict[str, Any]:
    """The full ``Schedule`` object."""
    out = dict(row)
    out["edited_at"] = iso(row["edited_at"])
    out["paused_until"] = iso(row["paused_until"])
    return out


def light_json(row: dict[str, Any]) -> dict[str, Any]:
    """``ScheduleLight`` for list (docs/windmill-api.md §7.1)."""
    keys = ["workspace_id", "path", "edited_by", "edited_at", "schedule", "timezone", "enabled"]
    keys += ["script_path", "is_flow", "summary", "extra_perms"]
    out = {k: row[k] for k in keys}
    out["edited_at"] = iso(row["edited_at"])
    return out


def _ee_checks(ctx: Ctx) -> None:
    """docs/windmill-api.md §7.1: on_recovery, on_success and on_failure_times > 1 are EE only (400 on CE)."""
    if ctx.config.edition == "EE":
        return
    b = ctx.body
    if b["on_recovery"] is not None:
        raise bad_request("on_recovery is only available in enterprise version")
    if b["on_success"] is not None:
        raise bad_request("on_success is only available in enterprise version")
    if b["on_failure_times"] is not None and b["on_failure_times"] > 1:
        raise bad_request("on_failure with a number of times > 1 is only available in enterprise version")


def _check_dynamic_skip(b: dict[str, Any]) -> None:
    if b["dynamic_skip"] is not None:
        # The emulator holds no scripts, so no handler can exist.
        raise bad_request(
            f"Dynamic skip handler '{b['dynamic_skip']}' not found. The handler must be an existing, "
            "non-archived script at schedule creation time."
        )


def _fields(b: dict[str, Any]) -> dict[str, Any]:
    """The optional columns as the INSERT/UPDATE writes them (omitted → NULL/false)."""
    return {
        "args": b["args"],
        "on_failure": b["on_failure"],
        "on_failure_times": b["on_failure_times"],
        "on_failure_exact": b["on_failure_exact"],
        "on_failure_extra_args": b["on_failure_extra_args"],
        "on_recovery": b["on_recovery"],
        "on_recovery_times": b["on_recovery_times"],
        "on_recovery_extra_args": b["on_recovery_extra_args"],
        "on_success": b["on_success"],
        "on_success_extra_args": b["on_success_extra_args"],
        "ws_error_handler_muted": b["ws_error_handler_muted"] or False,
        "retry": b["retry"],
        "no_flow_overlap": b["no_flow_overlap"] or False,
        "summary": b["summary"],
        "description": b["description"],
        "tag": b["tag"],
        "paused_until": b["paused_until"],
        "dynamic_skip": b["dynamic_skip"],
    }


def _insert_error(ws: str, e: DbError) -> ApiError:
    # [SCH] maps INSERT failures (CHECK, RLS) to ``Error::internal_err`` → 500, not 400.
    return internal(f"inserting schedule in {ws}: {e.sqlx_display()}", LOC)


def create(ctx: Ctx) -> Response:
    """POST /api/w/{id}/schedules/create: 200, body = the path (docs/windmill-api.md §7.1).

    docs/windmill-api.md §7.1 / §15 item 11: ``enabled`` is stored as ``body.enabled ?? false`` but the
    first job is pushed when ``body.enabled ?? true``; the timezone is validated only then.
    """
    store, ws, b = ctx.store, ctx.ws, ctx.body
    _ee_checks(ctx)
    parse_cron(b["schedule"], b["cron_version"])
    path = b["path"]
    if path in store.ws_schedules(ws):
        raise bad_request(f"Schedule {path} already exists")
    _check_dynamic_skip(b)
    try:
        store.check_item_row(ctx.user, ws, "schedule", path, LOC)
    except DbError as e:
        raise _insert_error(ws, e) from e
    row: dict[str, Any] = {
        "workspace_id": ws,
        "path": path,
        "edited_by": ctx.user.username,
        "edited_at": now(),
        "schedule": b["schedule"],
        "timezone": b["timezone"],
        "enabled": b["enabled"] if b["enabled"] is not None else False,
        "script_path": b["script_path"],
        "is_flow": b["is_flow"],
        "extra_perms": {},
        "email": ctx.user.email,
        "error": None,
        **_fields(b),
        "cron_version": b["cron_version"] if b["cron_version"] is not None else "v2",
    }
    if b["enabled"] if b["enabled"] is not None else True:
        push_scheduled_job(store, ws, row)
    store.schedules[ws][path] = row
    store.audit_log(ctx.user, "schedule.create", "Create", ws, path)
    return text(path)


def _visible(store: Store, authed: Authed, ws: str, path: str) -> dict[str, Any] | None:
    row = store.ws_schedules(ws).get(path)
    if row is None or not store.can_read(authed, ws, path, row["extra_perms"]):
        return None
    return row


def get(ctx: Ctx) -> Response:
    """GET …/schedules/get/{path}: 404 ``Schedule not found at name X`` (§7.1)."""
    row = _visible(ctx.store, ctx.user, ctx.ws, ctx.params["path"])
    if row is None:
        raise not_found_at_name("Schedule", ctx.params["path"])
    return json_response(schedule_json(row))


def exists(ctx: Ctx) -> Response:
    """GET …/schedules/exists/{path}: JSON bool (§7.1, §9.3)."""
    return json_response(ctx.params["path"] in ctx.store.ws_schedules(ctx.ws))


def list_schedules(ctx: Ctx) -> Response:
    """GET …/schedules/list: ``ScheduleLight`` rows ordered by edited_at DESC (§7.1)."""
    store, ws, q = ctx.store, ctx.ws, ctx.query
    is_flow = query_bool(q, "is_flow")
    rows = []
    for row in sorted(store.ws_schedules(ws).values(), key=lambda r: r["edited_at"], reverse=True):
        if not store.can_read(ctx.user, ws, row["path"], row["extra_perms"]):
            continue
        if "path" in q and row["script_path"] != q["path"]:
            continue
        if is_flow is not None and row["is_flow"] != is_flow:
            continue
        if "path_start" in q and not row["path"].startswith(q["path_start"]):
            continue
        if "schedule_path" in q and row["path"] != q["schedule_path"]:
            continue
        if "description" in q and q["description"].lower() not in (row["description"] or "").lower():
            continue
        if "summary" in q and q["summary"].lower() not in (row["summary"] or "").lower():
            continue
        rows.append(light_json(row))
    return json_response(page_slice(rows, q))


def update(ctx: Ctx) -> Response:
    """POST …/schedules/update/{path}: a full replace (docs/windmill-api.md §7.1, §15 item 11).

    Every optional field omitted becomes NULL/false; script_path, is_flow, enabled and path
    cannot change. A missing schedule gives 500 ``Internal: updating schedule in W: …no rows…``.
    """
    store, ws, b = ctx.store, ctx.ws, ctx.body
    path = ctx.params["path"]
    parse_cron(b["schedule"], b["cron_version"])
    _check_dynamic_skip(b)
    row = store.ws_schedules(ws).get(path)
    if row is None or not store.can_write(ctx.user, ws, path, row["extra_perms"]):
        raise internal(f"updating schedule in {ws}: {ROW_NOT_FOUND}", LOC)
    new = dict(row)
    new.update(_fields(b))
    new["schedule"] = b["schedule"]
    new["timezone"] = b["timezone"]
    if b["cron_version"] is not None:
        new["cron_version"] = b["cron_version"]
    clear_schedule(store, ws, path)
    if new["enabled"]:
        push_scheduled_job(store, ws, new)
    store.schedules[ws][path] = new
    store.audit_log(ctx.user, "schedule.edit", "Update", ws, path)
    return text(path)


def set_enabled(ctx: Ctx) -> Response:
    """POST …/schedules/setenabled/{path}: 200 ``succesfully updated schedule at path X to status B``."""
    store, ws, path = ctx.store, ctx.ws, ctx.params["path"]
    enabled = ctx.body["enabled"]
    row = store.ws_schedules(ws).get(path)
    if row is None or not store.can_write(ctx.user, ws, path, row["extra_perms"]):
        raise not_found_at_name("Schedule", path)
    new = dict(row, enabled=enabled, email=ctx.user.email)
    clear_schedule(store, ws, path)
    if enabled:
        push_scheduled_job(store, ws, new)
    store.schedules[ws][path] = new
    store.audit_log(ctx.user, "schedule.setenabled", "Update", ws, path)
    # The typo "succesfully" is the server's.
    return text(f"succesfully updated schedule at path {path} to status {'true' if enabled else 'false'}")


def delete(ctx: Ctx) -> Response:
    """DELETE …/schedules/delete/{path}: 404 ``Schedule X not found``; 401 if RLS blocks it (§7.1)."""
    store, ws, path = ctx.store, ctx.ws, ctx.params["path"]
    if _visible(store, ctx.user, ws, path) is None:
        raise not_found(f"Schedule {path} not found")
    row = store.ws_schedules(ws)[path]
    if not store.can_write(ctx.user, ws, path, row["extra_perms"]):
        raise not_authorized(f"Not authorized to delete schedule {path}")
    clear_schedule(store, ws, path)
    del store.schedules[ws][path]
    store.audit_log(ctx.user, "schedule.delete", "Delete", ws, path)
    return text(f"schedule {path} deleted")


def preview(ctx: Ctx) -> Response:
    """POST /api/schedules/preview: the next 5 UTC datetimes; 400 on a bad cron or timezone (§7.1)."""
    b = ctx.body
    spec = parse_cron(b["schedule"], b["cron_version"])
    tz = cron.timezone(b["timezone"])
    if tz is None:
        raise bad_request(f"'{b['timezone']}' is not a valid timezone")
    events = cron.upcoming(spec, tz, 5)
    if len(events) != 5:
        raise bad_request(f"cron: failed to generate the requested number of events. Expected 5, got {len(events)}")
    return json_response([iso(e) for e in events])


def register(router: Router) -> None:
    """Add this module's routes."""
    s = "/api/w/{workspace}/schedules"
    router.add("GET", f"{s}/list", list_schedules)
    router.add("GET", f"{s}/get/{{path:path}}", get)
    router.add("GET", f"{s}/exists/{{path:path}}", exists)
    router.add("POST", f"{s}/create", create, body=NEW)
    router.add("POST", f"{s}/update/{{path:path}}", update, body=EDIT)
    router.add("DELETE", f"{s}/delete/{{path:path}}", delete)
    router.add(
        "POST", f"{s}/setenabled/{{path:path}}", set_enabled, body=Struct("SetEnabled", {"enabled": req("bool")})
    )
    router.add(
        "POST",
        "/api/schedules/preview",
        preview,
        auth="global",
        body=Struct(
            "PreviewPayload", {"schedule": req("string"), "timezone": req("string"), "cron_version": opt("string")}
        ),
    )
