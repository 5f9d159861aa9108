"""The platform program with an ``instance`` section, under mocks: first boot on the Docker stack and
the retirement of its SUPERADMIN_SECRET in the next run, the refusal of an exposed default admin, the
order every instance object waits in, Enterprise-only settings refused on CE, and no credential in a
plain input or export. (The Docker provider cannot run in the real-engine tier, so the container
recreation is shown here; tests/engine/test_first_boot.py runs first boot for real.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config.errors import ConfigErrors
from testkit.mocking import is_secret, plaintext_leaks, unwrap_secrets
from testkit.program import PLATFORM_SECRETS, ProgramRun, load_stack_config, run_program

DYNAMIC = "pulumi-python:dynamic/windmill:"
CONTAINER = "docker:index/container:Container"
SECRET = "windmill-superadmin-secret-value"
PROGRAM_TOKEN = "program-token-0123456789"
BOOTED = {"windmillFirstBoot": {"automationUser": "windmill-automation@homeops.invalid", "defaultAdmin": "remove"}}
NO_OPERATOR_TOKEN = {k: v for k, v in PLATFORM_SECRETS.items() if k != "windmillToken"}
OUTPUTS = {
    "random:index/randomPassword:RandomPassword": lambda a: {"result": f"{a.name}-value"},
    f"{DYNAMIC}FirstBoot": lambda a: {"token": PROGRAM_TOKEN, "token_prefix": PROGRAM_TOKEN[:10]},
    f"{DYNAMIC}InstanceUser": lambda a: {"initial_password": "generated-initial-password"},
    f"{DYNAMIC}DefaultAdmin": lambda a: {"password": "generated-default-admin-password"},
}
OPERATORS = {"users": [{"email": "ops@homeops.example", "name": "Ops", "superAdmin": True}]}


def platform(instance: dict[str, Any] | None = None, *, previous: dict[str, Any] | None = None,
             secrets: dict[str, Any] | None = None, stack: dict[str, Any] | None = None) -> ProgramRun:
    """The committed platform stack on Docker without windmillToken (so first boot runs), with
    ``instance`` config and, as its own previous run's outputs, ``previous``."""
    config = load_stack_config("platform")
    config["homeops-windmill:windmillStack"] = {**config["homeops-windmill:windmillStack"], **(stack or {})}
    config["homeops-windmill:instance"] = instance or {}
    return run_program(config, secrets=secrets or NO_OPERATOR_TOKEN, stack="platform", outputs=OUTPUTS,
                       platform_outputs=previous or {})


def server_env(run: ProgramRun) -> list[str]:
    return list(run.env.one(CONTAINER, "windmill-server-0").plain_inputs["envs"])


def test_first_boot_uses_the_bootstrap_secret_and_every_other_resource_the_program_token() -> None:
    run = platform(OPERATORS)
    assert f"SUPERADMIN_SECRET={SECRET}" in server_env(run)
    first_boot = run.env.one(f"{DYNAMIC}FirstBoot", "instance-first-boot")
    assert first_boot.plain_inputs["api_token"] == SECRET and is_secret(first_boot.inputs["api_token"])
    for registration in run.env.registrations:
        if registration.typ.startswith(DYNAMIC) and registration.typ.rsplit(":", 1)[1] not in (
                "FirstBoot", "ReadinessGate"):
            assert unwrap_secrets(registration.inputs["api_token"]) == PROGRAM_TOKEN, registration.name
            assert registration.plain_inputs["api_identity"] == "windmill-automation@homeops.invalid"
    assert run.exports["windmillToken"] == PROGRAM_TOKEN and "windmillToken" in run.secret_exports
    assert run.exports["windmillTokenOwner"] == "windmill-automation@homeops.invalid"


def test_the_run_after_first_boot_recreates_the_servers_without_the_bootstrap_secret() -> None:
    run = platform(OPERATORS, previous=BOOTED)
    assert not any(e.startswith("SUPERADMIN_SECRET") for e in server_env(run))
    assert run.env.names("random:index/randomPassword:RandomPassword") == ["windmill-db-password"]
    first_boot = run.env.one(f"{DYNAMIC}FirstBoot", "instance-first-boot")
    assert "api_token" not in first_boot.plain_inputs or first_boot.plain_inputs["api_token"] is None
    assert run.exports["windmillToken"] == PROGRAM_TOKEN


