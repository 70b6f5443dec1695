"""A report as one self-contained HTML page: inline CSS, charts as inline SVG,
nothing fetched from anywhere. Every figure sits next to the previous period's."""
from __future__ import annotations

from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.clock import parse_rfc3339
from chalicelib.metrics.figures import FIGURES
from chalicelib.metrics.svg_charts import Series, bar_chart, duration, hbar_chart, line_chart

BLUE, GREY, GREEN, ORANGE = "#2f6fde", "#9aa3b2", "#1f9d6b", "#e07b22"
# For these a fall is good news.
LOWER_IS_BETTER = {"posts_failed", "posts_unknown", "lateness_median_s", "lateness_p90_s",
                   "first_response_median_s", "first_response_p90_s"}
HEADLINE = ("followers", "audience_growth", "engagements", "engagement_rate", "impressions", "word_of_mouth",
            "response_rate", "first_response_median_s", "posts_published", "on_time_rate")
UNITS = {key: unit for key, _label, unit in FIGURES}
LABELS = {key: label for key, label, _unit in FIGURES}

STYLE = """
*{box-sizing:border-box}body{margin:0;color:#1d2430;background:#f5f7fa;
font:14px/1.45 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
main{max-width:1040px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 10px}.sub{color:#5b6472;margin:0}
.notice{background:#fff7e6;border:1px solid #f2d49b;border-radius:8px;padding:10px 14px;margin:16px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(185px,1fr));gap:12px;margin-top:20px}
.card{background:#fff;border:1px solid #e3e7ee;border-radius:10px;padding:12px 14px}
.card .label{color:#5b6472;font-size:12px}.card .value{font-size:22px;font-weight:600;margin:2px 0}
.card .prev{color:#5b6472;font-size:12px}.up{color:#1f9d6b}.down{color:#c2412d}.flat{color:#5b6472}
.panel{background:#fff;border:1px solid #e3e7ee;border-radius:10px;padding:14px 16px;margin-bottom:14px}
.panel h3{margin:0 0 8px;font-size:14px}.chart{width:100%;height:auto;display:block}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e3e7ee;border-radius:10px;
overflow:hidden}th,td{padding:7px 10px;border-bottom:1px solid #eef1f5;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}th{background:#f0f3f8;font-weight:600;font-size:12px;color:#3b4352}
td.text{text-align:left;max-width:360px}.missing{color:#9aa3b2}footer{color:#8a93a3;font-size:12px;margin-top:28px}
@media print{body{background:#fff}.panel,.card,table{break-inside:avoid}}
"""


def show(value: Any, unit: str) -> str:
    if value is None:
        return '<span class="missing" title="not known">—</span>'
    if unit == "percent":
        return f"{value:,.2f} %".replace(".00 %", " %")
    if unit == "seconds":
        return escape(duration(value))
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def change_text(key: str, item: dict[str, Any]) -> str:
    change, pct = item["change"], item["change_pct"]
    if change is None:
        return '<span class="flat">no comparison</span>'
    if change == 0:
        return '<span class="flat">unchanged</span>'
    better = (change < 0) if key in LOWER_IS_BETTER else (change > 0)
    arrow = "▲" if change > 0 else "▼"
    unit = UNITS[key]
    amount = show(abs(change), unit) if unit != "percent" else f"{abs(change):,.2f} pt"
    extra = f" ({pct:+.1f} %)" if pct is not None else ""
    return f'<span class="{"up" if better else "down"}">{arrow} {amount}{extra}</span>'


def _cards(report: dict[str, Any]) -> str:
    cards = []
    for key in HEADLINE:
        item = report["figures"][key]
        cards.append(f'<div class="card"><div class="label">{escape(LABELS[key])}</div>'
                     f'<div class="value">{show(item["value"], UNITS[key])}</div>'
                     f'<div class="prev">{change_text(key, item)}<br>'
                     f'previous: {show(item["previous"], UNITS[key])}</div></div>')
    return f'<div class="cards">{"".join(cards)}</div>'


