"""Pacing against the elapsed share of the flight (chalicelib/ads/pacing.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.ads.pacing import pacing

START, END = date(2026, 3, 1), date(2026, 3, 10)  # ten days, 1000 in all: 100 a day expected


@dataclass
class Day:
    day: str
    spend: Decimal


def spent(*amounts: int) -> list[Day]:
    return [Day(date(2026, 3, 1 + i).isoformat(), Decimal(a)) for i, a in enumerate(amounts)]


def alerts(days: list[Day], today: date, daily: int | None = 100) -> list[str]:
    return pacing(START, END, Decimal(1000), None if daily is None else Decimal(daily), days, today).alerts


def test_spend_is_judged_against_the_days_elapsed() -> None:
    assert alerts(spent(100, 100, 100), date(2026, 3, 4)) == []
    assert alerts(spent(100, 150, 120), date(2026, 3, 4)) == ["overpacing"]  # 370 > 300 × 1.2
    assert alerts(spent(50, 60, 70), date(2026, 3, 4)) == ["underpacing"]  # 180 < 300 × 0.8
    assert alerts(spent(100, 100, 130), date(2026, 3, 4)) == ["daily_overspend"]  # 130 > 100 × 1.25
    assert alerts(spent(100, 100, 130), date(2026, 3, 4), daily=None) == []
    assert alerts(spent(400, 400, 300), date(2026, 3, 4), daily=None) == ["over_budget"]


def test_before_the_flight_there_is_nothing_to_judge_and_after_it_its_last_day_counts() -> None:
    before = pacing(START, END, Decimal(1000), None, [], date(2026, 3, 1))
    assert (before.as_of, before.alerts, before.expected_spend) == (None, [], None)
    after = pacing(START, END, Decimal(1000), None, spent(*[100] * 10), date(2026, 4, 1))
    assert (after.as_of, after.elapsed_days, after.expected_spend, after.alerts) == (END, 10, Decimal(1000), [])
