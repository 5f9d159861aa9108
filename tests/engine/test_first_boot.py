"""Unattended first boot, run by the real Pulumi CLI against a fresh emulator (docs/instance.md).

The emulator starts as a fresh Windmill does: the default admin ``admin@windmill.dev`` / ``changeme``
and a ``SUPERADMIN_SECRET``, which the platform stack is given as ``instance.firstBoot.superadminSecret``
(an instance reached by URL: the Docker provider cannot run here, so recreating the Docker servers
without the secret is tested under mocks, tests/program/test_instance_program.py). One ``pulumi up``
must leave no default password, the program on its own token, the bootstrap secret's tokens revoked
and the secret out of state; the second ``up`` changes nothing. Then: instance settings drift found by
refresh and repaired by up, an Enterprise-only setting refused at preview on CE, a third workspace
refused before any mutating request, and no credential in any output, log or state file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from testkit.engine import PulumiProject
from tests.engine.quickstart import secret_value
from windmill_emulator import WindmillEmulator

SECRET = "engine-tier-superadmin-secret-8d41be"
AUTOMATION = "windmill-automation@homeops.invalid"
OPERATOR = "ops@homeops.example"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PLATFORM_SECRETS = ("platform_postgres_password", "platform_redis_password", "platform_timescaledb_password",
                    "platform_alerts_slack_webhook", "github_api_token", "docker_registry_password")


@dataclass
class Instance:
    """The emulator, the project copy and what the tests learn along the way."""

    emulator: WindmillEmulator
    project: PulumiProject
    bootstrap_tokens: list[str] = field(default_factory=list)
    program_token: str = ""

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.emulator.url + "/api", headers={"Authorization": f"Bearer {token}"})

    def mutations(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.emulator.requests if r.method in MUTATING]

    def config(self, *args: str) -> None:
        self.project.pulumi("config", "set", "--stack", "platform", *args)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    emulator = WindmillEmulator(superadmin_secret=SECRET).start()
    try:
        yield Instance(emulator, PulumiProject(tmp_path_factory.mktemp("first-boot")))
    finally:
        emulator.stop()


def test_the_stack_is_configured_with_no_api_token_only_the_bootstrap_secret(instance: Instance) -> None:
    with instance.api(SECRET) as api:  # a token minted under the secret before first boot
        instance.bootstrap_tokens.append(api.post("/users/tokens/create", json={"label": "early"}).text)
    project = instance.project
    project.pulumi("stack", "init", "platform", "--secrets-provider", "passphrase")
    project.pulumi("config", "rm", "--stack", "platform", "githubSync")
    # One command for all of it (typed as `config set --path` types each value): every `config set` pays
    # the CLI's start and, with --secret, the passphrase's key derivation again.
    project.pulumi("config", "set-all", "--stack", "platform", "--path",
                   *(f"--secret=secrets.{name}={secret_value(name)}" for name in PLATFORM_SECRETS),
                   f"--secret=secrets.bootstrap_superadmin_secret={SECRET}",
                   "--plaintext=windmillStack.enabled=false",
                   f"--plaintext=windmillUrl={instance.emulator.url}",
                   "--plaintext=instance.firstBoot.enabled=true",
                   "--plaintext=instance.firstBoot.superadminSecret=bootstrap_superadmin_secret",
                   f"--plaintext=instance.users[0].email={OPERATOR}",
                   "--plaintext=instance.users[0].name=Ops",
                   "--plaintext=instance.users[0].superAdmin=true",
                   "--plaintext=instance.settings.baseUrl=https://windmill.homeops.example",
                   "--plaintext=instance.settings.retentionPeriodSecs=604800")
    assert "homeops-windmill:windmillToken" not in project.stack_file("platform")


def test_one_up_boots_the_instance_with_no_manual_step(instance: Instance) -> None:
    project, emulator = instance.project, instance.emulator
    up = project.pulumi("up", "--stack", "platform", "--yes")
    assert re.search(r"\+ \d+ created", up.output), up.output
    instance.program_token = project.pulumi("stack", "output", "--stack", "platform", "windmillToken",
                                            "--show-secrets").output.strip()
    with instance.api(instance.program_token) as api:
        me = api.get("/users/whoami").json()
        assert (me["email"], me["super_admin"]) == (AUTOMATION, True)  # the program's own token
        users = {u["email"]: u for u in api.get("/users/list_as_super_admin").json()}
        workspaces = {w["id"]: w for w in api.get("/workspaces/list_as_superadmin").json()}
    assert "admin@windmill.dev" not in users  # removed: an operator superadmin is declared
    assert users[OPERATOR]["super_admin"] is True
    assert workspaces["homeops-platform"]["owner"] == AUTOMATION  # created with the program token
    login = httpx.post(emulator.url + "/api/auth/login", json={"email": "admin@windmill.dev", "password": "changeme"})
    assert login.status_code == 400
    with instance.api(emulator.admin_token) as api:  # the default admin's tokens are revoked with it
        assert api.get("/users/whoami").status_code == 401
    for token in instance.bootstrap_tokens:  # so is everything the bootstrap secret minted
        with instance.api(token) as api:
            assert api.get("/users/whoami").status_code == 401
    outputs = json.loads(project.pulumi("stack", "output", "--stack", "platform", "--json").output)
    assert outputs["windmillFirstBoot"] == {"automationUser": AUTOMATION, "defaultAdmin": "remove"}
    assert outputs["windmillTokenOwner"] == AUTOMATION
    assert outputs["windmillToken"] == "[secret]" and outputs["instanceUserPasswords"] == "[secret]"


def test_the_second_up_changes_nothing_and_the_bootstrap_secret_is_retired(instance: Instance) -> None:
    instance.emulator.clear_requests()
    project = instance.project
    second = project.pulumi("up", "--stack", "platform", "--yes", "--expect-no-changes")
    assert "error" not in second.output.lower(), second.output
    assert instance.mutations() == []
    # The program no longer hands the secret to first boot, which never stored it; once it is removed
    # from config too (docs/instance.md), nothing in state holds it.
    first_boot = [r for r in json.loads(project.pulumi("stack", "export", "--stack", "platform", "--show-secrets")
                                        .output)["deployment"]["resources"] if r["type"].endswith(":FirstBoot")]
    assert first_boot and SECRET not in json.dumps(first_boot)
    project.pulumi("config", "rm", "--stack", "platform", "--path", "secrets.bootstrap_superadmin_secret")
    project.pulumi("config", "rm", "--stack", "platform", "--path", "instance.firstBoot.superadminSecret")
    project.pulumi("up", "--stack", "platform", "--yes", "--expect-no-changes")
    assert SECRET not in project.pulumi("stack", "export", "--stack", "platform", "--show-secrets").output
    assert instance.mutations() == []


def test_refresh_finds_an_instance_setting_changed_outside_and_up_repairs_it(instance: Instance) -> None:
    with instance.api(instance.program_token) as api:
        api.post("/settings/global/base_url", json={"value": "https://changed-in-the-ui.example"})
        api.post("/settings/global/email_domain", json={"value": "mail.homeops.example"})  # not declared
    project = instance.project
    refreshed = project.pulumi("refresh", "--stack", "platform", "--yes", "--diff")
    assert re.search(r"~ pulumi-python:dynamic/windmill:InstanceSetting: \(update\)\s+\[id=base_url\]",
                     refreshed.output), refreshed.output
    project.pulumi("up", "--stack", "platform", "--yes")
    with instance.api(instance.program_token) as api:
        assert api.get("/settings/global/base_url").json() == "https://windmill.homeops.example"
        assert api.get("/settings/global/email_domain").json() == "mail.homeops.example"  # left alone
    project.pulumi("preview", "--stack", "platform", "--expect-no-changes")


def test_an_enterprise_only_setting_is_refused_at_preview_on_ce(instance: Instance) -> None:
    project = instance.project
    stack_file = project.dir / "Pulumi.platform.yaml"
    before = stack_file.read_text()
    instance.emulator.clear_requests()
    try:
        instance.config("--path", "instance.settings.smtp.host", "smtp.homeops.example")
        preview = project.pulumi("preview", "--stack", "platform", check=False)
    finally:
        stack_file.write_text(before)
    assert preview.code != 0
    assert "homeops-windmill:instance.settings.smtp" in preview.output and "Enterprise Edition" in preview.output
    assert "Traceback" not in preview.output
    assert instance.mutations() == []


def test_a_third_workspace_on_ce_is_refused_before_any_mutating_request(instance: Instance) -> None:
    with instance.api(instance.program_token) as api:
        assert api.post("/workspaces/create", json={"id": "media", "name": "Media"}).status_code == 200
    project = instance.project
    stack_file = project.dir / "Pulumi.platform.yaml"
    before = stack_file.read_text()
    instance.emulator.clear_requests()
    try:
        instance.config("--path", "workspace.id", "homeops-platform-v2")  # a replacement: a third workspace
        up = project.pulumi("up", "--stack", "platform", "--yes", check=False)
    finally:
        stack_file.write_text(before)
    assert up.code != 0
    assert "Community Edition allows 2 workspaces" in up.output and "Archive" in up.output, up.output
    assert instance.mutations() == []
    project.pulumi("preview", "--stack", "platform", "--expect-no-changes")


def test_no_credential_appears_in_any_output_or_state_file(instance: Instance) -> None:
    project = instance.project
    exported = project.pulumi("stack", "export", "--stack", "platform").output
    state_files = "".join(p.read_text(errors="replace") for p in project.state.rglob("*") if p.is_file())
    credentials = [SECRET, instance.program_token, instance.emulator.admin_token, *instance.bootstrap_tokens,
                   *(secret_value(name) for name in PLATFORM_SECRETS)]
    # Everything the CLI printed, except the commands that asked for secrets in plain text.
    printed = "\n".join(r.output for r in project.history if "--show-secrets" not in r.args)
    for value in credentials:
        assert value not in printed, value[:6]
        assert value not in exported and value not in state_files, value[:6]
