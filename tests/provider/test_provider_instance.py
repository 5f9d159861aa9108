"""Instance users, instance groups, instance settings, worker-group configs and the edition-limits
check through the SDK's real provider host (gRPC), against the emulator: create, drift found by
refresh and repaired by up, adopt, delete, and the refusals that happen before any request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from components.windmill.edition_limits import EditionLimitsProvider
from components.windmill.instance_groups import InstanceGroupProvider
from components.windmill.instance_settings import InstanceSettingProvider
from components.windmill.instance_users import InstanceUserProvider
from components.windmill.worker_group_configs import WorkerGroupConfigProvider
from testkit.provider_host import Engine, ProviderError, ProviderHost
from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import make_workspace

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@pytest.fixture
def host() -> Iterator[ProviderHost]:
    with ProviderHost() as running:
        running.configure({})
        yield running


def engine_for(host: ProviderHost, emu: WindmillEmulator) -> Engine:
    return Engine(host, {"api_url": emu.url, "api_token": emu.admin_token})


def api(emu: WindmillEmulator) -> httpx.Client:
    return httpx.Client(base_url=emu.url + "/api", headers={"Authorization": f"Bearer {emu.admin_token}"})


def user_row(emu: WindmillEmulator, email: str) -> dict[str, Any] | None:
    with api(emu) as c:
        return next((u for u in c.get("/users/list_as_super_admin").json() if u["email"] == email), None)


def mutations(emu: WindmillEmulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emu.requests if r.method in MUTATING]


def test_an_instance_user_is_created_updated_repaired_and_deleted(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    engine, urn = engine_for(host, windmill), Engine.urn("InstanceUser", "ops")
    inputs = {"email": "ops@homeops.example", "name": "Ops", "super_admin": True}
    state = engine.up(urn, InstanceUserProvider(), inputs).state
    password = state.outputs["initial_password"]
    assert httpx.post(windmill.url + "/api/auth/login",
                      json={"email": "ops@homeops.example", "password": password}).status_code == 200
    assert user_row(windmill, "ops@homeops.example")["super_admin"] is True
    state = engine.up(urn, InstanceUserProvider(), {**inputs, "devops": True, "disabled": True}, state).state
    row = user_row(windmill, "ops@homeops.example")
    assert (row["devops"], row["disabled"]) == (True, True)
    with api(windmill) as c:  # someone demotes the operator in the UI
        c.post("/users/update/ops@homeops.example", json={"is_super_admin": False})
    refreshed = engine.refresh(state)
    assert refreshed is not None and refreshed.inputs["super_admin"] is False
    wanted = {**inputs, "devops": True, "disabled": True}
    assert engine.up(urn, InstanceUserProvider(), wanted, refreshed).op == "update"
    assert user_row(windmill, "ops@homeops.example")["super_admin"] is True
    engine.destroy(state)
    assert user_row(windmill, "ops@homeops.example") is None
    assert password not in host.logs()


def test_an_existing_user_fails_the_create_unless_adopted_and_keeps_its_password(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    windmill.add_instance_user("dev@homeops.example", password="their-own-pw")
    engine, urn = engine_for(host, windmill), Engine.urn("InstanceUser", "dev")
    with pytest.raises(ProviderError) as caught:
        engine.up(urn, InstanceUserProvider(), {"email": "dev@homeops.example", "devops": True})
    assert "adopt: true" in caught.value.details
    state = engine.up(urn, InstanceUserProvider(), {"email": "dev@homeops.example", "devops": True,
                                                     "adopt": True}).state
    assert state.outputs["initial_password"] == ""
    assert user_row(windmill, "dev@homeops.example")["devops"] is True
    assert httpx.post(windmill.url + "/api/auth/login",
                      json={"email": "dev@homeops.example", "password": "their-own-pw"}).status_code == 200


def test_an_instance_group_changes_only_the_member_difference_and_refresh_finds_drift(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    engine, urn = engine_for(host, windmill), Engine.urn("InstanceGroup", "oncall")
    inputs = {"name": "oncall", "summary": "pager", "members": ["a@homeops.example", "b@homeops.example"]}
    state = engine.up(urn, InstanceGroupProvider(), inputs).state
    windmill.clear_requests()
    state = engine.up(urn, InstanceGroupProvider(), {**inputs, "members": ["b@homeops.example", "c@homeops.example"]},
                      state).state
    assert mutations(windmill) == ["POST /api/groups/adduser/oncall", "POST /api/groups/removeuser/oncall"]
    with api(windmill) as c:
        c.post("/groups/update/oncall", json={"new_summary": "changed in the UI"})
    refreshed = engine.refresh(state)
    assert refreshed is not None and refreshed.inputs["summary"] == "changed in the UI"
    engine.up(urn, InstanceGroupProvider(), {**inputs, "members": ["b@homeops.example", "c@homeops.example"]},
              refreshed)
    with api(windmill) as c:
        assert c.get("/groups/get/oncall").json()["summary"] == "pager"
    engine.destroy(state)
    with api(windmill) as c:
        assert c.get("/groups/get/oncall").status_code == 404


def test_an_existing_instance_group_is_not_silently_taken_over(host: ProviderHost, windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        c.post("/groups/create", json={"name": "oncall", "summary": "theirs"})
    engine, urn = engine_for(host, windmill), Engine.urn("InstanceGroup", "oncall")
    with pytest.raises(ProviderError) as caught:
        engine.up(urn, InstanceGroupProvider(), {"name": "oncall", "summary": "ours"})
    assert "adopt: true" in caught.value.details
    engine.up(urn, InstanceGroupProvider(), {"name": "oncall", "summary": "ours", "adopt": True})
    with api(windmill) as c:
        assert c.get("/groups/get/oncall").json()["summary"] == "ours"


def test_a_setting_is_written_alone_drift_is_found_and_repaired_and_delete_unsets_it(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    with api(windmill) as c:
        c.post("/settings/global/email_domain", json={"value": "mail.homeops.example"})
    engine, urn = engine_for(host, windmill), Engine.urn("InstanceSetting", "base-url")
    inputs = {"key": "base_url", "value": "https://windmill.homeops.example"}
    windmill.clear_requests()
    state = engine.up(urn, InstanceSettingProvider(), inputs).state
    assert mutations(windmill) == ["POST /api/settings/global/base_url"]
    with api(windmill) as c:
        c.post("/settings/global/base_url", json={"value": "https://elsewhere.example"})
    refreshed = engine.refresh(state)
    assert refreshed is not None and refreshed.inputs["value"] == "https://elsewhere.example"
    assert engine.up(urn, InstanceSettingProvider(), inputs, refreshed).op == "update"
    with api(windmill) as c:
        assert c.get("/settings/global/base_url").json() == "https://windmill.homeops.example"
        engine.destroy(state)
        assert c.get("/settings/global/base_url").json() is None
        assert c.get("/settings/global/email_domain").json() == "mail.homeops.example"  # never touched


def test_a_secret_part_is_stored_in_place_and_a_change_outside_shows_as_drift_of_the_secret(
    host: ProviderHost, windmill_ee: WindmillEmulator
) -> None:
    engine, urn = engine_for(host, windmill_ee), Engine.urn("InstanceSetting", "smtp")
    inputs = {"key": "smtp_settings", "value": {"smtp_host": "smtp.example", "smtp_port": 587},
              "secret_value": "smtp-pass-9a1", "secret_field": "smtp_password", "edition": "ee"}
    state = engine.up(urn, InstanceSettingProvider(), inputs).state
    with api(windmill_ee) as c:
        stored = c.get("/settings/global/smtp_settings").json()
        assert stored == {"smtp_host": "smtp.example", "smtp_port": 587, "smtp_password": "smtp-pass-9a1"}
        c.post("/settings/global/smtp_settings", json={"value": {**stored, "smtp_password": "changed"}})
    refreshed = engine.refresh(state)
    assert refreshed is not None
    assert refreshed.inputs["value"] == inputs["value"] and refreshed.inputs["secret_value"] == "changed"
    assert engine.up(urn, InstanceSettingProvider(), inputs, refreshed).op == "update"
    assert "smtp-pass-9a1" not in host.logs()


@pytest.mark.parametrize(("inputs", "field", "words"), [
    ({"key": "smtp_settings", "value": {"smtp_host": "smtp.example"}}, "key", "Enterprise Edition"),
    ({"key": "critical_error_channels", "value": [{"email": "ops@homeops.example"}]}, "key", "Enterprise"),
    ({"key": "license_key", "secret_value": "lic"}, "key", "Enterprise Edition"),
    ({"key": "retention_period_secs", "value": 90 * 86400}, "value", "30 days"),
    ({"key": "smtp_settings", "value": {"smtp_password": "plain"}, "edition": "ee"}, "value", "secret_value"),
    ({"key": "jwt_secret", "value": "x"}, "key", "managed by Windmill"),
    ({"key": "base_url", "value": "https://windmill.example/"}, "value", "trailing slash"),
])
def test_check_refuses_before_any_request(host: ProviderHost, windmill: WindmillEmulator, inputs: dict[str, Any],
                                          field: str, words: str) -> None:
    engine = engine_for(host, windmill)
    checked = engine.host.check(Engine.urn("InstanceSetting", "s"), {},
                                {**engine.connection, **inputs, "__provider": Engine.blob(InstanceSettingProvider())})
    assert any(prop == field and words in reason for prop, reason in checked.failures), checked.failures
    assert "plain" not in str(checked.failures) and "'lic'" not in str(checked.failures)
    assert windmill.requests == []


def test_worker_group_configs_are_enterprise_only_and_managed_per_group(
    host: ProviderHost, windmill: WindmillEmulator, windmill_ee: WindmillEmulator
) -> None:
    ce = engine_for(host, windmill)
    checked = ce.host.check(Engine.urn("WorkerGroupConfig", "reports"), {},
                            {**ce.connection, "name": "reports", "config": {"worker_tags": ["reports"]},
                             "__provider": Engine.blob(WorkerGroupConfigProvider())})
    assert [p for p, _ in checked.failures] == ["edition"]
    engine, urn = engine_for(host, windmill_ee), Engine.urn("WorkerGroupConfig", "reports")
    inputs = {"name": "reports", "config": {"worker_tags": ["reports"]}, "edition": "ee"}
    state = engine.up(urn, WorkerGroupConfigProvider(), inputs).state
    with api(windmill_ee) as c:
        assert c.get("/configs/get/worker__reports").json() == {"worker_tags": ["reports"]}
        c.post("/configs/update/worker__reports", json={"worker_tags": ["other"]})
    refreshed = engine.refresh(state)
    assert refreshed is not None and refreshed.inputs["config"] == {"worker_tags": ["other"]}
    engine.up(urn, WorkerGroupConfigProvider(), inputs, refreshed)
    engine.destroy(state)
    with api(windmill_ee) as c:
        assert c.get("/configs/get/worker__reports").json() is None


def limits(host: ProviderHost, emu: WindmillEmulator, **inputs: Any) -> Any:
    return engine_for(host, emu).up(Engine.urn("EditionLimits", "limits"), EditionLimitsProvider(), inputs)


def test_a_third_workspace_is_refused_on_ce_before_any_mutating_request(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    make_workspace(windmill, "platform")
    make_workspace(windmill, "financial")
    windmill.clear_requests()
    with pytest.raises(ProviderError) as caught:
        limits(host, windmill, workspaces=["media"])
    assert "2 workspaces besides 'admins'" in caught.value.details and "Archive" in caught.value.details
    assert "Enterprise Edition" in caught.value.details
    assert mutations(windmill) == []
    assert limits(host, windmill, workspaces=["financial"]).state.outputs["workspaces_in_use"] == 2


def test_a_fourth_group_is_refused_on_ce_counting_every_workspaces_wm_deployers(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    make_workspace(windmill, "platform")  # its wm_deployers: 1
    with api(windmill) as c:
        c.post("/w/platform/groups/create", json={"name": "ops"})  # 2
    windmill.clear_requests()
    # A new workspace brings its wm_deployers (3); one more group makes 4.
    with pytest.raises(ProviderError) as caught:
        limits(host, windmill, workspaces=["financial"], groups=["financial/traders"])
    assert "3 groups" in caught.value.details and "financial/wm_deployers" in caught.value.details
    assert mutations(windmill) == []
    assert limits(host, windmill, workspaces=["financial"]).state.outputs["groups_in_use"] == 3


def test_ee_has_no_limits_and_a_declared_edition_must_match_the_server(
    host: ProviderHost, windmill: WindmillEmulator, windmill_ee: WindmillEmulator
) -> None:
    for ws in ("a", "b", "c"):
        make_workspace(windmill_ee, ws)
    assert limits(host, windmill_ee, workspaces=["d"], expected_edition="ee").state.outputs["edition"] == "EE"
    with pytest.raises(ProviderError) as caught:
        limits(host, windmill, workspaces=["a"], expected_edition="ee")
    assert "reports 'CE v1.819.0'" in caught.value.details