def test_the_first_boot_record_is_exported_only_by_a_run_that_completed_it() -> None:
    run = platform(OPERATORS)
    assert run.exports["windmillFirstBoot"] == BOOTED["windmillFirstBoot"]
    assert "windmillFirstBoot" not in run.secret_exports
    without_boot = platform({"firstBoot": {"enabled": False}}, secrets=PLATFORM_SECRETS)
    assert "windmillFirstBoot" not in without_boot.exports


def test_instance_objects_wait_for_first_boot_and_the_limits_check_and_the_default_admin_for_operators() -> None:
    run = platform({**OPERATORS, "groups": [{"name": "oncall", "members": ["ops@homeops.example"]}],
                    "settings": {"baseUrl": "https://windmill.homeops.example", "retentionPeriodSecs": 604800}})
    env = run.env
    first_boot = env.one(f"{DYNAMIC}FirstBoot", "instance-first-boot")
    limits = env.one(f"{DYNAMIC}EditionLimits", "instance-edition-limits")
    assert first_boot.urn in limits.dependencies
    assert limits.plain_inputs["workspaces"] == ["homeops-platform"]
    operator = env.one(f"{DYNAMIC}InstanceUser", "instance-user-ops@homeops.example")
    group = env.one(f"{DYNAMIC}InstanceGroup", "instance-group-oncall")
    settings = env.find(f"{DYNAMIC}InstanceSetting")
    assert {s.plain_inputs["key"] for s in settings} == {"base_url", "retention_period_secs"}
    for registration in (operator, group, *settings):
        assert limits.urn in registration.dependencies, registration.name
    assert operator.urn in group.dependencies
    default_admin = env.one(f"{DYNAMIC}DefaultAdmin", "instance-default-admin")
    assert operator.urn in default_admin.dependencies
    assert default_admin.plain_inputs["action"] == "remove"  # an operator exists
    workspace = env.one(f"{DYNAMIC}Workspace", "platform-workspace")
    assert {limits.urn, default_admin.urn, operator.urn} <= set(workspace.dependencies)


def test_without_an_operator_the_default_admin_is_rotated_and_its_password_exported_as_a_secret() -> None:
    run = platform()
    assert run.env.one(f"{DYNAMIC}DefaultAdmin", "instance-default-admin").plain_inputs["action"] == "rotate"
    assert "windmillDefaultAdminPassword" in run.secret_exports


def test_publishing_beyond_loopback_before_first_boot_is_refused_with_what_to_set() -> None:
    lan = {"caddy": {"bindAddress": "0.0.0.0", "port": 80}}  # noqa: S104 - what must be refused
    with pytest.raises(ConfigErrors) as caught:
        platform(OPERATORS, stack=lan)
    message = str(caught.value)
    assert "homeops-windmill:windmillStack.caddy.bindAddress" in message
    assert "0.0.0.0:80" in message and "127.0.0.1" in message and "defaultAdminSecured" in message
    # Once a run completed first boot, or the operator says the default admin is secured, it may publish.
    platform(OPERATORS, stack=lan, previous=BOOTED)
    platform({**OPERATORS, "firstBoot": {"defaultAdminSecured": True}}, stack=lan)


def test_publishing_beyond_loopback_without_first_boot_needs_it_or_a_secured_default_admin() -> None:
    config = load_stack_config("platform")
    config["homeops-windmill:windmillStack"] = {**config["homeops-windmill:windmillStack"],
                                                "caddy": {"bindAddress": "0.0.0.0", "port": 80}}  # noqa: S104
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=PLATFORM_SECRETS, stack="platform")  # windmillToken: first boot is off
    assert caught.value.keys == {"homeops-windmill:instance.firstBoot.enabled"}


