"""Which months and quarters a roll-up run finishes (what `report.ready` announces)."""
from __future__ import annotations

from datetime import date

from chalicelib.metrics.rollup import closed_periods


def test_closed_periods_are_the_months_and_quarters_whose_last_day_is_in_the_run() -> None:
    assert closed_periods((date(2026, 3, 30),)) == []
    assert closed_periods((date(2026, 1, 31), date(2026, 2, 1))) == ["2026-01"]
    assert closed_periods((date(2026, 12, 31),)) == ["2026-12", "2026-Q4"]
    assert closed_periods((date(2028, 2, 29),)) == ["2028-02"]
