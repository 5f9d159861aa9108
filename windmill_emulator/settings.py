"""Workspace settings writes (docs/windmill-api.md §8); instance settings are in ``instance_config.py``."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .auth import require_admin, require_super_admin
from .crypto import DecryptError, decrypt, encrypt
from .framework import (
    ApiError,
    Ctx,
    JsonValue,
    Response,
    Router,
    Struct,
    bad_request,
    internal,
    json_response,
    opt,
    req,
    text,
)
from .store import Group, Workspace

WORKSPACE_KEY_RE = re.compile(r"^[a-zA-Z0-9]{64}$")


def _ws(ctx: Ctx) -> Workspace | None:
    return ctx.store.workspaces.get(ctx.ws)


def _set(ctx: Ctx, key: str, value: Any) -> None:
    """``UPDATE workspace_settings SET key = value`` (0 rows when the workspace is missing)."""
    w = _ws(ctx)
    if w is not None:
        w.settings[key] = value


def _ee_only(msg: str) -> Any:
    """A CE stub that answers 400 with ``msg``; EE builds store the setting instead."""

    def handler(ctx: Ctx) -> Response:
        raise bad_request(msg)

    return handler


EDIT_WEBHOOK = Struct("EditWebhook", {"webhook": opt("string")})


def edit_webhook(ctx: Ctx) -> Response:
    """POST …/edit_webhook ``{webhook?}``: omitting webhook sets NULL (§8.2)."""
    require_admin(ctx)
    _set(ctx, "webhook", ctx.body["webhook"])
    return text(f"Edit webhook for workspace {ctx.ws}")


HANDLER_NEW = {"path", "extra_args", "muted_on_cancel", "muted_on_user_path"}


def edit_error_handler(ctx: Ctx) -> Response:
    """POST …/edit_error_handler (docs/windmill-api.md §8.2, §13 serde quirk).

    The new-format struct has ``deny_unknown_fields``; any other key makes serde fall back to
    the legacy untagged variant, which ignores ``path`` and therefore clears the handler.
    Omitting ``path`` clears it too. Creates group ``error_handler`` if missing.
    """
    require_admin(ctx)
    body = ctx.body
    if not isinstance(body, dict):
        raise ApiError(422, "Failed to deserialize the JSON body into the target type: data did not match any variant")
    keys = set(body)
    if keys <= HANDLER_NEW:
        path = body.get("path")
        extra_args = body.get("extra_args")
        muted_on_cancel = bool(body.get("muted_on_cancel") or False)
        muted_on_user_path = bool(body.get("muted_on_user_path") or False)
    else:
        path = body.get("error_handler")
        extra_args = body.get("error_handler_extra_args")
        muted_on_cancel = bool(body.get("error_handler_muted_on_cancel") or False)
        muted_on_user_path = False
    if path is not None and not isinstance(path, str):
        raise ApiError(422, "Failed to deserialize the JSON body into the target type: data did not match any variant")
    if path is not None and extra_args is not None and not isinstance(extra_args, dict):
        # workspaces.rs @ c9db8c90dc3a5ae463c3cc067964c85002a1f901 (edit_error_handler).
        raise bad_request("Field `extra_args` expected to be JSON object")
    if isinstance(extra_args, dict) and "email_recipients" in extra_args:
        rec = extra_args["email_recipients"]
        if not isinstance(rec, list) or not all(isinstance(r, str) and "@" in r for r in rec):
            raise bad_request("email_recipients must be an array of valid email addresses")
    if path is None:
        _set(ctx, "error_handler", None)
    else:
        # The stored object has extra_args only when sent and each flag only when true (same source).
        handler: dict[str, Any] = {"path": path}
        if extra_args is not None:
            handler["extra_args"] = extra_args
        if muted_on_cancel:
            handler["muted_on_cancel"] = True
        if muted_on_user_path:
            handler["muted_on_user_path"] = True
        _set(ctx, "error_handler", handler)
        if ctx.ws in ctx.store.workspaces and "error_handler" not in ctx.store.ws_groups(ctx.ws):
            ctx.store.groups[ctx.ws]["error_handler"] = Group(
                ctx.ws, "error_handler", "The group the error handler acts on behalf of", {}, []
            )
    return text(f"Edit error_handler for workspace {ctx.ws}")


def edit_success_handler(ctx: Ctx) -> Response:
    """POST …/edit_success_handler ``{path?, extra_args?}``: omitting path clears (§8.2)."""
    require_admin(ctx)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    if set(body) <= {"path", "extra_args"}:
        path, extra_args = body.get("path"), body.get("extra_args")
    else:
        path, extra_args = body.get("success_handler"), body.get("success_handler_extra_args")
    handler = None if path is None else {"path": path, **({"extra_args": extra_args} if extra_args is not None else {})}
    _set(ctx, "success_handler", handler)
    return text(f"Edit success_handler for workspace {ctx.ws}")


EDIT_AUTO_INVITE = Struct(
    "EditAutoInvite", {"operator": opt("bool"), "invite_all": opt("bool"), "auto_add": opt("bool")}
)


def edit_auto_invite(ctx: Ctx) -> Response:
    """POST …/edit_auto_invite: the OSS stub answers 500 ``Not implemented on OSS`` (§8.2, §15 item 7)."""
    if ctx.config.edition != "EE":
        raise internal("Not implemented on OSS")
    require_admin(ctx)
    b = ctx.body
    if b["operator"] is None and b["invite_all"] is None and b["auto_add"] is None:
        _set(ctx, "auto_invite", None)
    else:
        domain = ctx.user.email.split("@")[-1]
        _set(
            ctx,
            "auto_invite",
            {
                "enabled": True,
                "domain": "*" if b["invite_all"] else domain,
                "operator": bool(b["operator"]),
                "mode": "add" if b["auto_add"] else "invite",
                "instance_groups": [],
                "instance_groups_roles": {},
            },
        )
    return text(f"Edit auto_invite for workspace {ctx.ws}")


class EeSetting(NamedTuple):
    """A setting an EE build stores from one body field and CE refuses with 400 ``ce_message``."""

    route: str
    key: str
    body_key: str
    ce_message: str
    body: Struct


EE_SETTINGS = (
    EeSetting("edit_default_app", "default_app", "default_app_path",
              "Setting a workspace default app is only available on Windmill Enterprise Edition",
              Struct("EditDefaultApp", {"default_app_path": opt("string")})),
    EeSetting("edit_deploy_to", "deploy_to", "deploy_to", "Deploy to is only available on enterprise",
              Struct("EditDeployTo", {"deploy_to": opt("string")})),
    EeSetting("edit_git_sync_config", "git_sync", "git_sync_settings",
              "Git sync is only available on Windmill Enterprise Edition",
              Struct("EditGitSyncConfig", {"git_sync_settings": opt("any")})),
    EeSetting("edit_deploy_ui_config", "deploy_ui", "deploy_ui_settings",
              "Deployment UI is only available on Windmill Enterprise Edition",
              Struct("EditDeployUiConfig", {"deploy_ui_settings": opt("any")})),
)  # fmt: skip


def _ee_setting(key: str, body_key: str, ce_msg: str) -> Any:
    def handler(ctx: Ctx) -> Response:
        if ctx.config.edition != "EE":
            raise bad_request(ce_msg)
        require_admin(ctx)
        _set(ctx, key, ctx.body[body_key])
        return text(f"Edit {key} for workspace {ctx.ws}")

    return handler


EDIT_SLACK_COMMAND = Struct("EditCommandScript", {"slack_command_script": opt("string")})


def edit_slack_command(ctx: Ctx) -> Response:
    """POST …/edit_slack_command ``{slack_command_script?}``."""
    require_admin(ctx)
    _set(ctx, "slack_command_script", ctx.body["slack_command_script"])
    return text(f"Edit command script {ctx.ws}")


SET_ENVIRONMENT_VARIABLE = Struct("SetEnvVar", {"name": req("string"), "value": opt("string")})


def set_environment_variable(ctx: Ctx) -> Response:
    """POST …/set_environment_variable ``{name, value?}``: upsert, or delete when value is null (§8.2)."""
    require_admin(ctx)
    name, value = ctx.body["name"], ctx.body["value"]
    w = _ws(ctx)
    if value is None:
        if w is not None:
            w.env.pop(name, None)
        return text(f"Removed environment variable {name}")
    if w is not None:
        w.env[name] = value
    return text(f"Set environment variable {name}")


def get_encryption_key(ctx: Ctx) -> Response:
    """GET …/encryption_key: ``{key}``, admin (§8.2)."""
    require_admin(ctx)
    w = _ws(ctx)
    if w is None:
        raise internal("workspace key not found")
    return json_response({"key": w.key})


SET_ENCRYPTION_KEY = Struct("SetEncryptionKey", {"new_key": req("string"), "skip_reencrypt": opt("bool")})


def set_encryption_key(ctx: Ctx) -> Response:
    """POST …/encryption_key ``{new_key, skip_reencrypt?}``: superadmin; re-encrypts secrets (§8.2)."""
    require_super_admin(ctx)
    new_key = ctx.body["new_key"]
    if not WORKSPACE_KEY_RE.match(new_key):
        raise bad_request("Encryption key should be an alphanumeric string of 64 characters")
    w = _ws(ctx)
    if w is None:
        return text("")
    if not ctx.body["skip_reencrypt"]:
        for var in ctx.store.ws_variables(ctx.ws).values():
            if var.is_secret and var.value:
                try:
                    plain = decrypt(w.key, var.value)
                except DecryptError as exc:
                    raise internal(f"Error decrypting variable {var.path}: {exc}") from exc
                var.value = encrypt(new_key, plain)
    w.key = new_key
    return text("")


def operator_settings(ctx: Ctx) -> Response:
    """POST …/operator_settings (§8.2)."""
    require_admin(ctx)
    _set(ctx, "operator_settings", ctx.body)
    return text(f"Updated operator settings for workspace {ctx.ws}")


def default_scripts_post(ctx: Ctx) -> Response:
    """POST …/default_scripts: any JSON or null (§8.2)."""
    require_admin(ctx)
    _set(ctx, "default_scripts", ctx.body)
    return text(f"Edit default scripts for workspace {ctx.ws}")


def default_scripts_get(ctx: Ctx) -> Response:
    """GET …/default_scripts."""
    w = _ws(ctx)
    return json_response(w.settings.get("default_scripts") if w else None)


EDIT_LARGE_FILE_STORAGE = Struct("EditLargeFileStorageConfig", {"large_file_storage": opt("any")})


def edit_large_file_storage(ctx: Ctx) -> Response:
    """POST …/edit_large_file_storage_config ``{large_file_storage?}`` (§8.2)."""
    require_admin(ctx)
    _set(ctx, "large_file_storage", ctx.body["large_file_storage"])
    return text(f"Edit large file storage config for workspace {ctx.ws}")


EDIT_PUBLIC_APP_RATE_LIMIT = Struct(
    "EditPublicAppRateLimit", {"public_app_execution_limit_per_minute": opt("i32")}
)


def public_app_rate_limit(ctx: Ctx) -> Response:
    """POST …/public_app_rate_limit (§8.2)."""
    require_admin(ctx)
    _set(ctx, "public_app_execution_limit_per_minute", ctx.body["public_app_execution_limit_per_minute"])
    return text(f"Updated public app rate limit for workspace {ctx.ws}")


def get_deploy_to(ctx: Ctx) -> Response:
    """GET …/get_deploy_to."""
    w = _ws(ctx)
    return json_response({"deploy_to": w.settings.get("deploy_to") if w else None})


def get_default_app(ctx: Ctx) -> Response:
    """GET …/default_app."""
    w = _ws(ctx)
    return json_response({"default_app_path": w.settings.get("default_app") if w else None})


def register(router: Router) -> None:
    """Add this module's routes."""
    w = "/api/w/{workspace}/workspaces"
    router.add("POST", f"{w}/edit_webhook", edit_webhook, body=EDIT_WEBHOOK)
    router.add("POST", f"{w}/edit_error_handler", edit_error_handler, body=JsonValue("object"))
    router.add("POST", f"{w}/edit_success_handler", edit_success_handler, body=JsonValue("object"))
    router.add("POST", f"{w}/edit_auto_invite", edit_auto_invite, body=EDIT_AUTO_INVITE)
    for setting in EE_SETTINGS:
        handler = _ee_setting(setting.key, setting.body_key, setting.ce_message)
        router.add("POST", f"{w}/{setting.route}", handler, body=setting.body)
    refuse_instance_groups = _ee_only("Instance groups are only available on Windmill Enterprise Edition")
    router.add("POST", f"{w}/edit_instance_groups", refuse_instance_groups)
    router.add("POST", f"{w}/edit_slack_command", edit_slack_command, body=EDIT_SLACK_COMMAND)
    router.add("POST", f"{w}/set_environment_variable", set_environment_variable, body=SET_ENVIRONMENT_VARIABLE)
    router.add("GET", f"{w}/encryption_key", get_encryption_key)
    router.add("POST", f"{w}/encryption_key", set_encryption_key, body=SET_ENCRYPTION_KEY)
    router.add("POST", f"{w}/operator_settings", operator_settings, body=JsonValue("object"))
    router.add("POST", f"{w}/default_scripts", default_scripts_post, body=JsonValue("any"))
    router.add("GET", f"{w}/default_scripts", default_scripts_get)
    router.add("POST", f"{w}/edit_large_file_storage_config", edit_large_file_storage, body=EDIT_LARGE_FILE_STORAGE)
    router.add("POST", f"{w}/public_app_rate_limit", public_app_rate_limit, body=EDIT_PUBLIC_APP_RATE_LIMIT)
    router.add("GET", f"{w}/get_deploy_to", get_deploy_to)
    router.add("GET", f"{w}/default_app", get_default_app)
