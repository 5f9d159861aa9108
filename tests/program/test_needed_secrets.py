"""The secrets ``needed_secrets`` lists are the ones the program asks for: the two can never disagree.

For each stack (the committed ones and variants: no Docker stack, no GitHub sync, a new domain, a
workspace file, remote workers, the instance's own credentials, the Kubernetes runtime) the whole
program runs under mocks twice:

* with no secret set, as right after ``pulumi stack init``: the keys it reports as not set (every
  ``… is not set`` and every problem at a credential key, and nothing else) are exactly the required
  keys the function lists;
* with exactly those required keys set: the program loads without a problem, so whatever the
  function calls optional the program really runs without.

The fresh stack's report ends with the one command that sets them all (``python -m homeops secrets``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config.errors import ConfigErrors
from components.config.needed_secrets import needed_secrets
from testkit.program import PLATFORM_OUTPUTS, load_stack_config, run_program

P = "homeops-windmill:"
NOT_SET = re.compile(r"(homeops-windmill:secrets\.\w+) is not set")
CREDENTIALS = {f"{P}windmillToken", f"{P}githubToken", f"{P}wmillSyncToken"}
PEM = "-----BEGIN CERTIFICATE-----\nMIIBengine\n-----END CERTIFICATE-----\n"

Config = dict[str, Any]


def reported_missing(config: Config, *, domain: bool) -> set[str]:
    """The credential keys the program reports as missing with no secret set; any other problem fails."""
    try:
        run_program(config, stack="test", platform_outputs=PLATFORM_OUTPUTS if domain else None)
    except ConfigErrors as errors:
        missing, other = set(), []
        for error in errors.errors:
            found = NOT_SET.search(error.problem)
            if found:
                missing.add(found.group(1))
            elif error.key in CREDENTIALS:  # with nothing set, a problem at a credential key is its absence
                missing.add(error.key)
            else:
                other.append(str(error))
        assert other == [], "problems other than unset secrets:\n" + "\n".join(other)
        # The report ends with the one command that sets them all, for this stack.
        assert str(errors).endswith("\nSet every missing secret in one go: python -m homeops secrets --stack test "
                                    "(it asks for each, input hidden, or reads its HOMEOPS_* variable; --list shows "
                                    "them)."), str(errors)
        return missing
    return set()


def secrets_for(keys: set[str]) -> dict[str, Any]:
    """A generated value for each key, shaped as ``run_program`` takes secrets."""
    values: dict[str, Any] = {"secrets": {}}
    for full in sorted(keys):
        name = full.removeprefix(P)
        if name.startswith("secrets."):
            entry = name.removeprefix("secrets.")
            values["secrets"][entry] = PEM if entry.startswith("pg_tls") else f"needed-{entry}-3c7e"
        else:
            values[name] = f"needed-{name}-3c7e"
    return values


def assert_consistent(config: Config, *, domain: bool = False, workspace_file: Any = None) -> set[str]:
    needs = needed_secrets(config, workspace_file)
    required = {n.key for n in needs if not n.optional}
    assert len({n.key for n in needs}) == len(needs), "each key is listed once"
    assert reported_missing(config, domain=domain) == required
    run_program(config, secrets=secrets_for(required), stack="test",
                platform_outputs=PLATFORM_OUTPUTS if domain else None)  # loads: the optional ones are optional
    return required


def platform() -> Config:
    return load_stack_config("platform")


def financial() -> Config:
    return load_stack_config("financial")


def without_docker(config: Config) -> Config:
    config[f"{P}windmillStack"] = {"enabled": False}
    config[f"{P}windmillUrl"] = "https://windmill.example.com"
    return config


def without_sync(config: Config) -> Config:
    del config[f"{P}githubSync"]
    return config


def media_domain() -> Config:
    """A new domain stack: a folder, a secret variable and a resource that references it."""
    return {
        f"{P}role": "domain",
        f"{P}domain": "media",
        f"{P}workspace": {
            "folders": [{"name": "library"}],
            "variables": [{"path": "f/library/plex_token", "secret": "plex_token", "description": "Plex API token"}],
            "resources": [{"path": "f/library/plex", "type": "c_plex",
                           "value": {"token": "$var:f/library/plex_token"}}],
            "resourceTypes": [{"name": "c_plex",
                               "schema": {"type": "object", "properties": {"token": {"type": "string"}}}}],
        },
    }


def remote_workers(config: Config) -> Config:
    stack = config[f"{P}windmillStack"]
    stack["remoteHosts"] = [{"name": "nas", "dockerHost": "ssh://deploy@nas.home.arpa"}]
    stack["postgres"]["remoteAccess"] = {"address": "10.20.0.5", "tlsCertificate": "pg_tls_cert",
                                         "tlsPrivateKey": "pg_tls_key", "tlsCa": "pg_tls_ca"}
    stack["workerGroups"].append({"name": "media", "host": "nas", "replicas": 1})
    return config


def instance_credentials(config: Config) -> Config:
    """An instance reached by URL that first boot takes over with a provided SUPERADMIN_SECRET, on EE with
    SMTP and a license key."""
    without_docker(config)
    config[f"{P}windmillEdition"] = "ee"
    config[f"{P}instance"] = {
        "firstBoot": {"enabled": True, "superadminSecret": "instance_superadmin_secret"},
        "users": [{"email": "ops@homeops.example", "name": "Ops", "superAdmin": True}],
        "settings": {"smtp": {"host": "smtp.homeops.example", "port": 587, "passwordSecret": "smtp_password"},
                     "licenseKeySecret": "windmill_license"},
    }
    return config


def kubernetes(config: Config) -> Config:
    config[f"{P}windmillStack"] = {
        "enabled": True, "runtime": "kubernetes", "edition": "ee", "baseUrl": "https://windmill.homeops.example",
        "kubernetes": {"licenseSecret": "windmill_license",
                       "postgres": {"mode": "external", "urlSecret": "windmill_database_url"},
                       "ingress": {"className": "nginx", "tlsSecret": "windmill-tls"}},
    }
    return config


def with_token_optional(config: Config) -> Config:
    """First boot explicitly off and no bootstrap token: the platform needs an operator's token."""
    config[f"{P}windmillStack"]["bootstrapToken"] = False
    config[f"{P}instance"] = {"firstBoot": {"enabled": False}}
    return config


