"""The settings of one Windmill workspace that the stack declares, and only those.

Each setting is its own input; one left out (None) is not managed: never written, never read,
never cleared, whatever Windmill holds. A declared setting is written with its own call, compared
on refresh (so a change made in the UI shows as drift), and cleared when it is removed from the
config or the resource is deleted. Modelled on windmill-labs/windmill
``backend/windmill-api-workspaces/src/workspaces.rs`` @ c9db8c90dc3a5ae463c3cc067964c85002a1f901
(and ``workspaces_oss.rs`` @ c580572252a99f2ae13b9762619c20adc882764b), checked against the
windmill-api 1.819.0 contract:

* ``edit_error_handler`` takes the grouped form ``{path, extra_args, muted_on_cancel,
  muted_on_user_path}`` (``deny_unknown_fields``: any other key falls back to the legacy form and
  clears the handler, so exactly these keys are sent); the path is ``script/<path>`` or
  ``flow/<path>``; omitting it clears the handler. ``edit_success_handler`` likewise (``{path,
  extra_args}``). Windmill does not check that the script or flow exists.
* ``edit_webhook``, ``operator_settings`` (the whole ``OperatorSettings``: every flag is sent,
  unspecified ones as true, Windmill's "visible"), ``set_environment_variable`` (one call per
  variable; a null value deletes it).
* Enterprise only: ``edit_auto_invite`` (the CE build answers 500 "Not implemented on OSS"),
  ``edit_default_app``, ``edit_git_sync_config`` and ``edit_deploy_to`` (400 on CE). ``check``
  refuses them when ``edition`` is ``ce``, naming the input, before any request.

Refresh reads ``get_settings`` (and ``get_deploy_to``), and the environment variables from
``variables/list_contextual`` (the custom ones, ``is_custom``; windmill-api 1.819.0
``ContextualVariable``). Only the declared variables are compared: one added in the UI is not
Pulumi's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult

from . import rules
from .base import WindmillProvider, WindmillResource
from .client import WindmillClient
from .schema import ADOPT_INPUT, ADOPTED_OUTPUT, WORKSPACE_INPUT, Declaration, Field, args_class

HANDLER_PATTERN = r"(script|flow)/([ufg]/[\w-]+(/[\w-]+)+|hub/\S+)"
HANDLER_RULE = "path must be script/<path> or flow/<path>, e.g. flow/f/monitoring/alert_dispatcher"
ERROR_HANDLER_KEYS = {"path": None, "extra_args": {}, "muted_on_cancel": False, "muted_on_user_path": False}
SUCCESS_HANDLER_KEYS = {"path": None, "extra_args": {}}
AUTO_INVITE_KEYS = {"operator": False, "invite_all": False, "auto_add": False}
# OperatorSettings of the 1.819.0 contract: ten flags required, two optional ("granted unless withdrawn").
OPERATOR_FLAGS = ("runs", "schedules", "resources", "variables", "assets", "audit_logs", "triggers", "groups",
                  "folders", "workers", "manage_schedules", "manage_triggers")
ENV_NAME = r"[A-Za-z_$][A-Za-z0-9_$]*"  # set_environment_variable: a plain JS identifier
EE_ONLY = ("auto_invite", "default_app", "git_sync", "deploy_to")
EDITIONS = ("ce", "ee")


def _object(defaults: Mapping[str, Any], *, path_required: bool = False) -> rules.Validator:
    def validate(value: Any) -> str | None:
        unknown = sorted(set(value) - set(defaults))
        if unknown:
            return f"may only have {', '.join(defaults)}; got {', '.join(unknown)}"
        if path_required and not isinstance(value.get("path"), str):
            return "needs a path (script/<path> or flow/<path>)"
        if "path" in value:
            return rules.pattern(HANDLER_PATTERN, HANDLER_RULE)(value["path"])
        return None

    return validate


def _operator_settings(value: Any) -> str | None:
    unknown = sorted(set(value) - set(OPERATOR_FLAGS))
    if unknown:
        return f"may only have {', '.join(OPERATOR_FLAGS)}; got {', '.join(unknown)}"
    wrong = [k for k, v in value.items() if not isinstance(v, bool)]
    return f"values must be true or false; {', '.join(wrong)} are not" if wrong else None


def _env_vars(value: Any) -> str | None:
    for name, item in value.items():
        if rules.pattern(ENV_NAME, "")(name):
            return f"names must be identifiers ({ENV_NAME}); got {name!r}"
        if not isinstance(item, str):
            return f"values must be strings; {name!r} is not"
    return None


WORKSPACE_SETTINGS = Declaration(
    kind="workspace_settings",
    type_name="WorkspaceSettings",
    label="workspace settings",
    summary=(
        "The declared settings of a workspace, one input each; an input left out is never written, read or "
        "cleared. Each declared setting is one call (`env_vars`: one per variable), is compared on refresh "
        "and is cleared when removed or on delete. `auto_invite`, `default_app`, `git_sync` and "
        "`deploy_to` are Enterprise-only: refused at preview when `edition` is `ce`."
    ),
    inputs=(
        WORKSPACE_INPUT,
        Field("error_handler", dict, "`{path: script/… or flow/…, extra_args, muted_on_cancel, "
              "muted_on_user_path}`: runs when a job of the workspace fails", validate=_object(ERROR_HANDLER_KEYS,
                                                                                           path_required=True)),
        Field("success_handler", dict, "`{path, extra_args}`: runs after each successful job",
              validate=_object(SUCCESS_HANDLER_KEYS, path_required=True)),
        Field("webhook", str, "URL Windmill calls on deploys (empty: none)"),
        Field("auto_invite", dict, "`{operator, invite_all, auto_add}` (EE)", validate=_object(AUTO_INVITE_KEYS)),
        Field("operator_settings", dict, "what operators see and manage: `{runs, schedules, …}` (unspecified: "
              "true)", validate=_operator_settings),
        Field("default_app", str, "path of the app opened by default (EE)", validate=rules.validate_item_path),
        Field("env_vars", dict, "workspace environment variables `{NAME: value}` (only these are compared)",
              validate=_env_vars),
        Field("git_sync", dict, "Windmill's git sync settings `{repositories: […]}` (EE)"),
        Field("deploy_to", str, "workspace that deploys go to (EE)", validate=rules.validate_workspace_id),
        Field("edition", str, "the instance's edition: `ce` refuses the Enterprise-only settings", default="ce",
              validate=rules.one_of(EDITIONS)),
        # Settings always exist: adopting reads them first and writes only the declared ones that differ.
        ADOPT_INPUT,
    ),
    outputs=(ADOPTED_OUTPUT,),
)

SETTINGS = ("error_handler", "success_handler", "webhook", "auto_invite", "operator_settings", "default_app",
            "env_vars", "git_sync", "deploy_to")


def normalized(name: str, value: Any) -> Any:
    """A declared value in the form Windmill reads back, so refresh right after a write shows nothing."""
    if value is None:
        return None
    defaults = {"error_handler": ERROR_HANDLER_KEYS, "success_handler": SUCCESS_HANDLER_KEYS,
                "auto_invite": AUTO_INVITE_KEYS}.get(name)
    if defaults is not None:
        return {key: default if value.get(key) is None else value[key] for key, default in defaults.items()}
    if name == "operator_settings":
        return {flag: value.get(flag, True) for flag in OPERATOR_FLAGS}
    return value


class WorkspaceSettingsProvider(WindmillProvider):
    """Dynamic provider for the declared settings of a Windmill workspace."""

    declaration = WORKSPACE_SETTINGS

    def object_id(self, outputs: Mapping[str, Any]) -> str:
        return str(outputs["workspace"])

    def state_from_id(self, id_: str) -> dict[str, Any]:
        return {"workspace": id_}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        inputs = result.inputs
        for name in SETTINGS:
            if isinstance(inputs.get(name), dict):
                inputs[name] = normalized(name, inputs[name])
        return CheckResult(inputs, result.failures)

    def check_object(self, inputs: dict[str, Any]) -> list[CheckFailure]:
        if inputs.get("edition") != "ce":
            return []
        return [
            CheckFailure(name, "is only available on Windmill Enterprise Edition; this instance is ce "
                               "(remove it, or set the edition to ee)")
            for name in EE_ONLY if inputs.get(name) is not None
        ]

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        for name in SETTINGS:
            if inputs.get(name) is not None:
                self._write(client, inputs["workspace"], name, inputs[name], None)
        return {}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws = state["workspace"]
        live = client.get_or_none(f"/w/{ws}/workspaces/get_settings")
        if live is None:
            return None  # the workspace is gone (or archived)
        read: dict[str, Any] = {"workspace": ws, "edition": state.get("edition", "ce")}
        for name in SETTINGS:
            if state.get(name) is not None:
                read[name] = self._read(client, ws, name, live, state[name])
        return read

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        for name in SETTINGS:
            if name in changed:
                # A setting removed from the config is cleared: it was Pulumi's to manage.
                self._write(client, news["workspace"], name, news.get(name), olds.get(name))
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        for name in SETTINGS:
            if state.get(name) is not None:
                self._write(client, state["workspace"], name, None, state[name])

    # -- one setting ---------------------------------------------------------------------------

    def _write(self, client: WindmillClient, ws: str, name: str, value: Any, old: Any) -> None:
        """Set ``name`` to ``value``; None clears it (``old`` says which environment variables to remove)."""
        base = f"/w/{ws}/workspaces"
        if name == "error_handler":
            client.post(f"{base}/edit_error_handler", {k: value[k] for k in ERROR_HANDLER_KEYS} if value else {})
        elif name == "success_handler":
            client.post(f"{base}/edit_success_handler", {k: value[k] for k in SUCCESS_HANDLER_KEYS} if value else {})
        elif name == "webhook":
            client.post(f"{base}/edit_webhook", {"webhook": value or None})
        elif name == "auto_invite":
            client.post(f"{base}/edit_auto_invite", dict(value) if value else {})
        elif name == "operator_settings":
            # Windmill stores what it is sent; null would be refused, so clearing restores all-visible.
            client.post(f"{base}/operator_settings", value or normalized(name, {}))
        elif name == "default_app":
            client.post(f"{base}/edit_default_app", {"default_app_path": value})
        elif name == "git_sync":
            client.post(f"{base}/edit_git_sync_config", {"git_sync_settings": value})
        elif name == "deploy_to":
            client.post(f"{base}/edit_deploy_to", {"deploy_to": value})
        elif name == "env_vars":
            self._write_env(client, ws, value or {}, old or {})

    def _write_env(self, client: WindmillClient, ws: str, value: Mapping[str, str], old: Mapping[str, str]) -> None:
        for env_name in sorted(set(old) - set(value)):
            client.post(f"/w/{ws}/workspaces/set_environment_variable", {"name": env_name, "value": None})
        for env_name, env_value in sorted(value.items()):
            if old.get(env_name) != env_value:
                client.post(f"/w/{ws}/workspaces/set_environment_variable", {"name": env_name, "value": env_value})

    def _read(self, client: WindmillClient, ws: str, name: str, live: Mapping[str, Any], declared: Any) -> Any:
        if name == "env_vars":
            custom = {v["name"]: v["value"] for v in client.get_json(f"/w/{ws}/variables/list_contextual")
                      if v.get("is_custom")}
            return {env_name: custom[env_name] for env_name in declared if env_name in custom}
        if name == "deploy_to":
            return client.get_json(f"/w/{ws}/workspaces/get_deploy_to").get("deploy_to")
        value = live.get(name)
        if name == "webhook":
            return value or ""
        if name == "auto_invite" and value is not None:
            value = {"operator": bool(value.get("operator")), "invite_all": value.get("domain") == "*",
                     "auto_add": value.get("mode") == "add"}
        if value is None:
            return None
        return normalized(name, value)


WorkspaceSettingsArgs = args_class(WORKSPACE_SETTINGS, __name__)


class WorkspaceSettings(WindmillResource, provider=WorkspaceSettingsProvider):
    """The declared settings of a Windmill workspace (error handler, webhook, operator view, …)."""
