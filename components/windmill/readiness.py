"""A readiness gate: a dynamic resource that waits until Windmill answers ``GET /api/version``.

Windmill API resources (workspaces, tokens, ...) must not be created before the server they talk to
is up. Container health checks only prove that the server answers *inside* the Docker network; the
gate proves it at the URL this program will actually use (through Caddy, a tunnel or a domain), and
reports the version it found (``CE v1.819.0``; windmill-api.md §10).

Rules this module follows (pulumi-notes.md §3-§5, §8):

* the provider holds no state at all: httpx is imported and its client built inside each call, so
  the pickled provider is tiny and never drags an SSLContext into state;
* nothing happens at import time: the provider host imports this module again to unpickle it;
* ``diff`` compares only the inputs it owns (never ``__provider``); ``update`` returns full outputs;
* ``delete`` is a no-op: waiting leaves nothing behind to delete.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .pickling import leaves_pickler_as_found

DEFAULT_TIMEOUT_SECONDS = 120.0
DEFAULT_INTERVAL_SECONDS = 2.0
# One request must never use the whole budget: a hung TCP connect would otherwise hide every
# later, possibly successful, attempt.
_MAX_REQUEST_SECONDS = 10.0

_INPUT_KEYS = ("url", "timeout_seconds", "interval_seconds", "expected_version")


class ReadinessTimeout(Exception):
    """Windmill did not answer ``GET /api/version`` with 200 (and the expected version) in time."""


def _version_matches(reported: str, expected: str) -> bool:
    """``CE v1.819.0`` matches ``1.819.0``; so does a ``v1.819.0-3-gabc`` untagged build suffix."""
    match = re.search(r"v?(\d+\.\d+\.\d+)", reported)
    return match is not None and match.group(1) == expected.lstrip("v")


def wait_for_version(
    url: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    expected_version: str | None = None,
) -> str:
    """Poll ``GET {url}/api/version`` until it answers 200, and return the body (the version).

    With ``expected_version``, a 200 from another version counts as "not ready yet": during an
    upgrade the old server may still answer behind the proxy. Raises ReadinessTimeout naming the
    URL, how long it waited and the last error seen.
    """
    import httpx  # imported here so unpickling the provider never needs more than this module

    endpoint = url.rstrip("/") + "/api/version"
    started = time.monotonic()
    deadline = started + float(timeout_seconds)
    attempts = 0
    last_error = "no attempt was made"
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        try:
            with httpx.Client(timeout=max(0.5, min(_MAX_REQUEST_SECONDS, remaining))) as client:
                response = client.get(endpoint)
            body = response.text.strip()
            if response.status_code == 200:
                if expected_version is None or _version_matches(body, expected_version):
                    return body
                last_error = f"answered {body!r}, expected version {expected_version}"
            else:
                last_error = f"HTTP {response.status_code}: {body[:200]!r}"
        except httpx.HTTPError as error:
            last_error = f"{type(error).__name__}: {error}"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            waited = time.monotonic() - started
            raise ReadinessTimeout(
                f"Windmill at {url} was not ready: GET {endpoint} did not answer 200"
                + (f" with version {expected_version}" if expected_version else "")
                + f" within {float(timeout_seconds):g}s (waited {waited:.1f}s, {attempts} attempt(s)); "
                f"last error: {last_error}"
            )
        time.sleep(min(float(interval_seconds), remaining))


def _is_unknown(value: Any) -> bool:
    return isinstance(value, pulumi.output.Unknown)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class ReadinessGateProvider(ResourceProvider):
    """Waits for Windmill on create, update and read; holds no data, so pickling it is trivial."""

    # Nothing secret is captured, so the blob need not be encrypted in state (pulumi-notes.md §7).
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        url = news.get("url")
        # During preview an input may be unknown (pulumi-notes.md §10): skip rules it cannot pass.
        if url is None:
            failures.append(CheckFailure("url", "is required"))
        elif not _is_unknown(url) and not (isinstance(url, str) and re.fullmatch(r"https?://[^\s/]+(/\S*)?", url)):
            failures.append(CheckFailure("url", f"must be an http(s) URL, got {url!r}"))
        for key in ("timeout_seconds", "interval_seconds"):
            value = news.get(key)
            if value is None or _is_unknown(value):
                continue
            number = _number(value)
            if number is None or number <= 0:
                failures.append(CheckFailure(key, f"must be a number > 0, got {value!r}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A new URL, expected version or budget means "wait again"; the gate is never replaced.
        changed = [key for key in _INPUT_KEYS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def _wait(self, props: dict[str, Any]) -> dict[str, Any]:
        version = wait_for_version(
            props["url"],
            float(props.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS),
            float(props.get("interval_seconds") or DEFAULT_INTERVAL_SECONDS),
            props.get("expected_version"),
        )
        outs = {key: props[key] for key in _INPUT_KEYS if props.get(key) is not None}
        outs["version"] = version
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"readiness-{uuid.uuid4().hex[:12]}", self._wait(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # Refresh re-checks the server and records the version it runs now (drift after a manual
        # upgrade shows up here).
        outs = self._wait(props)
        return ReadResult(id_, outs, inputs={k: v for k, v in outs.items() if k in _INPUT_KEYS})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._wait(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class ReadinessGate(pulumi.dynamic.Resource, module="windmill", name="ReadinessGate"):
    """Completes once Windmill answers ``GET {url}/api/version``; ``version`` is what it answered.

    Make every Windmill API resource depend on it (``depends_on=[gate]``). ``expected_version``
    (a release such as ``1.819.0``) makes the gate wait until that version answers, so an upgrade
    is only "ready" once the new server is behind the URL.
    """

    url: pulumi.Output[str]
    timeout_seconds: pulumi.Output[float]
    interval_seconds: pulumi.Output[float]
    expected_version: pulumi.Output[str | None]
    version: pulumi.Output[str]

    @leaves_pickler_as_found  # the SDK's serializer leaks a pickler patch per registration
    def __init__(
        self,
        resource_name: str,
        url: pulumi.Input[str],
        timeout_seconds: pulumi.Input[float] = DEFAULT_TIMEOUT_SECONDS,
        interval_seconds: pulumi.Input[float] = DEFAULT_INTERVAL_SECONDS,
        expected_version: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            ReadinessGateProvider(),
            resource_name,
            {
                "url": url,
                "timeout_seconds": timeout_seconds,
                "interval_seconds": interval_seconds,
                "expected_version": expected_version,
                "version": None,
            },
            opts,
        )
