"""Schedules (docs/windmill-api.md §7.1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, deploy_flow, deploy_script, make_workspace

BASE: dict[str, Any] = {
    "path": "f/ops/nightly",
    "schedule": "0 0 3 * * *",
    "timezone": "Europe/Paris",
    "script_path": "f/ops/backup",
    "is_flow": False,
}


@pytest.fixture
def c(windmill: WindmillEmulator) -> Iterator[httpx.Client]:
    make_workspace(windmill, "ops")
    deploy_script(windmill, "ops", "f/ops/backup")  # the targets arrive before the schedules (a sync)
    deploy_flow(windmill, "ops", "f/ops/backup")
    with api(windmill) as client:
        yield client


def test_create_is_200_with_the_path_as_body(c: httpx.Client) -> None:
    r = c.post("/w/ops/schedules/create", json={**BASE, "enabled": True, "args": {"x": 1}, "summary": "s"})
    assert (r.status_code, r.text) == (200, "f/ops/nightly")
    got = c.get("/w/ops/schedules/get/f/ops/nightly").json()
    assert got["enabled"] is True and got["args"] == {"x": 1} and got["summary"] == "s"
    assert got["cron_version"] == "v2" and got["edited_by"] == "admin" and got["email"] == "admin@windmill.dev"
    r = c.post("/w/ops/schedules/create", json={**BASE, "enabled": True})
    assert (r.status_code, r.text) == (400, "Bad request: Schedule f/ops/nightly already exists")
    assert c.get("/w/ops/schedules/exists/f/ops/nightly").json() is True
    assert c.get("/w/ops/schedules/exists/f/ops/other").json() is False


@pytest.mark.parametrize("missing", ["path", "schedule", "timezone", "script_path", "is_flow"])
def test_required_fields(c: httpx.Client, missing: str) -> None:
    body = dict(BASE)
    del body[missing]
    r = c.post("/w/ops/schedules/create", json=body)
    assert r.status_code == 422 and f"missing field `{missing}`" in r.text


def test_enabled_quirk_stores_false_but_pushes_a_job(windmill: WindmillEmulator, c: httpx.Client) -> None:
    assert c.post("/w/ops/schedules/create", json=BASE).status_code == 200
    assert c.get("/w/ops/schedules/get/f/ops/nightly").json()["enabled"] is False  # stored false…
    jobs = windmill.scheduled_jobs
    assert [j["schedule_path"] for j in jobs] == ["f/ops/nightly"]  # …but a job was pushed as if true
    c.post("/w/ops/schedules/create", json={**BASE, "path": "f/ops/off", "enabled": False})
    assert len(windmill.scheduled_jobs) == 1


@pytest.mark.parametrize(
    "cron",
    ["0 3 * * *", "0 0 3 * * * * *", "61 0 3 * * *", "0 0 25 * * *", "0 0 3 32 * *", "0 0 3 * 13 *", "x 0 3 * * *"],
)
def test_bad_cron_is_400(c: httpx.Client, cron: str) -> None:
    r = c.post("/w/ops/schedules/create", json={**BASE, "schedule": cron, "enabled": False})
    assert r.status_code == 400 and r.text.startswith("Bad request: cron: ")


@pytest.mark.parametrize("cron", ["0 */5 * * * *", "0 0 12 * * MON-FRI", "0 30 9 1,15 * *", "0 0 0 1 JAN ?"])
def test_good_cron(c: httpx.Client, cron: str) -> None:
    assert c.post("/w/ops/schedules/create", json={**BASE, "schedule": cron, "enabled": True}).status_code == 200


def test_v2_day_of_week_zero_needs_cron_version_v2(c: httpx.Client) -> None:
    # No cron_version parses with the v1 ``cron`` crate (days 1-7); v2 (croner) accepts 0 = Sunday.
    sunday = {**BASE, "schedule": "0 0 12 * * 0", "enabled": False}
    assert c.post("/w/ops/schedules/create", json=sunday).status_code == 400
    assert c.post("/w/ops/schedules/create", json={**sunday, "cron_version": "v2"}).status_code == 200


def test_timezone_is_checked_when_a_job_is_pushed(c: httpx.Client) -> None:
    r = c.post("/w/ops/schedules/create", json={**BASE, "timezone": "Mars/Olympus", "enabled": True})
    assert r.status_code == 400 and "Mars/Olympus" in r.text
    assert c.get("/w/ops/schedules/exists/f/ops/nightly").json() is False
    # disabled: no job is pushed, so nothing validates the zone
    assert (
        c.post("/w/ops/schedules/create", json={**BASE, "timezone": "Mars/Olympus", "enabled": False}).status_code
        == 200
    )
    r = c.post("/w/ops/schedules/setenabled/f/ops/nightly", json={"enabled": True})
    assert r.status_code == 400


def test_bad_path_is_an_internal_error(c: httpx.Client) -> None:
    r = c.post("/w/ops/schedules/create", json={**BASE, "path": "nightly", "enabled": False})
    assert r.status_code == 500
    assert r.text.startswith("Internal: inserting schedule in ops: error returned from database: ")
    assert '"proper_id"' in r.text


def test_ee_only_options(c: httpx.Client, windmill_ee: WindmillEmulator) -> None:
    for extra, msg in (
        ({"on_recovery": "script/f/ops/r"}, "on_recovery is only available in enterprise version"),
        ({"on_success": "script/f/ops/s"}, "on_success is only available in enterprise version"),
        ({"on_failure_times": 2}, "on_failure with a number of times > 1 is only available in enterprise version"),
    ):
        r = c.post("/w/ops/schedules/create", json={**BASE, **extra, "enabled": False})
        assert (r.status_code, r.text) == (400, f"Bad request: {msg}")
    body = {**BASE, "on_failure": "script/f/ops/f", "on_failure_times": 1, "enabled": False}
    assert c.post("/w/ops/schedules/create", json=body).status_code == 200
    make_workspace(windmill_ee, "ops")
    with api(windmill_ee) as e:
        body = {**BASE, "on_recovery": "script/f/ops/r", "on_failure_times": 3, "enabled": False}
        assert e.post("/w/ops/schedules/create", json=body).status_code == 200


def test_update_is_a_full_replace_that_cannot_change_the_target(c: httpx.Client) -> None:
    c.post("/w/ops/schedules/create", json={**BASE, "enabled": True, "summary": "s", "args": {"a": 1}})
    edit = {
        "schedule": "0 0 4 * * *",
        "timezone": "UTC",
        "script_path": "f/ops/other",
        "is_flow": True,
        "enabled": False,
    }
    r = c.post("/w/ops/schedules/update/f/ops/nightly", json=edit)
    assert (r.status_code, r.text) == (200, "f/ops/nightly")
    got = c.get("/w/ops/schedules/get/f/ops/nightly").json()
    assert (got["schedule"], got["timezone"]) == ("0 0 4 * * *", "UTC")
    assert (got["script_path"], got["is_flow"], got["enabled"]) == ("f/ops/backup", False, True)  # unchangeable
    assert got["summary"] is None and got["args"] is None  # omitted → NULL
    r = c.post("/w/ops/schedules/update/f/ops/nightly", json={"timezone": "UTC"})
    assert r.status_code == 422 and "missing field `schedule`" in r.text
    r = c.post("/w/ops/schedules/update/f/ops/ghost", json={"schedule": "0 0 4 * * *", "timezone": "UTC"})
    assert r.status_code == 500
    assert r.text.startswith("Internal: updating schedule in ops: no rows returned")


def test_set_enabled_list_and_delete(c: httpx.Client) -> None:
    c.post("/w/ops/schedules/create", json={**BASE, "enabled": False})
    c.post("/w/ops/schedules/create", json={**BASE, "path": "f/ops/flowy", "is_flow": True, "enabled": False})
    r = c.post("/w/ops/schedules/setenabled/f/ops/nightly", json={"enabled": True})
    assert (r.status_code, r.text) == (200, "succesfully updated schedule at path f/ops/nightly to status true")
    assert c.get("/w/ops/schedules/get/f/ops/nightly").json()["enabled"] is True
    r = c.post("/w/ops/schedules/setenabled/f/ops/ghost", json={"enabled": True})
    assert (r.status_code, r.text) == (404, "Not found: Schedule not found at name f/ops/ghost")
    rows = c.get("/w/ops/schedules/list").json()
    assert {row["path"] for row in rows} == {"f/ops/nightly", "f/ops/flowy"}
    assert set(rows[0]) == {
        "workspace_id",
        "path",
        "edited_by",
        "edited_at",
        "schedule",
        "timezone",
        "enabled",
        "script_path",
        "is_flow",
        "summary",
        "extra_perms",
    }
    assert [row["path"] for row in c.get("/w/ops/schedules/list", params={"is_flow": "true"}).json()] == ["f/ops/flowy"]
    by_script = c.get("/w/ops/schedules/list", params={"path": "f/ops/backup"}).json()
    assert {row["path"] for row in by_script} == {"f/ops/flowy", "f/ops/nightly"}
    r = c.delete("/w/ops/schedules/delete/f/ops/nightly")
    assert (r.status_code, r.text) == (200, "schedule f/ops/nightly deleted")
    r = c.delete("/w/ops/schedules/delete/f/ops/nightly")
    assert (r.status_code, r.text) == (404, "Not found: Schedule f/ops/nightly not found")
    r = c.get("/w/ops/schedules/get/f/ops/nightly")
    assert (r.status_code, r.text) == (404, "Not found: Schedule not found at name f/ops/nightly")


def test_preview_gives_the_next_five_utc_times(c: httpx.Client) -> None:
    r = c.post("/schedules/preview", json={"schedule": "0 0 12 * * *", "timezone": "Europe/Paris"})
    assert r.status_code == 200
    times = [datetime.fromisoformat(t) for t in r.json()]
    assert len(times) == 5
    assert all(t.minute == 0 and t.second == 0 and t.hour in (10, 11) for t in times)  # noon in Paris, in UTC
    assert times == sorted(times)
    r = c.post("/schedules/preview", json={"schedule": "0 0 12 * * *", "timezone": "Nowhere"})
    assert r.status_code == 400
    r = c.post("/schedules/preview", json={"schedule": "0 12 * * *", "timezone": "UTC"})
    assert r.status_code == 400 and r.text.startswith("Bad request: cron: ")
