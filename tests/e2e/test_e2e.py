"""End-to-end tier: the platform and financial stacks as committed, with their Windmill resources
really created, updated, refreshed and deleted by the provider code against the emulator.

The platform stack runs Windmill on Docker: the Docker resources are mocked, but the readiness
gate really polls the emulator (``windmillStack.apiUrl`` points at it) and first boot really turns the
stack's generated SUPERADMIN_SECRET, which the emulator accepts as Windmill does, into the program's
own token, with which every other API resource authenticates (docs/instance.md). The tests look at
the emulator as an observer superadmin of their own (first boot revokes the default admin's tokens).
Sequence per the issue: up creates everything; a second up makes no request at all; an input
change updates in place or replaces as documented; removing an item from config deletes it; drift
made out of band is found by refresh and repaired by up. Platform first, then financial reading
the platform stack's outputs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testkit.e2e import ProviderEngine
from testkit.program import FINANCIAL_SECRETS, PLATFORM_SECRETS, ProgramRun, load_stack_config
from windmill_emulator import WindmillEmulator

MUTATING = ("POST", "DELETE", "PUT", "PATCH")
BOOTSTRAP_SECRET = "generated-superadmin-secret-4d1f8a0b9c2e7f6a5b4c3d2e"
# The mocked RandomPasswords: the Postgres password and the bootstrap SUPERADMIN_SECRET.
RANDOM = {"random:index/randomPassword:RandomPassword": lambda args: {"result": BOOTSTRAP_SECRET}}


OBSERVER = "observer@homeops.example"


def api(emu: WindmillEmulator) -> httpx.Client:
    """The tests' own view of the instance: a superadmin that first boot leaves alone."""
    return httpx.Client(base_url=emu.url + "/api", headers={"Authorization": f"Bearer {emu.create_token(OBSERVER)}"})


def platform_config(emu: WindmillEmulator) -> dict[str, Any]:
    """The committed platform stack, its API pointed at the emulator standing in for the instance."""
    config = load_stack_config("platform")
    config["homeops-windmill:windmillStack"] = {**config["homeops-windmill:windmillStack"], "apiUrl": emu.url}
    return config


def mutating(emu: WindmillEmulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emu.requests if r.method in MUTATING]


@pytest.fixture
def platform() -> Iterator[tuple[WindmillEmulator, ProviderEngine, dict[str, Any]]]:
    emu = WindmillEmulator(superadmin_secret=BOOTSTRAP_SECRET).start()
    emu.add_instance_user(OBSERVER, super_admin=True)
    try:
        # No windmillToken: first boot manages a fresh instance from the bootstrap token.
        secrets = {k: v for k, v in PLATFORM_SECRETS.items() if k != "windmillToken"}
        yield emu, ProviderEngine({}), secrets
    finally:
        emu.stop()


def test_platform_stack_lifecycle(platform: tuple[WindmillEmulator, ProviderEngine, dict[str, Any]]) -> None:
    emu, engine, secrets = platform
    config = platform_config(emu)
    up_creates_everything(emu, engine, secrets, config)
    second_up_sends_no_request(emu, engine, secrets, config)
    changed = changes_update_in_place_or_replace(emu, engine, secrets, config)
    removed = removing_an_item_deletes_it(emu, engine, secrets, changed)
    drift_is_found_by_refresh_and_repaired_by_up(emu, engine, secrets, removed)

    # 6. destroy archives the workspace (deletionMode: archive) and keeps its data.
    engine.destroy()
    with api(emu) as client:
        info = client.get("/w/homeops-platform/workspaces/get_as_superadmin").json()
        assert info["deleted"] is True



