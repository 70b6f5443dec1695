"""A report as CSV for a spreadsheet: sections one under the other, a blank row
between them. A figure that is not known is an empty cell, never 0."""
from __future__ import annotations

import csv
import io
from typing import Any

from chalicelib.metrics.figures import FIGURES
from chalicelib.metrics.report_html import unavailable_fields

# Spreadsheet programs read the file as UTF-8 (channel names, post text) only with the byte-order mark.
BOM = "\ufeff"
UNITS = {"count": "", "percent": "%", "seconds": "s", "amount": ""}


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _section_tables(writer: Any, report: dict[str, Any]) -> None:
    """Other features' tables (ads...), as they give them."""
    for key in report.get("sections", []):
        section = report[key]
        writer.writerow([])
        writer.writerow([section["title"]])
        writer.writerow(section["table"]["columns"])
        writer.writerows([[_cell(v) for v in row] for row in section["table"]["rows"]])


def render_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    period, previous = report["period"], report["previous_period"]
    workspace = report["workspace"]
    writer.writerow(["Herald report", workspace["name"], f"{period['kind']} {period['label']}",
                     f"{period['from']} to {period['to']}", workspace["timezone"],
                     "complete" if report["complete"] else "incomplete"])
    writer.writerow([])
    writer.writerow(["Figure", "Unit", period["label"], previous["label"], "Change", "Change %"])
    for key, label, unit in FIGURES:
        item = report["figures"][key]
        writer.writerow([label, UNITS[unit], _cell(item["value"]), _cell(item["previous"]),
                         _cell(item["change"]), _cell(item["change_pct"])])

    if report["channels"]:
        writer.writerow([])
        writer.writerow(["Channel", "Network", *[label + (f" ({UNITS[unit]})" if UNITS[unit] else "")
                                                for _key, label, unit in FIGURES]])
        for channel in report["channels"]:
            writer.writerow([channel["name"], channel["network"],
                             *[_cell(channel["figures"][key]["value"]) for key, _label, _unit in FIGURES]])

    writer.writerow([])
    writer.writerow(["Date", "Followers", "Posts published", "Engagements", "Impressions",
                     "Comments, messages and mentions", "Conversations", "Response rate (%)",
                     "First response, median (s)", "Rolled up"])
    for day in report["daily"]:
        writer.writerow([day["date"], _cell(day["followers"]), day["posts_published"],
                         _cell(day["engagements"]), _cell(day["impressions"]), day["inbound"],
                         day["conversations"],
                         _cell(day["response_rate"]), _cell(day["first_response_median_s"]),
                         "yes" if day["rolled_up"] else "no"])

    writer.writerow([])
    writer.writerow(["Top posts", "Channel", "Published at (UTC)", "Likes", "Reposts", "Replies",
                     "Impressions", "Engagements", "Link"])
    for post in report["top_posts"]:
        writer.writerow([post.get("preview", ""), post["channel_name"], post.get("published_at", ""),
                         _cell(post.get("likes")), _cell(post.get("reposts")), _cell(post.get("replies")),
                         _cell(post.get("impressions")), post["engagements"], _cell(post.get("remote_url"))])

    _traffic_rows(writer, report.get("traffic_posts") or [])
    _goal_rows(writer, report.get("goals") or [])
    _section_tables(writer, report)

    if report["missing"] or report["pending_days"]:
        writer.writerow([])
        writer.writerow(["Missing from the network", "Channel", "Status", "Reason"])
        for item in report["missing"]:
            writer.writerow([item["date"], item.get("channel_name") or item["channel_id"], item["insights"],
                             _cell(item["reason"])])
        for day in report["pending_days"]:
            writer.writerow([day, "", "pending", "not rolled up yet"])
    _share_of_voice(writer, report.get("share_of_voice"))
    _brand_consistency(writer, report.get("brand_consistency"))
    return BOM + out.getvalue()


def _traffic_rows(writer: Any, posts: list[dict[str, Any]]) -> None:
    if not posts:
        return
    writer.writerow([])
    writer.writerow(["Traffic by post", "Channel", "Clicks", "Unique visitors", "Conversions", "Conversion value",
                     "Conversion rate (%)"])
    for post in posts:
        writer.writerow([post.get("preview") or post.get("post_id") or "", post["channel_name"], post["clicks"],
                         post["unique_visitors"], post["conversions"], post["conversion_value"],
                         _cell(post["conversion_rate"])])


def _goal_name(goal: dict[str, Any]) -> str:
    """The metric, and an ad goal's currency (its target and value are money)."""
    return f"{goal['metric']} ({goal['currency']})" if goal.get("currency") else str(goal["metric"])


def _goal_scope(goal: dict[str, Any]) -> str:
    channels = " ".join(goal["channel_ids"] or []) or "all"
    campaigns = goal.get("campaign_ids")
    return f"{channels}; campaigns {' '.join(campaigns)}" if campaigns else channels


def _goal_rows(writer: Any, goals: list[dict[str, Any]]) -> None:
    if not goals:
        return
    writer.writerow([])
    writer.writerow(["Goal", "Target", "Period", "Channels", "Value", "% of target", "Expected by now", "Pace",
                     "Behind by", "Ahead by"])
    for goal in goals:
        progress, period = goal["progress"], goal["period"]
        writer.writerow([_goal_name(goal), goal["target"], f"{period['from']} to {period['to']}",
                         _goal_scope(goal), _cell(progress["value"]),
                         _cell(progress["percent_of_target"]), _cell(progress["expected"]), progress["pace"],
                         _cell(progress["behind_by"]), _cell(progress["ahead_by"])])


def _brand_consistency(writer: Any, section: dict[str, Any] | None) -> None:
    """The brand's section (chalicelib/brand/consistency.py): the latest check's findings per channel."""
    if not section:
        return
    writer.writerow([])
    writer.writerow(["Brand consistency", "Network", "Finding", "Message"])
    writer.writerow(["Checked at", "", "", section.get("checked_at") or ""])
    for channel in section["channels"]:
        if channel["status"] != "checked":
            writer.writerow([channel["name"], channel["network"], channel["status"], _cell(channel["message"])])
        elif unavailable_fields(channel):
            writer.writerow([channel["name"], channel["network"], "not_available",
                             f"not given by {channel['network']} (not compared): "
                             f"{', '.join(unavailable_fields(channel))}"])
        for finding in channel["findings"]:
            writer.writerow([channel["name"], channel["network"], finding["code"], finding["message"]])
    for item in section["across_channels"]:
        writer.writerow(["All channels", "", item["code"], item["message"]])


def _share_of_voice(writer: Any, section: dict[str, Any] | None) -> None:
    """Listening's section (chalicelib/inbox/share_of_voice.py): mentions and shares per network."""
    if not section:
        return
    writer.writerow([])
    writer.writerow(["Share of voice", "Network", "Mentions", "Share (%)"])
    writer.writerow(["Brand", "all", section["brand"]["mentions"], _cell(section["brand"]["share"])])
    for competitor in section["competitors"]:
        writer.writerow([competitor["name"], "all", competitor["mentions"], _cell(competitor["share"])])
    for row in section["by_network"]:
        writer.writerow(["Brand", row["network"], row["brand"], _cell(row["brand_share"])])
        for competitor in row["competitors"]:
            writer.writerow([competitor["name"], row["network"], competitor["mentions"],
                             _cell(competitor["share"])])
