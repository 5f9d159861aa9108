"""The small HTTP framework the emulator's API modules are written against.

It reproduces what axum and Windmill's error type do to a request before and after a handler:
routing (404/405 with empty bodies), query-string extraction and the answers. An API module imports
everything it needs from here, including what lives in modules of its own: the plain-text error
bodies of ``windmill_common::error::Error`` (``errors.py``) and the request structs of the JSON
extractor (``json_body.py``: 415, 400 syntax and 422 data errors with serde's messages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .errors import (
    ROW_NOT_FOUND,
    SUPER_ADMIN_REQUIRED,
    UNAUTHORIZED_BODY,
    ApiError,
    DbError,
    bad_request,
    internal,
    not_authorized,
    not_found,
    not_found_at_name,
    require_admin_error,
    unauthorized,
)
from .json_body import Field, JsonValue, Struct, opt, req

if TYPE_CHECKING:
    from .store import Authed, Store

__all__ = [
    "ROW_NOT_FOUND",
    "SUPER_ADMIN_REQUIRED",
    "UNAUTHORIZED_BODY",
    "ApiError",
    "Ctx",
    "DbError",
    "Field",
    "Handler",
    "JsonValue",
    "Response",
    "Route",
    "Router",
    "Struct",
    "bad_request",
    "error_response",
    "internal",
    "iso",
    "json_response",
    "not_authorized",
    "not_found",
    "not_found_at_name",
    "now",
    "opt",
    "page_slice",
    "paginate",
    "query_bool",
    "query_error",
    "query_int",
    "req",
    "require_admin_error",
    "text",
    "unauthorized",
]


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


@dataclass
class Response:
    """An HTTP answer produced by a handler."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/plain"
    headers: list[tuple[str, str]] = field(default_factory=list)


def text(body: str, status: int = 200) -> Response:
    """A ``text/plain`` answer (Windmill's ``Result<String>`` handlers)."""
    return Response(status=status, body=body.encode(), content_type="text/plain; charset=utf-8")


def json_response(value: Any, status: int = 200) -> Response:
    """An ``application/json`` answer (Windmill's ``JsonResult<T>`` handlers)."""
    return Response(
        status=status,
        body=json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(),
        content_type="application/json",
    )


def error_response(err: ApiError) -> Response:
    """The answer for an ApiError: always text/plain (docs/windmill-api.md §9.1)."""
    return Response(status=err.status, body=err.body.encode(), content_type="text/plain")


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


def now() -> datetime:
    """The current UTC time truncated to microseconds (Postgres timestamptz precision)."""
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    """Format like chrono's ``DateTime<Utc>`` serde: RFC 3339 with ``Z`` and 0/3/6 fraction digits."""
    if dt is None:
        return None
    dt = dt.astimezone(UTC)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    micro = dt.microsecond
    if micro == 0:
        return base + "Z"
    if micro % 1000 == 0:
        return f"{base}.{micro // 1000:03d}Z"
    return f"{base}.{micro:06d}Z"


# --------------------------------------------------------------------------------------------
# Query extraction (axum Query + serde_urlencoded)
# --------------------------------------------------------------------------------------------


def query_error(msg: str) -> ApiError:
    """axum's Query rejection: 400 ``Failed to deserialize query string: …``."""
    return ApiError(400, f"Failed to deserialize query string: {msg}")


def query_bool(query: dict[str, str], name: str) -> bool | None:
    """An ``Option<bool>`` query field: only ``true``/``false`` are accepted by serde."""
    if name not in query:
        return None
    value = query[name]
    if value == "true":
        return True
    if value == "false":
        return False
    raise query_error("provided string was not `true` or `false`")


def query_int(query: dict[str, str], name: str) -> int | None:
    """An ``Option<usize>`` query field."""
    if name not in query:
        return None
    value = query[name]
    if not value.isdigit():
        raise query_error("invalid digit found in string")
    return int(value)


def paginate(query: dict[str, str]) -> tuple[int, int]:
    """Windmill's ``paginate``: (per_page, offset); page is 1-based, per_page default 1000, max 10000."""
    page = query_int(query, "page") or 1
    per_page = query_int(query, "per_page") or 1000
    per_page = min(per_page, 10000)
    page = max(page, 1)
    return per_page, (page - 1) * per_page


def page_slice(items: list[Any], query: dict[str, str]) -> list[Any]:
    """Apply ``page``/``per_page`` to an already ordered list."""
    per_page, offset = paginate(query)
    return items[offset : offset + per_page]


# --------------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    """Everything a handler sees about one request."""

    store: Store
    config: Any  # server.EmulatorConfig
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    params: dict[str, str]
    body: Any
    authed: Authed | None
    token: str | None

    @property
    def ws(self) -> str:
        """The ``{workspace}`` path parameter."""
        return self.params["workspace"]

    @property
    def user(self) -> Authed:
        """The authenticated caller (routes with auth always have one)."""
        assert self.authed is not None
        return self.authed


Handler = Callable[[Ctx], Response]


@dataclass
class Route:
    """One endpoint: method, path pattern, handler, auth kind and JSON body struct."""

    method: str
    pattern: str
    handler: Handler
    auth: str  # "none" | "global" | "workspace"
    body: Struct | JsonValue | None
    regex: re.Pattern[str]
    names: list[str]


def _compile(pattern: str) -> tuple[re.Pattern[str], list[str]]:
    names: list[str] = []
    out = ""
    pos = 0
    for m in re.finditer(r"\{(\w+)(:path)?\}", pattern):
        out += re.escape(pattern[pos : m.start()])
        names.append(m.group(1))
        # axum ``*rest`` wildcards span slashes; ``:name`` parameters are one segment.
        out += "(.+)" if m.group(2) else "([^/]+)"
        pos = m.end()
    out += re.escape(pattern[pos:])
    return re.compile(f"^{out}$"), names


class Router:
    """Maps (method, raw path) to a Route, like axum: unknown path 404, known path other method 405."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        *,
        auth: str = "workspace",
        body: Struct | JsonValue | None = None,
    ) -> None:
        """Register an endpoint (``{name}`` = one segment, ``{name:path}`` = the rest of the path)."""
        regex, names = _compile(pattern)
        self.routes.append(Route(method, pattern, handler, auth, body, regex, names))

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | int:
        """The route and its decoded parameters, or 404/405."""
        path_matched = False
        for route in self.routes:
            m = route.regex.match(raw_path)
            if not m:
                continue
            path_matched = True
            if route.method != method:
                continue
            params = {n: unquote(v) for n, v in zip(route.names, m.groups(), strict=True)}
            return route, params
        return 405 if path_matched else 404