def up_creates_everything(emu: WindmillEmulator, engine: ProviderEngine, secrets: dict[str, Any],
                          config: dict[str, Any]) -> None:
    """Platform step 1: a first up on a fresh instance creates every object (and boots the instance)."""
    # 1. up creates everything.
    run, report = engine.up(config, secrets=secrets, stack="platform", outputs=RANDOM)
    # 21 API objects, the gate, and the instance's first boot, edition-limits check and default admin,
    # the workspace settings (its error handler) and two schedules (held until the sync deploys their flows).
    assert len(report.names("create")) == 28 and not report.names("update")
    assert {"instance-first-boot", "instance-edition-limits", "instance-default-admin"} <= report.names("create")
    assert "windmill-ready" in report.names("create")
    assert run.exports["windmillVersion"] == "CE v1.819.0"  # what the gate found at the API URL
    with api(emu) as client:
        assert client.get("/w/homeops-platform/workspaces/get_settings").status_code == 200
        variable = client.get("/w/homeops-platform/variables/get/f/infrastructure/postgres_password").json()
        assert variable["is_secret"] and variable["value"] == PLATFORM_SECRETS["secrets"]["platform_postgres_password"]
        resource = client.get("/w/homeops-platform/resources/get/f/infrastructure/postgres").json()
        assert resource["value"]["password"] == "$var:f/infrastructure/postgres_password"
        assert client.get("/w/homeops-platform/resources/type/exists/c_redis").json() is True
    assert run.exports["workspaceId"] == "homeops-platform"
    # The schedules wait for their flows (created disabled); the sync deploys them now, and the
    # refresh of step 5 lets the next up enable the schedules.
    with api(emu) as client:
        assert client.get("/w/homeops-platform/schedules/get/f/monitoring/weekly_report_schedule").json()[
            "enabled"] is False
        for flow in ("f/monitoring/weekly_report", "f/deployment/trigger_financial_nightly_scan"):
            client.post("/w/homeops-platform/flows/create",
                        json={"path": flow, "summary": "", "value": {"modules": []}}).raise_for_status()


def second_up_sends_no_request(emu: WindmillEmulator, engine: ProviderEngine, secrets: dict[str, Any],
                               config: dict[str, Any]) -> None:
    """Platform step 2: nothing changed, nothing sent."""
    # 2. A second up with nothing changed sends no request at all.
    emu.clear_requests()
    _, report = engine.up(config, secrets=secrets, stack="platform", outputs=RANDOM)
    assert report.names("same") == set(report.steps) and len(report.steps) == 28
    assert emu.requests == []


def changes_update_in_place_or_replace(emu: WindmillEmulator, engine: ProviderEngine, secrets: dict[str, Any],
                                       config: dict[str, Any]) -> dict[str, Any]:
    """Platform step 3: returns the changed config the later steps start from."""
    # 3. Changes: in place where the API allows, replacement for identity.
    changed = copy.deepcopy(config)
    workspace = changed["homeops-windmill:workspace"]
    workspace["name"] = "HomeOps Platform (prod)"
    workspace["folders"][1]["summary"] = "Deployments"
    workspace["variables"][0]["description"] = "rotated yearly"
    workspace["resources"][0]["value"]["port"] = 6432
    workspace["variables"][5]["path"] = "f/deployment/registry_password"
    workspace["resources"][5]["value"]["password"] = "$var:f/deployment/registry_password"
    emu.clear_requests()
    _, report = engine.up(changed, secrets=secrets, stack="platform", outputs=RANDOM)
    assert report.names("update") == {
        "platform-workspace",
        "platform-folder-deployment",
        "platform-var-f/infrastructure/postgres_password",
        "platform-resource-f/infrastructure/postgres",
        "platform-resource-f/deployment/docker_registry",
    }
    # The renamed variable is a new resource (new logical name) and the old one is deleted.
    assert "platform-var-f/deployment/registry_password" in report.names("create")
    assert "platform-var-f/deployment/docker_registry_password" in report.names("delete")
    with api(emu) as client:
        assert client.get("/w/homeops-platform/resources/get/f/infrastructure/postgres").json()["value"]["port"] == 6432
        assert client.get("/w/homeops-platform/variables/exists/f/deployment/docker_registry_password").json() is False
        assert client.get("/w/homeops-platform/workspaces/get_settings").status_code == 200
    return changed


def removing_an_item_deletes_it(emu: WindmillEmulator, engine: ProviderEngine, secrets: dict[str, Any],
                                changed: dict[str, Any]) -> dict[str, Any]:
    """Platform step 4: returns the config without the removed resource."""
    # 4. Removing an item from config deletes it.
    removed = copy.deepcopy(changed)
    removed["homeops-windmill:workspace"]["resources"] = removed["homeops-windmill:workspace"]["resources"][:-1]
    _, report = engine.up(removed, secrets=secrets, stack="platform", outputs=RANDOM)
    assert report.names("delete") == {"platform-resource-f/deployment/docker_registry"}
    with api(emu) as client:
        assert client.get("/w/homeops-platform/resources/exists/f/deployment/docker_registry").json() is False
    return removed


