"""Schedules, workspace settings and shared alerting through the real Pulumi CLI and engine.

The committed stacks, as the README's quickstart deploys them, against the emulator: bad schedule
input stops the preview before any request; the platform's schedules are created waiting for the
flows the sync deploys and are enabled by ``pulumi up --refresh`` once those flows exist; the
platform's own error handler is the dispatcher; the financial workspace's error handler is its
forwarder, whose services token may run the dispatcher and nothing else; a handler changed in the
UI is drift that ``up`` repairs; the platform lists the domain tokens it holds. Tests run in file
order, sharing the stacks.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from components.alerting import forwarder_content
from testkit.engine import ROOT, PulumiProject
from tests.engine.quickstart import Step, quickstart_steps, run_step
from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import deploy_flow

MEMBERS = ("trader@homeops.example", "analyst@homeops.example")
SCHEDULES = {"f/monitoring/weekly_report_schedule": "f/monitoring/weekly_report",
             "f/deployment/financial_nightly_scan_schedule": "f/deployment/trigger_financial_nightly_scan"}
DISPATCHER = "f/monitoring/alert_dispatcher"


@dataclass
class Site:
    emulator: WindmillEmulator
    project: PulumiProject

    def api(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.emulator.url + "/api",
                            headers={"Authorization": f"Bearer {token or self.emulator.admin_token}"})

    def schedule(self, path: str) -> dict[str, Any] | None:
        with self.api() as api:
            r = api.get(f"/w/homeops-platform/schedules/get/{path}")
        return r.json() if r.status_code == 200 else None

    def settings(self, workspace: str) -> dict[str, Any]:
        with self.api() as api:
            return dict(api.get(f"/w/{workspace}/workspaces/get_settings").json())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    emulator = WindmillEmulator().start()
    for email in MEMBERS:
        emulator.add_instance_user(email)
    try:
        yield Site(emulator, PulumiProject(tmp_path_factory.mktemp("schedules")))
    finally:
        emulator.stop()


def commands(site: Site, stack: str) -> list[Step]:
    return quickstart_steps(stack, url=site.emulator.url)


def run(site: Site, stack: str, step: Step) -> str:
    return run_step(site.project, step, stack, token=site.emulator.admin_token).output


def set_up(site: Site, stack: str) -> dict[str, str]:
    """Run the README block for ``stack``; return each command's output by command name."""
    return {step.name: run(site, stack, step) for step in commands(site, stack)}


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        ("workspace.schedules[0].schedule", "0 8 * * MON", "5 field(s)"),
        ("workspace.schedules[1].timezone", "Wall Street", "IANA time zone"),
        ("workspace.schedules[1].flow", "f/atom/nightly_scan", "this workspace's folders"),
    ],
)
def test_bad_schedule_input_is_refused_at_preview_with_zero_requests(
    site: Site, path: str, value: str, says: str
) -> None:
    project = site.project
    if "platform" not in project.pulumi("stack", "ls").output:
        for step in commands(site, "platform"):
            if step.name not in ("preview", "up"):
                run(site, "platform", step)
    stack_file = project.dir / "Pulumi.platform.yaml"
    before = stack_file.read_text()
    try:
        project.pulumi("config", "set", "--stack", "platform", "--path", path, value)
        site.emulator.clear_requests()
        result = project.pulumi("preview", "--stack", "platform", check=False)
    finally:
        stack_file.write_text(before)
    assert result.code != 0
    assert f"homeops-windmill:{path}" in result.output and says in result.output, result.output
    assert "Traceback" not in result.output
    assert site.emulator.requests == []  # refused before any call


def test_the_platform_creates_its_schedules_waiting_for_the_flows_the_sync_deploys(site: Site) -> None:
    project = site.project
    project.pulumi("stack", "rm", "platform", "--yes", "--force")  # back to the quickstart's fresh stack
    shutil.copy(ROOT / "Pulumi.platform.yaml", project.dir / "Pulumi.platform.yaml")
    outputs = set_up(site, "platform")
    assert "next_fire_times" in outputs["preview"], outputs["preview"]  # when they will run, at preview
    for path, flow in SCHEDULES.items():
        live = site.schedule(path)
        assert live is not None and live["script_path"] == flow and live["is_flow"] is True
        assert live["enabled"] is False  # its flow is not deployed yet: held, not failed
    assert site.emulator.scheduled_jobs == []
    handler = site.settings("homeops-platform")["error_handler"]
    assert handler["path"] == f"flow/{DISPATCHER}"  # the platform's failures go straight to the dispatcher
    project.pulumi("preview", "--stack", "platform", "--expect-no-changes")


