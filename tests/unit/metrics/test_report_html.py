"""The HTML report: one page, nothing fetched, missing shown as missing, text escaped."""
from __future__ import annotations

from html.parser import HTMLParser

from chalicelib.metrics.figures import compare, summarize
from chalicelib.metrics.report_html import render_html


def report(**overrides):
    daily = [{"date": f"2026-03-{d:02d}", "followers": None if d == 3 else 100 + d, "posts_published": 1,
              "engagements": d, "impressions": None, "inbound": 0, "conversations": 0, "response_rate": None,
              "first_response_median_s": 90 if d == 3 else None, "rolled_up": True} for d in (1, 2, 3, 4)]
    base = {
        "workspace": {"id": "ws", "name": "Acme <Shop>", "timezone": "Europe/Paris"},
        "period": {"kind": "month", "label": "2026-03", "from": "2026-03-01", "to": "2026-03-31"},
        "previous_period": {"kind": "month", "label": "2026-02", "from": "2026-02-01", "to": "2026-02-28"},
        "generated_at": "2026-04-01T08:00:00Z", "complete": False, "pending_days": [],
        "missing": [{"date": "2026-03-02", "channel_id": "ch_a", "insights": "missing",
                     "followers_missing": True, "posts_missing": 0, "reason": "sandbox: 503"}],
        "figures": compare(summarize([]), summarize([])),
        "channels": [], "daily": daily, "previous_daily": daily,
        "top_posts": [{"post_id": "p1", "preview": "<script>alert(1)</script>", "channel_name": "Main",
                       "channel_id": "ch_a", "engagements": 12, "likes": 12,
                       "remote_url": "javascript:alert(1)"}],
    }
    return {**base, **overrides}


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs


def test_the_page_fetches_nothing_and_escapes_what_people_wrote():
    page = render_html(report())
    parsed = Tags()
    parsed.feed(page)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "img" not in parsed.tags
    # No address at all, not even the javascript: link.
    assert not [value for name, value in parsed.attrs if name in ("src", "href")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "Acme &lt;Shop&gt;" in page
    assert parsed.tags.count("svg") == 4


def test_a_missing_count_is_a_gap_in_the_line_and_a_dash_in_the_table():
    page = render_html(report())
    followers_chart = page.split("<svg")[1]
    # Each line stops before the 3rd; the 4th stands alone as a dot, not joined across the gap.
    assert followers_chart.count("<polyline") == 2 and followers_chart.count("<circle") == 3
    assert 'title="not known"' in page
    assert "Some network figures are missing" in page and "sandbox: 503" in page


def test_a_complete_report_has_no_notice():
    assert "notice" not in render_html(report(complete=True, missing=[])).split("<main>")[1]
