"""How one daily row is built from counters, the network's answer and the stored row."""
from __future__ import annotations

from datetime import date

from chalicelib.metrics.metric_repository import DailyRow, DayCounts
from chalicelib.metrics.rollup import Fetched, build_row
from chalicelib.networks.base import ChannelInsights, PostInsights

DAY = date(2026, 3, 2)


def counts():
    return DayCounts(DAY, {"published": 2, "comments": 1}, [0, 4], [], [
        {"post_id": "p1", "remote_id": "r1", "preview": "One"}, {"post_id": "p2", "remote_id": "r2"}])


def test_a_good_answer_fills_followers_and_post_figures():
    fetched = Fetched(ChannelInsights(300, [PostInsights("r1", likes=4, reposts=1, replies=0, impressions=50),
                                            PostInsights("r2", likes=2)]))
    row = build_row("ws", "ch", DAY, counts(), None, fetched, followers_now=True)
    assert row.followers == 300 and row.insights == "ok" and row.insights_error is None
    assert row.posts[0] == {"post_id": "p1", "remote_id": "r1", "preview": "One", "likes": 4, "reposts": 1,
                            "replies": 0, "impressions": 50}
    assert row.counts == {"published": 2, "comments": 1} and row.lateness_s == [0, 4]


def test_a_failed_answer_keeps_what_was_known_and_says_why():
    before = DailyRow("ws", "ch", DAY, {}, [], [], [{"post_id": "p1", "remote_id": "r1", "likes": 4}], 300,
                      "ok")
    failed = Fetched(status="missing", error="x: 503")
    row = build_row("ws", "ch", DAY, counts(), before, failed, followers_now=True)
    assert row.followers == 300  # the stored count stays; it is not replaced by nothing
    assert row.posts[0]["likes"] == 4 and "likes" not in row.posts[1]
    assert (row.insights, row.insights_error) == ("missing", "x: 503")


def test_a_post_the_network_no_longer_has_is_gone_not_missing():
    fetched = Fetched(ChannelInsights(300, [PostInsights("r1", likes=1)]))
    row = build_row("ws", "ch", DAY, counts(), None, fetched, followers_now=True)
    assert row.posts[1]["gone"] is True and row.insights == "ok"


def test_only_the_day_that_just_ended_takes_tonights_follower_count():
    fetched = Fetched(ChannelInsights(300, [PostInsights("r1", likes=1), PostInsights("r2", likes=1)]))
    older = build_row("ws", "ch", DAY, counts(), None, fetched, followers_now=False)
    assert older.followers is None and older.insights == "missing"
    assert older.insights_error == "no follower count was taken that day"
    silent = Fetched(ChannelInsights(None, []))
    no_count = build_row("ws", "ch", DAY, counts(), None, silent, followers_now=True)
    assert no_count.insights == "unavailable"


def test_the_workspace_series_has_no_network():
    row = build_row("ws", "workspace", DAY, DayCounts(DAY, {"listening_matches": 2}), None,
                    Fetched(status="none"), followers_now=True)
    assert (row.insights, row.followers, row.counts) == ("none", None, {"listening_matches": 2})
