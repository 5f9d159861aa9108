"""A small typed client for the Windmill HTTP API, built on httpx.

Why our own layer instead of the generated ``windmill-api`` package: Windmill answers most
mutations with ``text/plain`` bodies and every error as plain text, which the generated client
cannot parse, and its strict models break on version skew (windmill-api.md §13). This module
keeps to the documented endpoints and adds what a provider needs:

* errors mapped to the typed exceptions of ``errors.py`` (method, path, status and Windmill's
  message), with the token and any secret from the request body redacted (windmill-api.md §9.1);
* bounded retries with exponential backoff and full jitter on connection errors and 502/503/504;
  a create is retried only after an ``exists`` probe shows the first attempt did not land, so a
  retry can neither duplicate an object nor trip over "already exists";
* one pooled ``httpx.Client`` per (URL, token, timeouts) and process, so the provider host reuses
  keep-alive connections across resources. The pool lives at module level, never on a provider
  object, so nothing here is pickled into Pulumi state.
"""

from __future__ import annotations

import hashlib
import json as jsonlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from .errors import ApiError, NotFoundError, ServerError, WindmillConnectionError, error_for_status
from .rules import DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_READ_TIMEOUT_SECONDS

log = logging.getLogger("homeops.windmill")

RETRYABLE_STATUSES = frozenset({502, 503, 504})
REDACTED = "[secret]"


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
    """Bounded exponential backoff with full jitter: at most ``attempts`` tries and
    ``total_seconds`` of waiting for one logical call."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 3.0
    total_seconds: float = 30.0

    def delay(self, attempt: int) -> float:
        # Full jitter keeps several provider threads from retrying in lockstep.
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # noqa: S311


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

    Cheap to construct: the HTTP connection pool behind it is shared per process.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        retry: RetryPolicy | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._http = http

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
        """Send one logical request; retry transport failures and 502/503/504 when ``retry``.

        ``path`` is relative to ``/api``. Non-2xx answers raise an ApiError subclass whose
        message has ``redact`` values and the token replaced by ``[secret]``.
        """
        secrets = [s for s in (*redact, self.settings.token) if isinstance(s, str) and s]
        policy = self.retry if retry else RetryPolicy(attempts=1)
        deadline = time.monotonic() + policy.total_seconds
        attempt = 0
        while True:
            try:
                response = self._send(method, path, json, params)
            except httpx.TransportError as error:
                failure: ApiError = WindmillConnectionError(
                    method, path, None, _redact(_describe_transport_error(error), secrets),
                    hint=f"Is the Windmill instance at {self.settings.url} up and reachable?",
                )
            else:
                if response.is_success:
                    return response
                failure = _error_from_response(method, path, response, secrets)
                if response.status_code not in RETRYABLE_STATUSES:
                    raise failure
            attempt += 1
            pause = policy.delay(attempt)
            if attempt >= policy.attempts or time.monotonic() + pause > deadline:
                raise failure
            log.warning(
                "Windmill API %s %s: %s; retry %d/%d in %.2fs",
                method, path, failure.status or "connection error", attempt, policy.attempts - 1, pause,
            )
            time.sleep(pause)

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

        After a lost answer (connection error or 502/503/504), ``exists()`` decides: if the object
        is there the create did land, and None is returned (callers read back what they need).
        When the answer itself is the only copy of something (a new token), pass ``discard``
        instead: it removes whatever may have landed, and the create is sent again.
        """
        if (exists is None) == (discard is None):
            raise TypeError("create() needs exactly one of exists= or discard=")
        deadline = time.monotonic() + self.retry.total_seconds
        attempt = 0
        while True:
            try:
                return self.request("POST", path, json=body, params=params, redact=redact, retry=False)
            except (WindmillConnectionError, ServerError) as error:
                if isinstance(error, ServerError) and error.status not in RETRYABLE_STATUSES:
                    raise
                failure = error
            if exists is not None and exists():
                log.warning("Windmill API POST %s: response lost but the object exists; continuing", path)
                return None
            if discard is not None:
                discard()
            attempt += 1
            pause = self.retry.delay(attempt)
            if attempt >= self.retry.attempts or time.monotonic() + pause > deadline:
                raise failure
            log.warning(
                "Windmill API POST %s: %s and nothing landed; retry %d/%d in %.2fs",
                path, failure.status or "connection error", attempt, self.retry.attempts - 1, pause,
            )
            time.sleep(pause)

    def exists(self, path: str, *, method: str = "GET", body: Any = _NO_BODY) -> bool:
        """Call one of Windmill's ``exists`` endpoints (JSON bool; they bypass RLS, §9.3)."""
        response = self.request(method, path, json=body)
        return bool(response.json())

    def version(self) -> str:
        return self.request("GET", "/version").text.strip()


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
