"""The metric maths on hand-made rows."""
from __future__ import annotations

from datetime import date

from chalicelib.metrics.figures import compare, daily_series, median, percentile, summarize, top_posts
from chalicelib.metrics.metric_repository import DailyRow


def row(channel="ch_a", day=date(2026, 3, 2), followers=None, posts=(), **counts):
    lists = {k: counts.pop(k) for k in ("lateness_s", "first_response_s") if k in counts}
    return DailyRow("ws", channel, day, counts, lists.get("lateness_s", []),
                    lists.get("first_response_s", []), list(posts), followers,
                    "ok" if followers is not None else "missing")


def post(post_id, likes=None, reposts=None, replies=None, impressions=None, **extra):
    figures = dict(likes=likes, reposts=reposts, replies=replies, impressions=impressions)
    known = {k: v for k, v in figures.items() if v is not None}
    return {"post_id": post_id, "remote_id": "r" + post_id, **known, **extra}


def test_median_and_the_nearest_rank_90th_percentile():
    assert median([]) is None and percentile([], 90) is None
    assert median([5, 1, 3]) == 3 and median([4, 1, 3, 2]) == 2.5
    assert percentile(range(1, 11), 90) == 9 and percentile(range(1, 12), 90) == 10
    assert percentile([7], 90) == 7 and percentile([1, 2], 90) == 2


def test_unknown_followers_and_impressions_stay_unknown():
    figures = summarize([row(published=1, posts=[post("1", likes=2, reposts=1, replies=0)])])
    assert figures["followers"] is None and figures["audience_growth"] is None
    assert figures["impressions"] is None and figures["engagement_rate"] is None
    assert figures["engagements"] == 3 and figures["potential_reach"] is None
    nothing = summarize([])
    assert nothing["engagements"] is None and nothing["response_rate"] is None
    assert nothing["posts_published"] == 0


def test_growth_starts_from_the_last_count_before_the_period():
    rows = [row(day=date(2026, 3, 1), followers=110), row(day=date(2026, 3, 2), followers=None),
            row(day=date(2026, 3, 3), followers=120), row("ch_b", day=date(2026, 3, 3), followers=50)]
    figures = summarize(rows, baseline={"ch_a": 100})
    # ch_b has no earlier count: its growth starts from its first count in the period.
    assert [figures[k] for k in ("followers", "audience_growth", "audience_growth_pct")] == [170, 20, 13.33]


def test_engagement_rate_counts_only_posts_whose_impressions_are_known():
    rows = [row(followers=1000, published=2, posts=[post("1", likes=8, reposts=1, replies=1, impressions=200),
                                                    post("2", likes=30, reposts=0, replies=0)]),
            row("ch_b", posts=[post("3", gone=True), post("4")])]
    figures = summarize(rows)
    assert (figures["engagements"], figures["impressions"], figures["engagement_rate"]) == (40, 200, 5.0)
    assert figures["engagements_per_post"] == 20 and figures["engagement_rate_by_followers"] == 4.0
    assert figures["potential_reach"] == 2000


def test_response_figures_and_lateness():
    figures = summarize([row(published=3, lateness_s=[0, 12.5, 300], conversations=4, answered_24h=3,
                             first_response_s=[60, 120, 3600, 90000])])
    assert (figures["posts_on_time"], figures["on_time_rate"]) == (2, 66.67)
    assert (figures["lateness_median_s"], figures["lateness_p90_s"]) == (12.5, 300)
    assert [figures[k] for k in ("response_rate", "first_response_median_s", "first_response_p90_s")] == [
        75.0, 1860, 90000]


def test_compare_gives_change_and_percent_change_only_where_both_are_known():
    current = summarize([row(comments=6, conversations=4, answered_24h=2)])
    previous = summarize([row(comments=4, conversations=2, answered_24h=2)])
    compared = compare(current, previous)
    assert compared["comments"] == {"value": 6, "previous": 4, "change": 2, "change_pct": 50.0}
    # A rate's change is in points; a percent of a percent would mislead.
    assert compared["response_rate"] == {"value": 50, "previous": 100, "change": -50, "change_pct": None}
    assert compared["followers"] == {"value": None, "previous": None, "change": None, "change_pct": None}


def test_a_day_with_a_missing_count_is_a_gap_in_the_followers_line():
    days = [date(2026, 3, 1), date(2026, 3, 2)]
    rows = [row("a", days[0], 10), row("b", days[0], 5), row("a", days[1], 11), row("b", days[1], None)]
    assert [d["followers"] for d in daily_series(rows, days, {"a", "b"})] == [15, None]


def test_top_posts_rank_by_engagements_and_leave_out_unmeasured_ones():
    rows = [row(posts=[post("1", likes=3, published_at="2026-03-02T10:00:00.000Z"), post("2", likes=9),
                       post("3"), post("4", likes=3, published_at="2026-03-01T10:00:00.000Z")])]
    assert [p["post_id"] for p in top_posts(rows)] == ["2", "4", "1"]