def _charts(report: dict[str, Any]) -> str:
    daily, before = report["daily"], report["previous_daily"]
    labels = [d["date"][8:] if len(daily) <= 31 else d["date"][5:] for d in daily]
    previous_label = report["previous_period"]["label"]
    followers = line_chart("Followers over time", labels, [
        Series(report["period"]["label"], [d["followers"] for d in daily], BLUE),
        Series(previous_label, [d["followers"] for d in before], GREY, dashed=True),
    ])
    engagement = bar_chart("Engagements per day (posts published that day)", labels,
                           [d["engagements"] for d in daily], GREEN)
    response = line_chart("First response time, daily median", labels, [
        Series(report["period"]["label"], [d["first_response_median_s"] for d in daily], ORANGE),
        Series(previous_label, [d["first_response_median_s"] for d in before], GREY, dashed=True),
    ], unit="seconds", zero_based=True)
    top = hbar_chart("Top posts by engagements", [(p.get("preview") or p.get("post_id", ""), p["engagements"])
                                                   for p in report["top_posts"]], BLUE)
    panels = [
        ("Followers over time", followers, "Dashed: the previous period, day by day."),
        ("Engagement per day", engagement, "Likes, reposts and replies of the posts published each day."),
        ("Response time", response, "Median time to the first reply, by the day the conversation started."),
        ("Top posts", top, ""),
    ]
    return "".join(f'<div class="panel"><h3>{escape(title)}</h3>{svg}'
                   f'{f"<p class=sub>{escape(note)}</p>" if note else ""}</div>'
                   for title, svg, note in panels)


