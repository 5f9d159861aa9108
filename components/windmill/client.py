"""A small typed client for the Windmill HTTP API, built on httpx.

Why our own layer instead of the generated ``windmill-api`` package: Windmill answers most
mutations with ``text/plain`` bodies and every error as plain text, which the generated client
cannot parse, and its strict models break on version skew (docs/windmill-api.md §13). This module
keeps to the documented endpoints and adds what a provider needs:

* errors mapped to the typed exceptions of ``errors.py`` (method, path, status and Windmill's
  message), with the token and any secret from the request body redacted (docs/windmill-api.md §9.1);
* retries within a time budget (30 s by default, however many attempts that takes) with
  exponential backoff and jitter on connection errors, 429 and 502/503/504; a ``Retry-After`` on
  429 or 503 is honoured (beyond the budget, the call fails at once and says so);
* a create is retried only after an ``exists`` probe shows the first attempt did not land. After a
  lost answer the probe keeps polling for longer than the read timeout, because a slow first
  request may still be in flight; and when a retried create meets "already exists", the object
  counts as created if its content is what was sent (``created_as_sent``), so a retry can neither
  duplicate an object nor fail on the first attempt's own object;
* one pooled ``httpx.Client`` per (URL, token, timeouts) and process, so the provider host reuses
  keep-alive connections across resources. The pool lives at module level, never on a provider
  object, so nothing here is pickled into Pulumi state.
"""

from __future__ import annotations

import hashlib
import json as jsonlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from .errors import (
    AlreadyExistsError,
    ApiError,
    NotFoundError,
    WindmillConnectionError,
    error_for_status,
)
from .rules import DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_READ_TIMEOUT_SECONDS

log = logging.getLogger("homeops.windmill")

