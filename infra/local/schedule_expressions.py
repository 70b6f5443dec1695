"""EventBridge schedule expressions: `rate(...)` and `cron(...)`, and when they fire.

Follows the EventBridge rules: six cron fields (minutes hours day-of-month month
day-of-week year), all in UTC, day-of-week 1-7 = SUN-SAT, exactly one of the two
day fields is `?`, `L`/`W` only in day-of-month, `L`/`#` only in day-of-week.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

LAST_YEAR = 2199
MONTH_NAMES = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_RATE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


class ScheduleExpressionError(ValueError):
    """The expression is not one EventBridge would accept (or one we cannot honour)."""


class Schedule(Protocol):
    expression: str

    def next_fire(self, after: datetime, started: datetime) -> datetime | None:
        """The first fire time strictly after `after`; `started` is when the rule was created."""


def _floor_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class RateSchedule:
    expression: str
    every: timedelta

    def next_fire(self, after: datetime, started: datetime) -> datetime | None:
        # EventBridge counts a rate from the minute the rule was created: start + N, start + 2N, ...
        anchor = _floor_minute(started)
        if after < anchor:
            return anchor + self.every
        periods = (after - anchor) // self.every
        return anchor + (periods + 1) * self.every


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_of_month: DayRule | None
    day_of_week: DayRule | None

    def next_fire(self, after: datetime, started: datetime | None = None) -> datetime | None:
        first = _floor_minute(after) + timedelta(minutes=1)
        day = first.date()
        while day.year <= LAST_YEAR:
            if day.year not in self.years:
                later = [year for year in self.years if year > day.year]
                if not later:
                    return None
                day = date(min(later), 1, 1)
                continue
            if day.month not in self.months:
                day = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
                continue
            if self._day_matches(day):
                earliest = (first.hour, first.minute) if day == first.date() else (0, 0)
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        if (hour, minute) >= earliest:
                            return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
            day += timedelta(days=1)
        return None

    def _day_matches(self, day: date) -> bool:
        rule = self.day_of_month or self.day_of_week
        assert rule is not None
        return rule.matches(day)


class DayRule(Protocol):
    def matches(self, day: date) -> bool: ...


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _aws_weekday(day: date) -> int:
    """1 = Sunday ... 7 = Saturday, as EventBridge counts."""
    return (day.weekday() + 1) % 7 + 1


@dataclass(frozen=True)
class DaysOfMonth:
    days: frozenset[int]

    def matches(self, day: date) -> bool:
        return day.day in self.days


@dataclass(frozen=True)
class LastDayOfMonth:
    def matches(self, day: date) -> bool:
        return day.day == _last_day(day)


@dataclass(frozen=True)
class NearestWeekday:
    """`15W`: the weekday nearest the 15th, never leaving the month; `LW`: the month's last weekday."""

    target: int | None  # None means the last day of the month

    def matches(self, day: date) -> bool:
        last = _last_day(day)
        target = last if self.target is None else min(self.target, last)
        wanted = date(day.year, day.month, target)
        if wanted.weekday() == 5:  # Saturday: Friday before, or Monday after when the 1st
            wanted = wanted + timedelta(days=2) if target == 1 else wanted - timedelta(days=1)
        elif wanted.weekday() == 6:  # Sunday: Monday after, or Friday before when the last day
            wanted = wanted - timedelta(days=2) if target == last else wanted + timedelta(days=1)
        return day == wanted


@dataclass(frozen=True)
class DaysOfWeek:
    weekdays: frozenset[int]

    def matches(self, day: date) -> bool:
        return _aws_weekday(day) in self.weekdays


@dataclass(frozen=True)
class LastWeekdayOfMonth:
    """`6L`: the last Friday of the month."""

    weekday: int

    def matches(self, day: date) -> bool:
        return _aws_weekday(day) == self.weekday and day.day + 7 > _last_day(day)


@dataclass(frozen=True)
class NthWeekdayOfMonth:
    """`3#2`: the second Tuesday of the month."""

    weekday: int
    nth: int

    def matches(self, day: date) -> bool:
        return _aws_weekday(day) == self.weekday and (day.day - 1) // 7 + 1 == self.nth


def parse_schedule(expression: Any) -> RateSchedule | CronSchedule:
    """Parse an expression string or a Chalice `Rate`/`Cron` object."""
    text = expression if isinstance(expression, str) else expression.to_string()
    text = text.strip()
    if text.startswith("rate(") and text.endswith(")"):
        return _parse_rate(text)
    if text.startswith("cron(") and text.endswith(")"):
        return _parse_cron(text)
    raise ScheduleExpressionError(f"{text!r}: a schedule is rate(...) or cron(...)")


