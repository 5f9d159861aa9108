"""Request bodies as ``axum::Json<T>`` and serde read them.

The Content-Type check (415), syntax errors (400) and data errors (422) with serde's messages and
positions, and the request structs the API modules declare for their routes (``Struct`` of ``opt``
and ``req`` fields, or a bare ``JsonValue``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from .errors import ApiError

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


def parse_datetime(value: str) -> datetime | None:
    """Parse an RFC 3339 datetime as chrono does; None when it is not one."""
    try:
        dt = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return dt.astimezone(UTC)


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
