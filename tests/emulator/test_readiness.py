"""The readiness gate: its wait loop against the Windmill emulator, its provider lifecycle and its
serialisation into state."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from components.windmill.readiness import (
    CONFIRM_SPACING_ENV,
    ReadinessGate,
    ReadinessGateProvider,
    ReadinessTimeout,
    wait_for_version,
)
from testkit.mocking import install_mocks
from windmill_emulator import WindmillEmulator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulator() -> Iterator[WindmillEmulator]:
    server = WindmillEmulator()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _emulator_version(emulator: WindmillEmulator) -> str:
    emulator.set_ready_after(0)
    return wait_for_version(emulator.url, timeout_seconds=5, interval_seconds=0.1)


def test_answers_after_a_delay(emulator):
    emulator.set_ready_after(1.0)
    started = time.monotonic()
    version = wait_for_version(emulator.url, timeout_seconds=10, interval_seconds=0.2)
    elapsed = time.monotonic() - started
    assert version.startswith(("CE v", "EE v"))
    assert 0.8 <= elapsed < 8, elapsed  # it really waited, and stopped as soon as it could


def test_never_answers_within_the_timeout(emulator):
    emulator.set_ready_after(60)
    started = time.monotonic()
    with pytest.raises(ReadinessTimeout) as raised:
        wait_for_version(emulator.url, timeout_seconds=1.5, interval_seconds=0.2)
    elapsed = time.monotonic() - started
    message = str(raised.value)
    assert emulator.url in message
    assert "within 1.5s" in message and "waited " in message
    assert "last error: " in message and "no attempt" not in message
    assert 1.4 <= elapsed < 5, elapsed  # bounded: it gave up on time


def test_unreachable_url_reports_the_connection_error():
    # A port nothing listens on: the last error is the transport error, not an HTTP status.
    with pytest.raises(ReadinessTimeout) as raised:
        wait_for_version("http://127.0.0.1:9", timeout_seconds=0.6, interval_seconds=0.2)
    assert "http://127.0.0.1:9" in str(raised.value)
    assert "ConnectError" in str(raised.value)


def test_expected_version_must_match(emulator):
    reported = _emulator_version(emulator)
    with pytest.raises(ReadinessTimeout) as raised:
        wait_for_version(emulator.url, timeout_seconds=0.8, interval_seconds=0.2, expected_version="0.0.1")
    assert "expected version 0.0.1" in str(raised.value)
    assert reported in str(raised.value)
    release = reported.split("v", 1)[1].split("-")[0]
    assert wait_for_version(emulator.url, timeout_seconds=5, interval_seconds=0.1, expected_version=release) == reported


def test_reports_the_edition_and_version_it_found():
    ee = WindmillEmulator(edition="EE", version="1.650.2")
    ee.start()
    try:
        assert wait_for_version(ee.url, timeout_seconds=5, interval_seconds=0.1, expected_version="1.650.2") == (
            "EE v1.650.2")
    finally:
        ee.stop()


def _scripted(*statuses: int) -> tuple[list[int], httpx.MockTransport]:
    """A server that answers ``statuses`` in order (200 with a version), then 200 for ever."""
    answered: list[int] = []
    queue = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        status = queue.pop(0) if queue else 200
        answered.append(status)
        return httpx.Response(status, text="CE v1.819.0" if status == 200 else "Service Unavailable")

    return answered, httpx.MockTransport(handler)


def test_a_flapping_server_is_not_ready_until_it_answers_three_times_in_a_row():
    # One 200 used to pass the gate; the 503 right after it then failed the first resource.
    answered, transport = _scripted(200, 503, 200, 200, 503, 200, 200, 200)
    version = wait_for_version("http://windmill.test", timeout_seconds=10, interval_seconds=0.01, transport=transport)
    assert version == "CE v1.819.0"
    assert answered == [200, 503, 200, 200, 503, 200, 200, 200]


def test_the_number_of_healthy_answers_is_configurable():
    answered, transport = _scripted(503, 200, 200, 200, 200, 200)
    wait_for_version("http://windmill.test", timeout_seconds=10, interval_seconds=0.01, healthy_answers=5,
                     transport=transport)
    assert len(answered) == 6
    answered, transport = _scripted(503, 200)
    wait_for_version("http://windmill.test", timeout_seconds=10, interval_seconds=0.01, healthy_answers=1,
                     transport=transport)
    assert len(answered) == 2


def test_confirming_answers_are_a_second_apart_unless_the_environment_shortens_them(monkeypatch):
    pauses: list[float] = []
    monkeypatch.setattr("components.windmill.readiness.time.sleep", pauses.append)
    monkeypatch.delenv(CONFIRM_SPACING_ENV, raising=False)
    _answered, transport = _scripted(503, 200, 200, 200)
    wait_for_version("http://windmill.test", timeout_seconds=60, interval_seconds=2.0, transport=transport)
    assert pauses == [2.0, 1.0, 1.0]  # the interval while not there yet, then a second between confirmations

    pauses.clear()
    monkeypatch.setenv(CONFIRM_SPACING_ENV, "0.05")  # what the engine tier sets (testkit/engine.py)
    _answered, transport = _scripted(503, 200, 200, 200)
    wait_for_version("http://windmill.test", timeout_seconds=60, interval_seconds=2.0, transport=transport)
    assert pauses == [2.0, 0.05, 0.05]  # still three healthy answers, and the interval untouched

    for bad in ("2", "-1", "soon"):  # it may only shorten the pause
        monkeypatch.setenv(CONFIRM_SPACING_ENV, bad)
        with pytest.raises(ValueError, match=f"{CONFIRM_SPACING_ENV} must be a number of seconds from 0 to 1"):
            wait_for_version("http://windmill.test", timeout_seconds=60, transport=_scripted()[1])


def test_a_server_that_never_stays_up_times_out_saying_so():
    _answered, transport = _scripted(*[200, 503] * 50)
    with pytest.raises(ReadinessTimeout) as raised:
        wait_for_version("http://windmill.test", timeout_seconds=0.5, interval_seconds=0.01, transport=transport)
    assert "3 time(s) in a row" in str(raised.value) and "HTTP 503" in str(raised.value)


def test_provider_lifecycle(emulator):
    emulator.set_ready_after(0.3)
    provider = ReadinessGateProvider()
    inputs = {"url": emulator.url, "timeout_seconds": 10.0, "interval_seconds": 0.1}
    assert provider.check({}, inputs).failures == []

    created = provider.create(inputs)
    assert created.id
    assert created.outs["version"].startswith(("CE v", "EE v"))
    assert created.outs["url"] == emulator.url

    olds = {**created.outs, "__provider": "old-blob"}
    same = provider.diff(created.id, olds, {**inputs, "__provider": "new-blob"})
    assert same.changes is False  # a new provider blob alone is not a change
    moved = provider.diff(created.id, olds, {**inputs, "url": emulator.url + "/", "__provider": "old-blob"})
    assert moved.changes is True and moved.replaces == []

    updated = provider.update(created.id, olds, inputs)
    assert set(updated.outs) >= {"url", "timeout_seconds", "interval_seconds", "version"}

    read = provider.read(created.id, created.outs)
    assert read.id == created.id and read.outs["version"] == created.outs["version"]
    assert "version" not in (read.inputs or {})
    assert provider.delete(created.id, created.outs) is None


def test_create_fails_with_the_timeout_message(emulator):
    emulator.set_ready_after(60)
    with pytest.raises(ReadinessTimeout, match="was not ready"):
        ReadinessGateProvider().create({"url": emulator.url, "timeout_seconds": 0.5, "interval_seconds": 0.1})


@pytest.mark.parametrize(
    ("news", "property_"),
    [
        ({"url": "ftp://host"}, "url"),
        ({}, "url"),
        ({"url": "http://h", "timeout_seconds": 0}, "timeout_seconds"),
        ({"url": "http://h", "interval_seconds": -1}, "interval_seconds"),
        ({"url": "http://h", "timeout_seconds": "soon"}, "timeout_seconds"),
        ({"url": "http://h", "healthy_answers": 0}, "healthy_answers"),
        ({"url": "http://h", "healthy_answers": 1.5}, "healthy_answers"),
    ],
)
def test_check_rejects_bad_inputs(news, property_):
    failures = ReadinessGateProvider().check({}, news).failures
    assert [f.property for f in failures] == [property_]


def test_check_tolerates_unknowns_during_preview():
    unknown = pulumi.output.Unknown()
    assert ReadinessGateProvider().check({}, {"url": unknown, "timeout_seconds": unknown}).failures == []


def test_provider_pickles_by_reference_and_loads_in_a_fresh_process():
    blob = serialize_provider(ReadinessGateProvider())
    # By reference: the module path, no bytecode and nothing heavy such as an SSLContext.
    assert b"components.windmill.readiness" in base64.b64decode(blob)
    assert len(blob) < 500
    script = (
        "import base64, sys, dill\n"
        "p = dill.loads(base64.b64decode(sys.argv[1]))\n"
        "print(type(p).__module__, type(p).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, blob], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "components.windmill.readiness ReadinessGateProvider"


def test_module_has_no_import_side_effects():
    result = subprocess.run(
        [sys.executable, "-c", "import components.windmill.readiness"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "" and result.stderr == ""


def test_resource_type_token_and_inputs_under_mocks():
    env = install_mocks({"pulumi-python:dynamic/windmill:ReadinessGate": lambda a: {"version": "CE v1.819.0"}})
    captured: dict[str, str] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output:
        gate = ReadinessGate("ready", url="http://127.0.0.1:8000", timeout_seconds=30, expected_version="1.819.0")
        return gate.version.apply(lambda v: captured.update(version=v))

    run()
    gate = env.one("pulumi-python:dynamic/windmill:ReadinessGate", "ready")
    inputs = gate.plain_inputs
    assert inputs["url"] == "http://127.0.0.1:8000"
    assert inputs["timeout_seconds"] == 30 and inputs["interval_seconds"] == 2
    assert inputs["healthy_answers"] == 3
    assert inputs["expected_version"] == "1.819.0"
    assert "__provider" in inputs
    assert captured["version"] == "CE v1.819.0"