def drift_is_found_by_refresh_and_repaired_by_up(emu: WindmillEmulator, engine: ProviderEngine,
                                                 secrets: dict[str, Any], removed: dict[str, Any]) -> None:
    """Platform step 5: out-of-band changes are found by a read-only refresh and undone by the next up."""
    # 5. Drift made outside Pulumi is found by refresh and repaired by up.
    with api(emu) as client:
        client.post("/w/homeops-platform/variables/update/f/infrastructure/redis_password",
                    json={"value": "changed-by-hand"}).raise_for_status()
        client.post("/w/homeops-platform/resources/update/f/infrastructure/timescaledb",
                    json={"value": {"host": "elsewhere"}}).raise_for_status()
        client.delete("/w/homeops-platform/folders/delete/maintenance").raise_for_status()
    audit_before = len(emu.audit)
    emu.clear_requests()
    found = engine.refresh()
    assert found["platform-var-f/infrastructure/redis_password"] == "changed"
    assert found["platform-resource-f/infrastructure/timescaledb"] == "changed"
    assert found["platform-folder-maintenance"] == "gone"
    assert found["platform-var-f/infrastructure/postgres_password"] == "same"
    assert not mutating(emu)  # refresh only reads
    assert len(emu.audit) == audit_before  # and never decrypts a secret
    _, report = engine.up(removed, secrets=secrets, stack="platform", outputs=RANDOM)
    assert "platform-folder-maintenance" in report.names("create")
    assert {"platform-var-f/infrastructure/redis_password",
            "platform-resource-f/infrastructure/timescaledb"} <= report.names("update")
    with api(emu) as client:
        redis = client.get("/w/homeops-platform/variables/get/f/infrastructure/redis_password").json()
        assert redis["value"] == PLATFORM_SECRETS["secrets"]["platform_redis_password"]
        timescale = client.get("/w/homeops-platform/resources/get/f/infrastructure/timescaledb").json()
        assert timescale["value"]["host"] == "timescaledb.homeops.example"
        assert client.get("/w/homeops-platform/folders/exists/maintenance").json() is True
        assert client.get("/w/homeops-platform/schedules/get/f/monitoring/weekly_report_schedule").json()[
            "enabled"] is True  # enabled once its flow was deployed
    assert set(engine.refresh().values()) == {"same"}


def test_financial_stack_on_the_platform_stacks_instance(
    platform: tuple[WindmillEmulator, ProviderEngine, dict[str, Any]],
) -> None:
    emu, platform_engine, platform_secrets = platform
    platform_run, _ = platform_engine.up(platform_config(emu), secrets=platform_secrets, stack="platform",
                                         outputs=RANDOM)
    names = ("windmillUrl", "windmillApiUrl", "windmillToken", "windmillVersion", "workspaceId")
    outputs = {k: platform_run.exports[k] for k in names}
    assert "windmillToken" in platform_run.secret_exports

    engine = ProviderEngine({})  # nothing in the financial stack config: all from the platform stack
    config = load_stack_config("financial")
    # No wmillSyncToken: the stack mints the sync workflow's token, limited to its workspace.
    secrets = {k: v for k, v in FINANCIAL_SECRETS.items() if k != "wmillSyncToken"}
    run, report = engine.up(config, secrets=secrets, stack="financial", platform_outputs=outputs)
    # workspace, folder, 2 members, group, 3 types, 5 variables, 4 resources, the sync token, the
    # platform link's 2 tokens and 2 variables, the readiness gate, the edition-limits check, the
    # alert forwarder script and the workspace settings that make it the error handler.
    assert len(report.names("create")) == 1 + 1 + 2 + 1 + 3 + 5 + 4 + 1 + 4 + 1 + 1 + 2
    minted_sync_token_reaches_scripts_only(emu, run)
    with api(emu) as client:
        members = {u["email"]: u for u in client.get("/w/homeops-financial/users/list").json()}
        assert members["trader@homeops.example"]["is_admin"] is True
        group = client.get("/w/homeops-financial/groups/get/financial-tracker").json()
        assert {"trader", "analyst"} <= set(group["members"])
        folder = client.get("/w/homeops-financial/folders/get/atom").json()
        assert "g/financial-tracker" in folder["owners"]
        alpaca = client.get("/w/homeops-financial/resources/get/f/atom/alpaca").json()
        assert alpaca["resource_type"] == "c_alpaca"
    assert run.exports["workspaceId"] == "homeops-financial"

    platform_link_tokens_run_their_one_flow(emu, outputs)

    emu.clear_requests()
    _, report = engine.up(config, secrets=secrets, stack="financial", platform_outputs=outputs)
    assert report.names("same") == set(report.steps)
    assert emu.requests == []

    membership_changes_in_place_and_group_drift_is_repaired(emu, engine, secrets, config, outputs)