@pytest.mark.parametrize(("instance", "key"), [
    ({"settings": {"smtp": {"host": "smtp.example", "port": 587}}}, "homeops-windmill:instance.settings.smtp"),
    ({"settings": {"criticalAlertChannels": [{"email": "ops@homeops.example"}]}},
     "homeops-windmill:instance.settings.criticalAlertChannels"),
    ({"settings": {"retentionPeriodSecs": 90 * 86400}}, "homeops-windmill:instance.settings.retentionPeriodSecs"),
    ({"workerGroups": {"reports": {"worker_tags": ["reports"]}}}, "homeops-windmill:instance.workerGroups"),
])
def test_enterprise_only_settings_are_refused_on_ce_naming_the_key(instance: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigErrors) as caught:
        platform(instance)
    assert caught.value.keys == {key}
    assert "Enterprise Edition" in str(caught.value) or "30 days" in str(caught.value)


def test_on_ee_the_settings_and_worker_groups_are_declared_and_credentials_stay_secret() -> None:
    secrets = {**NO_OPERATOR_TOKEN, "secrets": {**NO_OPERATOR_TOKEN["secrets"], "smtp_password": "smtp-pass-71c",
                                                "windmill_license": "license-key-4d2"}}
    run = platform({
        **OPERATORS,
        "settings": {"smtp": {"host": "smtp.example", "port": 587, "passwordSecret": "smtp_password"},
                     "licenseKeySecret": "windmill_license", "retentionPeriodSecs": 90 * 86400,
                     "criticalAlertChannels": [{"email": "ops@homeops.example"}, {"slackChannel": "#alerts"}]},
        "workerGroups": {"reports": {"worker_tags": ["reports"]}},
    }, secrets=secrets, stack={"edition": "ee"})
    settings = {s.plain_inputs["key"]: s for s in run.env.find(f"{DYNAMIC}InstanceSetting")}
    assert settings["smtp_settings"].plain_inputs["value"] == {"smtp_host": "smtp.example", "smtp_port": 587}
    assert settings["smtp_settings"].plain_inputs["secret_field"] == "smtp_password"
    assert is_secret(settings["smtp_settings"].inputs["secret_value"])
    assert is_secret(settings["license_key"].inputs["secret_value"])
    assert settings["critical_error_channels"].plain_inputs["value"] == [{"email": "ops@homeops.example"},
                                                                         {"slack_channel": "#alerts"}]
    worker = run.env.one(f"{DYNAMIC}WorkerGroupConfig", "instance-worker-group-reports")
    assert worker.plain_inputs["config"] == {"worker_tags": ["reports"]}
    for value in ("smtp-pass-71c", "license-key-4d2", SECRET, PROGRAM_TOKEN, "generated-initial-password"):
        assert list(plaintext_leaks(run.env.registrations, value)) == [], value
        public = {k: v for k, v in run.exports.items() if k not in run.secret_exports}
        assert value not in json.dumps(public, default=str), value
    assert "instanceUserPasswords" in run.secret_exports


def test_a_domain_stack_declares_no_instance_and_its_tokens_follow_the_platform_token_owner() -> None:
    config = load_stack_config("financial")
    config["homeops-windmill:instance"] = OPERATORS
    from testkit.program import FINANCIAL_SECRETS, PLATFORM_OUTPUTS
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=FINANCIAL_SECRETS, stack="financial", platform_outputs=PLATFORM_OUTPUTS)
    assert caught.value.keys == {"homeops-windmill:instance"}
    owner = "windmill-automation@homeops.invalid"
    run = run_program(load_stack_config("financial"), secrets=FINANCIAL_SECRETS, stack="financial",
                      platform_outputs={**PLATFORM_OUTPUTS, "windmillTokenOwner": owner})
    tokens = run.env.find(f"{DYNAMIC}Token")
    assert tokens and all(t.plain_inputs["api_identity"] == owner for t in tokens)
    assert run.env.one(f"{DYNAMIC}EditionLimits", "edition-limits").plain_inputs["groups"] == [
        "homeops-financial/financial-tracker"]
