"""Schedule, Script and WorkspaceSettings through the SDK's real provider host (gRPC) against the
emulator: create, refresh without drift, a no-op up with zero requests, in-place updates, identity
changes, drift, delete; a schedule waiting for its target; bad input refused at check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pulumi.runtime.proto import provider_pb2 as pb

from components.windmill.schedules import ScheduleProvider
from components.windmill.scripts import ScriptProvider
from components.windmill.workspace_settings import WorkspaceSettingsProvider
from testkit.provider_host import Engine, ProviderHost
from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, deploy_flow, deploy_script

WS = "sched"
SCHEDULE = {
    "workspace": WS, "path": "f/ops/nightly", "schedule": "0 30 2 * * *", "timezone": "Europe/Paris",
    "script_path": "f/ops/backup", "summary": "Nightly backup", "args": {"keep": 7},
    "on_failure": "script/f/ops/notify", "on_failure_extra_args": {"channel": "#ops"},
}


def start(windmill: WindmillEmulator) -> Iterator[Engine]:
    with api(windmill) as c:
        c.post("/workspaces/create", json={"id": WS, "name": "Schedules"}).raise_for_status()
        c.post(f"/w/{WS}/folders/create", json={"name": "ops"}).raise_for_status()
    host = ProviderHost()
    host.configure({})
    try:
        yield Engine(host, connection={"api_url": windmill.url, "api_token": windmill.admin_token})
    finally:
        host.close()


@pytest.fixture
def engine(windmill: WindmillEmulator) -> Iterator[Engine]:
    yield from start(windmill)


@pytest.fixture
def engine_ee(windmill_ee: WindmillEmulator) -> Iterator[Engine]:
    yield from start(windmill_ee)


def live_schedule(windmill: WindmillEmulator, path: str = "f/ops/nightly") -> dict[str, Any] | None:
    with api(windmill) as c:
        r = c.get(f"/w/{WS}/schedules/get/{path}")
    return r.json() if r.status_code == 200 else None


def mutations(windmill: WindmillEmulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in windmill.requests if r.method != "GET"]


def test_schedule_lifecycle(engine: Engine, windmill: WindmillEmulator) -> None:
    deploy_script(windmill, WS, "f/ops/backup")
    urn = engine.urn("Schedule", "nightly")
    created = engine.up(urn, ScheduleProvider(), SCHEDULE)
    assert created.op == "create" and created.state.id == f"{WS}/f/ops/nightly"
    assert created.state.outputs["waiting_for_target"] is False
    assert len(created.state.inputs["next_fire_times"]) == 3
    assert created.state.inputs["next_fire_times"][0].endswith(("+01:00", "+02:00"))  # Paris time
    live = live_schedule(windmill)
    assert live is not None and live["enabled"] is True and live["on_failure"] == "script/f/ops/notify"
    assert [j["schedule_path"] for j in windmill.scheduled_jobs] == ["f/ops/nightly"]  # the first job

    refreshed = engine.refresh(created.state)
    assert refreshed is not None
    assert engine.preview(urn, ScheduleProvider(), SCHEDULE, refreshed).changes == pb.DiffResponse.DIFF_NONE
    windmill.clear_requests()
    assert engine.up(urn, ScheduleProvider(), SCHEDULE, refreshed).op == "same"
    assert windmill.requests == []

    # One field changes, the whole object is sent: what was not changed survives Windmill's replace.
    changed = {**SCHEDULE, "args": {"keep": 14}}
    updated = engine.up(urn, ScheduleProvider(), changed, refreshed)
    assert updated.op == "update"
    assert mutations(windmill) == [f"POST /api/w/{WS}/schedules/update/f/ops/nightly"]
    live = live_schedule(windmill)
    assert live is not None
    assert (live["args"], live["summary"]) == ({"keep": 14}, "Nightly backup")
    assert live["on_failure"] == "script/f/ops/notify"
    assert live["on_failure_extra_args"] == {"channel": "#ops"} and live["timezone"] == "Europe/Paris"

    # Disabling is setenabled, and clears the queued job.
    disabled = engine.up(urn, ScheduleProvider(), {**changed, "enabled": False}, updated.state)
    assert disabled.op == "update" and live_schedule(windmill)["enabled"] is False  # type: ignore[index]
    assert windmill.scheduled_jobs == []

    # A new target replaces the schedule.
    deploy_flow(windmill, WS, "f/ops/report")
    moved = {**changed, "enabled": False, "script_path": "f/ops/report", "is_flow": True}
    replaced = engine.up(urn, ScheduleProvider(), moved, disabled.state)
    assert replaced.op == "replace" and set(replaced.replaces) == {"script_path", "is_flow"}
    live = live_schedule(windmill)
    assert live is not None and (live["script_path"], live["is_flow"]) == ("f/ops/report", True)

    engine.destroy(replaced.state)
    assert live_schedule(windmill) is None
    assert engine.refresh(replaced.state) is None
    engine.destroy(replaced.state)  # already gone: still a success


def test_a_schedule_whose_target_is_not_deployed_waits_disabled_until_the_sync(
    engine: Engine, windmill: WindmillEmulator
) -> None:
    urn = engine.urn("Schedule", "early")
    created = engine.up(urn, ScheduleProvider(), SCHEDULE)
    assert created.op == "create" and created.state.outputs["waiting_for_target"] is True
    live = live_schedule(windmill)
    assert live is not None and live["enabled"] is False and windmill.scheduled_jobs == []

    # Refresh tells the truth: disabled, so the next preview offers to enable it.
    refreshed = engine.refresh(created.state)
    assert refreshed is not None and refreshed.outputs["enabled"] is False
    assert engine.preview(urn, ScheduleProvider(), SCHEDULE, refreshed).changes == pb.DiffResponse.DIFF_SOME
    # Without the target, up keeps it waiting (no failure).
    still = engine.up(urn, ScheduleProvider(), SCHEDULE, refreshed)
    assert still.op == "update" and still.state.outputs["waiting_for_target"] is True

    deploy_script(windmill, WS, "f/ops/backup")  # the sync workflow ran
    enabled = engine.up(urn, ScheduleProvider(), SCHEDULE, engine.refresh(still.state))
    assert enabled.op == "update" and enabled.state.outputs["waiting_for_target"] is False
    assert live_schedule(windmill)["enabled"] is True  # type: ignore[index]
    assert [j["schedule_path"] for j in windmill.scheduled_jobs] == ["f/ops/nightly"]
    final = engine.refresh(enabled.state)
    assert final is not None
    assert engine.preview(urn, ScheduleProvider(), SCHEDULE, final).changes == pb.DiffResponse.DIFF_NONE


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("schedule", "30 2 * * *", "5 field(s)"),
        ("schedule", "0 30 25 * * *", "hour field"),
        ("timezone", "Europe/Atlantis", "IANA time zone"),
        ("on_failure", "f/ops/notify", "script/<path> or flow/<path>"),
    ],
)
def test_bad_schedule_input_fails_at_check_with_zero_requests(
    engine: Engine, windmill: WindmillEmulator, field: str, value: str, says: str
) -> None:
    windmill.clear_requests()
    news = {**engine.connection, **SCHEDULE, field: value, "__provider": engine.blob(ScheduleProvider())}
    outcome = engine.host.check(engine.urn("Schedule", "bad"), {}, news)
    assert [name for name, _ in outcome.failures] == [field]
    assert says in outcome.failures[0][1]
    assert windmill.requests == []


FORWARDER = {"workspace": WS, "path": "f/ops/forwarder", "content": "def main(x: int):\n    return x\n",
             "summary": "Forwards failures", "schema": {"type": "object", "properties": {"x": {"type": "integer"}}}}


def test_script_lifecycle(engine: Engine, windmill: WindmillEmulator) -> None:
    urn = engine.urn("Script", "forwarder")
    created = engine.up(urn, ScriptProvider(), FORWARDER)
    first = created.state.outputs["hash"]
    assert created.op == "create" and len(first) == 16
    refreshed = engine.refresh(created.state)
    assert refreshed is not None
    assert engine.preview(urn, ScriptProvider(), FORWARDER, refreshed).changes == pb.DiffResponse.DIFF_NONE

    changed = {**FORWARDER, "content": "def main(x: int):\n    return x + 1\n"}
    updated = engine.up(urn, ScriptProvider(), changed, refreshed)
    assert updated.op == "update" and updated.state.outputs["hash"] != first
    with api(windmill) as c:
        assert c.get(f"/w/{WS}/scripts/get/h/{first}").json()["archived"] is True  # the lineage stays
        assert c.get(f"/w/{WS}/scripts/get/p/f/ops/forwarder").json()["content"] == changed["content"]

    # Changed in the UI (a new version): refresh shows it, up puts the declared content back.
    with api(windmill) as c:
        c.post(f"/w/{WS}/scripts/create", json={**changed, "content": "edited", "language": "python3",
                                                "parent_hash": updated.state.outputs["hash"]}).raise_for_status()
    drifted = engine.refresh(updated.state)
    assert drifted is not None and drifted.outputs["content"] == "edited"
    repaired = engine.up(urn, ScriptProvider(), changed, drifted)
    assert repaired.op == "update"

    engine.destroy(repaired.state)
    with api(windmill) as c:
        assert c.get(f"/w/{WS}/scripts/get/p/f/ops/forwarder").json()["archived"] is True  # kept, archived
    assert engine.refresh(repaired.state) is None
    engine.destroy(repaired.state)


SETTINGS = {
    "workspace": WS,
    "error_handler": {"path": "script/f/ops/forwarder", "extra_args": {"dispatcher": "f/monitoring/alert_dispatcher"}},
    "webhook": "https://hooks.example/windmill",
    "operator_settings": {"runs": True, "audit_logs": False},
    "env_vars": {"REGION": "eu", "TIER": "home"},
}


def get_settings(windmill: WindmillEmulator) -> dict[str, Any]:
    with api(windmill) as c:
        return dict(c.get(f"/w/{WS}/workspaces/get_settings").json())


def custom_env(windmill: WindmillEmulator) -> dict[str, str]:
    with api(windmill) as c:
        return {v["name"]: v["value"] for v in c.get(f"/w/{WS}/variables/list_contextual").json() if v["is_custom"]}


def test_workspace_settings_lifecycle_drift_and_undeclared_settings(engine: Engine, windmill: WindmillEmulator) -> None:
    with api(windmill) as c:  # set in the UI, never declared: must survive everything below
        c.post(f"/w/{WS}/workspaces/edit_success_handler", json={"path": "script/f/ops/hand"}).raise_for_status()
        c.post(f"/w/{WS}/workspaces/set_environment_variable", json={"name": "MANUAL", "value": "1"})
    urn = engine.urn("WorkspaceSettings", "settings")
    created = engine.up(urn, WorkspaceSettingsProvider(), SETTINGS)
    assert created.op == "create" and created.state.id == WS
    live = get_settings(windmill)
    assert live["error_handler"]["path"] == "script/f/ops/forwarder"
    assert live["webhook"] == "https://hooks.example/windmill"
    assert live["operator_settings"]["audit_logs"] is False and live["operator_settings"]["workers"] is True
    assert custom_env(windmill) == {"MANUAL": "1", "REGION": "eu", "TIER": "home"}

    refreshed = engine.refresh(created.state)
    assert refreshed is not None and refreshed.outputs == created.state.outputs  # nothing to show
    windmill.clear_requests()
    assert engine.up(urn, WorkspaceSettingsProvider(), SETTINGS, refreshed).op == "same"
    assert windmill.requests == []

    # Drift on each declared setting: a webhook and an environment variable changed in the UI.
    with api(windmill) as c:
        c.post(f"/w/{WS}/workspaces/edit_webhook", json={"webhook": "https://evil.example"})
        c.post(f"/w/{WS}/workspaces/set_environment_variable", json={"name": "TIER", "value": "lab"})
    drifted = engine.refresh(refreshed)
    assert drifted is not None
    assert drifted.outputs["webhook"] == "https://evil.example" and drifted.outputs["env_vars"]["TIER"] == "lab"
    windmill.clear_requests()
    repaired = engine.up(urn, WorkspaceSettingsProvider(), SETTINGS, drifted)
    assert repaired.op == "update"
    assert sorted(mutations(windmill)) == [f"POST /api/w/{WS}/workspaces/edit_webhook",
                                           f"POST /api/w/{WS}/workspaces/set_environment_variable"]
    assert get_settings(windmill)["webhook"] == "https://hooks.example/windmill"

    # A setting removed from the config is cleared; the rest stays; undeclared ones are untouched.
    fewer = {k: v for k, v in SETTINGS.items() if k != "webhook"}
    fewer["env_vars"] = {"REGION": "eu"}
    reduced = engine.up(urn, WorkspaceSettingsProvider(), fewer, repaired.state)
    assert reduced.op == "update"
    live = get_settings(windmill)
    assert "webhook" not in live and live["error_handler"]["path"] == "script/f/ops/forwarder"
    assert custom_env(windmill) == {"MANUAL": "1", "REGION": "eu"}

    engine.destroy(reduced.state)
    live = get_settings(windmill)
    assert "error_handler" not in live
    assert live["success_handler"]["path"] == "script/f/ops/hand"  # never declared, never cleared
    assert custom_env(windmill) == {"MANUAL": "1"}


def test_enterprise_settings_are_refused_on_ce_at_check_with_zero_requests(
    engine: Engine, windmill: WindmillEmulator
) -> None:
    windmill.clear_requests()
    news = {**engine.connection, "workspace": WS, "deploy_to": "homeops-prod", "git_sync": {"repositories": []},
            "webhook": "https://ok.example", "__provider": engine.blob(WorkspaceSettingsProvider())}
    outcome = engine.host.check(engine.urn("WorkspaceSettings", "ce"), {}, news)
    assert sorted(name for name, _ in outcome.failures) == ["deploy_to", "git_sync"]
    assert all("Enterprise Edition" in reason for _, reason in outcome.failures)
    assert windmill.requests == []


def test_enterprise_settings_on_ee(engine_ee: Engine, windmill_ee: WindmillEmulator) -> None:
    with api(windmill_ee) as c:
        c.post("/workspaces/create", json={"id": "homeops-prod", "name": "Prod"}).raise_for_status()
    inputs = {"workspace": WS, "edition": "ee", "deploy_to": "homeops-prod", "default_app": "f/ops/home",
              "auto_invite": {"operator": True}, "git_sync": {"repositories": []}}
    urn = engine_ee.urn("WorkspaceSettings", "ee")
    created = engine_ee.up(urn, WorkspaceSettingsProvider(), inputs)
    live = get_settings(windmill_ee)
    assert (live["deploy_to"], live["default_app"], live["git_sync"]) == ("homeops-prod", "f/ops/home",
                                                                           {"repositories": []})
    assert live["auto_invite"]["operator"] is True
    refreshed = engine_ee.refresh(created.state)
    assert refreshed is not None
    assert engine_ee.preview(urn, WorkspaceSettingsProvider(), inputs, refreshed).changes == pb.DiffResponse.DIFF_NONE
    engine_ee.destroy(refreshed)
    live = get_settings(windmill_ee)
    assert not {"deploy_to", "default_app", "git_sync", "auto_invite"} & set(live)


def test_a_workspace_token_limited_to_one_flow_runs_only_that_flow(windmill: WindmillEmulator) -> None:
    """The emulator enforces scopes the way the services token relies on (a sanity check for this tier)."""
    with api(windmill) as c:
        c.post("/workspaces/create", json={"id": WS, "name": "S"}).raise_for_status()
    deploy_flow(windmill, WS, "f/monitoring/alert_dispatcher")
    deploy_flow(windmill, WS, "f/monitoring/other")
    with api(windmill) as c:
        token = c.post("/users/tokens/create", json={
            "label": "services", "workspace_id": WS, "scopes": ["jobs:run:flows:f/monitoring/alert_dispatcher"],
        }).text
    with httpx.Client(base_url=windmill.url + "/api", headers={"Authorization": f"Bearer {token}"}) as scoped:
        assert scoped.post(f"/w/{WS}/jobs/run/f/f/monitoring/alert_dispatcher", json={}).status_code == 201
        assert scoped.post(f"/w/{WS}/jobs/run/f/f/monitoring/other", json={}).status_code == 401
        assert scoped.get(f"/w/{WS}/variables/list").status_code == 401
