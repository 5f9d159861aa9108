"""The client's retry budget: 30 s, or shorter through HOMEOPS_WINDMILL_RETRY_SECONDS, never longer."""

from __future__ import annotations

import httpx
import pytest

from components.windmill.client import RETRY_SECONDS_ENV, ConnectionSettings, RetryPolicy, WindmillClient
from components.windmill.errors import WindmillConnectionError


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def give_up_after(monkeypatch: pytest.MonkeyPatch, value: str | None) -> float:
    """Seconds of (fake) time the client retries an unreachable instance before it raises."""
    if value is None:
        monkeypatch.delenv(RETRY_SECONDS_ENV, raising=False)
    else:
        monkeypatch.setenv(RETRY_SECONDS_ENV, value)
    fake = FakeTime()
    http = httpx.Client(base_url="http://windmill.test/api", transport=httpx.MockTransport(refused))
    client = WindmillClient(ConnectionSettings("http://windmill.test", "tok"), http=http, clock=fake.clock,
                            sleep=fake.sleep)
    with pytest.raises(WindmillConnectionError, match="up and reachable"):
        client.request("GET", "/version")
    return fake.now


def test_the_budget_is_30_s_unless_the_environment_shortens_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert RetryPolicy.default() == RetryPolicy()
    assert 25 < give_up_after(monkeypatch, None) <= 30
    assert 0 < give_up_after(monkeypatch, "2") <= 2  # what the provider tier's unreachable-instance test sets
    assert RetryPolicy.default().total_seconds == 2


@pytest.mark.parametrize("value", ["0", "31", "-1", "soon"])
def test_the_environment_can_only_shorten_the_budget(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(RETRY_SECONDS_ENV, value)
    with pytest.raises(ValueError, match=f"{RETRY_SECONDS_ENV} must be a number of seconds above 0 and at most 30"):
        RetryPolicy.default()
