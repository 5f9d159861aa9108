"""The Windmill client: error mapping, redaction, bounded retries and the create-retry rule.

A scripted httpx transport plays the server so each failure sequence is exact; the emulator-backed
tests (test_provider_lifecycle.py, test_provider_faults.py) cover the same paths end to end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
import pytest

from components.windmill.client import ConnectionSettings, RetryPolicy, WindmillClient, pooled_http_client
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


def client_for(handler: Handler, retry: RetryPolicy = FAST) -> WindmillClient:
    settings = ConnectionSettings(url="http://windmill.test", token=TOKEN)
    http = httpx.Client(
        base_url=settings.api_base,
        headers={"Authorization": f"Bearer {TOKEN}"},
        transport=httpx.MockTransport(handler),
    )
    return WindmillClient(settings, retry=retry, http=http)


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
    assert "retry 1/" in caplog.text
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
