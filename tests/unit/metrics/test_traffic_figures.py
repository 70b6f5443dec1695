"""Short links' traffic in the figures: totals, the rate, per post, and clicks by publication hour."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from chalicelib.metrics.figures import summarize, traffic_by_post
from chalicelib.metrics.metric_repository import DailyRow
from chalicelib.metrics.reports import _clicks_by_hour


def link(code, post_id, clicks=0, uniques=0, conversions=0, value=0):
    return {"code": code, "post_id": post_id, "clicks": clicks, "unique_visitors": uniques,
            "conversions": conversions, "conversion_value": value}


def row(channel, day, traffic, **counts):
    return DailyRow("ws", channel, day, counts, traffic=traffic)


def test_clicks_conversions_and_their_rate():
    rows = [row("ch_a", date(2026, 3, 2), [link("A", "p1", 8, 5, 1, 20)], clicks=8, unique_visitors=5,
                conversions=1, conversion_value=20),
            row("workspace", date(2026, 3, 3), [link(None, None, 0, 0, 1, 5)], conversions=1, conversion_value=5,
                conversions_unattributed=1)]
    figures = summarize(rows)
    assert (figures["clicks"], figures["unique_visitors"], figures["conversions"]) == (8, 5, 2)
    assert (figures["conversion_value"], figures["conversions_unattributed"]) == (25, 1)
    assert figures["conversion_rate"] == 25.0
    assert summarize([])["conversion_rate"] is None  # a rate over no click is not known, not 0


def test_traffic_per_post_and_channel_most_clicked_first():
    rows = [row("ch_a", date(2026, 3, 2), [link("A", "p1", 2, 2), link("B", "p2", 5, 4, 1, 10)]),
            row("ch_a", date(2026, 3, 3), [link("A", "p1", 4, 3, 2, 30)]),
            row("ch_b", date(2026, 3, 3), [link("C", "p1", 1, 1)])]
    assert [(e["channel_id"], e["post_id"], e["clicks"], e["conversions"], e["conversion_rate"])
            for e in traffic_by_post(rows)] == [("ch_a", "p1", 6, 2, 33.33), ("ch_a", "p2", 5, 1, 20.0),
                                                 ("ch_b", "p1", 1, 0, 0.0)]


def test_clicks_go_to_the_local_hour_each_post_was_published():
    zone = ZoneInfo("Europe/Istanbul")  # UTC+3
    posts = [{"post_id": "p1", "published_at": "2026-03-02T06:00:00Z"},
             {"post_id": "p2", "published_at": "2026-03-02T06:30:00Z"},
             {"post_id": "p3", "published_at": "2026-03-02T15:00:00Z"}]
    rows = [row("ch_a", date(2026, 3, 2), [link("A", "p1", 3), link("B", "p2", 4)]),
            row("ch_a", date(2026, 3, 9), [link("A", "p1", 2)])]
    assert _clicks_by_hour(posts, rows, zone) == {9: 9, 18: 0}