# 429: rate limited, nothing was done. 502/503/504: a proxy or the server could not answer.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Statuses whose Retry-After header says when to come back (RFC 9110 §10.2.3).
RETRY_AFTER_STATUSES = frozenset({429, 503})
REDACTED = "[secret]"
RETRY_SECONDS_ENV = "HOMEOPS_WINDMILL_RETRY_SECONDS"
# How often a create whose answer was lost asks ``exists`` while the first request may be in flight.
SETTLE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class ConnectionSettings:
    """Where the Windmill instance is and how to authenticate. ``url`` is the instance root;
    the client adds ``/api``. The token is excluded from ``repr`` so it cannot leak into logs."""

    url: str
    token: str = field(repr=False)
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    read_timeout: float = DEFAULT_READ_TIMEOUT_SECONDS

    @property
    def api_base(self) -> str:
        return self.url.rstrip("/") + "/api"

    def pool_key(self) -> tuple[str, str, float, float]:
        digest = hashlib.sha256(self.token.encode()).hexdigest()
        return (self.api_base, digest, self.connect_timeout, self.read_timeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How long one logical call may keep retrying: a time budget, not a count.

    Retries go on until ``total_seconds`` have passed since the first attempt (the budget the
    README documents), with exponential backoff from ``base_delay`` up to ``max_delay`` and
    "equal jitter" (half the delay fixed, half random), so several provider threads never retry in
    lockstep and every pause is a real pause. ``attempts`` optionally caps the count as well (a
    single attempt for calls that must not be repeated; None means only time counts).
    """

    total_seconds: float = 30.0
    base_delay: float = 0.5
    max_delay: float = 5.0
    attempts: int | None = None

    @classmethod
    def default(cls) -> RetryPolicy:
        """The 30 s budget, or a shorter one from ``HOMEOPS_WINDMILL_RETRY_SECONDS`` (above 0, at most 30): a run
        that should fail fast (the provider tier's unreachable instance) never waits the whole budget."""
        raw = os.environ.get(RETRY_SECONDS_ENV, "").strip()
        if not raw:
            return cls()
        try:
            seconds = float(raw)
        except ValueError:
            seconds = 0.0
        if not 0 < seconds <= cls.total_seconds:
            raise ValueError(f"{RETRY_SECONDS_ENV} must be a number of seconds above 0 and at most "
                             f"{cls.total_seconds:g} (it only shortens the retry budget), got {raw!r}")
        return cls(total_seconds=seconds)

    def delay(self, attempt: int) -> float:
        """The pause before retry number ``attempt`` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not security


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The pause a 429 or 503 asks for (``Retry-After``: seconds or an HTTP date), or None."""
    if response.status_code not in RETRY_AFTER_STATUSES:
        return None
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


# Set by the provider around one resource create: after a retried create meets "already exists",
# it says whether the live object holds what the create sent (base.WindmillProvider.created_as_sent).
_CREATED_AS_SENT: ContextVar[Callable[[], bool] | None] = ContextVar("created_as_sent", default=None)


@contextmanager
def created_as_sent_check(check: Callable[[], bool]) -> Iterator[None]:
    """Within the block, ``WindmillClient.create`` asks ``check`` when a retried create collides."""
    token = _CREATED_AS_SENT.set(check)
    try:
        yield
    finally:
        _CREATED_AS_SENT.reset(token)


class _Budget:
    """The deadline of one logical call, and the pause before each retry."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float]) -> None:
        self.policy, self.clock = policy, clock
        self.deadline = clock() + policy.total_seconds
        self.attempt = 0

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def next_pause(self, asked: float | None) -> float | None:
        """The pause before the next attempt, or None when the budget (time or count) is spent."""
        self.attempt += 1
        if self.policy.attempts is not None and self.attempt >= self.policy.attempts:
            return None
        pause = asked if asked is not None else self.policy.delay(self.attempt)
        return pause if pause <= self.remaining() else None


_POOL: dict[tuple[str, str, float, float], httpx.Client] = {}
_POOL_LOCK = threading.Lock()


def pooled_http_client(settings: ConnectionSettings) -> httpx.Client:
    """The process-wide keep-alive client for these settings (created on first use)."""
    key = settings.pool_key()
    with _POOL_LOCK:
        client = _POOL.get(key)
        if client is None or client.is_closed:
            client = httpx.Client(
                base_url=settings.api_base,
                headers={"Authorization": f"Bearer {settings.token}"},
                timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
                # Every provider thread of the host shares it; keep a few warm connections.
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            )
            _POOL[key] = client
        return client


def close_pooled_clients() -> None:
    """Close every pooled client (tests and benchmarks call this between runs)."""
    with _POOL_LOCK:
        for client in _POOL.values():
            client.close()
        _POOL.clear()


def quote_path(path: str) -> str:
    """Quote an item path for a URL while keeping its slashes (Windmill routes are wildcards)."""
    return quote(path, safe="/")


_NO_BODY: Any = object()


class WindmillClient:
    """Typed access to one Windmill instance with one token.

    Cheap to construct: the HTTP connection pool behind it is shared per process. ``clock`` and
    ``sleep`` are the time functions the retries use (tests pass fake ones).
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        retry: RetryPolicy | None = None,
        http: httpx.Client | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy.default()
        self._http = http
        self.clock, self.sleep = clock, sleep

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = pooled_http_client(self.settings)
        return self._http

    # -- low level -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _NO_BODY,
        params: Mapping[str, Any] | None = None,
        redact: Iterable[str] = (),
        retry: bool = True,
    ) -> httpx.Response:
        """Send one logical request; retry transport failures, 429 and 502/503/504 when ``retry``.

        ``path`` is relative to ``/api``. Non-2xx answers raise an ApiError subclass whose
        message has ``redact`` values and the token replaced by ``[secret]``.
        """
        secrets = self._secrets(redact)
        budget = _Budget(self.retry if retry else RetryPolicy(attempts=1), self.clock)
        while True:
            failure, asked = self._attempt(method, path, json, params, secrets)
            if isinstance(failure, httpx.Response):
                return failure
            self._pause_or_raise(budget, failure, asked, f"{method} {path}")

    def _secrets(self, redact: Iterable[str]) -> list[str]:
        return [s for s in (*redact, self.settings.token) if isinstance(s, str) and s]

    def _attempt(
        self, method: str, path: str, json: Any, params: Mapping[str, Any] | None, secrets: list[str]
    ) -> tuple[httpx.Response | ApiError, float | None]:
        """One try: the successful response, or the retryable failure and the pause it asks for.
        A failure that must not be retried is raised."""
        try:
            response = self._send(method, path, json, params)
        except httpx.TransportError as error:
            failure = WindmillConnectionError(
                method, path, None, _redact(_describe_transport_error(error), secrets),
                hint=f"Is the Windmill instance at {self.settings.url} up and reachable?",
            )
            failure.__cause__ = error
            return failure, None
        if response.is_success:
            return response, None
        failure = _error_from_response(method, path, response, secrets)
        if response.status_code not in RETRYABLE_STATUSES:
            raise failure
        return failure, retry_after_seconds(response)

    def _pause_or_raise(self, budget: _Budget, failure: ApiError, asked: float | None, what: str) -> None:
        """Sleep before the next attempt, or raise ``failure`` when the budget does not allow one."""
        pause = budget.next_pause(asked)
        if pause is None:
            if asked is not None and asked > budget.remaining():
                failure.add_note(
                    f"Windmill asked to retry after {asked:g} s (Retry-After), beyond what is left of the "
                    f"{budget.policy.total_seconds:g} s retry budget, so the call was not retried"
                )
            raise failure
        log.warning(
            "Windmill API %s: %s; retry %d in %.2fs%s (budget %gs)",
            what, failure.status or "connection error", budget.attempt, pause,
            " as Retry-After asks" if asked is not None else "", budget.policy.total_seconds,
        )
        self.sleep(pause)

    def _send(self, method: str, path: str, json: Any, params: Mapping[str, Any] | None) -> httpx.Response:
        if json is _NO_BODY:
            return self.http.request(method, path, params=params)
        return self.http.request(method, path, json=json, params=params)

    # -- conveniences --------------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def get_or_none(self, path: str, params: Mapping[str, Any] | None = None) -> Any | None:
        """GET a JSON object, or None when Windmill answers 404."""
        try:
            return self.get_json(path, params)
        except NotFoundError:
            return None

    def post(self, path: str, body: Any = None, *, redact: Iterable[str] = ()) -> httpx.Response:
        """An idempotent POST (updates, membership changes): safe to retry as is."""
        return self.request("POST", path, json=body if body is not None else {}, redact=redact)

    def delete(self, path: str, *, missing_ok: bool = True) -> bool:
        """DELETE; returns False when the object was already gone (and ``missing_ok``)."""
        try:
            self.request("DELETE", path)
        except NotFoundError:
            if not missing_ok:
                raise
            return False
        return True

    def create(
        self,
        path: str,
        body: Any,
        *,
        exists: Callable[[], bool] | None = None,
        discard: Callable[[], None] | None = None,
        redact: Iterable[str] = (),
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response | None:
        """A non-idempotent create, retried only when it is known not to have landed.

        After a lost answer (connection error, 502/503/504), ``exists()`` decides: if the object is
        there the create did land, and None is returned (callers read back what they need). While
        the first request may still be running on the server (its answer timed out or was cut
        off), ``exists`` is polled for longer than the read timeout before the create is sent again.
        A 429 means nothing was done, so it is retried at once (after its ``Retry-After``).

        When a *retried* create meets "already exists", the object counts as created (None is
        returned) if the provider's ``created_as_sent`` check finds the content that was sent;
        otherwise the error says that an object with other content is in the way.

        When the answer itself is the only copy of something (a new token), pass ``discard``
        instead of ``exists``: it removes whatever may have landed, and the create is sent again.
        """
        if (exists is None) == (discard is None):
            raise TypeError("create() needs exactly one of exists= or discard=")
        secrets = self._secrets(redact)
        budget = _Budget(self.retry, self.clock)
        while True:
            try:
                outcome, asked = self._attempt("POST", path, body, params, secrets)
            except AlreadyExistsError as conflict:
                if budget.attempt == 0:
                    raise
                return self._retried_create_collided(path, conflict)
            if isinstance(outcome, httpx.Response):
                return outcome
            if outcome.status != 429:  # a 429 did nothing; anything else may have landed
                if exists is not None and self._landed(exists, outcome, budget):
                    log.warning("Windmill API POST %s: response lost but the object exists; continuing", path)
                    return None
                if discard is not None:
                    discard()
            self._pause_or_raise(budget, outcome, asked, f"POST {path} (create; nothing landed)")

    def _landed(self, exists: Callable[[], bool], failure: ApiError, budget: _Budget) -> bool:
        """Whether a create whose answer was lost landed. If the request may still be running on
        the server, keep asking for longer than the read timeout before deciding it did not (that
        wait is not taken from the retry budget)."""
        if exists():
            return True
        if not _may_be_in_flight(failure):
            return False
        started = self.clock()
        settle_until = started + self.settings.read_timeout + self.settings.connect_timeout
        try:
            while self.clock() < settle_until:
                self.sleep(min(SETTLE_POLL_SECONDS, max(0.0, settle_until - self.clock())))
                if exists():
                    return True
            return False
        finally:
            budget.deadline += self.clock() - started

    def _retried_create_collided(self, path: str, conflict: AlreadyExistsError) -> None:
        check = _CREATED_AS_SENT.get()
        if check is not None and check():
            log.warning("Windmill API POST %s: a retried create met the earlier attempt's object; continuing", path)
            return None
        conflict.add_note(
            "This create was retried after an earlier attempt's answer was lost, and the object now in "
            "Windmill does not hold the content that was sent: something else created it. Compare it with "
            "the stack config, then delete it in Windmill or adopt it"
        )
        raise conflict

    def exists(self, path: str, *, method: str = "GET", body: Any = _NO_BODY) -> bool:
        """Call one of Windmill's ``exists`` endpoints (JSON bool; they bypass RLS, §9.3)."""
        response = self.request(method, path, json=body)
        return bool(response.json())

    def version(self) -> str:
        return self.request("GET", "/version").text.strip()


def _may_be_in_flight(failure: ApiError) -> bool:
    """Whether the failed request may still be executing on the server: this client stopped
    waiting for its answer (a read or write timeout), or a proxy did (504). A refused connection, a
    connection the server closed, a 502 or a 503 ended the request's life on the server side."""
    if failure.status is None:
        return isinstance(failure.__cause__, httpx.ReadTimeout | httpx.WriteTimeout)
    return failure.status == 504


def _describe_transport_error(error: httpx.TransportError) -> str:
    name = type(error).__name__
    detail = str(error) or "connection closed without a response"
    return f"{name}: {detail}"


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, REDACTED)
        # A secret may come back JSON-escaped inside a server message.
        escaped = jsonlib.dumps(secret)[1:-1]
        if escaped != secret:
            text = text.replace(escaped, REDACTED)
    return text


def _error_from_response(method: str, path: str, response: httpx.Response, secrets: list[str]) -> ApiError:
    message = _redact(response.text.strip() or response.reason_phrase, secrets)
    if len(message) > 500:
        message = message[:500] + "…"
    return error_for_status(method, path, response.status_code, message)
