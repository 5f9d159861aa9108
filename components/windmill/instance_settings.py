"""One instance (global) setting of Windmill, such as ``base_url`` or ``smtp_settings``.

Each declared key is its own resource, written and read through the per-key API
(``POST``/``GET /api/settings/global/{key}``), so a run only ever touches the keys it declares and a
refresh reports drift key by key. Why not ``PUT /api/settings/instance_config``: at the pinned 1.819.0
it upserts the keys it carries and deletes nothing ("bulk upsert, no deletes" in the ``windmill-api``
1.819.0 contract; ``ApplyMode::Merge`` in settings ``lib.rs``), so it cannot unset a key, and a
whole-document write would race with changes made in the UI meanwhile; the per-key call does both
jobs with no such risk (a null value deletes the row).

The value is ``value`` (plain JSON, shown in previews) with ``secret_value`` (a Pulumi secret) placed
at ``secret_field`` inside it (``smtp_password`` of ``smtp_settings``), or, with ``secret_field``
empty, as the whole value (``license_key``). Refresh splits the live value the same way, so a secret
changed in the UI shows as drift without ever leaving the secret.

``check`` refuses, before any request: Enterprise-only keys when ``edition`` is ``ce`` (the CE image
ignores them, or the server refuses them); a ``retention_period_secs`` above 30 days on CE (the
server would silently clamp it, an endless diff); credentials passed in plain ``value``; keys Windmill
manages itself (``jwt_secret``, ``uid``…). Delete unsets the key (Windmill's default applies again).
Sources: windmill-labs/windmill ``backend/windmill-api-settings/src/lib.rs`` @
00058c117cc45428fea2928fcfb26a772e64842a, ``backend/windmill-common/src/instance_config.rs`` @
006b0f1d344917cd12a423255fe6bc7df588f68c, ``frontend/src/lib/components/instanceSettings.ts`` @
002ecb8fb6fdea4085f2e1547646f68e3cb8dd21 (which settings are Enterprise-only).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pulumi.dynamic import CheckFailure

from . import rules
from .base import WindmillProvider, WindmillResource
from .client import WindmillClient
from .instance_api import EDITIONS
from .schema import JSON_TYPES, Declaration, Field, args_class
from .values import is_unknown

CE_MAX_RETENTION_PERIOD_SECS = 30 * 24 * 3600
# Managed by Windmill itself (PROTECTED_SETTINGS and HIDDEN_SETTINGS of instance_config.rs).
UNMANAGEABLE = frozenset({"uid", "rsa_keys", "jwt_secret", "min_keep_alive_version", "ducklake_user_pg_pwd",
                          "ducklake_settings", "custom_instance_pg_databases"})
# Marked ee_only in the instance settings UI (plus license_key: it only takes effect on the EE image).
EE_ONLY = frozenset({
    "license_key", "smtp_settings", "critical_error_channels", "critical_alerts_on_db_oversize",
    "object_store_cache_config", "monitor_logs_on_s3", "hub_base_url", "hub_accessible_url", "hub_api_secret",
    "openai_azure_base_path", "scim_token", "saml_metadata", "dev_instance", "app_workspaced_route",
    "pip_index_url", "pip_extra_index_url", "uv_index_strategy", "npmrc", "npm_config_registry",
    "bunfig_install_scopes", "nuget_config", "maven_repos", "maven_settings_xml", "no_default_maven", "ruby_repos",
    "cargo_registries", "powershell_repo_url", "powershell_repo_pat", "secret_backend", "teams", "slack",
})
# Keys (or fields of them) that hold credentials: only ever accepted as ``secret_value``.
SECRET_FIELDS = {"license_key": "", "hub_api_secret": "", "scim_token": "", "powershell_repo_pat": "",
                 "smtp_settings": "smtp_password"}
SMTP_FIELDS = frozenset({"smtp_host", "smtp_username", "smtp_password", "smtp_port", "smtp_from",
                         "smtp_tls_implicit", "smtp_disable_tls"})
CHANNEL_KINDS = ("email", "slack_channel", "teams_channel")
BASE_URL = re.compile(r"https?://[^\s/]+(/\S*[^/\s])?")

INSTANCE_SETTING = Declaration(
    kind="instance_setting",
    type_name="InstanceSetting",
    label="instance setting",
    summary=(
        "One global setting (`key`), written and read through `settings/global/{key}` only, so nothing else is "
        "touched and drift is per key. `secret_value` goes into `value` at `secret_field` (or is the value). "
        "Enterprise-only keys are refused on `edition: ce`, as is a retention above 30 days. Delete unsets it."
    ),
    inputs=(
        Field("key", str, "the setting, e.g. `base_url`, `retention_period_secs`, `smtp_settings`",
              required=True, replace_on_change=True, validate=rules.validate_setting_key),
        Field("value", JSON_TYPES, "the value (without its secret part)"),
        Field("secret_value", str, "the credential part of the value", secret=True),
        Field("secret_field", str, "where `secret_value` goes in an object value (empty: it is the value)",
              default=""),
        Field("edition", str, "`ce` or `ee`: which Windmill edition runs (Enterprise-only keys need `ee`)",
              default="ce", validate=rules.one_of(EDITIONS)),
    ),
)


def compose(value: Any, secret: str | None, field: str) -> Any:
    """The value to store: ``secret`` at ``field`` inside ``value``, or as the whole value."""
    if secret is None:
        return copy.deepcopy(value)
    if not field:
        return secret
    return {**(value or {}), field: secret}


def split(live: Any, field: str, has_secret: bool) -> dict[str, Any]:
    """The stored value as ``value`` and ``secret_value`` again (the inverse of ``compose``)."""
    if not has_secret:
        return {"value": live}
    if not field:
        return {"secret_value": live if isinstance(live, str) else None}
    if not isinstance(live, dict):
        return {"value": live}
    rest = {k: v for k, v in live.items() if k != field}
    return {"value": rest, "secret_value": live.get(field)}


def setting_problems(key: str, value: Any, secret: Any, field: str, edition: str) -> list[tuple[str, str]]:
    """What is wrong with one declared setting, as (input, problem); never shows a secret."""
    problems: list[tuple[str, str]] = []
    if key in UNMANAGEABLE:
        return [("key", f"{key!r} is managed by Windmill itself and cannot be declared")]
    if edition == "ce" and key in EE_ONLY:
        problems.append(("key", f"{key!r} is an Enterprise Edition setting: the Community Edition ignores it. "
                                "Run the EE image with a license key (edition: ee), or remove the setting"))
    problems.extend(_secret_problems(key, value, secret, field))
    if value is None and secret is None:
        problems.append(("value", "a setting needs a value (or secret_value)"))
    if not is_unknown(value):
        problems.extend(("value", p) for p in _value_problems(key, value, edition))
    return problems


def _secret_problems(key: str, value: Any, secret: Any, field: str) -> list[tuple[str, str]]:
    """Credentials only ever travel as ``secret_value``, at the field where Windmill keeps them."""
    expected = SECRET_FIELDS.get(key)
    if expected is None:
        return []
    if expected == "":
        if value is not None or secret is None:
            return [("secret_value", f"{key!r} is a credential: pass it as secret_value (and no value)")]
        return [] if field == "" else [("secret_field", f"must be empty for {key!r}, got {field!r}")]
    problems = []
    if isinstance(value, dict) and expected in value:
        problems.append(("value", f"{key!r}.{expected} is a credential: pass it as secret_value, never in value"))
    if secret is not None and field != expected:
        problems.append(("secret_field", f"must be {expected!r} for {key!r}, got {field!r}"))
    return problems


def _value_problems(key: str, value: Any, edition: str) -> list[str]:
    if key == "base_url" and not (isinstance(value, str) and BASE_URL.fullmatch(value)):
        return [f"base_url must be an http(s) URL without a trailing slash, got {value!r}"]
    if key == "retention_period_secs":
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return [f"retention_period_secs must be a positive number of seconds, got {value!r}"]
        if edition == "ce" and value > CE_MAX_RETENTION_PERIOD_SECS:
            return [f"the Community Edition keeps jobs at most 30 days ({CE_MAX_RETENTION_PERIOD_SECS} s) and "
                    f"would silently clamp {value}: lower it, or run the Enterprise Edition (edition: ee)"]
    if key == "smtp_settings":
        if not isinstance(value, dict):
            return ["smtp_settings must be an object of smtp_host, smtp_port, smtp_username, smtp_from, …"]
        unknown = sorted(set(value) - SMTP_FIELDS)
        if unknown:
            return [f"smtp_settings has unknown fields {unknown}; expected {sorted(SMTP_FIELDS)}"]
    if key == "critical_error_channels":
        return _channel_problems(value)
    return []


def _channel_problems(value: Any) -> list[str]:
    if not isinstance(value, list):
        return ["critical_error_channels must be a list of channels"]
    bad = [i for i, c in enumerate(value) if not (isinstance(c, dict) and len(c) == 1 and next(iter(c)) in
                                                 CHANNEL_KINDS)]
    if bad:
        return [f"critical_error_channels[{bad[0]}] must be one of {{email: …}}, {{slack_channel: …}} or "
                "{teams_channel: {team_id, team_name, channel_id, channel_name}}"]
    return []


class InstanceSettingProvider(WindmillProvider):
    """Dynamic provider for one global setting."""

    declaration = INSTANCE_SETTING

    def object_id(self, outputs: dict[str, Any]) -> str:
        return str(outputs["key"])

    def state_from_id(self, id_: str) -> dict[str, Any]:
        return {"key": id_}

    def check_object(self, inputs: dict[str, Any]) -> list[CheckFailure]:
        problems = setting_problems(inputs["key"], inputs.get("value"), inputs.get("secret_value"),
                                    inputs.get("secret_field", ""), inputs.get("edition", "ce"))
        return [CheckFailure(name, problem) for name, problem in problems]

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        self._write(client, inputs)
        return {}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        key = state.get("key") or id_
        live = client.get_json(f"/settings/global/{key}")
        if live is None:
            return None  # unset: the next up writes it again
        field = state.get("secret_field", "")
        parts = split(live, field, state.get("secret_value") is not None)
        return {"key": key, "secret_field": field, "edition": state.get("edition", "ce"), "value": None, **parts}

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        if changed - {"edition"}:
            self._write(client, news)
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.post(f"/settings/global/{state['key']}", {"value": None})  # null deletes the row

    def _write(self, client: WindmillClient, inputs: dict[str, Any]) -> None:
        secret = inputs.get("secret_value")
        value = compose(inputs.get("value"), secret, inputs.get("secret_field", ""))
        client.post(f"/settings/global/{inputs['key']}", {"value": value}, redact=[secret] if secret else [])


InstanceSettingArgs = args_class(INSTANCE_SETTING, __name__)


class InstanceSetting(WindmillResource, provider=InstanceSettingProvider):
    """One Windmill global setting; ``secret_value`` is a Pulumi secret."""
