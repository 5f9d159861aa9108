"""Instance settings and worker-group configs: ``/api/settings/global/{key}``,
``/api/settings/instance_config`` and ``/api/configs/…``.

Modelled on Windmill's source (read at the commits below; the routes and bodies checked against the
``windmill-api`` 1.819.0 client generated from the 1.819.0 openapi.yaml):

* windmill-labs/windmill ``backend/windmill-api-settings/src/lib.rs`` @ 00058c117cc45428fea2928fcfb26a772e64842a:
  ``set_global_setting`` (superadmin; a null or blank value deletes the row, except for the protected
  settings, which answer 400; ``retention_period_secs`` is clamped on CE), ``get_global_setting``
  (superadmin, except a few keys any user may read; null when unset), ``get_instance_config`` /
  ``set_instance_config`` (superadmin; the PUT is a bulk *upsert* of the keys it carries, never a
  delete: ``ApplyMode::Merge``, which the 1.819.0 contract states as "bulk upsert, no deletes").
* ``backend/windmill-common/src/instance_config.rs`` @ 006b0f1d344917cd12a423255fe6bc7df588f68c:
  ``PROTECTED_SETTINGS``, ``HIDDEN_SETTINGS`` (left out of the GET), ``CE_MAX_RETENTION_PERIOD_SECS``
  (30 days), worker configs stored as ``config`` rows named ``worker__<group>``.
* ``backend/windmill-api/src/configs.rs`` @ 0178d26271aa5eea7713ada75a4ad37ec01eb21e: ``/configs/get/{name}``
  (superadmin; null when unset), ``POST /configs/update/{name}`` (superadmin; on CE a ``worker__`` name
  answers 400 "Worker groups configurable from UI available only in the enterprise version"),
  ``DELETE /configs/update/{name}`` (404 ``Config <name> not found`` when there is none) and
  ``/configs/list_worker_groups``.
"""

from __future__ import annotations

from typing import Any

from .auth import require_super_admin
from .framework import (
    ApiError,
    Ctx,
    JsonValue,
    Response,
    Router,
    Struct,
    bad_request,
    json_response,
    not_found,
    opt,
    text,
)

PROTECTED_SETTINGS = frozenset(
    {"ducklake_user_pg_pwd", "ducklake_settings", "custom_instance_pg_databases", "uid", "rsa_keys", "jwt_secret",
     "min_keep_alive_version"}
)
HIDDEN_SETTINGS = frozenset({"uid", "min_keep_alive_version", "automate_username_creation"})
# Keys any authenticated user may read (get_global_setting's allow list, plus three prefixes).
PUBLIC_SETTINGS = frozenset(
    {"automate_username_creation", "default_tags_workspaces", "hub_base_url", "hub_accessible_url", "disable_hub",
     "email_domain", "app_workspaced_route", "http_route_workspaced_route", "ws_base_url"}
)
PUBLIC_PREFIXES = ("default_error_handler_", "default_recovery_handler_", "default_success_handler_")
CE_MAX_RETENTION_PERIOD_SECS = 30 * 24 * 3600
WORKER_PREFIX = "worker__"
WORKER_CONFIG_CE_MSG = "Worker groups configurable from UI available only in the enterprise version"


def _clamped(ctx: Ctx, key: str, value: Any) -> Any:
    """``clamp_retention_period``: CE caps ``retention_period_secs`` at 30 days, silently."""
    if key == "retention_period_secs" and ctx.config.edition != "EE" and isinstance(value, int):
        return min(value, CE_MAX_RETENTION_PERIOD_SECS)
    return value


def get_global(ctx: Ctx) -> Response:
    """GET /api/settings/global/{key}: the value, or null when unset."""
    key = ctx.params["key"]
    if key not in PUBLIC_SETTINGS and not key.startswith(PUBLIC_PREFIXES):
        require_super_admin(ctx)
    return json_response(ctx.store.global_settings.get(key))


