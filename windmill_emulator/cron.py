"""Cron parsing and "next occurrences" for schedules (docs/windmill-api.md §7.1).

docs/windmill-api.md §7.1: cron has 6 fields, seconds first (``sec min hour dom month dow``).
``cron_version`` ``v1`` (or absent) selects the ``cron`` crate (6 or 7 fields, the 7th being the
year, day-of-week 1-7 with 1 = Sunday); ``v2`` selects croner (seconds required, day-of-week
0-7 with 0 and 7 = Sunday, extended ``L``/``W``/``#`` syntax). This is a basic re-implementation
good enough to accept what the server accepts and to reject clear mistakes.
"""

from __future__ import annotations

import calendar
import functools
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
DAYS_V2 = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
DAYS_V1 = {k: v + 1 for k, v in DAYS_V2.items()}


class CronError(ValueError):
    """The expression is not a valid schedule for the selected parser."""


@dataclass
class CronSpec:
    """A parsed schedule."""

    version: str
    seconds: set[int]
    minutes: set[int]
    hours: set[int]
    doms: set[int]
    months: set[int]
    dows: set[int]  # 0 = Sunday … 6 = Saturday
    years: set[int] | None = None
    dom_star: bool = True
    dow_star: bool = True
    last_dom: bool = False
    dom_weekday: set[int] = field(default_factory=set)  # nW
    dow_last: set[int] = field(default_factory=set)  # nL
    dow_nth: set[tuple[int, int]] = field(default_factory=set)  # n#k


def _num(token: str, names: dict[str, int], what: str) -> int:
    up = token.upper()
    if up in names:
        return names[up]
    if not token.isdigit():
        raise CronError(f"invalid value {token!r} in {what} field")
    return int(token)


def _parse_field(text: str, lo: int, hi: int, names: dict[str, int], what: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"empty list element in {what} field")
        step = 1
        base = part
        if "/" in part:
            base, step_s = part.split("/", 1)
            if not step_s.isdigit() or int(step_s) == 0:
                raise CronError(f"invalid step {step_s!r} in {what} field")
            step = int(step_s)
        if base in ("*", "?"):
            start, end = lo, hi
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _num(a, names, what), _num(b, names, what)
            if start > end:
                raise CronError(f"invalid range {base!r} in {what} field")
        else:
            start = _num(base, names, what)
            end = hi if "/" in part else start
        if start < lo or end > hi:
            raise CronError(f"value out of range ({lo}-{hi}) in {what} field: {part!r}")
        out.update(range(start, end + 1, step))
    return out


def parse(expr: str, cron_version: str | None) -> CronSpec:
    """Parse ``expr`` as the server would for ``cron_version`` (None means the v1 parser)."""
    version = "v1" if cron_version in (None, "v1") else "v2"
    fields = expr.split()
    if version == "v2":
        if len(fields) != 6:
            raise CronError(
                "Invalid pattern: Pattern must consist of six fields, seconds can not be omitted."
                if len(fields) == 5
                else f"Invalid pattern: expected 6 fields, got {len(fields)}"
            )
    elif len(fields) not in (6, 7):
        raise CronError(f"Invalid expression: expected 6 or 7 fields, got {len(fields)}")
    prefix = "Invalid pattern: " if version == "v2" else "Invalid expression: "
    try:
        spec = CronSpec(
            version=version,
            seconds=_parse_field(fields[0], 0, 59, {}, "seconds"),
            minutes=_parse_field(fields[1], 0, 59, {}, "minutes"),
            hours=_parse_field(fields[2], 0, 23, {}, "hours"),
            doms=set(),
            months=_parse_field(fields[4], 1, 12, MONTHS, "month"),
            dows=set(),
        )
        _parse_dom(spec, fields[3], version)
        _parse_dow(spec, fields[5], version)
        if len(fields) == 7:
            spec.years = _parse_field(fields[6], 1970, 2100, {}, "year")
    except CronError as exc:
        raise CronError(prefix + str(exc)) from exc
    return spec


