"""``workspace.schedules``, ``workspace.settings`` and ``platformLink.alerts`` as the config layer reads
them: every problem named by its key before any resource is declared."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.errors import ConfigErrors, Problems
from components.config.platform_link import PlatformLinkArgs
from components.config.schedules import edition_problems as schedule_edition_problems
from components.config.workspace import WindmillWorkspaceArgs
from components.config.workspace_settings import edition_problems as settings_edition_problems

KEY = "homeops-windmill:workspace"
WEEKLY = {"path": "f/monitoring/weekly", "schedule": "0 0 8 * * MON", "timezone": "Europe/Paris",
          "flow": "f/monitoring/weekly_report", "onFailure": {"script": "f/monitoring/notify", "extraArgs": {"a": 1}}}


def workspace(**extra: Any) -> dict[str, Any]:
    return {"id": "homeops-platform", "folders": [{"name": "monitoring"}, {"name": "maintenance"}], **extra}


def parse(data: dict[str, Any]) -> WindmillWorkspaceArgs:
    args = WindmillWorkspaceArgs.from_config(data, secret_names=set(), key=KEY)
    assert args is not None
    return args


def problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigErrors) as raised:
        WindmillWorkspaceArgs.from_config(data, secret_names=set(), key=KEY)
    return {e.key: e.problem for e in raised.value.errors}


def test_a_schedule_becomes_the_schedule_resource_inputs() -> None:
    args = parse(workspace(schedules=[WEEKLY]))
    (spec,) = args.schedules
    inputs = spec.provider_inputs()
    assert inputs["script_path"] == "f/monitoring/weekly_report" and inputs["is_flow"] is True
    assert inputs["on_failure"] == "script/f/monitoring/notify" and inputs["on_failure_extra_args"] == {"a": 1}
    assert (inputs["schedule"], inputs["timezone"], inputs["enabled"]) == ("0 0 8 * * MON", "Europe/Paris", True)
    assert "on_recovery" not in inputs and "retry" not in inputs


@pytest.mark.parametrize(
    ("change", "key", "says"),
    [
        ({"schedule": "0 8 * * MON"}, "schedules[0].schedule", "5 field(s)"),
        ({"schedule": "0 0 8 * * FUNDAY"}, "schedules[0].schedule", "day of week"),
        ({"timezone": "Paris"}, "schedules[0].timezone", "IANA"),
        ({"flow": "f/atom/nightly_scan"}, "schedules[0].flow", "this workspace's folders"),
        ({"path": "f/atom/weekly"}, "schedules[0].path", "this workspace's folders"),
        ({"onFailure": {"script": "f/other/notify"}}, "schedules[0].onFailure.script", "this workspace's folders"),
        ({"script": "f/monitoring/x"}, "schedules[0]", "exactly one of 'script' or 'flow'"),
        ({"every": "day"}, "schedules[0].every", "unknown key"),
    ],
)
def test_bad_schedule_input_is_refused_naming_the_key(change: dict[str, Any], key: str, says: str) -> None:
    found = problems_of(workspace(schedules=[{**WEEKLY, **change}]))
    assert f"{KEY}.{key}" in found, found
    assert says in found[f"{KEY}.{key}"]


def test_a_schedule_path_declared_twice_is_refused() -> None:
    found = problems_of(workspace(schedules=[WEEKLY, WEEKLY]))
    assert "declared twice" in found[f"{KEY}.schedules[1]"]


def test_enterprise_only_schedule_parts_are_refused_on_ce() -> None:
    spec = {**WEEKLY, "onFailure": {"script": "f/monitoring/notify", "times": 3},
            "onRecovery": {"script": "f/monitoring/ok"}, "onSuccess": {"flow": "f/monitoring/ok"}}
    args = parse(workspace(schedules=[spec]))
    problems = Problems()
    schedule_edition_problems(f"{KEY}.schedules", args.schedules, "ce", problems)
    assert {e.key for e in problems.errors} == {f"{KEY}.schedules[0].{k}" for k in
                                                 ("onRecovery", "onSuccess", "onFailure.times")}
    problems = Problems()
    schedule_edition_problems(f"{KEY}.schedules", args.schedules, "ee", problems)
    assert not problems.errors


def test_settings_become_the_workspace_settings_inputs() -> None:
    settings = {"errorHandler": {"flow": "f/monitoring/alert_dispatcher", "mutedOnCancel": True},
                "webhook": "https://hooks.example/w", "operatorSettings": {"auditLogs": False},
                "envVars": {"REGION": "eu", "DEBUG": False}}
    spec = parse(workspace(settings=settings)).settings
    inputs = spec.provider_inputs()
    assert inputs["error_handler"] == {"path": "flow/f/monitoring/alert_dispatcher", "extra_args": {},
                                       "muted_on_cancel": True, "muted_on_user_path": False}
    assert inputs["operator_settings"]["audit_logs"] is False and inputs["operator_settings"]["runs"] is True
    assert inputs["env_vars"] == {"REGION": "eu", "DEBUG": "false"}
    assert set(inputs) == {"error_handler", "webhook", "operator_settings", "env_vars"}  # nothing undeclared
    assert parse(workspace()).settings.provider_inputs() == {}


@pytest.mark.parametrize(
    ("settings", "key", "says"),
    [
        ({"errorHandler": {"script": "f/atom/x"}}, "settings.errorHandler.script", "this workspace's folders"),
        ({"errorHandler": {"script": "f/monitoring/x", "flow": "f/monitoring/y"}}, "settings.errorHandler",
         "exactly one"),
        ({"webhook": "ftp://x"}, "settings.webhook", "http(s) URL"),
        ({"operatorSettings": {"everything": True}}, "settings.operatorSettings.everything", "unknown key"),
        ({"envVars": {"1BAD": "x"}}, "settings.envVars.1BAD", "identifier"),
        ({"deployTo": "homeops-platform"}, "settings.deployTo", "another workspace"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(settings: dict[str, Any], key: str, says: str) -> None:
    found = problems_of(workspace(settings=settings))
    assert f"{KEY}.{key}" in found, found
    assert says in found[f"{KEY}.{key}"]


def test_enterprise_only_settings_are_refused_on_ce() -> None:
    settings = {"deployTo": "homeops-prod", "gitSync": {"repositories": []}, "autoInvite": {"operator": True},
                "defaultApp": "f/monitoring/home", "webhook": "https://ok.example"}
    spec = parse(workspace(settings=settings)).settings
    problems = Problems()
    settings_edition_problems(f"{KEY}.settings", spec, "ce", problems)
    assert {e.key for e in problems.errors} == {f"{KEY}.settings.{k}" for k in
                                                 ("deployTo", "gitSync", "autoInvite", "defaultApp")}
    assert all("Enterprise Edition" in e.problem for e in problems.errors)


LINK = {"services": {"variable": "f/atom/platform_services_token", "flows": ["f/monitoring/alert_dispatcher"]},
        "alerts": {"dispatcher": "f/monitoring/alert_dispatcher", "forwarder": "f/atom/platform_alert_forwarder"}}


def link(data: dict[str, Any]) -> PlatformLinkArgs | None:
    return PlatformLinkArgs.from_config(data, role="domain", domain="financial", domain_workspace="homeops-financial",
                                        domain_folders={"atom"}, platform_workspace="homeops-platform")


def test_platform_link_alerts_name_the_dispatcher_and_the_forwarder() -> None:
    parsed = link(LINK)
    assert parsed is not None and parsed.forwards_alerts
    assert (parsed.alert_dispatcher, parsed.alert_forwarder) == ("f/monitoring/alert_dispatcher",
                                                                 "f/atom/platform_alert_forwarder")
    assert not (link({"services": LINK["services"]}) or PlatformLinkArgs("x", "y", "z")).forwards_alerts


@pytest.mark.parametrize(
    ("alerts", "key", "says"),
    [
        ({"dispatcher": "f/monitoring/other", "forwarder": "f/atom/fwd"}, "alerts.dispatcher", "services.flows"),
        ({"dispatcher": "f/monitoring/alert_dispatcher", "forwarder": "f/research/fwd"}, "alerts.forwarder",
         "own folders"),
        ({"dispatcher": "f/monitoring/alert_dispatcher"}, "alerts.forwarder", "required"),
    ],
)
def test_bad_alert_routes_are_refused(alerts: dict[str, Any], key: str, says: str) -> None:
    with pytest.raises(ConfigErrors) as raised:
        link({**LINK, "alerts": alerts})
    found = {e.key: e.problem for e in raised.value.errors}
    assert f"homeops-windmill:platformLink.{key}" in found, found
    assert says in found[f"homeops-windmill:platformLink.{key}"]