def test_the_financial_error_handler_is_its_forwarder_and_its_token_runs_only_the_dispatcher(site: Site) -> None:
    outputs = set_up(site, "financial")
    assert "cross-workspace: homeops-financial may run f/monitoring/alert_dispatcher" in outputs["preview"]
    handler = site.settings("homeops-financial")["error_handler"]
    assert handler["path"] == "script/f/atom/platform_alert_forwarder"
    assert handler["extra_args"] == {"dispatcher_path": DISPATCHER, "platform_workspace": "homeops-platform",
                                     "token_variable": "f/atom/platform_services_token"}
    with site.api() as api:
        script = api.get("/w/homeops-financial/scripts/get/p/f/atom/platform_alert_forwarder").json()
        token = api.get("/w/homeops-financial/variables/get/f/atom/platform_services_token").json()["value"]
    assert script["content"] == forwarder_content() and script["language"] == "python3"
    deploy_flow(site.emulator, "homeops-platform", DISPATCHER)  # what the platform's sync deploys
    deploy_flow(site.emulator, "homeops-platform", "f/deployment/other_flow")
    deploy_flow(site.emulator, "homeops-financial", "f/atom/nightly_scan")
    with site.api(token) as forwarder:
        assert forwarder.post(f"/w/homeops-platform/jobs/run/f/{DISPATCHER}", json={"error": {}}).status_code == 201
        assert forwarder.post("/w/homeops-platform/jobs/run/f/f/deployment/other_flow", json={}).status_code == 401
        assert forwarder.post("/w/homeops-financial/jobs/run/f/f/atom/nightly_scan", json={}).status_code == 401
        assert forwarder.get("/w/homeops-platform/variables/list").status_code == 401
    site.project.pulumi("preview", "--stack", "financial", "--expect-no-changes")


def test_after_the_sync_up_refresh_enables_the_schedules(site: Site) -> None:
    for flow in SCHEDULES.values():
        deploy_flow(site.emulator, "homeops-platform", flow)  # the sync workflow ran
    project = site.project
    result = project.pulumi("up", "--stack", "platform", "--refresh", "--yes")
    assert "enabled" in result.output
    for path in SCHEDULES:
        assert site.schedule(path)["enabled"] is True  # type: ignore[index]
    assert sorted(j["schedule_path"] for j in site.emulator.scheduled_jobs) == sorted(SCHEDULES)
    project.pulumi("refresh", "--stack", "platform", "--yes")
    project.pulumi("preview", "--stack", "platform", "--expect-no-changes")


def test_a_handler_changed_in_the_ui_is_drift_that_up_repairs(site: Site) -> None:
    with site.api() as api:
        api.post("/w/homeops-financial/workspaces/edit_error_handler", json={"path": "script/f/atom/mine"})
    project = site.project
    refreshed = project.pulumi("refresh", "--stack", "financial", "--yes", "--diff")
    assert "windmill:WorkspaceSettings" in refreshed.output and "~ 1 updated" in refreshed.output, refreshed.output
    project.pulumi("up", "--stack", "financial", "--yes")
    assert site.settings("homeops-financial")["error_handler"]["path"] == "script/f/atom/platform_alert_forwarder"
    project.pulumi("preview", "--stack", "financial", "--expect-no-changes")


def test_the_platform_lists_the_domain_tokens_it_holds(site: Site) -> None:
    listed = json.loads(site.project.pulumi("stack", "output", "--stack", "platform", "domainTokens", "--json").output)
    assert listed == [{"stack": "financial", "domain": "financial", "workspace": "homeops-financial",
                       "variable": "f/deployment/financial_trigger_token", "flows": ["f/atom/nightly_scan"]}]
    with site.api() as api:  # and it is there
        assert api.get("/w/homeops-platform/variables/get/f/deployment/financial_trigger_token").status_code == 200


def test_destroy_removes_the_schedules_and_the_forwarder_keeps_its_history(site: Site) -> None:
    project = site.project
    project.pulumi("destroy", "--stack", "financial", "--yes")
    project.pulumi("destroy", "--stack", "platform", "--yes")
    assert all(site.schedule(path) is None for path in SCHEDULES)
    with site.api() as api:
        script = api.get("/w/homeops-financial/scripts/get/p/f/atom/platform_alert_forwarder").json()
    assert script["archived"] is True  # archived with its history, like the workspace