def _parse_dom(spec: CronSpec, text: str, version: str) -> None:
    spec.dom_star = text in ("*", "?")
    if version == "v2":
        rest = []
        for part in text.split(","):
            up = part.upper()
            if up == "L":
                spec.last_dom = True
            elif up.endswith("W") and up[:-1].isdigit():
                spec.dom_weekday.add(int(up[:-1]))
            else:
                rest.append(part)
        if not rest:
            return
        text = ",".join(rest)
    spec.doms = _parse_field(text, 1, 31, {}, "day of month")


def _parse_dow(spec: CronSpec, text: str, version: str) -> None:
    spec.dow_star = text in ("*", "?")
    if version == "v1":
        # The ``cron`` crate numbers days 1-7 with 1 = Sunday.
        spec.dows = {d - 1 for d in _parse_field(text, 1, 7, DAYS_V1, "day of week")}
        return
    rest = []
    for part in text.split(","):
        up = part.upper()
        if up.endswith("L") and len(up) > 1:
            spec.dow_last.add(_num(up[:-1], DAYS_V2, "day of week") % 7)
        elif "#" in up:
            d, n = up.split("#", 1)
            if not n.isdigit() or not 1 <= int(n) <= 5:
                raise CronError(f"invalid nth weekday {part!r}")
            spec.dow_nth.add((_num(d, DAYS_V2, "day of week") % 7, int(n)))
        else:
            rest.append(part)
    if rest:
        spec.dows = {d % 7 for d in _parse_field(",".join(rest), 0, 7, DAYS_V2, "day of week")}


def _day_matches(spec: CronSpec, d: date) -> bool:
    if d.month not in spec.months or (spec.years is not None and d.year not in spec.years):
        return False
    last = calendar.monthrange(d.year, d.month)[1]
    dow = (d.weekday() + 1) % 7  # Sunday = 0
    dom_ok = d.day in spec.doms or (spec.last_dom and d.day == last)
    for n in spec.dom_weekday:
        target = date(d.year, d.month, min(n, last))
        if target.weekday() == 5:
            target = target - timedelta(days=1) if target.day > 1 else target + timedelta(days=2)
        elif target.weekday() == 6:
            target = target + timedelta(days=1) if target.day < last else target - timedelta(days=2)
        dom_ok = dom_ok or target == d
    dow_ok = dow in spec.dows
    dow_ok = dow_ok or (dow in spec.dow_last and d.day + 7 > last)
    dow_ok = dow_ok or any(dow == wd and (d.day - 1) // 7 + 1 == n for wd, n in spec.dow_nth)
    if spec.dom_star and spec.dow_star:
        return True
    if spec.dom_star:
        return dow_ok
    if spec.dow_star:
        return dom_ok
    # croner (v2) ORs restricted day-of-month and day-of-week like Vixie cron; the cron crate ANDs.
    return dom_ok or dow_ok if spec.version == "v2" else dom_ok and dow_ok


def upcoming(spec: CronSpec, tz: zoneinfo.ZoneInfo, count: int, start: datetime | None = None) -> list[datetime]:
    """The next ``count`` occurrences after ``start`` (default now), as UTC datetimes."""
    start = (start or datetime.now(UTC)).astimezone(tz)
    out: list[datetime] = []
    day = start.date()
    for _ in range(366 * 30):
        if _day_matches(spec, day):
            for h in sorted(spec.hours):
                for m in sorted(spec.minutes):
                    for s in sorted(spec.seconds):
                        naive = datetime(day.year, day.month, day.day, h, m, s)
                        local = naive.replace(tzinfo=tz)
                        if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
                            continue  # does not exist (DST gap)
                        if local <= start:
                            continue
                        out.append(local.astimezone(UTC))
                        if len(out) == count:
                            return out
        day += timedelta(days=1)
    return out


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone ``name`` (chrono_tz accepts exactly the IANA names), or None."""
    if name not in _zones():
        return None
    return zoneinfo.ZoneInfo(name)
