"""Schedules and workspace settings as the stack config writes them (``workspace.schedules``,
``workspace.settings``; see components/config/schedules.py and workspace_settings.py).

A schedule or handler whose script or flow lies outside the workspace's own folders (a hub script,
say) cannot be declared, and a schedule declared without its handler would lose it at its next
update (Windmill's update replaces the whole schedule), so such a schedule is listed instead of
imported. Settings the project does not model are listed too; Windmill keeps them as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from components.config.workspace_settings import OPERATOR_FLAGS
from components.windmill import cron
from components.windmill.rules import folder_of

Skip = Callable[[str, str, str], None]
# Keys of Windmill's WorkspaceSettings that are not settings a stack manages, or are its defaults.
NOT_SETTINGS = frozenset({"workspace_id", "color", "customer_id", "plan", "teams_command_script"})
SLACK_EMAIL_DEFAULT = "missing@email.xyz"  # Windmill's column default, always returned
MODELLED = ("error_handler", "success_handler", "webhook", "operator_settings", "auto_invite", "default_app",
            "git_sync", "deploy_to")
_FLAG_NAMES = {windmill: name for name, windmill in OPERATOR_FLAGS.items()}


def _handler(stored: Any, folders: Mapping[str, Any]) -> dict[str, str] | None:
    """``script/<path>`` or ``flow/<path>`` in this workspace's folders -> ``{script|flow: path}``."""
    if not isinstance(stored, str) or "/" not in stored:
        return None
    kind, path = stored.split("/", 1)
    if kind not in ("script", "flow") or folder_of(path) not in folders:
        return None
    return {kind: path}


def _with(handler: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A handler with the extras that differ from the config's defaults (no extra args, false, once)."""
    kept = dict(handler)
    for key, value in extra.items():
        if value is None or value is False or value == {} or (key == "times" and value == 1):
            continue
        kept[key] = value
    return kept


def convert_schedule(row: Mapping[str, Any], folders: Mapping[str, Any], skip: Skip) -> dict[str, Any] | None:
    """One ``workspace.schedules`` entry, or None after ``skip`` says why it cannot be declared."""
    path = row["path"]
    target = _handler(f"{'flow' if row.get('is_flow') else 'script'}/{row.get('script_path')}", folders)
    problem = (
        ("it is not in one of the imported folders" if folder_of(path) not in folders else None)
        or (f"it runs {row.get('script_path')}, outside the imported folders" if target is None else None)
        or cron.validate_cron(row.get("schedule", ""))
        or cron.validate_timezone(row.get("timezone") or "UTC")
    )
    handlers: dict[str, dict[str, Any]] = {}
    for name, key in (("on_failure", "onFailure"), ("on_recovery", "onRecovery"), ("on_success", "onSuccess")):
        if problem is None and row.get(name):
            handler = _handler(row[name], folders)
            if handler is None:
                problem = f"its {key} handler {row[name]} is outside the imported folders"
                break
            handlers[key] = _with(handler, extraArgs=row.get(f"{name}_extra_args") or None,
                                  times=row.get(f"{name}_times"), exact=row.get(f"{name}_exact"))
    if problem:
        skip("schedule", path, problem)
        return None
    entry: dict[str, Any] = {"path": path, "schedule": row["schedule"]}
    if (row.get("timezone") or "UTC") != "UTC":
        entry["timezone"] = row["timezone"]
    entry.update(target or {})
    entry.update({k: v for k, v in (("args", row.get("args")), ("summary", row.get("summary")),
                                    ("description", row.get("description"))) if v})
    entry["enabled"] = bool(row.get("enabled"))
    entry.update(handlers)
    entry.update({k: v for k, v in (("retry", row.get("retry")), ("noOverlap", bool(row.get("no_flow_overlap"))),
                                    ("tag", row.get("tag")),
                                    ("mutedWorkspaceErrorHandler", bool(row.get("ws_error_handler_muted"))))
                  if v})
    for unmodelled in ("paused_until", "dynamic_skip"):
        if row.get(unmodelled):
            skip("schedule setting", f"{path} {unmodelled}", "not modelled: the next update of this schedule "
                 "through the stack clears it")
    return entry


def convert_settings(
    live: Mapping[str, Any], env_vars: Mapping[str, str], folders: Mapping[str, Any], skip: Skip
) -> dict[str, Any]:
    """The ``workspace.settings`` the workspace has set; unset ones stay unmanaged."""
    settings: dict[str, Any] = {}
    for name, key in (("error_handler", "errorHandler"), ("success_handler", "successHandler")):
        value = live.get(name)
        if not value or not value.get("path"):
            continue
        handler = _handler(value.get("path"), folders)
        if handler is None:
            skip("workspace setting", key, f"its handler {value.get('path')} is outside the imported folders")
            continue
        settings[key] = _with(handler, extraArgs=value.get("extra_args") or None,
                              mutedOnCancel=value.get("muted_on_cancel"),
                              mutedOnUserPath=value.get("muted_on_user_path"))
    if live.get("webhook"):
        settings["webhook"] = live["webhook"]
    if live.get("operator_settings") is not None:
        flags = live["operator_settings"]
        # Unlisted flags are true ("visible") in the config, as Windmill defaults them.
        settings["operatorSettings"] = {_FLAG_NAMES[k]: False for k in OPERATOR_FLAGS.values()
                                        if flags.get(k) is False}
    if env_vars:
        settings["envVars"] = dict(sorted(env_vars.items()))
    _enterprise(live, folders, settings, skip)
    for name, value in sorted(live.items()):
        if name in NOT_SETTINGS or name in MODELLED or value in (None, "", [], {}):
            continue
        if name == "slack_email" and value == SLACK_EMAIL_DEFAULT:
            continue
        skip("workspace setting", name, "not modelled by this project; Windmill keeps it as it is")
    return settings


def _enterprise(live: Mapping[str, Any], folders: Mapping[str, Any], settings: dict[str, Any], skip: Skip) -> None:
    """The Enterprise-only settings, when the instance has them."""
    invite = live.get("auto_invite")
    if invite:
        settings["autoInvite"] = {"operator": bool(invite.get("operator")), "inviteAll": invite.get("domain") == "*",
                                  "autoAdd": invite.get("mode") == "add"}
    app = live.get("default_app")
    if app:
        if folder_of(app) in folders:
            settings["defaultApp"] = app
        else:
            skip("workspace setting", "defaultApp", f"{app} is outside the imported folders")
    if live.get("git_sync"):
        settings["gitSync"] = live["git_sync"]
    if live.get("deploy_to"):
        settings["deployTo"] = live["deploy_to"]