def set_global(ctx: Ctx) -> Response:
    """POST /api/settings/global/{key} ``{value}``: upsert; null or a blank string deletes (200, empty body)."""
    require_super_admin(ctx)
    key, value = ctx.params["key"], _clamped(ctx, ctx.params["key"], ctx.body["value"])
    blank = isinstance(value, str) and not value.strip()
    if value is None or blank:
        if key in PROTECTED_SETTINGS:
            raise bad_request(f"{key} is a protected setting and cannot be {'set to empty' if blank else 'deleted'}")
        ctx.store.global_settings.pop(key, None)
    else:
        ctx.store.global_settings[key] = value
    return text("")


def _worker_configs(ctx: Ctx) -> dict[str, Any]:
    return {
        name.removeprefix(WORKER_PREFIX): config
        for name, config in sorted(ctx.store.configs.items())
        if name.startswith(WORKER_PREFIX)
    }


def get_instance_config(ctx: Ctx) -> Response:
    """GET /api/settings/instance_config: ``{global_settings, worker_configs}`` without the hidden settings."""
    require_super_admin(ctx)
    settings = {k: v for k, v in sorted(ctx.store.global_settings.items()) if k not in HIDDEN_SETTINGS}
    return json_response({"global_settings": settings, "worker_configs": _worker_configs(ctx)})


def set_instance_config(ctx: Ctx) -> Response:
    """PUT /api/settings/instance_config: upsert the keys the body carries; nothing is deleted."""
    require_super_admin(ctx)
    body = ctx.body
    desired = body.get("global_settings") or {}
    configs = body.get("worker_configs") or {}
    if not isinstance(desired, dict) or not isinstance(configs, dict):
        raise ApiError(422, "Failed to deserialize the JSON body into the target type: invalid type: expected a map")
    for key, value in desired.items():
        if value is None:
            continue  # a typed field left None is not serialized (skip_serializing_if), so not applied
        if key in PROTECTED_SETTINGS and isinstance(value, str) and not value and key in ctx.store.global_settings:
            continue  # a protected setting is never overwritten with an empty value
        ctx.store.global_settings[key] = _clamped(ctx, key, value)
    for group, config in configs.items():
        ctx.store.configs[f"{WORKER_PREFIX}{group}"] = config
    return text("")


def get_config(ctx: Ctx) -> Response:
    """GET /api/configs/get/{name}: the stored JSON, or null."""
    require_super_admin(ctx)
    return json_response(ctx.store.configs.get(ctx.params["name"]))


def update_config(ctx: Ctx) -> Response:
    """POST /api/configs/update/{name}: upsert; worker groups need EE."""
    require_super_admin(ctx)
    name = ctx.params["name"]
    if ctx.config.edition != "EE" and name.startswith(WORKER_PREFIX):
        raise bad_request(WORKER_CONFIG_CE_MSG)
    ctx.store.configs[name] = ctx.body
    ctx.store.audit_log(ctx.user, "worker_config.update", "Update", "global", name)
    return text(f"Updated config {name}")


def delete_config(ctx: Ctx) -> Response:
    """DELETE /api/configs/update/{name}: 404 when there was none."""
    require_super_admin(ctx)
    name = ctx.params["name"]
    if ctx.store.configs.pop(name, None) is None:
        raise not_found(f"Config {name} not found")
    ctx.store.audit_log(ctx.user, "worker_config.delete", "Delete", "global", name)
    return text(f"Deleted config {name}")


def list_worker_groups(ctx: Ctx) -> Response:
    """GET /api/configs/list_worker_groups: ``[{name, config}]`` of the ``worker__`` rows."""
    rows = [{"name": n, "config": c} for n, c in sorted(ctx.store.configs.items()) if n.startswith(WORKER_PREFIX)]
    return json_response(rows)


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("GET", "/api/settings/global/{key}", get_global, auth="global")
    router.add(
        "POST", "/api/settings/global/{key}", set_global, auth="global", body=Struct("Value", {"value": opt("any")})
    )
    router.add("GET", "/api/settings/instance_config", get_instance_config, auth="global")
    router.add("PUT", "/api/settings/instance_config", set_instance_config, auth="global", body=JsonValue("object"))
    router.add("GET", "/api/configs/get/{name}", get_config, auth="global")
    router.add("POST", "/api/configs/update/{name}", update_config, auth="global", body=JsonValue("any"))
    router.add("DELETE", "/api/configs/update/{name}", delete_config, auth="global")
    router.add("GET", "/api/configs/list_worker_groups", list_worker_groups, auth="global")