def domain_with_own_instance(config: Config) -> Config:
    config[f"{P}windmillUrl"] = "https://windmill.example.com"
    return config


SECRETS = {
    "platform": {f"{P}secrets.{n}" for n in ("platform_postgres_password", "platform_redis_password",
                                             "platform_timescaledb_password", "platform_alerts_slack_webhook",
                                             "github_api_token", "docker_registry_password")},
    "financial": {f"{P}secrets.{n}" for n in ("alpaca_api_key_id", "alpaca_api_secret_key", "fmp_api_key",
                                              "trading_db_password", "trading_alerts_slack_webhook")},
}
TOKEN, GITHUB = f"{P}windmillToken", f"{P}githubToken"

CASES: list[tuple[str, Callable[[], Config], bool, set[str]]] = [
    ("platform", platform, False, SECRETS["platform"] | {GITHUB}),
    ("platform-no-docker", lambda: without_docker(platform()), False, SECRETS["platform"] | {GITHUB, TOKEN}),
    ("platform-no-sync", lambda: without_sync(platform()), False, SECRETS["platform"]),
    ("platform-quickstart", lambda: without_sync(without_docker(platform())), False, SECRETS["platform"] | {TOKEN}),
    ("platform-no-first-boot", lambda: with_token_optional(platform()), False,
     SECRETS["platform"] | {GITHUB, TOKEN}),
    ("platform-remote-workers", lambda: remote_workers(platform()), False,
     SECRETS["platform"] | {GITHUB} | {f"{P}secrets.pg_tls_{n}" for n in ("cert", "key", "ca")}),
    ("platform-instance-credentials", lambda: instance_credentials(without_sync(platform())), False,
     SECRETS["platform"] | {f"{P}secrets.{n}" for n in ("instance_superadmin_secret", "smtp_password",
                                                         "windmill_license")}),
    ("platform-kubernetes", lambda: kubernetes(without_sync(platform())), False,
     SECRETS["platform"] | {f"{P}secrets.windmill_license", f"{P}secrets.windmill_database_url"}),
    ("financial", financial, True, SECRETS["financial"] | {GITHUB}),
    ("financial-no-sync", lambda: without_sync(financial()), True, SECRETS["financial"]),
    ("financial-own-instance", lambda: domain_with_own_instance(without_sync(financial())), True,
     SECRETS["financial"] | {TOKEN}),
    ("media-domain", media_domain, True, {f"{P}secrets.plex_token"}),
]


@pytest.mark.parametrize(("name", "make", "domain", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_required_secrets_are_exactly_what_a_fresh_stack_reports_missing(
    name: str, make: Callable[[], Config], domain: bool, expected: set[str]
) -> None:
    assert assert_consistent(make(), domain=domain) == expected


def test_a_workspace_file_s_secrets_are_listed_and_reported_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # Pulumi runs the program in the project folder
    config = financial()
    workspace = config.pop(f"{P}workspace")
    (tmp_path / "workspaces").mkdir()
    (tmp_path / "workspaces" / "financial.yaml").write_text(yaml.safe_dump(workspace))
    config[f"{P}workspaceFile"] = "workspaces/financial.yaml"
    assert assert_consistent(config, domain=True, workspace_file=copy.deepcopy(workspace)) == (
        SECRETS["financial"] | {GITHUB})
