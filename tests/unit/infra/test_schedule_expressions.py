from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalice import Cron, Rate

from infra.local.schedule_expressions import ScheduleExpressionError, parse_schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(expression: str | object, after: str, count: int = 3, started: str | None = None) -> list[str]:
    schedule = parse_schedule(expression)
    moment, start = at(after), at(started or after)
    out = []
    for _ in range(count):
        next_moment = schedule.next_fire(moment, start)
        if next_moment is None:
            break
        out.append(next_moment.strftime("%Y-%m-%d %H:%M"))
        moment = next_moment
    return out


# -- rate ----------------------------------------------------------------------------------------

def test_rate_minute_fires_each_minute_counted_from_the_start_minute() -> None:
    assert fires("rate(1 minute)", "2025-03-01 10:00:30") == [
        "2025-03-01 10:01", "2025-03-01 10:02", "2025-03-01 10:03"]


def test_rate_counts_periods_from_the_start_not_from_the_hour() -> None:
    assert fires("rate(5 minutes)", "2025-03-01 10:02:10") == [
        "2025-03-01 10:07", "2025-03-01 10:12", "2025-03-01 10:17"]


def test_rate_after_a_gap_skips_to_the_next_period_on_the_start_grid() -> None:
    schedule = parse_schedule("rate(5 minutes)")
    started = at("2025-03-01 10:02:10")
    assert schedule.next_fire(at("2025-03-01 11:00:00"), started) == at("2025-03-01 11:02:00")


@pytest.mark.parametrize("expression, hours", [("rate(1 hour)", 1), ("rate(2 hours)", 2),
                                               ("rate(1 day)", 24), ("rate(3 days)", 72)])
def test_rate_hours_and_days(expression: str, hours: int) -> None:
    schedule = parse_schedule(expression)
    assert schedule.every.total_seconds() == hours * 3600


def test_rate_object_from_chalice() -> None:
    assert fires(Rate(1, unit=Rate.MINUTES), "2025-03-01 10:00:00", 1) == ["2025-03-01 10:01"]
    assert fires(Rate(2, unit=Rate.HOURS), "2025-03-01 10:00:00", 1) == ["2025-03-01 12:00"]


@pytest.mark.parametrize("expression, complaint", [
    ("rate(1 minutes)", "rate(1 minute)"),
    ("rate(5 minute)", "rate(5 minutes)"),
    ("rate(0 minutes)", "positive"),
    ("rate(5 weeks)", "minute|minutes"),
    ("rate(-1 minute)", "minute|minutes"),
    ("rate(1.5 hours)", "minute|minutes"),
    ("rate(minute)", "minute|minutes"),
    ("every(5 minutes)", "rate(...) or cron(...)"),
])
def test_rate_refused_with_a_reason(expression: str, complaint: str) -> None:
    with pytest.raises(ScheduleExpressionError) as raised:
        parse_schedule(expression)
    assert complaint in str(raised.value)


# -- cron: plain fields -------------------------------------------------------------------------

def test_cron_daily_at_a_fixed_time_in_utc() -> None:
    assert fires("cron(0 3 * * ? *)", "2025-03-01 10:00") == [
        "2025-03-02 03:00", "2025-03-03 03:00", "2025-03-04 03:00"]


def test_cron_fires_later_the_same_day_and_never_at_the_current_minute() -> None:
    assert fires("cron(30 10 * * ? *)", "2025-03-01 10:30:00", 1) == ["2025-03-02 10:30"]
    assert fires("cron(31 10 * * ? *)", "2025-03-01 10:30:59", 1) == ["2025-03-01 10:31"]


def test_cron_lists_ranges_and_steps() -> None:
    assert fires("cron(0/15 9-10 * * ? *)", "2025-03-01 08:59", 9) == [
        "2025-03-01 09:00", "2025-03-01 09:15", "2025-03-01 09:30", "2025-03-01 09:45",
        "2025-03-01 10:00", "2025-03-01 10:15", "2025-03-01 10:30", "2025-03-01 10:45",
        "2025-03-02 09:00"]
    assert fires("cron(5,35 */12 * * ? *)", "2025-03-01 00:00", 4) == [
        "2025-03-01 00:05", "2025-03-01 00:35", "2025-03-01 12:05", "2025-03-01 12:35"]
    assert fires("cron(10-30/10 0 * * ? *)", "2025-03-01 00:00", 4) == [
        "2025-03-01 00:10", "2025-03-01 00:20", "2025-03-01 00:30", "2025-03-02 00:10"]


