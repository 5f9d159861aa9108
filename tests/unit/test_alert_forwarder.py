"""The domain error handler (components/alerting/forwarder.py) with a stand-in for Windmill's
Python client: it calls the platform's dispatcher with the failure and the services token, logs
the call, and when it cannot, logs why and fails so the failure stays in the domain's runs."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

TOKEN = "svc-token-5f1c2e9d"


class StandIn(types.ModuleType):
    """What a Windmill Python job imports as ``wmill``: get_variable and the Windmill client class."""

    def __init__(self) -> None:
        super().__init__("wmill")
        self.variables = {"f/atom/platform_services_token": TOKEN}
        self.clients: list[dict[str, Any]] = []
        self.runs: list[dict[str, Any]] = []
        self.failure: Exception | None = None
        stand_in = self

        class Windmill:
            def __init__(self, base_url: str | None = None, token: str | None = None,
                         workspace: str | None = None, verify: bool = True) -> None:
                stand_in.clients.append({"token": token, "workspace": workspace})

            def run_flow_async(self, path: str, args: dict[str, Any] | None = None, **_: Any) -> str:
                if stand_in.failure is not None:
                    raise stand_in.failure
                stand_in.runs.append({"path": path, "args": args})
                return "0192d6f0-dispatch-job"

        self.Windmill = Windmill

    def get_variable(self, path: str) -> str:
        if path not in self.variables:
            raise Exception(f"http://windmill/api/w/homeops-financial/variables/get_value/{path}: 404, not found")
        return self.variables[path]


@pytest.fixture
def wmill(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    stand_in = StandIn()
    monkeypatch.setitem(sys.modules, "wmill", stand_in)
    sys.modules.pop("components.alerting.forwarder", None)
    yield stand_in
    sys.modules.pop("components.alerting.forwarder", None)


FAILURE = {
    "workspace_id": "homeops-financial", "job_id": "0192d6ef-failed", "path": "f/atom/nightly_scan",
    "is_flow": True, "started_at": "2026-11-30T21:30:00Z", "email": "schedule@windmill.dev",
    "schedule_path": "f/atom/nightly", "error": {"name": "ValueError", "message": "market closed"},
    "dispatcher_path": "f/monitoring/alert_dispatcher", "platform_workspace": "homeops-platform",
    "token_variable": "f/atom/platform_services_token",
}


def forwarder() -> Any:
    return importlib.import_module("components.alerting.forwarder")


def test_the_failure_goes_to_the_dispatcher_with_the_services_token(
    wmill: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    result = forwarder().main(**FAILURE)
    assert wmill.clients == [{"token": TOKEN, "workspace": "homeops-platform"}]
    (run,) = wmill.runs
    assert run["path"] == "f/monitoring/alert_dispatcher"
    args = run["args"]
    assert (args["workspace_id"], args["path"], args["job_id"], args["schedule_path"]) == (
        "homeops-financial", "f/atom/nightly_scan", "0192d6ef-failed", "f/atom/nightly")
    assert args["error"] == {"name": "ValueError", "message": "market closed"} and args["is_flow"] is True
    assert result["dispatcher_job"] == "0192d6f0-dispatch-job"
    log = capsys.readouterr().out
    assert "homeops-financial flow f/atom/nightly_scan failed (job 0192d6ef-failed, schedule f/atom/nightly)" in log
    assert ("calling homeops-platform/f/monitoring/alert_dispatcher with the token in "
            "f/atom/platform_services_token") in log
    assert "as job 0192d6f0-dispatch-job" in log
    assert TOKEN not in log


@pytest.mark.parametrize("what", ["dispatcher unreachable", "token revoked"])
def test_when_it_cannot_forward_it_logs_why_and_fails(
    wmill: StandIn, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    if what == "token revoked":
        wmill.failure = Exception(f"http://windmill/api/w/homeops-platform/jobs/run/f/f/monitoring/alert_dispatcher: "
                                  f"401, Unauthorized (token {TOKEN})")
    else:
        wmill.failure = ConnectionError("[Errno 111] Connection refused")
    with pytest.raises(RuntimeError, match="alert not forwarded to homeops-platform/f/monitoring/alert_dispatcher"):
        forwarder().main(**FAILURE)
    log = capsys.readouterr().out
    assert "FAILED to forward job 0192d6ef-failed of homeops-financial" in log
    assert ("401" if what == "token revoked" else "Connection refused") in log
    assert TOKEN not in log  # even when the error echoes it


def test_a_missing_token_variable_is_logged_too(wmill: StandIn, capsys: pytest.CaptureFixture[str]) -> None:
    wmill.variables.clear()
    with pytest.raises(RuntimeError):
        forwarder().main(**FAILURE)
    assert "FAILED to forward" in capsys.readouterr().out and wmill.runs == []


def test_the_deployed_content_is_this_file() -> None:
    from components.alerting import FORWARDER_SCHEMA, forwarder_content

    content = forwarder_content()
    assert content.startswith('"""HomeOps alert forwarder') and "import wmill" in content
    assert set(FORWARDER_SCHEMA["properties"]) >= {"workspace_id", "job_id", "path", "error", "schedule_path"}
