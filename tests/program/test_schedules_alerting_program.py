"""The whole program under mocks: schedules and workspace settings from the stack config, each
domain's alert forwarder as its error handler, the platform's own failures going straight to the
dispatcher, the forwarder kept out of the sync, and bad schedule input refused before anything is
declared."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.alerting import forwarder_content
from components.config.errors import ConfigErrors
from testkit.program import FINANCIAL_SECRETS, PLATFORM_OUTPUTS, PLATFORM_SECRETS, load_stack_config, run_program

SCHEDULE = "pulumi-python:dynamic/windmill:Schedule"
SETTINGS = "pulumi-python:dynamic/windmill:WorkspaceSettings"
SCRIPT = "pulumi-python:dynamic/windmill:Script"
GITHUB_FILE = "github:index/repositoryFile:RepositoryFile"

MEDIA_STACK: dict[str, Any] = {
    "homeops-windmill:role": "domain",
    "homeops-windmill:domain": "media",
    "homeops-windmill:workspace": {
        "folders": [{"name": "media", "summary": "Media stack automation"}],
        "variables": [{"path": "f/media/library_root", "value": "/srv/media"}],
        "schedules": [{"path": "f/media/library_scan", "schedule": "0 0 4 * * *", "timezone": "Europe/Paris",
                       "script": "f/media/scan_library", "args": {"full": False}}],
        "settings": {"operatorSettings": {"auditLogs": False}},
    },
    "homeops-windmill:platformLink": {
        "services": {"variable": "f/media/platform_services_token", "flows": ["f/monitoring/alert_dispatcher"]},
        "alerts": {"dispatcher": "f/monitoring/alert_dispatcher", "forwarder": "f/media/platform_alert_forwarder"},
    },
}


def test_the_platform_routes_its_own_failures_to_the_dispatcher_and_declares_its_schedules() -> None:
    run = run_program(load_stack_config("platform"), secrets=PLATFORM_SECRETS, stack="platform")
    env = run.env
    settings = env.one(SETTINGS, "automation-settings").plain_inputs
    assert settings["workspace"] == "homeops-platform" and settings["edition"] == "ce"
    assert settings["error_handler"]["path"] == "flow/f/monitoring/alert_dispatcher"
    assert {k for k in settings if not k.startswith("api_")} >= {"error_handler"}
    assert "webhook" not in settings or settings["webhook"] is None  # undeclared: not managed
    schedules = {r.name: r.plain_inputs for r in env.find(SCHEDULE)}
    nightly = schedules["automation-schedule-f/deployment/financial_nightly_scan_schedule"]
    assert (nightly["schedule"], nightly["timezone"], nightly["script_path"], nightly["is_flow"]) == (
        "0 30 21 * * MON-FRI", "America/New_York", "f/deployment/trigger_financial_nightly_scan", True)
    assert nightly["enabled"] is True and nightly["no_overlap"] is True
    assert run.exports["schedulePaths"] == ["f/monitoring/weekly_report_schedule",
                                            "f/deployment/financial_nightly_scan_schedule"]
    # The platform lists the domain tokens it holds (from the domain stack files): visible from its side.
    assert run.exports["domainTokens"] == [{"stack": "financial", "domain": "financial",
                                            "workspace": "homeops-financial",
                                            "variable": "f/deployment/financial_trigger_token",
                                            "flows": ["f/atom/nightly_scan"]}]
    assert env.find(SCRIPT) == []  # the platform has no forwarder: its handler is the dispatcher


def test_a_domain_error_handler_is_its_forwarder_which_the_sync_never_prunes() -> None:
    run = run_program(load_stack_config("financial"), secrets=FINANCIAL_SECRETS, stack="financial",
                      platform_outputs=PLATFORM_OUTPUTS)
    env = run.env
    script = env.one(SCRIPT, "platform-link-alert-forwarder")
    assert script.plain_inputs["path"] == "f/atom/platform_alert_forwarder"
    assert script.plain_inputs["content"] == forwarder_content() and script.plain_inputs["language"] == "python3"
    settings = env.one(SETTINGS, "automation-settings")
    assert settings.plain_inputs["error_handler"] == {
        "path": "script/f/atom/platform_alert_forwarder",
        "extra_args": {"dispatcher_path": "f/monitoring/alert_dispatcher", "platform_workspace": "homeops-platform",
                       "token_variable": "f/atom/platform_services_token"},
        "muted_on_cancel": False, "muted_on_user_path": False,
    }
    assert script.urn in settings.dependencies  # the handler exists before it is set
    wmill_yaml = yaml.safe_load(env.one(GITHUB_FILE, "github-sync-wmill-yaml").plain_inputs["content"])
    assert wmill_yaml["excludes"] == ["f/atom/platform_alert_forwarder.*"]
    assert wmill_yaml["includeSchedules"] is False and wmill_yaml["includeSettings"] is False
    assert env.find(SCHEDULE) == []


def test_a_media_domain_gets_its_forwarder_schedule_and_settings() -> None:
    run = run_program(MEDIA_STACK, stack="media", platform_outputs=PLATFORM_OUTPUTS)
    env = run.env
    assert env.one(SCRIPT, "platform-link-alert-forwarder").plain_inputs["workspace"] == "homeops-media"
    settings = env.one(SETTINGS, "automation-settings").plain_inputs
    assert settings["error_handler"]["path"] == "script/f/media/platform_alert_forwarder"
    assert settings["error_handler"]["extra_args"]["token_variable"] == "f/media/platform_services_token"
    assert settings["operator_settings"]["audit_logs"] is False
    scan = env.one(SCHEDULE, "automation-schedule-f/media/library_scan").plain_inputs
    assert (scan["workspace"], scan["script_path"], scan["is_flow"], scan["args"]) == (
        "homeops-media", "f/media/scan_library", False, {"full": False})
    assert "domainTokens" not in run.exports


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"schedule": "30 21 * * MON-FRI"}, "workspace.schedules[1].schedule"),
        ({"timezone": "New York"}, "workspace.schedules[1].timezone"),
        ({"flow": "f/atom/nightly_scan"}, "workspace.schedules[1].flow"),
        ({"onRecovery": {"flow": "f/monitoring/ok"}}, "workspace.schedules[1].onRecovery"),
    ],
)
def test_bad_schedule_input_fails_the_preview_before_anything_is_declared(change: dict[str, Any], key: str) -> None:
    config = load_stack_config("platform")
    workspace = dict(config["homeops-windmill:workspace"])
    schedules = [dict(s) for s in workspace["schedules"]]
    schedules[1].update(change)
    workspace["schedules"] = schedules
    config["homeops-windmill:workspace"] = workspace
    seen: list[Any] = []
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=PLATFORM_SECRETS, stack="platform", seen=seen)
    assert f"homeops-windmill:{key}" in {e.key for e in caught.value.errors}, str(caught.value)
    assert seen[0].registrations == []  # nothing declared, so nothing sent


def test_enterprise_only_settings_are_refused_on_ce_and_accepted_on_ee() -> None:
    config = load_stack_config("financial")
    config["homeops-windmill:workspace"] = {**config["homeops-windmill:workspace"],
                                            "settings": {"deployTo": "homeops-platform"}}
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=FINANCIAL_SECRETS, stack="financial", platform_outputs=PLATFORM_OUTPUTS)
    keys = {e.key for e in caught.value.errors}
    assert "homeops-windmill:workspace.settings.deployTo" in keys
    config["homeops-windmill:windmillEdition"] = "ee"
    run = run_program(config, secrets=FINANCIAL_SECRETS, stack="financial", platform_outputs=PLATFORM_OUTPUTS)
    settings = run.env.one(SETTINGS, "automation-settings").plain_inputs
    assert settings["deploy_to"] == "homeops-platform" and settings["edition"] == "ee"


def test_a_domain_cannot_declare_an_error_handler_next_to_its_alert_forwarder() -> None:
    config = load_stack_config("financial")
    config["homeops-windmill:workspace"] = {**config["homeops-windmill:workspace"],
                                            "settings": {"errorHandler": {"script": "f/atom/mine"}}}
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=FINANCIAL_SECRETS, stack="financial", platform_outputs=PLATFORM_OUTPUTS)
    error = next(e for e in caught.value.errors if e.key == "homeops-windmill:workspace.settings.errorHandler")
    assert "platformLink.alerts" in error.problem
