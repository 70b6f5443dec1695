"""The CSV report: one file a spreadsheet opens, unknown figures as empty cells."""
from __future__ import annotations

import csv
import io

from chalicelib.metrics.figures import compare, summarize
from chalicelib.metrics.report_csv import render_csv
from tests.unit.metrics.test_report_html import report


def test_the_csv_starts_with_a_byte_order_mark_and_leaves_unknowns_empty():
    text = render_csv(report(figures=compare(summarize([]), summarize([]))))
    assert text.startswith("\ufeffHerald report,Acme <Shop>,month 2026-03")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    figures = {r[0]: r for r in rows if len(r) == 6}
    assert figures["Followers (end of period)"] == ["Followers (end of period)", "", "", "", "", ""]
    assert figures["Posts published"][2:4] == ["0", "0"]
    daily = [r for r in rows if len(r) == 10 and r[0].startswith("2026-03-")]
    assert [r[1] for r in daily] == ["101", "102", "", "104"]
    assert ["2026-03-02", "ch_a", "missing", "sandbox: 503"] in rows
