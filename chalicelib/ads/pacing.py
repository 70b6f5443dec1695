"""Pacing: is a campaign spending its budget at the rate its flight has elapsed?

For the day `as_of` (the last finished day, in the campaign's time zone):
- elapsed share = days of the flight up to and including `as_of` / days of the flight;
- expected spend = total budget × elapsed share;
- `over_budget`: spend to date above the total budget;
- `overpacing`: spend to date above expected × OVER_PACE (and not already over budget);
- `underpacing`: spend to date below expected × UNDER_PACE;
- `daily_overspend`: the day's spend above the daily budget × DAILY_OVER. Meta may spend up to 75 % over a
  daily budget on a good day and less on others (Ads Help Center, "About daily budgets"): a quarter over is
  worth a look, not every cent.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.ads.ad_figures import money

OVER_PACE = Decimal("1.20")
UNDER_PACE = Decimal("0.80")
DAILY_OVER = Decimal("1.25")


@dataclass(frozen=True)
class PacingState:
    as_of: date | None
    flight_days: int
    elapsed_days: int
    expected_spend: Decimal | None
    spend_to_date: Decimal | None
    day_spend: Decimal | None
    alerts: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None, "flight_days": self.flight_days,
                "elapsed_days": self.elapsed_days, "expected_spend": money(self.expected_spend),
                "spend_to_date": money(self.spend_to_date), "day_spend": money(self.day_spend),
                "alerts": list(self.alerts)}


def pacing(start: date, end: date, total: Decimal, daily: Decimal | None, days: Iterable[Any],
           today: date) -> PacingState:
    """`days`: the campaign's daily results (`day` as YYYY-MM-DD text, `spend`); `today` in the campaign's zone."""
    flight_days = (end - start).days + 1
    as_of = min(end, date.fromordinal(today.toordinal() - 1))
    if as_of < start:
        return PacingState(None, flight_days, 0, None, None, None)
    elapsed = (as_of - start).days + 1
    spend_by_day = {d.day: d.spend for d in days if start.isoformat() <= d.day <= as_of.isoformat()}
    spent = sum(spend_by_day.values(), Decimal(0))
    expected = total * elapsed / flight_days
    day_spend = spend_by_day.get(as_of.isoformat(), Decimal(0))
    return PacingState(as_of, flight_days, elapsed, expected, spent, day_spend,
                       _alerts(spent, expected, total, day_spend, daily))


def _alerts(spent: Decimal, expected: Decimal, total: Decimal, day_spend: Decimal,
            daily: Decimal | None) -> list[str]:
    alerts = []
    if spent > total:
        alerts.append("over_budget")
    elif spent > expected * OVER_PACE:
        alerts.append("overpacing")
    elif spent < expected * UNDER_PACE:
        alerts.append("underpacing")
    if daily is not None and day_spend > daily * DAILY_OVER:
        alerts.append("daily_overspend")
    return alerts
