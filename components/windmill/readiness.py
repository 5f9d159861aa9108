"""A readiness gate: a dynamic resource that waits until Windmill answers ``GET /api/version``.

Windmill API resources (workspaces, tokens, ...) must not be created before the server they talk to
is up. Container health checks only prove that the server answers *inside* the Docker network; the
gate proves it at the URL this program will actually use (through Caddy, a tunnel or a domain), and
reports the version it found (``CE v1.819.0``; docs/windmill-api.md §10). One good answer is not
enough: a server that is still restarting, or a load balancer with one healthy and one dying
backend, answers 200 and then fails the first resource. The gate needs ``healthy_answers``
consecutive healthy answers (3 by default), and any bad answer starts the count again.

Rules this module follows (docs/pulumi-notes.md §3-§5, §8):

* the provider holds no state at all: httpx is imported and its client built inside each call, so
  the pickled provider is tiny and never drags an SSLContext into state;
* nothing happens at import time: the provider host imports this module again to unpickle it;
* ``check`` and ``diff`` come from its declaration (``schema.py``), like every Windmill resource:
  a change to any input waits again, nothing replaces; ``update`` returns full outputs;
* ``delete`` is a no-op: waiting leaves nothing behind to delete.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from . import rules
from .errors import ReadinessTimeout
from .pickling import leaves_pickler_as_found
from .schema import KIND_KEY, NUMBER, Declaration, DeclaredProvider, Field, positive_seconds

if TYPE_CHECKING:
    import httpx

__all__ = ["READINESS_GATE", "ReadinessGate", "ReadinessGateProvider", "ReadinessTimeout", "wait_for_version"]

DEFAULT_TIMEOUT_SECONDS = 120.0
DEFAULT_INTERVAL_SECONDS = 2.0
DEFAULT_HEALTHY_ANSWERS = 3
MAX_HEALTHY_ANSWERS = 20
# The pause between the confirming answers once the server answered well (the interval is for
# waiting on a server that is not there yet).
CONFIRM_SPACING_SECONDS = 1.0
# Shortens that spacing (never lengthens it) where the server is known to answer at once: the test tiers run
# the gate against the in-process emulator on every `up` and `refresh`, two pauses each (testkit/engine.py).
CONFIRM_SPACING_ENV = "HOMEOPS_READINESS_CONFIRM_SPACING_SECONDS"
# One request must never use the whole budget: a hung TCP connect would otherwise hide every
# later, possibly successful, attempt.
_MAX_REQUEST_SECONDS = 10.0

def _healthy_answers(value: Any) -> str | None:
    if 1 <= value <= MAX_HEALTHY_ANSWERS:
        return None
    return f"must be between 1 and {MAX_HEALTHY_ANSWERS}, got {value!r}"


READINESS_GATE = Declaration(
    kind="readiness_gate",
    type_name="ReadinessGate",
    label="readiness gate",
    summary=(
        "Waits until `GET /api/version` answers (the expected version, when given) at the URL the program "
        "uses; a change to any input waits again ([docs/docker-stack.md](docs/docker-stack.md)). Needs no "
        "token, so it takes no connection inputs."
    ),
    inputs=(
        Field("url", str, "root URL of the instance, as the program reaches it", required=True,
              validate=rules.pattern(rules.INSTANCE_URL_PATTERN, "must be an http(s) URL")),
        Field("timeout_seconds", NUMBER, "how long to wait in all", default=DEFAULT_TIMEOUT_SECONDS,
              validate=positive_seconds(3600)),
        Field("interval_seconds", NUMBER, "pause between attempts", default=DEFAULT_INTERVAL_SECONDS,
              validate=positive_seconds(600)),
        Field("expected_version", str, "a release such as `1.819.0`: until it answers, the gate keeps waiting"),
        Field("healthy_answers", int, "consecutive healthy answers needed (any bad answer starts the count again)",
              default=DEFAULT_HEALTHY_ANSWERS, validate=_healthy_answers),
    ),
    outputs=(Field("version", str, "what `GET /api/version` answered, e.g. `CE v1.819.0`"),),
    connection=False,
)


def _version_matches(reported: str, expected: str) -> bool:
    """``CE v1.819.0`` matches ``1.819.0``; so does a ``v1.819.0-3-gabc`` untagged build suffix."""
    match = re.search(r"v?(\d+\.\d+\.\d+)", reported)
    return match is not None and match.group(1) == expected.lstrip("v")


def confirm_spacing() -> float:
    """The pause between confirming answers: ``CONFIRM_SPACING_SECONDS``, or a shorter one from
    ``HOMEOPS_READINESS_CONFIRM_SPACING_SECONDS`` (0 to 1); any other value is refused, naming the variable."""
    raw = os.environ.get(CONFIRM_SPACING_ENV, "").strip()
    if not raw:
        return CONFIRM_SPACING_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= CONFIRM_SPACING_SECONDS:
        raise ValueError(f"{CONFIRM_SPACING_ENV} must be a number of seconds from 0 to {CONFIRM_SPACING_SECONDS:g} "
                         f"(it only shortens the pause between the gate's confirming answers), got {raw!r}")
    return value


def wait_for_version(
    url: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    expected_version: str | None = None,
    healthy_answers: int = DEFAULT_HEALTHY_ANSWERS,
    *,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """Poll ``GET {url}/api/version`` until it answered 200 ``healthy_answers`` times in a row, and
    return the body (the version).

    With ``expected_version``, a 200 from another version counts as "not ready yet": during an
    upgrade the old server may still answer behind the proxy. Raises ReadinessTimeout naming the
    URL, how long it waited, how many healthy answers in a row it saw and the last error.
    ``transport`` replaces the network (tests).
    """
    import httpx  # imported here so unpickling the provider never needs more than this module

    endpoint = url.rstrip("/") + "/api/version"
    spacing = confirm_spacing()
    started = time.monotonic()
    deadline = started + float(timeout_seconds)
    needed = max(1, int(healthy_answers))
    attempts = in_a_row = 0
    last_error = "no attempt was made"
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        healthy, answer = _probe(httpx, endpoint, max(0.5, min(_MAX_REQUEST_SECONDS, remaining)), expected_version,
                                 transport)
        if healthy:
            in_a_row += 1
            if in_a_row >= needed:
                return answer
        else:
            in_a_row, last_error = 0, answer
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            waited = time.monotonic() - started
            raise ReadinessTimeout(
                f"Windmill at {url} was not ready: GET {endpoint} did not answer 200"
                + (f" with version {expected_version}" if expected_version else "")
                + f" {needed} time(s) in a row within {float(timeout_seconds):g}s (waited {waited:.1f}s, "
                f"{attempts} attempt(s), {in_a_row} healthy in a row at the end); last error: {last_error}"
            )
        pause = min(float(interval_seconds), spacing) if in_a_row else float(interval_seconds)
        time.sleep(min(pause, remaining))


def _probe(
    httpx: Any, endpoint: str, timeout: float, expected_version: str | None, transport: Any
) -> tuple[bool, str]:
    """One ``GET /api/version``: (healthy, the version) or (False, what was wrong)."""
    try:
        with httpx.Client(timeout=timeout, transport=transport) as client:
            response = client.get(endpoint)
        body = response.text.strip()
    except httpx.HTTPError as error:
        return False, f"{type(error).__name__}: {error}"
    if response.status_code != 200:
        return False, f"HTTP {response.status_code}: {body[:200]!r}"
    if expected_version is not None and not _version_matches(body, expected_version):
        return False, f"answered {body!r}, expected version {expected_version}"
    return True, body


class ReadinessGateProvider(DeclaredProvider):
    """Waits for Windmill on create, update and read; holds no data, so pickling it is trivial."""

    declaration = READINESS_GATE

    def _wait(self, props: dict[str, Any]) -> dict[str, Any]:
        version = wait_for_version(
            props["url"],
            float(props.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS),
            float(props.get("interval_seconds") or DEFAULT_INTERVAL_SECONDS),
            props.get("expected_version"),
            int(props.get("healthy_answers") or DEFAULT_HEALTHY_ANSWERS),
        )
        return {**self.declaration.known_inputs(props), KIND_KEY: self.declaration.kind, "version": version}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"readiness-{uuid.uuid4().hex[:12]}", self._wait(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # Refresh re-checks the server and records the version it runs now (drift after a manual
        # upgrade shows up here).
        outs = self._wait(props)
        return ReadResult(id_, outs, inputs=self.declaration.known_inputs(outs))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._wait(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class ReadinessGate(pulumi.dynamic.Resource, module="windmill", name="ReadinessGate"):
    """Completes once Windmill answers ``GET {url}/api/version``; ``version`` is what it answered.

    Make every Windmill API resource depend on it (``depends_on=[gate]``). ``expected_version``
    (a release such as ``1.819.0``) makes the gate wait until that version answers, so an upgrade
    is only "ready" once the new server is behind the URL; ``healthy_answers`` is how many healthy
    answers in a row it takes.
    """

    __annotations__ = READINESS_GATE.annotations()

    @leaves_pickler_as_found  # the SDK's serializer leaks a pickler patch per registration
    def __init__(
        self,
        resource_name: str,
        url: pulumi.Input[str],
        timeout_seconds: pulumi.Input[float] = DEFAULT_TIMEOUT_SECONDS,
        interval_seconds: pulumi.Input[float] = DEFAULT_INTERVAL_SECONDS,
        expected_version: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        healthy_answers: pulumi.Input[int] = DEFAULT_HEALTHY_ANSWERS,
    ) -> None:
        inputs = {"url": url, "timeout_seconds": timeout_seconds, "interval_seconds": interval_seconds,
                  "expected_version": expected_version, "healthy_answers": healthy_answers}
        super().__init__(ReadinessGateProvider(), resource_name, READINESS_GATE.props(inputs), opts)
