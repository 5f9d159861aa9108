"""``workspace.settings``: the workspace settings a stack manages, and the handler references they share
with schedules.

Every key is optional; a key left out is not managed (Windmill keeps whatever it holds)::

    settings:
      errorHandler: {flow: f/monitoring/alert_dispatcher, extraArgs: {}, mutedOnCancel: false}
      successHandler: {script: f/monitoring/on_success}
      webhook: https://hooks.example/windmill
      operatorSettings: {runs: true, auditLogs: false}       # unspecified flags: true (visible)
      envVars: {REGION: eu}
      autoInvite: {operator: false, inviteAll: false, autoAdd: false}   # Enterprise only
      defaultApp: f/ops/home                                            # Enterprise only
      gitSync: {repositories: []}                                        # Enterprise only, Windmill's shape
      deployTo: homeops-prod                                             # Enterprise only

A handler is ``{script: <path>}`` or ``{flow: <path>}`` inside the workspace's own folders (Windmill
runs it in this workspace), sent as Windmill stores it: ``script/<path>`` / ``flow/<path>``. The
Enterprise-only keys are refused on a ``ce`` instance by ``edition_problems`` (the edition is a
stack-wide setting, so ``settings.py`` calls it), naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, Problems
from .rules import check_folder_item_path, check_workspace_id, folder_of
from .values import Section, check_str

_SETTINGS_KEYS = ("errorHandler", "successHandler", "webhook", "operatorSettings", "envVars", "autoInvite",
                  "defaultApp", "gitSync", "deployTo")
ENTERPRISE_ONLY = ("autoInvite", "defaultApp", "gitSync", "deployTo")
# Windmill's OperatorSettings flags (windmill-api 1.819.0), camelCase in config.
OPERATOR_FLAGS = {"runs": "runs", "schedules": "schedules", "resources": "resources", "variables": "variables",
                  "assets": "assets", "auditLogs": "audit_logs", "triggers": "triggers", "groups": "groups",
                  "folders": "folders", "workers": "workers", "manageSchedules": "manage_schedules",
                  "manageTriggers": "manage_triggers"}
ENV_NAME = r"[A-Za-z_$][A-Za-z0-9_$]*"


@dataclass(frozen=True)
class HandlerRef:
    """A script or flow of this workspace that Windmill runs on an event, with extra arguments."""

    kind: str  # "script" or "flow"
    path: str
    extra_args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def windmill_path(self) -> str:
        """How Windmill stores a handler: ``script/<path>`` or ``flow/<path>``."""
        return f"{self.kind}/{self.path}"


def parse_handler(s: Section, folders: set[str], allowed: tuple[str, ...] = ()) -> HandlerRef:
    """``{script: path}`` or ``{flow: path}`` (plus ``extraArgs`` and the ``allowed`` extra keys)."""
    s.reject_unknown(["script", "flow", "extraArgs", *allowed])
    kinds = [k for k in ("script", "flow") if s.data.get(k) is not None]
    if len(kinds) != 1:
        raise ConfigError(s.path, "set exactly one of 'script' or 'flow' (the path of what Windmill runs)")
    kind = kinds[0]
    path = s.parse(kind, check_folder_item_path)
    check_own_folder(s.key(kind), path, folders)
    return HandlerRef(kind=kind, path=path, extra_args=s.mapping("extraArgs", {}))


def check_own_folder(key: str, path: str, folders: set[str]) -> None:
    if folder_of(path) not in folders:
        raise ConfigError(key, f"must be in one of this workspace's folders ({', '.join(sorted(folders)) or 'none'}); "
                               f"got {path!r}")


@dataclass(frozen=True)
class WorkspaceSettingsSpec:
    """The declared settings; None means "not managed"."""

    error_handler: HandlerRef | None = None
    error_handler_muted_on_cancel: bool = False
    error_handler_muted_on_user_path: bool = False
    success_handler: HandlerRef | None = None
    webhook: str | None = None
    operator_settings: Mapping[str, bool] | None = None
    env_vars: Mapping[str, str] | None = None
    auto_invite: Mapping[str, bool] | None = None
    default_app: str | None = None
    git_sync: Mapping[str, Any] | None = None
    deploy_to: str | None = None
    declared: tuple[str, ...] = ()  # config keys, for messages

    @property
    def is_empty(self) -> bool:
        return not self.declared

    def provider_inputs(self) -> dict[str, Any]:
        """The ``WorkspaceSettings`` resource's inputs for the declared settings."""
        inputs: dict[str, Any] = {}
        if self.error_handler is not None:
            inputs["error_handler"] = {
                "path": self.error_handler.windmill_path, "extra_args": dict(self.error_handler.extra_args),
                "muted_on_cancel": self.error_handler_muted_on_cancel,
                "muted_on_user_path": self.error_handler_muted_on_user_path,
            }
        if self.success_handler is not None:
            inputs["success_handler"] = {"path": self.success_handler.windmill_path,
                                         "extra_args": dict(self.success_handler.extra_args)}
        for name in ("webhook", "default_app", "deploy_to"):
            if getattr(self, name) is not None:
                inputs[name] = getattr(self, name)
        for name in ("operator_settings", "env_vars", "auto_invite", "git_sync"):
            if getattr(self, name) is not None:
                inputs[name] = dict(getattr(self, name))
        return inputs


