"""The one place ad figures are computed (the results route, the pacing job and the reports all call it).

- CTR = clicks / impressions × 100 (percent)
- CPC = spend / clicks
- CPM = spend / impressions × 1000
- cost per conversion = spend / conversions
Each is None when its denominator is 0: a figure that cannot be known is never shown as 0. Money is rounded
to cents (half up) only when shown; percentages to two places.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def money(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _ratio(top: Decimal, bottom: int, scale: int = 1) -> Decimal | None:
    return None if bottom <= 0 else top * scale / Decimal(bottom)


@dataclass(frozen=True)
class Totals:
    impressions: int = 0
    clicks: int = 0
    spend: Decimal = Decimal(0)
    conversions: int = 0
    reach: int | None = None  # reach does not add up over days: the largest day's is a lower bound

    def figures(self) -> dict[str, Any]:
        ctr = _ratio(Decimal(self.clicks) * 100, self.impressions)
        return {
            "impressions": self.impressions, "reach": self.reach, "clicks": self.clicks,
            "spend": money(self.spend), "conversions": self.conversions,
            "ctr": None if ctr is None else float(ctr.quantize(CENT, rounding=ROUND_HALF_UP)),
            "cpc": money(_ratio(self.spend, self.clicks)),
            "cpm": money(_ratio(self.spend, self.impressions, 1000)),
            "cost_per_conversion": money(_ratio(self.spend, self.conversions)),
        }


def totals(days: Iterable[Any]) -> Totals:
    """The sum of daily results (anything with impressions, clicks, spend, conversions, reach)."""
    impressions = clicks = conversions = 0
    spend = Decimal(0)
    reach: int | None = None
    for d in days:
        impressions += d.impressions
        clicks += d.clicks
        spend += d.spend
        conversions += d.conversions
        if d.reach is not None:
            reach = max(reach or 0, d.reach)
    return Totals(impressions, clicks, spend, conversions, reach)