def test_cron_month_and_day_names() -> None:
    assert fires("cron(0 12 ? JAN,JUL MON-FRI *)", "2025-06-30 13:00", 2) == [
        "2025-07-01 12:00", "2025-07-02 12:00"]
    # 1 is Sunday, 7 is Saturday.
    assert fires("cron(0 8 ? * 1,7 *)", "2025-03-03 00:00", 2) == ["2025-03-08 08:00", "2025-03-09 08:00"]


def test_cron_day_of_month_skips_months_without_that_day() -> None:
    assert fires("cron(0 0 31 * ? *)", "2025-01-31 01:00", 2) == ["2025-03-31 00:00", "2025-05-31 00:00"]


def test_cron_year_field_and_an_expression_that_never_fires_again() -> None:
    assert fires("cron(0 0 1 1 ? 2030-2031)", "2025-05-01 00:00") == ["2030-01-01 00:00", "2031-01-01 00:00"]
    assert fires("cron(0 0 1 1 ? 2020)", "2025-05-01 00:00") == []
    assert fires("cron(0 0 30 2 ? *)", "2025-05-01 00:00") == []


def test_cron_object_from_chalice() -> None:
    assert fires(Cron(0, 3, "*", "*", "?", "*"), "2025-03-01 10:00", 1) == ["2025-03-02 03:00"]


# -- cron: L, W, # -------------------------------------------------------------------------------

def test_cron_last_day_of_month() -> None:
    assert fires("cron(0 23 L * ? *)", "2024-02-01 00:00", 3) == [
        "2024-02-29 23:00", "2024-03-31 23:00", "2024-04-30 23:00"]


def test_cron_nearest_weekday_stays_in_the_month() -> None:
    # 2025-03-01 is a Saturday: 1W is Monday the 3rd, not Friday in February.
    assert fires("cron(0 9 1W * ? *)", "2025-02-15 00:00", 1) == ["2025-03-03 09:00"]
    # 2025-03-15 is a Saturday: 15W is Friday the 14th. 2025-06-15 is a Sunday: Monday the 16th.
    assert fires("cron(0 9 15W * ? *)", "2025-03-01 00:00", 4) == [
        "2025-03-14 09:00", "2025-04-15 09:00", "2025-05-15 09:00", "2025-06-16 09:00"]
    # 2025-08-31 is a Sunday: LW is Friday the 29th.
    assert fires("cron(0 9 LW * ? *)", "2025-08-01 00:00", 1) == ["2025-08-29 09:00"]


def test_cron_last_and_nth_weekday_of_month() -> None:
    assert fires("cron(15 10 ? * 6L *)", "2025-01-01 00:00", 2) == ["2025-01-31 10:15", "2025-02-28 10:15"]
    assert fires("cron(0 9 ? * 3#2 *)", "2025-01-01 00:00", 2) == ["2025-01-14 09:00", "2025-02-11 09:00"]
    assert fires("cron(0 9 ? * MON#1 *)", "2025-09-02 00:00", 1) == ["2025-10-06 09:00"]
    # Not every month has a fifth Friday.
    assert fires("cron(0 9 ? * 6#5 *)", "2025-01-01 00:00", 2) == ["2025-01-31 09:00", "2025-05-30 09:00"]


# -- cron: refused -------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, complaint", [
    ("cron(0 12 * * *)", "six fields"),
    ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(0 12 1 * MON *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(60 12 * * ? *)", "minutes 60: must be between 0 and 59"),
    ("cron(0 24 * * ? *)", "hours 24: must be between 0 and 23"),
    ("cron(0 0 0 * ? *)", "day-of-month 0: must be between 1 and 31"),
    ("cron(0 0 * 13 ? *)", "month 13"),
    ("cron(0 0 ? * 8 *)", "day-of-week 8"),
    ("cron(0 0 * * ? 1969)", "year 1969"),
    ("cron(0 0 ? * FRI-MON *)", "a range runs from low to high"),
    ("cron(0 0 * FOO ? *)", "month 'FOO'"),
    ("cron(0/0 0 * * ? *)", "positive number"),
    ("cron(0,,5 0 * * ? *)", "empty item"),
    ("cron(0 0 L-2 * ? *)", "L stands alone"),
    ("cron(0 0 1W,15W * ? *)", "W takes one day"),
    ("cron(0 0 ? * 3#2,6#3 *)", "# takes one day"),
    ("cron(0 0 ? * 3#6 *)", "# takes one day and a week 1-5"),
    ("cron(0 0 ? * 2,6L *)", "L goes after one day"),
    ("cron(0 0 ? * 1/2 *)", "allows no / here"),
    ("cron(0 L * * ? *)", "hours 'L'"),
])
def test_cron_refused_with_a_reason(expression: str, complaint: str) -> None:
    with pytest.raises(ScheduleExpressionError) as raised:
        parse_schedule(expression)
    assert complaint in str(raised.value)