def _figure_table(report: dict[str, Any]) -> str:
    period, previous = report["period"]["label"], report["previous_period"]["label"]
    rows = [f"<tr><th>Figure</th><th>{escape(period)}</th><th>{escape(previous)}</th><th>Change</th></tr>"]
    for key, label, unit in FIGURES:
        item = report["figures"][key]
        rows.append(f"<tr><td>{escape(label)}</td><td>{show(item['value'], unit)}</td>"
                    f"<td>{show(item['previous'], unit)}</td><td>{change_text(key, item)}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def _channel_table(report: dict[str, Any]) -> str:
    keys = ("followers", "audience_growth", "posts_published", "engagements", "impressions", "response_rate",
            "first_response_median_s")
    head = "".join(f"<th>{escape(LABELS[k])}</th>" for k in keys)
    rows = [f"<tr><th>Channel</th>{head}</tr>"]
    for channel in report["channels"]:
        cells = "".join(f"<td>{show(channel['figures'][k]['value'], UNITS[k])}</td>" for k in keys)
        name = escape(channel["name"]) + (f' <span class="sub">({escape(channel["network"])})</span>'
                                          if channel["network"] else "")
        rows.append(f"<tr><td>{name}</td>{cells}</tr>")
    return f"<table>{''.join(rows)}</table>"


def _local_time(text: str | None, timezone: str) -> str:
    if not text:
        return ""
    return parse_rfc3339(text).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _top_table(report: dict[str, Any]) -> str:
    rows = ["<tr><th>Post</th><th>Channel</th><th>Likes</th><th>Reposts</th><th>Replies</th>"
            "<th>Impressions</th><th>Engagements</th></tr>"]
    for post in report["top_posts"]:
        text = escape(post.get("preview") or post.get("post_id", ""))
        if (post.get("remote_url") or "").startswith(("https://", "http://")):
            text = f'<a href="{escape(post["remote_url"])}">{text}</a>'
        published = _local_time(post.get("published_at"), report["workspace"]["timezone"])
        cells = "".join(f"<td>{show(post.get(k), 'count')}</td>"
                        for k in ("likes", "reposts", "replies", "impressions", "engagements"))
        rows.append(f'<tr><td class="text">{text}<br><span class="sub">{escape(published)}</span></td>'
                    f'<td>{escape(post["channel_name"])}</td>{cells}</tr>')
    return f"<table>{''.join(rows)}</table>"


def _traffic_table(report: dict[str, Any]) -> str:
    posts = report.get("traffic_posts") or []
    if not posts:
        return ""
    rows = ["<tr><th>Post</th><th>Channel</th><th>Clicks</th><th>Unique visitors</th><th>Conversions</th>"
            "<th>Conversion value</th><th>Conversion rate</th></tr>"]
    for post in posts:
        cells = "".join(f"<td>{show(post.get(k), unit)}</td>" for k, unit in (
            ("clicks", "count"), ("unique_visitors", "count"), ("conversions", "count"),
            ("conversion_value", "amount"), ("conversion_rate", "percent")))
        rows.append(f'<tr><td class="text">{escape(post.get("preview") or post.get("post_id") or "")}</td>'
                    f'<td>{escape(post["channel_name"])}</td>{cells}</tr>')
    return f"<h2>Traffic and conversions</h2><table>{''.join(rows)}</table>"


PACE_TEXT = {"on_track": "on track", "behind": "behind", "ahead": "ahead", "met": "met",
             "not_started": "not started", "unknown": "not known yet"}


def _goal_value(goal: dict[str, Any], value: Any) -> str:
    """A goal's number in its unit; money (an ad goal's) with two decimals and its currency."""
    if value is None or not goal.get("currency"):
        return show(value, goal.get("unit", "count"))
    return f"{float(value):,.2f} {escape(goal['currency'])}"


def _goal_table(report: dict[str, Any]) -> str:
    goals = report.get("goals") or []
    if not goals:
        return ""
    rows = ["<tr><th>Goal</th><th>Period</th><th>Target</th><th>Value</th><th>Expected by now</th>"
            "<th>Pace</th></tr>"]
    for goal in goals:
        progress, period = goal["progress"], goal["period"]
        pace = PACE_TEXT.get(progress["pace"], progress["pace"])
        if progress.get("behind_by") is not None:
            pace += f" by {_goal_value(goal, progress['behind_by'])}"
        scope = " ".join(goal["channel_ids"] or []) or "all channels"
        if goal.get("campaign_ids"):
            scope += f"; campaigns {' '.join(goal['campaign_ids'])}"
        rows.append(f'<tr><td class="text">{escape(goal["metric"])}'
                    f'<br><span class="sub">{escape(scope)}'
                    f'</span></td><td>{escape(period["from"])} to {escape(period["to"])}</td>'
                    f'<td>{_goal_value(goal, goal["target"])}</td><td>{_goal_value(goal, progress["value"])}</td>'
                    f'<td>{_goal_value(goal, progress["expected"])}</td><td>{escape(pace)}</td></tr>')
    return f"<h2>Goals (the 90-day review)</h2><table>{''.join(rows)}</table>"


def _sections(report: dict[str, Any]) -> str:
    """Other features' sections (ads...): their title and table, numbers as the report shows them."""
    parts = []
    for key in report.get("sections", []):
        section, table = report[key], report[key]["table"]
        head = "".join(f"<th>{escape(str(c))}</th>" for c in table["columns"])
        rows = "".join("<tr>" + "".join(
            f"<td>{escape(v) if isinstance(v, str) else show(v, 'count')}</td>" for v in row) + "</tr>"
            for row in table["rows"])
        parts.append(f"<h2>{escape(section['title'])}</h2>" + (
            f"<table><tr>{head}</tr>{rows}</table>" if table["rows"] else '<p class="sub">Nothing this period.</p>'))
    return "".join(parts)


def _notice(report: dict[str, Any]) -> str:
    if report["complete"]:
        return ""
    parts = []
    if report["missing"]:
        listed = ", ".join(f"{m['date']} ({escape(m.get('channel_name') or m['channel_id'])}: "
                           f"{escape(m['reason'] or m['insights'])})"
                           for m in report["missing"][:8])
        more = f" and {len(report['missing']) - 8} more" if len(report["missing"]) > 8 else ""
        parts.append("Some network figures are missing and are left out, not counted as zero: "
                     f"{listed}{more}.")
    if report["pending_days"]:
        parts.append(f"{len(report['pending_days'])} day(s) of this period are not rolled up yet "
                     f"({escape(report['pending_days'][0])} to {escape(report['pending_days'][-1])}).")
    return f'<div class="notice">{" ".join(parts)}</div>'


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _share_of_voice(section: dict[str, Any] | None) -> str:
    """Listening's section: the brand's mentions against each competitor's, per network."""
    if not section:
        return ""
    names = ["Brand", *(c["name"] for c in section["competitors"])]
    head = "".join(f"<th>{escape(name)}</th>" for name in names)
    rows = [f"<tr><th>Network</th>{head}</tr>"]
    overall = [section["brand"], *section["competitors"]]
    rows.append("<tr><td>All networks</td>" + "".join(
        f"<td>{item['mentions']} ({_percent(item['share'])})</td>" for item in overall) + "</tr>")
    for row in section["by_network"]:
        cells = [f"<td>{row['brand']} ({_percent(row['brand_share'])})</td>"]
        cells += [f"<td>{c['mentions']} ({_percent(c['share'])})</td>" for c in row["competitors"]]
        rows.append(f"<tr><td>{escape(row['network'])}</td>{''.join(cells)}</tr>")
    return f"<h2>Share of voice</h2><table>{''.join(rows)}</table>"


def unavailable_fields(channel: dict[str, Any]) -> list[str]:
    """The profile fields of a checked channel its network does not give (never compared): the brand section
    shows them as not available rather than as missing."""
    return [name for name, state in (channel.get("fields") or {}).items() if state == "not_available"]


def _brand_consistency(section: dict[str, Any] | None) -> str:
    """The brand's section: the latest consistency check, one row per finding."""
    if not section:
        return ""
    rows = ["<tr><th>Channel</th><th>Finding</th></tr>"]
    for channel in section["channels"]:
        name = f'{escape(channel["name"])} <span class="sub">({escape(channel["network"])})</span>'
        said = [escape(f["message"]) for f in channel["findings"]]
        if channel["status"] != "checked":
            said.append(escape(channel.get("message") or channel["status"]))
        elif unavailable_fields(channel):
            said.append(escape(f"Not available on {channel['network']}: {', '.join(unavailable_fields(channel))} "
                               "(not compared)."))
        rows.append(f"<tr><td>{name}</td><td>{'<br>'.join(said) or 'Consistent with the brand'}</td></tr>")
    rows += [f"<tr><td>All channels</td><td>{escape(item['message'])}</td></tr>"
             for item in section["across_channels"]]
    checked = escape(section.get("checked_at") or "never")
    return f'<h2>Brand consistency</h2><p class="sub">Checked at {checked}</p><table>{"".join(rows)}</table>'


def render_html(report: dict[str, Any]) -> str:
    period, workspace = report["period"], report["workspace"]
    title = f"{workspace['name'] or 'Herald'} — {period['kind']} report {period['label']}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="sub">{escape(period["from"])} to {escape(period["to"])} · days in '
        f'{escape(workspace["timezone"])} · compared with {escape(report["previous_period"]["label"])}</p>'
        f"{_notice(report)}{_cards(report)}"
        f"<h2>Charts</h2>{_charts(report)}"
        f"<h2>Every figure</h2>{_figure_table(report)}"
        f"<h2>By channel</h2>{_channel_table(report)}"
        f"<h2>Top posts</h2>{_top_table(report)}"
        f"{_traffic_table(report)}{_goal_table(report)}{_sections(report)}"
        f"{_share_of_voice(report.get('share_of_voice'))}"
        f"{_brand_consistency(report.get('brand_consistency'))}"
        f'<footer>Generated by Herald at {escape(report["generated_at"] or "")}. Formulas: docs/metrics.md.'
        "</footer></main></body></html>"
    )
