"""Six-field cron expressions (seconds first) and IANA time zones, checked before any request.

Windmill parses schedules with croner (``cron_version`` ``v2``, the default for new schedules):
six fields, ``second minute hour day-of-month month day-of-week``, seconds required; day-of-week
0-7 with 0 and 7 both Sunday; names (``JAN``, ``MON``); ``*``, ``?``, lists, ranges and steps;
``L`` (last day of the month) in day-of-month. A restricted day-of-month and day-of-week match
when either matches, as in Vixie cron (croner's legacy mode, which Windmill keeps). Windmill
checks the time zone only when it pushes the first job (``chrono_tz::Tz::from_str``), so a bad
zone would fail half-way through an apply; here both are checked at preview.

``next_fire_times`` computes the next occurrences in the zone, so a preview can show when a
schedule will run (windmill-labs/windmill ``backend/windmill-queue/src/schedule.rs`` @
21ea1be748c2c0e3c106380c6e3a3da84dd59fe0, ``push_scheduled_job``: ``find_next`` from now in the
schedule's zone, stored in UTC).
"""

from __future__ import annotations

import calendar
import functools
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

MONTH_NAMES = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
DAY_NAMES = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
FIELDS = ("second", "minute", "hour", "day of month", "month", "day of week")
CRON_RULE = (
    "six fields, seconds first: 'second minute hour day-of-month month day-of-week' "
    "(e.g. '0 0 6 * * MON' is every Monday at 06:00:00)"
)
SEARCH_DAYS = 366 * 5  # far enough for 29 February and any weekday combination


class CronError(ValueError):
    """The expression is not a six-field cron expression Windmill accepts."""


@dataclass(frozen=True)
class CronSchedule:
    """A parsed expression: the allowed values of each field."""

    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday … 6 = Saturday
    any_day: bool
    any_weekday: bool
    last_day: bool

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        day_ok = day.day in self.days or (self.last_day and day.day == last)
        weekday_ok = (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return weekday_ok
        if self.any_weekday:
            return day_ok
        return day_ok or weekday_ok


def _number(token: str, names: dict[str, int], what: str) -> int:
    if token.upper() in names:
        return names[token.upper()]
    if not token.isdigit():
        raise CronError(f"the {what} field has {token!r}, which is not a number" +
                        (f" or a name ({', '.join(names)})" if names else ""))
    return int(token)


def _field(text: str, low: int, high: int, what: str, names: dict[str, int] | None = None) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        if not base or (part.count("/") and not step_text.isdigit()) or step_text == "0":
            raise CronError(f"the {what} field has {part!r}, which is not a value, range or step")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, names or {}, what), _number(last, names or {}, what)
        else:
            start = _number(base, names or {}, what)
            end = high if step_text else start
        if not low <= start <= end <= high:
            raise CronError(f"the {what} field has {part!r}; values go from {low} to {high}")
        values.update(range(start, end + 1, step))
    return values


def parse(expression: str) -> CronSchedule:
    """Parse a six-field expression; CronError names the field that is wrong."""
    parts = expression.split()
    if len(parts) != 6:
        hint = " (a five-field expression lacks the seconds: put '0 ' in front)" if len(parts) == 5 else ""
        raise CronError(f"has {len(parts)} field(s){hint}; Windmill needs {CRON_RULE}")
    second, minute, hour, day, month, weekday = parts
    last_day = "L" in (p.upper() for p in day.split(","))
    day_parts = [p for p in day.split(",") if p.upper() != "L"]
    if any("W" in p.upper() for p in day_parts) or "#" in weekday or weekday.upper().endswith("L"):
        raise CronError("W, # and nL are not accepted here; list the days instead (e.g. '1-5' for weekdays)")
    return CronSchedule(
        seconds=frozenset(_field(second, 0, 59, "second")),
        minutes=frozenset(_field(minute, 0, 59, "minute")),
        hours=frozenset(_field(hour, 0, 23, "hour")),
        days=frozenset(_field(",".join(day_parts), 1, 31, "day of month") if day_parts else ()),
        months=frozenset(_field(month, 1, 12, "month", MONTH_NAMES)),
        weekdays=frozenset(v % 7 for v in _field(weekday, 0, 7, "day of week", DAY_NAMES)),
        any_day=day in ("*", "?"),
        any_weekday=weekday in ("*", "?"),
        last_day=last_day,
    )


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(name: str) -> str | None:
    """None for an IANA zone name such as ``Europe/Paris`` or ``UTC``, else what is wrong."""
    if name in _zone_names():
        return None
    return f"must be an IANA time zone such as UTC, Europe/Paris or America/New_York; got {name!r}"


def validate_cron(expression: str) -> str | None:
    try:
        parse(expression)
    except CronError as error:
        return str(error)
    return None


def next_fire_times(expression: str, timezone: str, count: int = 3, after: datetime | None = None) -> list[str]:
    """The next ``count`` occurrences after ``after`` (default now) in ``timezone``, as ISO 8601
    strings in that zone (a local time that a DST change skips does not occur)."""
    schedule, zone = parse(expression), zoneinfo.ZoneInfo(timezone)
    start = (after or datetime.now(UTC)).astimezone(zone)
    found: list[str] = []
    day = start.date()
    for _ in range(SEARCH_DAYS):
        if schedule.matches_day(day):
            for hour in sorted(schedule.hours):
                for minute in sorted(schedule.minutes):
                    for second in sorted(schedule.seconds):
                        naive = datetime(day.year, day.month, day.day, hour, minute, second)
                        local = naive.replace(tzinfo=zone)
                        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive or local <= start:
                            continue
                        found.append(local.isoformat())
                        if len(found) == count:
                            return found
        day += timedelta(days=1)
    return found
