"""The emulator's plumbing: readiness endpoints, routing, recording, faults, connection reuse."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from windmill_emulator import RecordedRequest, WindmillEmulator
from windmill_emulator.testing import api

ROOT = Path(__file__).resolve().parents[2]


def test_version_needs_no_auth_and_names_the_edition(windmill: WindmillEmulator, windmill_ee: WindmillEmulator) -> None:
    r = httpx.get(windmill.url + "/api/version")
    assert r.status_code == 200
    assert r.text == "CE v1.819.0"
    assert r.headers["content-type"].startswith("text/plain")
    assert httpx.get(windmill_ee.url + "/api/version").text == "EE v1.819.0"


def test_version_is_configurable() -> None:
    with WindmillEmulator(version="1.650.2") as emu:
        assert httpx.get(emu.url + "/api/version").text == "CE v1.650.2"


def test_health_status_is_json_without_auth(windmill: WindmillEmulator) -> None:
    r = httpx.get(windmill.url + "/api/health/status")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "healthy"
    assert body["database_healthy"] is True
    assert body["workers_alive"] >= 1
    assert "checked_at" in body


def test_health_is_degraded_without_workers() -> None:
    with WindmillEmulator(workers_alive=0) as emu:
        r = httpx.get(emu.url + "/api/health/status")
        assert r.status_code == 200  # §10: 200 while the DB is reachable, even with no workers
        assert r.json()["status"] == "degraded"


def test_unknown_route_is_404_and_wrong_method_405_with_empty_bodies(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        r = c.get("/no/such/route")
        assert (r.status_code, r.content) == (404, b"")
        r = c.delete("/version")
        assert (r.status_code, r.content) == (405, b"")


def test_requests_are_recorded_in_order_with_decoded_path_query_and_status(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        c.get("/version")
        c.get("/w/admins/variables/get/f%2Fops%2Fmissing", params={"decrypt_secret": "false"})
        c.get("/nope")
    reqs = windmill.requests
    assert [r.method for r in reqs] == ["GET", "GET", "GET"]
    assert reqs[0] == RecordedRequest("GET", "/api/version", {}, 200, "/api/version", b"", False, reqs[0].connection)
    assert reqs[1].path == "/api/w/admins/variables/get/f/ops/missing"
    assert reqs[1].query == {"decrypt_secret": "false"}
    assert reqs[1].status == 404
    assert reqs[2].status == 404
    windmill.clear_requests()
    assert windmill.requests == []


def test_two_requests_over_one_client_count_as_one_connection(windmill: WindmillEmulator) -> None:
    before = windmill.connections_opened
    with api(windmill) as c:
        for _ in range(5):
            assert c.get("/version").status_code == 200
    assert windmill.connections_opened == before + 1
    assert len({r.connection for r in windmill.requests}) == 1
    httpx.get(windmill.url + "/api/version")
    httpx.get(windmill.url + "/api/version")
    assert windmill.connections_opened == before + 3


def test_connection_close_is_honoured(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        c.get("/version", headers={"Connection": "close"})
        c.get("/version")
    assert windmill.connections_opened == 2


def test_fault_status_answers_without_executing(windmill: WindmillEmulator) -> None:
    windmill.inject_fault("POST", "/api/workspaces/create", status=503)
    with api(windmill) as c:
        r = c.post("/workspaces/create", json={"id": "ops", "name": "Ops"})
        assert r.status_code == 503
        assert r.text == "Service Unavailable"
        assert r.headers["content-type"].startswith("text/plain")
        assert c.post("/workspaces/exists", json={"id": "ops"}).json() is False
        # times=1 by default: the next one goes through
        assert c.post("/workspaces/create", json={"id": "ops", "name": "Ops"}).status_code == 200


def test_fault_custom_body_glob_and_any_method(windmill: WindmillEmulator) -> None:
    windmill.inject_fault("*", "/api/w/*/variables/*", status=502, body="bad gateway!", times=2)
    with api(windmill) as c:
        assert c.get("/w/admins/variables/list").text == "bad gateway!"
        assert c.get("/w/admins/variables/exists/f/a/b").status_code == 502
        assert c.get("/w/admins/variables/list").status_code == 200
        assert c.get("/version").status_code == 200


def test_fault_times_counts_only_matching_requests(windmill: WindmillEmulator) -> None:
    windmill.inject_fault("GET", "/api/w/admins/folders/list", status=500, times=3)
    with api(windmill) as c:
        assert c.get("/version").status_code == 200
        assert c.post("/workspaces/exists", json={"id": "x"}).status_code == 200
        statuses = [c.get("/w/admins/folders/list").status_code for _ in range(4)]
    assert statuses == [500, 500, 500, 200]


def test_fault_drop_closes_without_response_and_without_executing(windmill: WindmillEmulator) -> None:
    windmill.inject_fault("POST", "/api/workspaces/create", drop=True)
    with api(windmill) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/workspaces/create", json={"id": "ops", "name": "Ops"})
        assert c.post("/workspaces/exists", json={"id": "ops"}).json() is False
    dropped = windmill.requests[0]
    assert dropped.dropped and dropped.status == 0


def test_fault_drop_after_executes_then_loses_the_response(windmill: WindmillEmulator) -> None:
    windmill.inject_fault("POST", "/api/workspaces/create", drop="after")
    with api(windmill) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/workspaces/create", json={"id": "ops", "name": "Ops"})
        assert c.post("/workspaces/exists", json={"id": "ops"}).json() is True  # state changed
        retry = c.post("/workspaces/create", json={"id": "ops", "name": "Ops"})
        assert retry.status_code == 400 and retry.text == "Bad request: Workspace ops already exists"
    lost = windmill.requests[0]
    assert lost.dropped and lost.status == 200


def test_fault_delay_adds_latency_then_executes(windmill: WindmillEmulator) -> None:
    windmill.inject_fault("GET", "/api/version", delay=0.3)
    with api(windmill) as c:
        t0 = time.monotonic()
        assert c.get("/version").status_code == 200
        slow = time.monotonic() - t0
        t0 = time.monotonic()
        c.get("/version")
        fast = time.monotonic() - t0
    assert slow >= 0.3
    assert fast < 0.2


def test_fault_delay_then_timeout(windmill: WindmillEmulator) -> None:
    windmill.inject_fault("GET", "/api/version", delay=0.5)
    with api(windmill, timeout=0.1) as c, pytest.raises(httpx.ReadTimeout):
        c.get("/version")


def test_clear_faults(windmill: WindmillEmulator) -> None:
    windmill.inject_fault("*", "*", status=500, times=10**9)
    windmill.clear_faults()
    assert httpx.get(windmill.url + "/api/version").status_code == 200


def test_global_latency_applies_to_every_request() -> None:
    with WindmillEmulator(latency=0.05) as emu, api(emu) as c:
        t0 = time.monotonic()
        for _ in range(3):
            c.get("/version")
        assert time.monotonic() - t0 >= 0.15


def test_set_ready_after_answers_503_until_ready(windmill: WindmillEmulator) -> None:
    windmill.set_ready_after(0.3)
    with api(windmill) as c:
        r = c.get("/version")
        assert r.status_code == 503
        assert c.get("/workspaces/list").status_code == 503
        time.sleep(0.35)
        assert c.get("/version").status_code == 200


def test_stop_closes_the_port() -> None:
    emu = WindmillEmulator().start()
    url = emu.url
    assert httpx.get(url + "/api/version").status_code == 200
    emu.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api/version")
    emu.stop()  # idempotent


def test_admin_token_flag_and_fixed_port_and_main_module() -> None:
    with WindmillEmulator(admin_token="fixedtoken") as emu:
        assert emu.admin_token == "fixedtoken"
        assert (
            httpx.get(emu.url + "/api/users/whoami", headers={"Authorization": "Bearer fixedtoken"}).json()["email"]
            == "admin@windmill.dev"
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "windmill_emulator", "--port", "0", "--edition", "EE", "--admin-token", "abc"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = first.split("listening on ")[1].strip()
        lines = [proc.stdout.readline() for _ in range(3)]
        assert not any("abc" in line for line in lines)  # the token never reaches the output
        assert httpx.get(url + "/api/version").text == "EE v1.819.0"
        assert httpx.get(url + "/api/users/whoami", headers={"Authorization": "Bearer abc"}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_main_module_writes_a_generated_token_to_an_owner_only_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    proc = subprocess.Popen(
        [sys.executable, "-m", "windmill_emulator", "--port", "0", "--token-file", str(token_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split("listening on ")[1].strip()
        output = "".join(proc.stdout.readline() for _ in range(3))
        token = token_file.read_text()
        assert len(token) == 32 and token not in output
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert httpx.get(url + "/api/users/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=5)
