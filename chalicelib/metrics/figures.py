"""The metric maths: from daily rows to the figures a manager is judged on.

Every function here is pure. A figure is None when its inputs are not known
(a network that did not answer, a rate over nothing): missing is never zero.
docs/metrics.md gives each formula and where its inputs come from.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from typing import Any

from chalicelib.metrics.metric_repository import DailyRow

ON_TIME_S = 60.0
TOP_POSTS = 5

# (key, label, unit) in the order reports show them.
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("followers", "Followers (end of period)", "count"),
    ("audience_growth", "Audience growth", "count"),
    ("audience_growth_pct", "Audience growth rate", "percent"),
    ("posts_published", "Posts published", "count"),
    ("posts_failed", "Posts failed", "count"),
    ("posts_unknown", "Posts with an unknown outcome", "count"),
    ("posts_on_time", "Posts published on time (within 60 s)", "count"),
    ("on_time_rate", "Published on time", "percent"),
    ("lateness_median_s", "Lateness, median", "seconds"),
    ("lateness_p90_s", "Lateness, 90th percentile", "seconds"),
    ("likes", "Likes", "count"),
    ("reposts", "Reposts", "count"),
    ("replies", "Replies to posts", "count"),
    ("engagements", "Engagements", "count"),
    ("engagements_per_post", "Engagements per post", "count"),
    ("impressions", "Impressions", "count"),
    ("engagement_rate", "Engagement rate (per impression)", "percent"),
    ("engagement_rate_by_followers", "Engagement rate (per follower)", "percent"),
    ("potential_reach", "Potential reach", "count"),
    ("comments", "Comments received", "count"),
    ("messages", "Direct messages received", "count"),
    ("mentions", "Mentions", "count"),
    ("listening_matches", "Listening matches", "count"),
    ("word_of_mouth", "Word of mouth (mentions + listening matches)", "count"),
    ("conversations", "Conversations started", "count"),
    ("answered_within_24h", "Conversations answered within 24 h", "count"),
    ("response_rate", "Response rate (answered within 24 h)", "percent"),
    ("first_response_median_s", "First response time, median", "seconds"),
    ("first_response_p90_s", "First response time, 90th percentile", "seconds"),
    ("replies_sent", "Replies sent", "count"),
    # Short links (chalicelib/links/): clicks without bots, unique visitors per link and day, conversions.
    ("clicks", "Link clicks (bots left out)", "count"),
    ("unique_visitors", "Unique visitors (per link and day)", "count"),
    ("conversions", "Conversions", "count"),
    ("conversions_unattributed", "Conversions outside the attribution window", "count"),
    ("conversion_value", "Conversion value", "amount"),
    ("conversion_rate", "Conversion rate (conversions per click)", "percent"),
)
FIGURE_KEYS = tuple(key for key, _label, _unit in FIGURES)


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return clean(ordered[middle])
    return clean((ordered[middle - 1] + ordered[middle]) / 2)


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return clean(ordered[rank - 1])


def percent(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100 * part / whole, 2)


def clean(value: float) -> float:
    value = round(value, 3)
    return int(value) if float(value).is_integer() else value


def measured(post: dict[str, Any]) -> bool:
    """The network gave figures for this post (a deleted post has none, and is not missing)."""
    return not post.get("gone") and any(post.get(k) is not None for k in ("likes", "reposts", "replies"))


def engagements(post: dict[str, Any]) -> int:
    return sum(int(post.get(k) or 0) for k in ("likes", "reposts", "replies"))


def post_missing(post: dict[str, Any]) -> bool:
    return not post.get("gone") and not measured(post)


def followers_by_series(rows: list[DailyRow],
                        baseline: dict[str, int]) -> dict[str, tuple[int | None, int | None]]:
    """(start, end) per series: start is the last count before the period (else
    the first in it), end the last count in it."""
    out: dict[str, tuple[int | None, int | None]] = {}
    for row in sorted(rows, key=lambda r: r.day):
        if row.followers is None:
            continue
        start, _end = out.get(row.channel_id, (baseline.get(row.channel_id), None))
        out[row.channel_id] = (row.followers if start is None else start, row.followers)
    for channel_id, known in baseline.items():
        out.setdefault(channel_id, (known, None))
    return out


def summarize(rows: list[DailyRow], baseline: dict[str, int] | None = None) -> dict[str, Any]:
    """The figures of a set of rows (any series, any days) as one period, in FIGURES order."""
    figures = {
        **_audience_figures(rows, baseline or {}),
        **_publishing_figures(rows),
        **_post_figures([p for r in rows for p in r.posts if measured(p)]),
        **_inbox_figures(rows),
        **_traffic_figures(rows),
    }
    return {key: _cleaned(figures[key]) for key in FIGURE_KEYS}


def _cleaned(value: Any) -> Any:
    return clean(value) if isinstance(value, float) else value


def _total(rows: list[DailyRow], counter: str) -> float:
    return sum(r.count(counter) for r in rows)


def _audience_figures(rows: list[DailyRow], baseline: dict[str, int]) -> dict[str, Any]:
    """Followers and their growth, summed over the series whose counts are known."""
    followers = followers_by_series(rows, baseline)
    ends = {c: end for c, (_start, end) in followers.items() if end is not None}
    followers_end = sum(ends.values()) if ends else None
    growth, growth_base = _growth(followers.values())
    return {
        "followers": followers_end,
        "audience_growth": growth,
        "audience_growth_pct": percent(growth, growth_base),
        "engagement_rate_by_followers": _engagement_by_followers(rows, set(ends), followers_end),
        "potential_reach": _potential_reach(rows),
    }


def _growth(followers: Iterable[tuple[int | None, int | None]]) -> tuple[int | None, int | None]:
    """(growth, the count it grew from) over the series known at both ends of the period."""
    growing = [(start, end) for start, end in followers if start is not None and end is not None]
    if not growing:
        return None, None
    return sum(end - start for start, end in growing), sum(start for start, _end in growing)


def _engagement_by_followers(rows: list[DailyRow], counted: set[str],
                             followers_end: int | None) -> float | None:
    """Engagements of the series whose follower count is known, per follower; None when no post was measured."""
    scored = [(r.channel_id, p) for r in rows for p in r.posts if measured(p)]
    if not scored:
        return None
    return percent(sum(engagements(p) for channel_id, p in scored if channel_id in counted), followers_end)


def _potential_reach(rows: list[DailyRow]) -> int | None:
    """Posts published times the followers of their day, over the days whose count is known."""
    reach_days = [r for r in rows if r.followers is not None]
    if not reach_days:
        return None
    return sum(int(r.count("published")) * int(r.followers or 0) for r in reach_days)


def _publishing_figures(rows: list[DailyRow]) -> dict[str, Any]:
    lateness = [v for r in rows for v in r.lateness_s]
    published = _total(rows, "published")
    on_time = sum(1 for v in lateness if v <= ON_TIME_S)
    return {
        "posts_published": published,
        "posts_failed": _total(rows, "failed"),
        "posts_unknown": _total(rows, "unknown"),
        "posts_on_time": on_time,
        "on_time_rate": percent(on_time, published),
        "lateness_median_s": median(lateness),
        "lateness_p90_s": percentile(lateness, 90),
    }


def _post_figures(scored: list[dict[str, Any]]) -> dict[str, Any]:
    """What the networks counted on the measured posts; None when no post was measured."""
    if not scored:
        return {"likes": None, "reposts": None, "replies": None, "engagements": None,
                "engagements_per_post": None, **_impression_figures(scored)}
    total_engagements = sum(engagements(p) for p in scored)
    return {
        "likes": sum(int(p.get("likes") or 0) for p in scored),
        "reposts": sum(int(p.get("reposts") or 0) for p in scored),
        "replies": sum(int(p.get("replies") or 0) for p in scored),
        "engagements": total_engagements,
        "engagements_per_post": clean(total_engagements / len(scored)),
        **_impression_figures(scored),
    }


def _impression_figures(scored: list[dict[str, Any]]) -> dict[str, Any]:
    """Impressions, and engagements per impression, over the posts that have an impression count."""
    with_impressions = [p for p in scored if p.get("impressions") is not None]
    impressions = sum(int(p["impressions"]) for p in with_impressions) if with_impressions else None
    return {
        "impressions": impressions,
        "engagement_rate": percent(sum(engagements(p) for p in with_impressions), impressions),
    }


def _inbox_figures(rows: list[DailyRow]) -> dict[str, Any]:
    first_responses = [v for r in rows for v in r.first_response_s]
    mentions, matches = _total(rows, "mentions"), _total(rows, "listening_matches")
    conversations, answered = _total(rows, "conversations"), _total(rows, "answered_24h")
    return {
        "comments": _total(rows, "comments"),
        "messages": _total(rows, "messages"),
        "mentions": mentions,
        "listening_matches": matches,
        "word_of_mouth": mentions + matches,
        "conversations": conversations,
        "answered_within_24h": answered,
        "response_rate": percent(answered, conversations),
        "first_response_median_s": median(first_responses),
        "first_response_p90_s": percentile(first_responses, 90),
        "replies_sent": _total(rows, "replies_sent"),
    }


def _traffic_figures(rows: list[DailyRow]) -> dict[str, Any]:
    clicks, conversions = _total(rows, "clicks"), _total(rows, "conversions")
    return {
        "clicks": clicks,
        "unique_visitors": _total(rows, "unique_visitors"),
        "conversions": conversions,
        "conversions_unattributed": _total(rows, "conversions_unattributed"),
        "conversion_value": _total(rows, "conversion_value"),
        "conversion_rate": percent(conversions, clicks),
    }


def traffic_by_post(rows: list[DailyRow]) -> list[dict[str, Any]]:
    """Each post's clicks and conversions over the rows (per channel: each channel has its own links), most
    clicked first; conversions no click explains are one entry without a post."""
    previews = {p.get("post_id"): p.get("preview") for r in rows for p in r.posts}
    totals: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in rows:
        for item in row.traffic:
            key = (row.channel_id, item.get("post_id"))
            entry = totals.setdefault(key, {"channel_id": row.channel_id, "post_id": item.get("post_id"),
                                            "preview": previews.get(item.get("post_id")), "clicks": 0,
                                            "unique_visitors": 0, "conversions": 0, "conversion_value": 0})
            for name in ("clicks", "unique_visitors", "conversions", "conversion_value"):
                entry[name] = clean(entry[name] + float(item.get(name) or 0))
    out = sorted(totals.values(), key=lambda e: (-e["clicks"], -e["conversions"], e["post_id"] or "~"))
    for entry in out:
        entry["conversion_rate"] = percent(entry["conversions"], entry["clicks"])
    return out


def compare(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every figure next to the previous period's: change, and change in % where it means something."""
    out = {}
    for key, _label, unit in FIGURES:
        value, before = current.get(key), previous.get(key)
        change = None if value is None or before is None else clean(value - before)
        change_pct = None if unit == "percent" else percent(change, before)
        out[key] = {"value": value, "previous": before, "change": change, "change_pct": change_pct}
    return out