def minted_sync_token_reaches_scripts_only(emu: WindmillEmulator, run: ProgramRun) -> None:
    """The token the financial stack mints for its sync workflow works on its workspace's scripts only."""
    [sync_secret] = [r for r in run.env.find("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret")
                     if r.plain_inputs["secretName"] == "WMILL_TOKEN_FINANCIAL"]
    minted = sync_secret.plain_inputs["value"]
    with httpx.Client(base_url=emu.url + "/api", headers={"Authorization": f"Bearer {minted}"}) as workflow:
        assert workflow.get("/w/homeops-financial/scripts/list").status_code == 200
        assert workflow.get("/w/homeops-platform/scripts/list").status_code == 401  # this workspace only
        # ... and only what a sync needs (issue 10): no secret, no variable list.
        assert workflow.get("/w/homeops-financial/variables/list").status_code == 401
        assert workflow.get("/w/homeops-financial/variables/get/f/atom/alpaca_api_secret_key").status_code == 401


def platform_link_tokens_run_their_one_flow(emu: WindmillEmulator, outputs: dict[str, Any]) -> None:
    """The financial stack's platform link: one token each way, each scoped to the one flow it may start."""
    # The platform link: the domain may run platform services, the platform may trigger the domain.
    with api(emu) as client:
        services = client.get("/w/homeops-financial/variables/get/f/atom/platform_services_token").json()
        triggers = client.get("/w/homeops-platform/variables/get/f/deployment/financial_trigger_token").json()
        assert services["is_secret"] and triggers["is_secret"]
    # Windmill lists only the caller's tokens: these belong to the program token's user (first boot's).
    program_token = outputs["windmillToken"]
    with httpx.Client(base_url=emu.url + "/api", headers={"Authorization": f"Bearer {program_token}"}) as owner:
        scopes = {t["token_prefix"]: t["scopes"] for t in owner.get("/users/tokens/list").json()}
    assert scopes[services["value"][:10]] == ["jobs:run:flows:f/monitoring/alert_dispatcher"]
    assert scopes[triggers["value"][:10]] == ["jobs:run:flows:f/atom/nightly_scan"]
    for token, allowed, refused, flow in (
        (services["value"], "homeops-platform", "homeops-financial", "f/monitoring/alert_dispatcher"),
        (triggers["value"], "homeops-financial", "homeops-platform", "f/atom/nightly_scan"),
    ):
        with httpx.Client(base_url=emu.url + "/api", headers={"Authorization": f"Bearer {token}"}) as caller:
            # Its one scope lets it start its flow (404 while the sync has not deployed it), nothing else.
            assert caller.post(f"/w/{allowed}/jobs/run/f/{flow}", json={}).status_code in (201, 404)
            assert caller.get(f"/w/{allowed}/folders/list").status_code == 401  # Required scope: folders:read
            assert caller.post(f"/w/{refused}/jobs/run/f/{flow}", json={}).status_code == 401


def membership_changes_in_place_and_group_drift_is_repaired(emu: WindmillEmulator, engine: ProviderEngine,
                                                            secrets: dict[str, Any], config: dict[str, Any],
                                                            outputs: dict[str, Any]) -> None:
    """Financial stack: a membership change updates in place; an out-of-band group change is repaired."""
    # Membership changes in place; an out-of-band group change is repaired.
    changed = copy.deepcopy(config)
    changed["homeops-windmill:workspace"]["groups"][0]["members"] = ["trader@homeops.example"]
    changed["homeops-windmill:workspace"]["members"][1]["role"] = "operator"
    _, report = engine.up(changed, secrets=secrets, stack="financial", platform_outputs=outputs)
    assert report.names("update") == {"financial-group-financial-tracker",
                                      "financial-member-analyst@homeops.example"}
    with api(emu) as client:
        group = client.get("/w/homeops-financial/groups/get/financial-tracker").json()
        assert "analyst" not in group["members"]
        client.post("/w/homeops-financial/groups/adduser/financial-tracker", json={"username": "analyst"})
    assert engine.refresh()["financial-group-financial-tracker"] == "changed"
    _, report = engine.up(changed, secrets=secrets, stack="financial", platform_outputs=outputs)
    assert report.names("update") == {"financial-group-financial-tracker"}
    with api(emu) as client:
        assert "analyst" not in client.get("/w/homeops-financial/groups/get/financial-tracker").json()["members"]
