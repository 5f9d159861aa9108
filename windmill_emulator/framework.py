"""The small HTTP framework the emulator's API modules are written against.

It reproduces what axum and Windmill's error type do to a request before and after a handler:
routing (404/405 with empty bodies), the JSON extractor (415, 400 syntax, 422 data errors with
serde's messages), query-string extraction, and the plain-text error bodies of
``windmill_common::error::Error``.
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

if TYPE_CHECKING:
    from .store import Authed, Store

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: a status code and a plain-text body.

    docs/windmill-api.md §9.1: errors are always ``Content-Type: text/plain`` whose body is the error's
    display string, never JSON.
    """

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


class DbError(Exception):
    """A failure the real server would get from Postgres (constraint, RLS, FK, no rows).

    Handlers let it propagate; the dispatcher turns it into ``400 SqlErr: … @file:line:col``
    (docs/windmill-api.md §9.1: "any SQL error" is 400). ``raw`` marks sqlx errors that are not
    database errors (``RowNotFound``) and therefore have no ``error returned from database:``
    prefix.
    """

    def __init__(self, message: str, *, location: str = "db.rs:1:1", raw: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.raw = raw

    def sqlx_display(self) -> str:
        """The sqlx error's Display string (what Windmill embeds after ``SqlErr:``)."""
        if self.raw:
            return self.message
        return f"error returned from database: {self.message}"

    def to_api_error(self) -> ApiError:
        # docs/windmill-api.md §9.1: SqlErr display is ``SqlErr: <db message> @<file>:<line>``, status 400.
        return ApiError(400, f"SqlErr: {self.sqlx_display()} @{self.location}")


ROW_NOT_FOUND = "no rows returned by a query that expected to return at least one row"


def not_found(msg: str) -> ApiError:
    """404 ``Not found: …`` (docs/windmill-api.md §9.1)."""
    return ApiError(404, f"Not found: {msg}")


def not_found_at_name(kind: str, name: str) -> ApiError:
    """Windmill's ``not_found_if_none`` text: ``Not found: <Kind> not found at name <name>``."""
    return not_found(f"{kind} not found at name {name}")


def bad_request(msg: str) -> ApiError:
    """400 ``Bad request: …`` (docs/windmill-api.md §9.1)."""
    return ApiError(400, f"Bad request: {msg}")


def not_authorized(msg: str) -> ApiError:
    """401 ``Not authorized: …`` (docs/windmill-api.md §9.1)."""
    return ApiError(401, f"Not authorized: {msg}")


def require_admin_error(username: str) -> ApiError:
    """403 ``Require Admin privileges for <username>`` (docs/windmill-api.md §9.1)."""
    return ApiError(403, f"Require Admin privileges for {username}")


def internal(msg: str, location: str | None = None) -> ApiError:
    """500 ``Internal: …`` (optionally with the ``@file:line:col`` of ``internal_err``)."""
    if location:
        return ApiError(500, f"Internal: {msg} @{location}")
    return ApiError(500, f"Internal: {msg}")


# docs/windmill-api.md §2.1: no (or an unknown) token gives 401 with the plain-text body ``Unauthorized``.
UNAUTHORIZED_BODY = "Unauthorized"


def unauthorized() -> ApiError:
    """The auth extractor's rejection: 401 ``Unauthorized``."""
    return ApiError(401, UNAUTHORIZED_BODY)


SUPER_ADMIN_REQUIRED = "This endpoint requires the caller to be a super admin"


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


def parse_datetime(value: str) -> datetime | None:
    """Parse an RFC 3339 datetime as chrono does; None when it is not one."""
    try:
        dt = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return dt.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# JSON body extraction (axum Json + serde)
# --------------------------------------------------------------------------------------------

JSON_CONTENT_TYPE_MSG = "Expected request with `Content-Type: application/json`"


def has_json_content_type(headers: Message) -> bool:
    """axum's check: ``application/json`` or ``application/*+json`` (parameters allowed)."""
    value = headers.get("Content-Type")
    if not value:
        return False
    mime = value.split(";", 1)[0].strip().lower()
    if "/" not in mime:
        return False
    type_, subtype = mime.split("/", 1)
    return type_ == "application" and (subtype == "json" or subtype.endswith("+json"))


def _line_col(text_: str, idx: int) -> tuple[int, int]:
    line = text_.count("\n", 0, idx) + 1
    col = idx - (text_.rfind("\n", 0, idx) + 1)
    return line, col


_PY_TO_SERDE = [
    ("Expecting property name enclosed in double quotes", "key must be a string"),
    ("Expecting ':' delimiter", "expected `:`"),
    ("Expecting ',' delimiter", "expected `,` or `}`"),
    ("Unterminated string starting at", "EOF while parsing a string"),
    ("Invalid control character at", "control character (\\u0000-\\u001F) found while parsing a string"),
    ("Invalid \\escape", "invalid escape"),
    ("Extra data", "trailing characters"),
    ("Expecting value", "expected value"),
]


def _open_container(text_: str) -> str:
    """What serde was parsing when the input ended: a string, an object, a list or a value."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text_:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    if in_string:
        return "a string"
    if not stack:
        return "a value"
    return "an object" if stack[-1] == "{" else "a list"


def _syntax_error(text_: str, err: json.JSONDecodeError) -> ApiError:
    msg = err.msg
    serde = msg
    for py, se in _PY_TO_SERDE:
        if msg.startswith(py):
            serde = se
            break
    pos = err.pos
    if text_[pos:].strip() == "" or serde.startswith("EOF"):
        # serde reports running out of input as "EOF while parsing <the innermost open thing>".
        serde = f"EOF while parsing {_open_container(text_)}"
        line, col = _line_col(text_, len(text_))
    else:
        line, col = _line_col(text_, pos)
        col += 1
    # docs/windmill-api.md §9.1: malformed JSON is a 400 from axum.
    return ApiError(400, f"Failed to parse the request body as JSON: {serde} at line {line} column {col}")


def _data_error(path: str, msg: str, text_: str, idx: int) -> ApiError:
    line, col = _line_col(text_, idx)
    inner = f"{msg} at line {line} column {col}"
    if path:
        inner = f"{path}: {inner}"
    # docs/windmill-api.md §9.1: a missing or wrong-typed field is a 422 from axum's Json extractor.
    return ApiError(422, f"Failed to deserialize the JSON body into the target type: {inner}")


def serde_unexpected(value: Any) -> str:
    """serde's ``Unexpected`` description of a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


@dataclass(frozen=True)
class Field:
    """One field of a request struct: its serde type and whether it is an ``Option``."""

    kind: str  # "string" | "bool" | "i32" | "i64" | "usize" | "any" | "object" | "strings" | "datetime"
    optional: bool = False


def opt(kind: str) -> Field:
    """An ``Option<kind>`` field."""
    return Field(kind, optional=True)


def req(kind: str) -> Field:
    """A required (non-Option) field."""
    return Field(kind)


@dataclass(frozen=True)
class Struct:
    """A serde-derived request struct (unknown fields are ignored, as without deny_unknown_fields)."""

    name: str
    fields: dict[str, Field]


@dataclass(frozen=True)
class JsonValue:
    """A body that is a bare JSON value of one kind (e.g. ``Json<String>``)."""

    kind: str


_EXPECTED = {
    "string": "a string",
    "bool": "a boolean",
    "i32": "i32",
    "i64": "i64",
    "usize": "usize",
    "object": "a map",
    "strings": "a sequence",
    "datetime": "a formatted date and time string or a unix timestamp",
}


def _check_kind(kind: str, value: Any) -> str | None:
    """Return serde's error message when ``value`` does not fit ``kind``; None when it does."""
    if kind == "any":
        return None
    if kind in ("string", "datetime"):
        if not isinstance(value, str):
            return f"invalid type: {serde_unexpected(value)}, expected {_EXPECTED[kind]}"
        if kind == "datetime" and parse_datetime(value) is None:
            return "input contains invalid characters"
        return None
    if kind == "bool":
        if not isinstance(value, bool):
            return f"invalid type: {serde_unexpected(value)}, expected a boolean"
        return None
    if kind in ("i32", "i64", "usize"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"invalid type: {serde_unexpected(value)}, expected {kind}"
        lo, hi = {"i32": (-(2**31), 2**31 - 1), "i64": (-(2**63), 2**63 - 1), "usize": (0, 2**64 - 1)}[kind]
        if not lo <= value <= hi:
            return f"invalid value: integer `{value}`, expected {kind}"
        return None
    if kind == "object":
        if not isinstance(value, dict):
            return f"invalid type: {serde_unexpected(value)}, expected a map"
        return None
    if kind == "strings":
        if not isinstance(value, list):
            return f"invalid type: {serde_unexpected(value)}, expected a sequence"
        for item in value:
            if not isinstance(item, str):
                return f"invalid type: {serde_unexpected(item)}, expected a string"
        return None
    raise AssertionError(f"unknown field kind {kind}")


def _scan_top_object(text_: str) -> tuple[dict[str, tuple[Any, int]], int]:
    """Map each top-level key to (value, index just after the value) and return the end index."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"[ \t\n\r]*")

    def skip(i: int) -> int:
        m = ws.match(text_, i)
        return m.end() if m else i

    i = skip(0)
    assert text_[i] == "{"
    i = skip(i + 1)
    out: dict[str, tuple[Any, int]] = {}
    if text_[i] == "}":
        return out, i + 1
    while True:
        key, i = json.decoder.scanstring(text_, i + 1)  # type: ignore[attr-defined]
        i = skip(i)
        i = skip(i + 1)  # ':'
        value, end = decoder.raw_decode(text_, i)
        out[key] = (value, end)
        i = skip(end)
        if text_[i] == ",":
            i = skip(i + 1)
            continue
        return out, i + 1


def parse_json_body(raw: bytes, spec: Struct | JsonValue) -> Any:
    """Decode a request body the way ``axum::Json<T>`` does, raising ApiError like it would."""
    try:
        text_ = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"Failed to parse the request body as JSON: {exc}") from exc
    try:
        value = json.loads(text_)
    except json.JSONDecodeError as err:
        raise _syntax_error(text_, err) from err
    end = len(text_.rstrip(" \t\n\r"))
    if isinstance(spec, JsonValue):
        msg = _check_kind(spec.kind, value)
        if msg:
            raise _data_error("", msg, text_, end)
        return value
    if not isinstance(value, dict):
        raise _data_error("", f"invalid type: {serde_unexpected(value)}, expected struct {spec.name}", text_, end)
    positions, obj_end = _scan_top_object(text_)
    result: dict[str, Any] = {}
    for name, fld in spec.fields.items():
        if name not in value:
            if fld.optional:
                result[name] = None
                continue
            raise _data_error("", f"missing field `{name}`", text_, obj_end)
        item = value[name]
        if item is None and (fld.optional or fld.kind == "any"):
            result[name] = None
            continue
        msg = _check_kind(fld.kind, item)
        if msg:
            raise _data_error(name, msg, text_, positions[name][1])
        result[name] = parse_datetime(item) if fld.kind == "datetime" else item
    # Keys the struct does not declare are ignored by serde (no deny_unknown_fields), but some
    # handlers (e.g. the error handler's untagged enum) need to see them.
    result["__keys__"] = list(value.keys())
    return result


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