def missing_insights(rows: list[DailyRow]) -> list[dict[str, Any]]:
    """Where a network's figures are not in, and why; these figures are left out, not counted as zero."""
    out = []
    for row in sorted(rows, key=lambda r: (r.day, r.channel_id)):
        if row.insights in ("missing", "unavailable", "pending"):
            out.append({"date": row.day.isoformat(), "channel_id": row.channel_id, "insights": row.insights,
                        "followers_missing": row.followers is None,
                        "posts_missing": sum(1 for p in row.posts if post_missing(p)),
                        "reason": row.insights_error})
    return out


def daily_series(rows: list[DailyRow], days: list[date], network_series: set[str]) -> list[dict[str, Any]]:
    """Per-day figures for the charts. A day's followers are summed only when
    every channel's count is known that day, so a missing count shows as a gap,
    not as a drop."""
    by_day: dict[date, list[DailyRow]] = {day: [] for day in days}
    for row in rows:
        if row.day in by_day:
            by_day[row.day].append(row)
    out = []
    for day in days:
        today = by_day[day]
        counted = [r for r in today if r.channel_id in network_series]
        known = [r.followers for r in counted if r.followers is not None]
        figures = summarize(today)
        out.append({
            "date": day.isoformat(),
            "followers": sum(known) if counted and len(known) == len(counted) else None,
            "posts_published": figures["posts_published"],
            "engagements": figures["engagements"],
            "impressions": figures["impressions"],
            "inbound": figures["comments"] + figures["messages"] + figures["mentions"],
            "conversations": figures["conversations"],
            "response_rate": figures["response_rate"],
            "first_response_median_s": figures["first_response_median_s"],
            "clicks": figures["clicks"],
            "conversions": figures["conversions"],
            "rolled_up": bool(today) and all(r.insights != "pending" for r in today),
        })
    return out


def top_posts(rows: list[DailyRow], limit: int = TOP_POSTS) -> list[dict[str, Any]]:
    posts = [{**p, "channel_id": r.channel_id, "engagements": engagements(p)}
             for r in rows for p in r.posts if measured(p)]
    posts.sort(key=lambda p: (-p["engagements"], p.get("published_at") or "", p.get("post_id") or ""))
    return posts[:limit]