def _parse_rate(text: str) -> RateSchedule:
    match = re.fullmatch(r"rate\(\s*(\d+)\s+([a-z]+?)(s?)\s*\)", text)
    if not match or match.group(2) not in _RATE_UNITS:
        raise ScheduleExpressionError(
            f"{text!r}: write rate(N minute|minutes|hour|hours|day|days)")
    value, unit, plural = int(match.group(1)), match.group(2), match.group(3)
    if value < 1:
        raise ScheduleExpressionError(f"{text!r}: the rate must be a positive whole number")
    if (value == 1) == bool(plural):
        wanted = f"rate(1 {unit})" if value == 1 else f"rate({value} {unit}s)"
        raise ScheduleExpressionError(f"{text!r}: EventBridge wants {wanted}")
    return RateSchedule(expression=text, every=value * _RATE_UNITS[unit])


def _parse_cron(text: str) -> CronSchedule:
    fields = text[len("cron("):-1].split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{text!r}: cron needs six fields: minutes hours day-of-month month day-of-week year")
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleExpressionError(
            f"{text!r}: exactly one of day-of-month and day-of-week must be ?")
    try:
        return CronSchedule(
            expression=text,
            minutes=_parse_field(minutes, 0, 59, "minutes"),
            hours=_parse_field(hours, 0, 23, "hours"),
            months=_parse_field(month, 1, 12, "month", names=MONTH_NAMES),
            years=_parse_field(year, 1970, LAST_YEAR, "year"),
            day_of_month=None if day_of_month == "?" else _parse_day_of_month(day_of_month),
            day_of_week=None if day_of_week == "?" else _parse_day_of_week(day_of_week),
        )
    except ScheduleExpressionError as error:
        raise ScheduleExpressionError(f"{text!r}: {error}") from None


def _parse_day_of_month(field: str) -> DayRule:
    if field == "L":
        return LastDayOfMonth()
    if field == "LW":
        return NearestWeekday(target=None)
    if "W" in field:
        match = re.fullmatch(r"(\d+)W", field)
        if not match or not 1 <= int(match.group(1)) <= 31:
            raise ScheduleExpressionError(f"day-of-month {field!r}: W takes one day, as in 15W")
        return NearestWeekday(target=int(match.group(1)))
    if "L" in field:
        raise ScheduleExpressionError(f"day-of-month {field!r}: L stands alone (or as LW)")
    return DaysOfMonth(_parse_field(field, 1, 31, "day-of-month"))


def _parse_day_of_week(field: str) -> DayRule:
    if field == "L":
        return DaysOfWeek(frozenset({7}))  # alone, L is the last day of the week: Saturday
    if "#" in field:
        match = re.fullmatch(r"([A-Za-z]+|\d)#(\d)", field)
        if not match or not 1 <= int(match.group(2)) <= 5:
            raise ScheduleExpressionError(
                f"day-of-week {field!r}: # takes one day and a week 1-5, as in 3#2")
        return NthWeekdayOfMonth(_value(match.group(1), 1, 7, "day-of-week", DAY_NAMES), int(match.group(2)))
    if "L" in field.upper():  # no day name has an L in it
        match = re.fullmatch(r"([A-Za-z]{3}|\d)L", field)
        if not match:
            raise ScheduleExpressionError(f"day-of-week {field!r}: L goes after one day, as in 6L")
        return LastWeekdayOfMonth(_value(match.group(1), 1, 7, "day-of-week", DAY_NAMES))
    if "/" in field:
        raise ScheduleExpressionError(f"day-of-week {field!r}: EventBridge allows no / here")
    return DaysOfWeek(_parse_field(field, 1, 7, "day-of-week", names=DAY_NAMES))


def _parse_field(field: str, low: int, high: int, label: str,
                 names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for part in field.split(","):
        if not part:
            raise ScheduleExpressionError(f"{label} {field!r}: empty item in the list")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleExpressionError(f"{label} {part!r}: the step after / must be a positive number")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            start_text, _, end_text = base.partition("-")
            first = _value(start_text, low, high, label, names)
            last = _value(end_text, low, high, label, names)
            if first > last:
                raise ScheduleExpressionError(f"{label} {part!r}: a range runs from low to high")
        else:
            first = _value(base, low, high, label, names)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _value(text: str, low: int, high: int, label: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        allowed = f"{low}-{high}" + (" or a name such as " + next(iter(names)) if names else "")
        raise ScheduleExpressionError(f"{label} {text!r}: expected {allowed}")
    value = int(text)
    if not low <= value <= high:
        raise ScheduleExpressionError(f"{label} {value}: must be between {low} and {high}")
    return value
