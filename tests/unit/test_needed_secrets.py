"""``needed_secrets``: which secret config keys a stack needs, from its raw config; and the README's table.

The program-tier test (tests/program/test_needed_secrets.py) checks the function against what the
program reports; these check its rules one by one, and that the README's *Secrets each stack needs*
lists exactly what it finds for the committed stacks, each with the variable ``python -m homeops
secrets`` reads.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from components.config.errors import ConfigError
from components.config.needed_secrets import NeededSecret, needed_secrets
from homeops.secret_setup import env_name
from testkit.program import ROOT
from testkit.quickstart import secrets_table

P = "homeops-windmill:"


def committed(stack: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"])


def by_key(config: dict[str, Any], workspace_file: Any = None) -> dict[str, NeededSecret]:
    return {need.key: need for need in needed_secrets(config, workspace_file)}


def test_the_committed_platform_stack_needs_its_variables_secrets_and_the_github_token() -> None:
    needs = needed_secrets(committed("platform"))
    assert [n.name for n in needs] == [
        "windmillToken", "secrets.platform_postgres_password", "secrets.platform_redis_password",
        "secrets.platform_timescaledb_password", "secrets.platform_alerts_slack_webhook",
        "secrets.github_api_token", "secrets.docker_registry_password", "githubToken", "wmillSyncToken",
    ]
    assert [n.name for n in needs if n.optional] == ["windmillToken", "wmillSyncToken"]
    postgres = needs[1]
    assert postgres.path and postgres.secret_name == "platform_postgres_password"
    assert postgres.description == "Password of the platform PostgreSQL user"  # the variable's own description
    assert postgres.referenced_by == f"{P}workspace.variables[0].secret"
    assert not needs[0].path and needs[0].secret_name is None
    assert needs[0].description == "API token of a Windmill superadmin used to manage workspaces"


@pytest.mark.parametrize(("stack", "instance", "required"), [
    ({"enabled": True}, None, False),                                   # the bootstrap secret
    ({"enabled": True, "bootstrapToken": False}, None, False),          # first boot, on by default
    ({"enabled": True, "bootstrapToken": False}, {"firstBoot": {"enabled": False}}, True),
    ({"enabled": False}, None, True),                                   # an existing instance: its token
    ({"enabled": False}, {"firstBoot": {"enabled": True}}, False),      # first boot takes it over by URL
    ({"enabled": "true"}, None, True),                                  # not a boolean: not a Windmill it runs
])
def test_the_platform_token_is_required_unless_first_boot_finds_its_way_in(
    stack: dict[str, Any], instance: dict[str, Any] | None, required: bool
) -> None:
    config = {f"{P}role": "platform", f"{P}windmillStack": stack, **({f"{P}instance": instance} if instance else {})}
    assert by_key(config)[f"{P}windmillToken"].optional is not required


def test_a_domain_needs_a_token_only_when_it_names_an_instance_itself() -> None:
    config = committed("financial")
    assert f"{P}windmillToken" not in by_key(config)
    config[f"{P}windmillUrl"] = "https://windmill.example.com"
    token = by_key(config)[f"{P}windmillToken"]
    assert not token.optional and token.referenced_by == f"{P}windmillUrl"


def test_without_github_sync_neither_github_token_is_needed() -> None:
    config = committed("financial")
    del config[f"{P}githubSync"]
    assert {n.name for n in needed_secrets(config)} == {
        "secrets.alpaca_api_key_id", "secrets.alpaca_api_secret_key", "secrets.fmp_api_key",
        "secrets.trading_db_password", "secrets.trading_alerts_slack_webhook"}


def test_a_secret_two_variables_share_is_listed_once_and_plain_variables_not_at_all() -> None:
    config = {f"{P}role": "domain", f"{P}domain": "media", f"{P}workspace": {"variables": [
        {"path": "f/media/a", "secret": "shared"},
        {"path": "f/media/b", "secret": "shared", "description": "second use"},
        {"path": "f/media/c", "value": "plain"},
        {"path": "f/media/d", "secret": "not a name"},
    ]}}
    needs = needed_secrets(config)
    assert [(n.name, n.description) for n in needs] == [("secrets.shared", "the value of workspace variable f/media/a")]


def test_the_workspace_file_is_read_for_its_secrets_and_required_when_named() -> None:
    config = committed("financial")
    workspace = config.pop(f"{P}workspace")
    config[f"{P}workspaceFile"] = "workspaces/financial.yaml"
    with pytest.raises(ConfigError) as refused:
        needed_secrets(config)
    assert refused.value.key == f"{P}workspaceFile"
    needs = by_key(config, copy.deepcopy(workspace))
    assert needs[f"{P}secrets.fmp_api_key"].referenced_by == "workspaces/financial.yaml: variables[2].secret"


def test_instance_and_runtime_credentials_are_listed_where_the_program_reads_them() -> None:
    config = committed("platform")
    config[f"{P}instance"] = {"firstBoot": {"superadminSecret": "boot"},
                              "settings": {"smtp": {"passwordSecret": "smtp"}, "licenseKeySecret": "license"}}
    config[f"{P}windmillStack"]["postgres"]["remoteAccess"] = {"tlsCertificate": "crt", "tlsPrivateKey": "key",
                                                               "tlsCa": "ca"}
    needs = by_key(config)
    for name, where in (("boot", "instance.firstBoot.superadminSecret"),
                        ("smtp", "instance.settings.smtp.passwordSecret"),
                        ("license", "instance.settings.licenseKeySecret"),
                        ("crt", "windmillStack.postgres.remoteAccess.tlsCertificate"),
                        ("key", "windmillStack.postgres.remoteAccess.tlsPrivateKey"),
                        ("ca", "windmillStack.postgres.remoteAccess.tlsCa")):
        assert needs[f"{P}secrets.{name}"].referenced_by == P + where
    config[f"{P}windmillStack"]["enabled"] = False  # a disabled section is not read, as the program does
    config[f"{P}role"] = "domain"  # and a domain stack's instance section is refused, not read
    assert not {f"{P}secrets.{n}" for n in ("boot", "smtp", "license", "crt", "key", "ca")} & set(by_key(config))


@pytest.mark.parametrize(("mode", "expected"), [("external", {"db_url", "license"}), ("demo", {"license"})])
def test_the_kubernetes_runtime_needs_its_database_url_unless_demo(mode: str, expected: set[str]) -> None:
    config = {f"{P}role": "platform", f"{P}windmillStack": {
        "enabled": True, "runtime": "kubernetes",
        "kubernetes": {"licenseSecret": "license", "postgres": {"mode": mode, "urlSecret": "db_url"}}}}
    assert {n.secret_name for n in needed_secrets(config) if n.path} == expected


@pytest.mark.parametrize(("name", "variable"), [
    ("secrets.fmp_api_key", "HOMEOPS_SECRET_FMP_API_KEY"),
    ("secrets.Mixed_Case2", "HOMEOPS_SECRET_MIXED_CASE2"),
    ("windmillToken", "HOMEOPS_WINDMILL_TOKEN"),
    ("githubToken", "HOMEOPS_GITHUB_TOKEN"),
    ("wmillSyncToken", "HOMEOPS_WMILL_SYNC_TOKEN"),
])
def test_each_secret_has_its_environment_variable(name: str, variable: str) -> None:
    assert env_name(NeededSecret(P + name, "")) == variable


@pytest.mark.parametrize("stack", ["platform", "financial"])
def test_the_readme_table_lists_what_each_committed_stack_needs_with_its_variable(stack: str) -> None:
    rows = [row for row in secrets_table() if row.applies_to(stack)]
    needs = needed_secrets(committed(stack))
    assert {row.key for row in rows} == {need.name for need in needs}
    assert {row.key: row.env for row in rows} == {need.name: env_name(need) for need in needs}
    optional = {row.key for row in rows if "optional" in row.stacks or "optional" in row.what}
    assert optional == {need.name for need in needs if need.optional}
