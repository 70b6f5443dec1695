"""Report periods."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.metrics.reports import month_period, previous_period, quarter_period


def test_months_and_their_previous_month():
    february = month_period("2028-02")
    assert (february.first, february.last, len(february.days)) == (date(2028, 2, 1), date(2028, 2, 29), 29)
    assert previous_period(month_period("2026-01")).label == "2025-12"


def test_quarters_and_their_previous_quarter():
    q1 = quarter_period("2026-Q1")
    assert (q1.first, q1.last, len(q1.days)) == (date(2026, 1, 1), date(2026, 3, 31), 90)
    assert previous_period(q1).label == "2025-Q4"
    assert previous_period(quarter_period("2026-Q3")).as_dict() == {
        "kind": "quarter", "label": "2026-Q2", "from": "2026-04-01", "to": "2026-06-30"}


@pytest.mark.parametrize("bad", ["2026-3", "2026-00", "26-03", "2026-03-01"])
def test_a_month_must_be_yyyy_mm(bad):
    with pytest.raises(ValidationFailed):
        month_period(bad)


@pytest.mark.parametrize("bad", ["2026-Q0", "2026Q1", "2026-q1", "2026-Q5"])
def test_a_quarter_must_be_yyyy_qn(bad):
    with pytest.raises(ValidationFailed):
        quarter_period(bad)
