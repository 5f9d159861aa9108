"""The Windmill client: error mapping, redaction, the retry budget and the create-retry rules.

A scripted httpx transport plays the server so each failure sequence is exact; the emulator-backed
tests (test_provider_lifecycle.py, test_provider_faults.py) cover the same paths end to end.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable

import httpx
import pytest

from components.windmill.client import (
    ConnectionSettings,
    RetryPolicy,
    WindmillClient,
    created_as_sent_check,
    pooled_http_client,
)
from components.windmill.errors import (
    AlreadyExistsError,
    ApiError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ServerError,
    UnauthorizedError,
    WindmillConnectionError,
    WindmillError,
)

TOKEN = "tok_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002, total_seconds=5)

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*answers: httpx.Response | type[Exception]) -> tuple[list[httpx.Request], Handler]:
    """A transport handler that plays ``answers`` in order (an exception class raises it)."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, type):
            raise answer("connection dropped", request=request)
        return answer

    return seen, handler


class FakeTime:
    """A clock that only moves when the client sleeps, so budgets of minutes take no time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client_for(
    handler: Handler, retry: RetryPolicy = FAST, fake: FakeTime | None = None, read_timeout: float = 30
) -> WindmillClient:
    settings = ConnectionSettings(url="http://windmill.test", token=TOKEN, connect_timeout=5, read_timeout=read_timeout)
    http = httpx.Client(
        base_url=settings.api_base,
        headers={"Authorization": f"Bearer {TOKEN}"},
        transport=httpx.MockTransport(handler),
    )
    if fake is None:
        return WindmillClient(settings, retry=retry, http=http)
    return WindmillClient(settings, retry=retry, http=http, clock=fake.clock, sleep=fake.sleep)


def text(status: int, body: str) -> httpx.Response:
    return httpx.Response(status, text=body, headers={"content-type": "text/plain"})


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (404, "Not found: Variable not found at name f/a/b", NotFoundError),
        (400, "Bad request: Variable f/a/b already exists", AlreadyExistsError),
        (400, "SqlErr: violates check constraint \"proper_id\"", BadRequestError),
        (422, "Failed to deserialize the JSON body into the target type: missing field `value`", BadRequestError),
        (415, "Expected request with `Content-Type: application/json`", BadRequestError),
        (401, "Not authorized: Unauthorized", UnauthorizedError),
        (403, "Require Admin privileges for alice", ForbiddenError),
        (500, "Internal: boom", ServerError),
        (409, "Conflict", ApiError),
    ],
)
def test_errors_map_to_typed_exceptions_with_method_path_status_and_message(
    status: int, body: str, kind: type[ApiError]
) -> None:
    _, handler = scripted(text(status, body))
    with pytest.raises(kind) as caught:
        client_for(handler).post("/w/ws/variables/update/f/a/b", {"description": "x"})
    error = caught.value
    assert (error.method, error.path, error.status) == ("POST", "/w/ws/variables/update/f/a/b", status)
    assert body in str(error)
    assert isinstance(error, WindmillError)  # one root for everything the package raises


def test_error_messages_never_contain_the_token_or_a_secret_from_the_body() -> None:
    secret = 'p@ss"word'
    echoed = f'Bad request: value {secret} and escaped "p@ss\\"word" rejected for token {TOKEN}'
    _, handler = scripted(text(400, echoed))
    with pytest.raises(BadRequestError) as caught:
        client_for(handler).post("/w/ws/variables/create", {"value": secret}, redact=[secret])
    message = str(caught.value)
    assert TOKEN not in message and secret not in message and 'p@ss\\"word' not in message
    assert "[secret]" in message


def test_unauthorized_error_says_what_to_check() -> None:
    _, handler = scripted(text(401, "Unauthorized"))
    with pytest.raises(UnauthorizedError, match="windmillToken"):
        client_for(handler).get_json("/workspaces/list")


@pytest.mark.parametrize("failure", [502, 503, 504, httpx.ConnectError, httpx.RemoteProtocolError])
def test_reads_updates_and_deletes_are_retried_on_transient_failures(failure: int | type[Exception]) -> None:
    first = text(failure, "Service Unavailable") if isinstance(failure, int) else failure
    seen, handler = scripted(first, httpx.Response(200, json={"ok": True}))
    assert client_for(handler).get_json("/w/ws/folders/get/x") == {"ok": True}
    assert len(seen) == 2


def test_client_errors_are_not_retried() -> None:
    seen, handler = scripted(text(400, "Bad request: nope"), httpx.Response(200))
    with pytest.raises(BadRequestError):
        client_for(handler).post("/w/ws/groups/update/x", {})
    assert len(seen) == 1


def test_retries_are_bounded_in_attempts() -> None:
    seen, handler = scripted(*[text(503, "down")] * 10)
    with pytest.raises(ServerError):
        client_for(handler).get_json("/version")
    assert len(seen) == FAST.attempts


def test_retries_are_bounded_in_total_time() -> None:
    slow = RetryPolicy(attempts=100, base_delay=0.2, max_delay=0.2, total_seconds=0.5)
    seen, handler = scripted(*[httpx.ConnectError] * 100)
    started = time.monotonic()
    with pytest.raises(WindmillConnectionError, match="reachable"):
        client_for(handler, slow).get_json("/version")
    assert time.monotonic() - started < 1.5
    assert len(seen) < 100


def test_retries_are_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    _, handler = scripted(text(503, f"down {TOKEN}"), httpx.Response(200, json=1))
    with caplog.at_level(logging.WARNING, logger="homeops.windmill"):
        client_for(handler).get_json("/version")
    assert "retry 1 in" in caplog.text
    assert TOKEN not in caplog.text


def test_create_is_not_blindly_retried_it_asks_exists_first() -> None:
    answers = iter([False])
    probes: list[str] = []

    def exists() -> bool:
        probes.append("probe")
        return next(answers)

    seen, handler = scripted(text(503, "down"), text(201, "variable f/a/b created"))
    response = client_for(handler).create("/w/ws/variables/create", {"path": "f/a/b"}, exists=exists)
    assert response is not None and response.status_code == 201
    assert probes == ["probe"]
    assert [r.method for r in seen] == ["POST", "POST"]


def test_create_whose_response_was_lost_is_not_repeated() -> None:
    seen, handler = scripted(httpx.RemoteProtocolError, text(400, "Bad request: already exists"))
    result = client_for(handler).create("/w/ws/variables/create", {"path": "f/a/b"}, exists=lambda: True)
    assert result is None
    assert len(seen) == 1  # the create landed: no second POST, no "already exists"


def test_create_gives_up_after_the_bounded_attempts() -> None:
    seen, handler = scripted(*[text(503, "down")] * 10)
    with pytest.raises(ServerError):
        client_for(handler).create("/w/ws/folders/create", {"name": "x"}, exists=lambda: False)
    assert len(seen) == FAST.attempts


def test_create_fails_at_once_on_a_permanent_error() -> None:
    seen, handler = scripted(text(400, "Bad request: Folder name can only contain alphanumeric characters"))
    with pytest.raises(BadRequestError):
        client_for(handler).create("/w/ws/folders/create", {"name": "a-b"}, exists=lambda: False)
    assert len(seen) == 1


def test_pooled_client_is_shared_per_settings_and_token_stays_out_of_repr() -> None:
    a = ConnectionSettings(url="http://one.test", token=TOKEN)
    b = ConnectionSettings(url="http://one.test/", token=TOKEN)
    c = ConnectionSettings(url="http://one.test", token="other-token")
    assert pooled_http_client(a) is pooled_http_client(b)
    assert pooled_http_client(a) is not pooled_http_client(c)
    assert TOKEN not in repr(a)
    assert a.api_base == "http://one.test/api"


# ------------------------------------------------------------------------------------------------
# The retry budget is time (README: "for up to 30 s"), and Retry-After is honoured
# ------------------------------------------------------------------------------------------------


def test_the_default_budget_keeps_retrying_for_the_documented_30_seconds() -> None:
    fake = FakeTime()
    seen, handler = scripted(*[httpx.ConnectError] * 200)
    with pytest.raises(WindmillConnectionError):
        client_for(handler, RetryPolicy(), fake).get_json("/version")
    # Five attempts with a 3 s cap used to give up after about 6 s of waiting.
    assert 25 <= sum(fake.slept) <= 30
    assert len(seen) == len(fake.slept) + 1


def test_an_outage_shorter_than_the_budget_is_ridden_out() -> None:
    fake = FakeTime()
    answers: list[httpx.Response | type[Exception]] = [text(503, "Service Unavailable")] * 8
    seen, handler = scripted(*answers, httpx.Response(200, json={"ok": True}))
    assert client_for(handler, RetryPolicy(), fake).get_json("/w/ws/folders/get/x") == {"ok": True}
    assert len(seen) == 9 and sum(fake.slept) < 30


def test_each_pause_is_real_and_grows_up_to_the_cap() -> None:
    policy = RetryPolicy()
    for attempt in range(1, 12):
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
        assert ceiling / 2 <= policy.delay(attempt) <= ceiling


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_honoured(status: int) -> None:
    fake = FakeTime()
    limited = httpx.Response(status, text="slow down", headers={"Retry-After": "7"})
    seen, handler = scripted(limited, httpx.Response(200, json=1))
    assert client_for(handler, RetryPolicy(), fake).get_json("/version") == 1
    assert fake.slept == [7.0] and len(seen) == 2


def test_retry_after_as_an_http_date_is_honoured() -> None:
    fake = FakeTime()
    moment = email.utils.formatdate(time.time() + 12, usegmt=True)
    _seen, handler = scripted(httpx.Response(503, headers={"Retry-After": moment}), httpx.Response(200, json=1))
    client_for(handler, RetryPolicy(), fake).get_json("/version")
    assert len(fake.slept) == 1 and 9 <= fake.slept[0] <= 12


def test_a_retry_after_beyond_the_budget_fails_at_once_and_says_why() -> None:
    fake = FakeTime()
    seen, handler = scripted(httpx.Response(429, text="rate limited", headers={"Retry-After": "120"}))
    with pytest.raises(ApiError) as caught:
        client_for(handler, RetryPolicy(), fake).get_json("/version")
    assert caught.value.status == 429 and fake.slept == [] and len(seen) == 1
    assert "Retry-After" in "\n".join(caught.value.__notes__)


# ------------------------------------------------------------------------------------------------
# Creates: 429 needs no probe; a lost answer is waited out; a retried create's own object is success
# ------------------------------------------------------------------------------------------------


def test_a_rate_limited_create_is_resent_without_asking_exists() -> None:
    fake = FakeTime()
    probes: list[str] = []
    seen, handler = scripted(httpx.Response(429, headers={"Retry-After": "1"}), text(201, "created"))
    response = client_for(handler, RetryPolicy(), fake).create(
        "/w/ws/folders/create", {"name": "x"}, exists=lambda: probes.append("probe") is not None
    )
    assert response is not None and response.status_code == 201
    assert probes == [] and len(seen) == 2


def test_a_create_slower_than_the_read_timeout_is_waited_for_not_resent() -> None:
    """Issue 10, 3(b): the first POST times out while the server is still creating the object; a
    single exists probe said "absent" and the retry collided. Now exists is polled for longer than
    the read timeout, sees the object land, and the create is not sent again."""
    fake = FakeTime()
    lands_at = fake.now + 8  # the slow request finishes 8 s after its answer timed out
    seen, handler = scripted(httpx.ReadTimeout, text(400, "Bad request: Folder x already exists"))
    probes: list[float] = []

    def exists() -> bool:
        probes.append(fake.now)
        return fake.now >= lands_at

    result = client_for(handler, RetryPolicy(), fake, read_timeout=10).create(
        "/w/ws/folders/create", {"name": "x"}, exists=exists
    )
    assert result is None
    assert len(seen) == 1  # never re-sent
    assert len(probes) > 1 and probes[-1] >= lands_at


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, 504])
def test_the_in_flight_wait_is_longer_than_the_read_timeout_before_resending(failure: object) -> None:
    fake = FakeTime()
    first = text(failure, "Gateway Timeout") if isinstance(failure, int) else failure
    seen, handler = scripted(first, text(201, "created"))  # type: ignore[arg-type]
    probes: list[float] = []
    started = fake.now
    result = client_for(handler, RetryPolicy(), fake, read_timeout=10).create(
        "/w/ws/folders/create", {"name": "x"}, exists=lambda: probes.append(fake.now) is None and False
    )
    assert result is not None and len(seen) == 2
    assert probes[-1] - started > 10  # polled past the read timeout before sending again


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.RemoteProtocolError])
def test_a_request_the_server_no_longer_runs_is_resent_after_one_probe(failure: type[Exception]) -> None:
    fake = FakeTime()
    probes: list[str] = []
    seen, handler = scripted(failure, text(201, "created"))
    client_for(handler, RetryPolicy(), fake).create(
        "/w/ws/folders/create", {"name": "x"}, exists=lambda: probes.append("probe") is None and False
    )
    assert probes == ["probe"] and len(seen) == 2
    assert sum(fake.slept) < 5


def test_a_retried_create_that_meets_its_own_object_succeeds() -> None:
    """After any retried create, "already exists" with the content that was sent is success."""
    fake = FakeTime()
    seen, handler = scripted(text(503, "down"), text(400, "Bad request: Folder x already exists"))
    with created_as_sent_check(lambda: True):
        result = client_for(handler, RetryPolicy(), fake).create(
            "/w/ws/folders/create", {"name": "x"}, exists=lambda: False
        )
    assert result is None and len(seen) == 2


def test_a_retried_create_that_meets_someone_elses_object_fails_clearly() -> None:
    fake = FakeTime()
    _seen, handler = scripted(text(503, "down"), text(400, "Bad request: Folder x already exists"))
    with created_as_sent_check(lambda: False), pytest.raises(AlreadyExistsError) as caught:
        client_for(handler, RetryPolicy(), fake).create("/w/ws/folders/create", {"name": "x"}, exists=lambda: False)
    assert "does not hold the content that was sent" in "\n".join(caught.value.__notes__)


def test_a_first_create_that_meets_an_existing_object_is_not_taken_over() -> None:
    checks: list[str] = []
    seen, handler = scripted(text(400, "Bad request: Folder x already exists"))
    with created_as_sent_check(lambda: checks.append("check") is None), pytest.raises(AlreadyExistsError):
        client_for(handler).create("/w/ws/folders/create", {"name": "x"}, exists=lambda: False)
    assert checks == [] and len(seen) == 1