def parse_settings(s: Section, folders: set[str], workspace_id: str | None) -> WorkspaceSettingsSpec:
    """Read ``workspace.settings`` (problems raise ConfigError; the caller collects them)."""
    s.reject_unknown(_SETTINGS_KEYS)
    values: dict[str, Any] = {"declared": tuple(k for k in _SETTINGS_KEYS if s.data.get(k) is not None)}
    if s.data.get("errorHandler") is not None:
        handler = s.section("errorHandler")
        values["error_handler"] = parse_handler(handler, folders, ("mutedOnCancel", "mutedOnUserPath"))
        values["error_handler_muted_on_cancel"] = handler.bool("mutedOnCancel", False)
        values["error_handler_muted_on_user_path"] = handler.bool("mutedOnUserPath", False)
    if s.data.get("successHandler") is not None:
        values["success_handler"] = parse_handler(s.section("successHandler"), folders)
    values["webhook"] = s.str("webhook", None, pattern=r"(https?://\S+)?",
                              pattern_help="must be an http(s) URL, or empty for none")
    values["operator_settings"] = _operator_settings(s)
    values["env_vars"] = _env_vars(s)
    if s.data.get("autoInvite") is not None:
        invite = s.section("autoInvite")
        invite.reject_unknown(["operator", "inviteAll", "autoAdd"])
        values["auto_invite"] = {
            "operator": invite.bool("operator", False), "invite_all": invite.bool("inviteAll", False),
            "auto_add": invite.bool("autoAdd", False),
        }
    if s.data.get("defaultApp") is not None:
        values["default_app"] = s.parse("defaultApp", check_folder_item_path)
        check_own_folder(s.key("defaultApp"), values["default_app"], folders)
    values["git_sync"] = s.mapping("gitSync") if s.data.get("gitSync") is not None else None
    if s.data.get("deployTo") is not None:
        values["deploy_to"] = s.parse("deployTo", check_workspace_id)
        if values["deploy_to"] == workspace_id:
            raise ConfigError(s.key("deployTo"), "must name another workspace than this one")
    return WorkspaceSettingsSpec(**values)


def _operator_settings(s: Section) -> dict[str, bool] | None:
    if s.data.get("operatorSettings") is None:
        return None
    flags = s.section("operatorSettings")
    flags.reject_unknown(OPERATOR_FLAGS)
    # Unspecified flags are sent as true, Windmill's "visible": the whole object is always written.
    return {windmill: flags.bool(name, True) for name, windmill in OPERATOR_FLAGS.items()}


def _env_vars(s: Section) -> dict[str, str] | None:
    if s.data.get("envVars") is None:
        return None
    data = s.mapping("envVars")
    for name, value in data.items():
        check_str(f"{s.key('envVars')}.{name}", name, pattern=ENV_NAME,
                  pattern_help="must be an identifier (letters, digits, '_' and '$', not starting with a digit)")
        if isinstance(value, bool | int | float):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        data[name] = check_str(f"{s.key('envVars')}.{name}", value)
    return data


def edition_problems(settings_key: str, spec: WorkspaceSettingsSpec, edition: str, problems: Problems) -> None:
    """Refuse the Enterprise-only settings on a ``ce`` instance, naming each key."""
    if edition != "ce":
        return
    for name in ENTERPRISE_ONLY:
        if name in spec.declared:
            problems.add(f"{settings_key}.{name}", "is only available on Windmill Enterprise Edition, and this "
                         "instance is ce (windmillEdition); remove it")

