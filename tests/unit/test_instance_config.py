"""The ``instance`` config parser: defaults, and every bad value named by its key (never a secret)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config.errors import ConfigErrors
from components.config.instance import InstanceArgs, published_at
from components.config.windmill_stack import WindmillStackArgs

KEY = "homeops-windmill:instance"


def docker(**caddy: Any) -> WindmillStackArgs:
    args = WindmillStackArgs.from_config({"enabled": True, "caddy": caddy}, "homeops-windmill:windmillStack")
    assert args is not None
    return args


def parse(data: dict[str, Any], *, stack: WindmillStackArgs | None = None, edition: str = "ce",
          operator_token: bool = False, role: str = "platform") -> InstanceArgs | None:
    return InstanceArgs.from_config(data, key=KEY, secrets_key="homeops-windmill:secrets",
                                    secret_names={"smtp_password", "license"}, role=role, stack=stack,
                                    edition=edition, operator_token=operator_token)


def problems(data: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ConfigErrors) as caught:
        parse(data, **kwargs)
    return {e.key: e.problem for e in caught.value.errors}


def test_first_boot_is_on_by_default_only_on_docker_without_an_operator_token() -> None:
    assert parse({}) is None  # an instance reached by URL declares nothing by default
    booted = parse({}, stack=docker())
    assert booted is not None and booted.first_boot.enabled
    assert booted.first_boot.default_admin == "rotate"  # no operator declared
    assert parse({}, stack=docker(), operator_token=True) is None
    operators = parse({"users": [{"email": "ops@homeops.example", "superAdmin": True}]}, stack=docker())
    assert operators is not None and operators.first_boot.default_admin == "remove"


def test_every_bad_value_is_reported_with_its_key() -> None:
    found = problems({
        "firstBoot": {"defaultAdmin": "remove", "renewDaysBefore": 90, "superadminSecret": "missing",
                      "automationEmail": "ops@homeops.example"},
        "users": [{"email": "ops@homeops.example"}, {"email": "Not An Email"}],
        "groups": [{"name": "On Call"}],
        "settings": {"baseUrl": "ftp://x", "criticalAlertChannels": [{"pager": "x"}]},
        "extra": 1,
    }, stack=docker(), edition="ee")
    assert set(found) == {
        f"{KEY}.extra", f"{KEY}.firstBoot.defaultAdmin", f"{KEY}.firstBoot.renewDaysBefore",
        f"{KEY}.firstBoot.superadminSecret", f"{KEY}.firstBoot.automationEmail", f"{KEY}.users[1].email",
        f"{KEY}.groups[0].name", f"{KEY}.settings.baseUrl", f"{KEY}.settings.criticalAlertChannels[0]",
    }
    assert f"pulumi config set --stack {pulumi.get_stack()} --secret --path 'secrets.missing'" in found[
        f"{KEY}.firstBoot.superadminSecret"]


def test_credentials_are_names_in_secrets_and_land_where_windmill_keeps_them() -> None:
    args = parse({"settings": {"smtp": {"host": "smtp.example", "port": 587, "passwordSecret": "smtp_password"},
                               "licenseKeySecret": "license"}}, edition="ee")
    assert args is not None
    smtp, license_key = args.settings
    assert (smtp.key, smtp.value, smtp.secret, smtp.secret_field) == (
        "smtp_settings", {"smtp_host": "smtp.example", "smtp_port": 587}, "smtp_password", "smtp_password")
    assert (license_key.key, license_key.value, license_key.secret) == ("license_key", None, "license")


def test_enterprise_only_settings_and_worker_groups_are_refused_on_ce() -> None:
    found = problems({"settings": {"licenseKeySecret": "license", "retentionPeriodSecs": 40 * 86400},
                      "workerGroups": {"reports": {"worker_tags": ["reports"]}}})
    assert set(found) == {f"{KEY}.settings.licenseKeySecret", f"{KEY}.settings.retentionPeriodSecs",
                          f"{KEY}.workerGroups"}
    assert "Enterprise Edition" in found[f"{KEY}.settings.licenseKeySecret"]
    assert "30 days" in found[f"{KEY}.settings.retentionPeriodSecs"]
    ee = parse({"workerGroups": {"reports": {"worker_tags": ["reports"]}}}, edition="ee")
    assert ee is not None and ee.worker_groups == (("reports", {"worker_tags": ["reports"]}),)
    assert set(problems({"workerGroups": {"reports": {"worker_tag": []}}}, edition="ee")) == {
        f"{KEY}.workerGroups.reports"}


def test_only_the_platform_stack_declares_the_instance() -> None:
    assert set(problems({"users": []}, role="domain")) == {KEY}
    assert parse({}, role="domain") is None


def test_published_at_names_what_leaves_loopback() -> None:
    assert published_at(None) is None
    assert published_at(docker()) is None
    assert published_at(docker(bindAddress="0.0.0.0")) == "0.0.0.0:80"  # noqa: S104
    assert published_at(docker(bindAddress="127.0.0.1", domain="windmill.example")).startswith("windmill.example")


def test_publishing_without_first_boot_needs_a_secured_default_admin() -> None:
    lan = docker(bindAddress="0.0.0.0")  # noqa: S104
    found = problems({"firstBoot": {"enabled": False}, "users": [{"email": "a@b.example"}]}, stack=lan)
    assert set(found) == {f"{KEY}.firstBoot.enabled"} and "defaultAdminSecured" in found[f"{KEY}.firstBoot.enabled"]
    assert parse({"firstBoot": {"enabled": False, "defaultAdminSecured": True}, "users": [{"email": "a@b.example"}]},
                 stack=lan) is not None
