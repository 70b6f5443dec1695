"""Five weeks of a New York workspace, built through the API, the publishing
engine and the counters' recording API with an injected clock; the nightly
roll-up runs after every local day, across the switch to daylight saving time
(2026-03-08, 02:00 local). The monthly report must say exactly what happened."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from moto import mock_aws

from chalicelib.core.clock import FixedClock, to_rfc3339
from chalicelib.core.settings import get_settings
from chalicelib.metrics.schemas import DailyMetrics, Report
from chalicelib.wiring import Container, use_container
from infra.local.aws_emulation import AwsClients
from infra.local.kms_keys import KmsKeyKeeper
from infra.local.provision import Provisioner
from infra.moto_atomic import make_dynamodb_atomic
from infra.resources import resources
from tests.functional.publishing.test_publishing import run_messages
from tests.support.fixtures import ACCOUNT_ID, make_workspace
from tests.support.http import Api
from tests.support.insights import ScriptedInsights
from tests.support.queues import RecordingQueue

NEW_YORK = ZoneInfo("America/New_York")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A New York wall-clock time in 2026."""
    return local(date(2026, month, day), hour, minute)


def counts(likes, reposts, replies, impressions=None):
    return {"likes": likes, "reposts": reposts, "replies": replies,
            **({"impressions": impressions} if impressions is not None else {})}


# text -> (channel, local publish time, figures the network reports)
POSTS = {
    "Winter sale": ("main", ny(2, 24, 10), counts(10, 2, 1, 300)),
    "Winter tips": ("second", ny(2, 26, 18), counts(4, 1, 0)),
    # 23:30 EST on the 7th is 04:30 UTC on the 8th: it belongs to the 7th.
    "Spring teaser": ("main", ny(3, 7, 23, 30), counts(20, 5, 3, 800)),
    "Clocks change tonight": ("main", ny(3, 8, 0, 30), counts(8, 1, 1, 400)),
    # 23:30 EDT on the 8th (a 23-hour day) is 03:30 UTC on the 9th.
    "Late Sunday": ("second", ny(3, 8, 23, 30), counts(6, 2, 2)),
    "Monday launch": ("main", ny(3, 9, 9), counts(30, 10, 5, 1500)),
    "Broken post": ("second", ny(3, 10, 12), {}),
    "Mid-month": ("main", ny(3, 10, 12), counts(12, 4, 2, 600)),
    "Thursday thoughts": ("second", ny(3, 19, 8), counts(9, 0, 1)),
    "Month end": ("main", ny(3, 31, 17), counts(15, 3, 0, 900)),
}
# What the inbox and listening record: (kind, channel, when, opens a conversation, answered after s)
INBOX = [
    ("comment", "main", ny(2, 25, 9), True, 7200),
    ("mention", "main", ny(2, 26, 8), False, None),
    # 23:50 EST on the 7th, answered 20 minutes later (on the 8th): counted on the 7th.
    ("comment", "main", ny(3, 7, 23, 50), True, 1200),
    # 01:30 on the 8th, still EST; answered 30 h later, after the 8th was rolled up.
    ("message", "main", ny(3, 8, 1, 30), True, 108000),
    ("mention", "main", ny(3, 8, 23, 59), False, None),
    ("listening", None, ny(3, 12, 9), False, None),
    ("listening", None, ny(3, 12, 10), False, None),
    ("comment", "second", ny(3, 15, 10), True, 600),
    ("comment", "second", ny(3, 15, 11), False, None),
    ("message", "main", ny(3, 20, 9), True, 3600),
    ("message", "main", ny(3, 21, 9), True, None),
    ("listening", None, ny(3, 25, 9), False, None),
]
FIRST_NIGHT, LAST_NIGHT = date(2026, 2, 20), date(2026, 3, 31)


def followers_on(day: date) -> dict[str, int]:
    k = (day - FIRST_NIGHT).days
    return {"main": 1000 + 3 * k, "second": 400 + k}


@pytest.fixture(scope="module")
def month(aws_clients):
    """Built once for the module (it is the slow part): AWS emulated and
    provisioned as the `aws` fixture does, the app's container with a fixed
    clock, the scripted network, five weeks."""
    from chalice.test import Client

    from app import app

    make_dynamodb_atomic()
    with mock_aws():
        settings = get_settings()
        keys = KmsKeyKeeper(None, aws_clients["kms"], ACCOUNT_ID, settings.region)
        provisioner = Provisioner(AwsClients(**aws_clients), keys, settings.region, ACCOUNT_ID)
        provisioner.provision(resources(settings.stage))
        clock = FixedClock(datetime(2026, 2, 20, 12, 0, tzinfo=UTC))
        deps = use_container(Container(clock=clock, clients=aws_clients, sleep=lambda _s: None))
        queue = RecordingQueue()
        deps.publish_queue = queue
        network = ScriptedInsights(deps.sandbox_store, clock)
        deps._adapter_overrides["sandbox"] = network
        with Client(app) as client:
            yield build_month(deps, clock, client, queue, network)


def build_month(deps, clock, client, queue, network):
    """The five weeks; returns the API, the channel ids and the network."""
    clock.set(datetime(2026, 2, 20, 12, 0, tzinfo=UTC))
    workspace = make_workspace(deps, "Acme NYC", "America/New_York")
    api = Api(client, workspace.headers())
    channels = {name: api.post("/channels", {"network": "sandbox", "name": name.title()}).json["id"]
                for name in ("main", "second")}
    network.figures = {text: figures for text, (_c, _at, figures) in POSTS.items()}
    for text, (channel, publish_at, _figures) in POSTS.items():
        created = api.post("/posts", {"text": text, "channel_ids": [channels[channel]],
                                      "publish_at": to_rfc3339(publish_at)})
        assert created.status_code == 201, created.body
    deps.engine.jitter = lambda: 0.5  # retries 15 s, 30 s, 60 s after each failure

    def publish(text):
        def act():
            deps.engine.publish_due_deliveries()
            run_messages(deps, queue, clock)
        return POSTS[text][1] - timedelta(seconds=30), act

    def settings(channel, values):
        return lambda: api.patch(f"/channels/{channels[channel]}", {"settings": values})

    def night(day):
        def act():
            network.followers = {channels[name]: count for name, count in followers_on(day).items()}
            network.failing = {channels["main"]} if day == date(2026, 3, 10) else set()
            deps.rollup.run()
        return local(day + timedelta(days=1), 0, 30), act

    counters = deps.counters
    launch, broken = POSTS["Monday launch"][1], POSTS["Broken post"][1]
    timeline = [publish(text) for text in POSTS]
    timeline += [
        (launch - timedelta(minutes=5), settings("main", {"fail": "500", "fail_times": 3})),
        (launch + timedelta(minutes=10), settings("main", {})),
        (broken - timedelta(minutes=5), settings("second", {"fail": "invalid"})),
        (broken + timedelta(minutes=10), settings("second", {})),
    ]
    for kind, name, at, opens, answered_after in INBOX:
        if kind == "listening":
            timeline.append((at, partial(counters.record_listening_match, workspace.id, at)))
            continue
        channel = channels[name]
        timeline.append((at, partial(counters.record_inbound, workspace.id, channel, kind, at,
                                     new_conversation=opens)))
        if answered_after is not None:
            replied = at + timedelta(seconds=answered_after)
            timeline.append((replied, partial(counters.record_first_response, workspace.id, channel, at,
                                              answered_after)))
            timeline.append((replied, partial(counters.record_reply_sent, workspace.id, channel, replied)))
    day = FIRST_NIGHT
    while day <= LAST_NIGHT:
        timeline.append(night(day))
        day += timedelta(days=1)
    for moment, act in sorted(timeline, key=lambda item: item[0]):
        clock.set(moment)
        act()
    clock.set(local(date(2026, 4, 1), 9))
    return api, channels, network


def figures_of(report):
    return {key: item["value"] for key, item in report["figures"].items()}


def test_the_monthly_report_says_exactly_what_happened(month):
    api, channels, _network = month
    answer = api.get("/reports/monthly?month=2026-03")
    assert answer.status_code == 200, answer.body
    report = answer.json
    Report.model_validate(report)  # what the OpenAPI document promises
    assert report["period"] == {"kind": "month", "label": "2026-03", "from": "2026-03-01", "to": "2026-03-31"}
    assert report["previous_period"]["label"] == "2026-02"
    assert figures_of(report) == {
        "followers": 1117 + 439,
        "audience_growth": (1117 - 1024) + (439 - 408),
        "audience_growth_pct": 8.66,  # 124 / (1024 + 408)
        "posts_published": 7, "posts_failed": 1, "posts_unknown": 0,
        "posts_on_time": 6, "on_time_rate": 85.71,
        "lateness_median_s": 0, "lateness_p90_s": 105,  # Monday launch: failed three times, 15 + 30 + 60 s
        "likes": 100, "reposts": 25, "replies": 14, "engagements": 139, "engagements_per_post": 19.857,
        "impressions": 4200,
        "engagement_rate": 2.83,  # 119 engagements on the posts with impressions / 4200
        "engagement_rate_by_followers": 8.93,  # 139 / 1556
        # published × followers on that day; the 10th is left out (its count is missing)
        "potential_reach": 1045 + 1048 + 1051 + 1117 + 416 + 427,
        "comments": 3, "messages": 3, "mentions": 1, "listening_matches": 3, "word_of_mouth": 4,
        "conversations": 5, "answered_within_24h": 3, "response_rate": 60.0,
        "first_response_median_s": 2400, "first_response_p90_s": 108000,
        "replies_sent": 4,
        # no short links this month: nothing clicked; a rate over nothing is not known
        "clicks": 0, "unique_visitors": 0, "conversions": 0, "conversions_unattributed": 0,
        "conversion_value": 0, "conversion_rate": None,
    }
    previous = {key: item["previous"] for key, item in report["figures"].items()}
    assert previous["followers"] == 1024 + 408 and previous["audience_growth"] == 32
    assert previous["engagements"] == 18 and previous["engagement_rate"] == 4.33
    assert previous["first_response_median_s"] == 7200 and previous["response_rate"] == 100.0
    assert report["figures"]["followers"]["change"] == 124
    assert report["figures"]["engagements"]["change_pct"] == 672.22
    # The network failed on the night of the 10th: that count is missing, not zero.
    assert report["complete"] is False and report["pending_days"] == []
    missing = [(m["date"], m["channel_id"], m["followers_missing"], m["posts_missing"])
               for m in report["missing"]]
    assert missing == [("2026-03-10", channels["main"], True, 0)]
    assert "503" in report["missing"][0]["reason"]
    followers_line = {d["date"]: d["followers"] for d in report["daily"]}
    assert followers_line["2026-03-09"] == 1051 + 417 and followers_line["2026-03-10"] is None
    assert [p["preview"] for p in report["top_posts"]] == ["Monday launch", "Spring teaser", "Mid-month",
                                                           "Month end", "Clocks change tonight"]
    by_channel = {c["name"]: {k: v["value"] for k, v in c["figures"].items()} for c in report["channels"]}
    assert by_channel["Main"]["posts_published"] == 5 and by_channel["Second"]["posts_failed"] == 1
    assert by_channel["Second"]["impressions"] is None  # that network gives none: unknown, not 0


def test_days_follow_the_workspace_clock_across_the_dst_change(month):
    api, channels, network = month
    answer = api.get(f"/metrics/daily?from=2026-03-07&to=2026-03-09&channel_id={channels['main']}").json
    DailyMetrics.model_validate(answer)
    days = answer["days"]
    assert [(d["date"], d["posts_published"], d["comments"], d["messages"], d["mentions"]) for d in days] == [
        ("2026-03-07", 1, 1, 0, 0), ("2026-03-08", 1, 0, 1, 1), ("2026-03-09", 1, 0, 0, 0)]
    assert [d["followers"] for d in days] == [1045, 1048, 1051]
    assert [d["audience_growth"] for d in days] == [3, 3, 3]
    # The reply that came 30 h later reached the 8th's row when the next night rebuilt it.
    assert days[1]["first_response_median_s"] == 108000 and days[1]["response_rate"] == 0.0
    query = f"/metrics/daily?from=2026-03-08&to=2026-03-09&channel_id={channels['second']}"
    second = api.get(query).json["days"]
    assert [d["posts_published"] for d in second] == [1, 0]  # 23:30 EDT, 03:30 UTC the next day
    whole = api.get("/metrics/daily?from=2026-03-10&to=2026-03-11").json["days"]
    assert whole[0]["insights_missing"] == [channels["main"]] and whole[0]["followers"] is None
    assert whole[0]["engagements"] == 18  # the post of the failed night got its figures the next night
    assert whole[1]["insights_missing"] == [] and whole[1]["rolled_up"] is True


def test_the_csv_opens_in_a_spreadsheet(month):
    api, _channels, _network = month
    answer = api.get("/reports/monthly?month=2026-03&format=csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert 'filename="herald-month-2026-03.csv"' in answer.headers["Content-Disposition"]
    text = answer.body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    figures = {row[0]: row[2:] for row in rows if len(row) == 6 and row[1] in ("", "%", "s")}
    assert figures["Engagements"] == ["139", "18", "121", "672.22"]
    assert figures["Response rate (answered within 24 h)"] == ["60", "100", "-40", ""]
    assert figures["Impressions"][0] == "4200"
    dates = {row[0]: row for row in rows if len(row) == 10 and re.fullmatch(r"\d{4}-\d\d-\d\d", row[0])}
    assert dates["2026-03-10"][1] == ""  # missing followers: an empty cell, not 0
    assert dates["2026-03-31"][1] == "1556"


def test_the_html_is_one_self_contained_page_with_svg_charts(month):
    api, _channels, _network = month
    answer = api.get("/reports/monthly?month=2026-03&format=html")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    page = answer.body.decode()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 4
    for title in ("Followers over time", "Engagements per day", "First response time", "Top posts by"):
        assert title in page
    assert "src=" not in page and "<link" not in page and "<script" not in page and "url(" not in page
    assert "Monday launch" in page and "compared with 2026-02" in page
    assert "Some network figures are missing" in page


def test_the_quarterly_report_adds_up_its_months(month):
    api, _channels, _network = month
    quarter = api.get("/reports/quarterly?quarter=2026-Q1").json
    assert quarter["period"] == {"kind": "quarter", "label": "2026-Q1", "from": "2026-01-01",
                                 "to": "2026-03-31"}
    assert quarter["previous_period"]["label"] == "2025-Q4"
    values = figures_of(quarter)
    assert values["posts_published"] == 9 and values["engagements"] == 157 and values["conversations"] == 6
    assert values["followers"] == 1556 and values["audience_growth"] == 1556 - 1400
    # Before the workspace existed there is nothing to compare with: no figure, not 0.
    assert {item["previous"] for item in quarter["figures"].values()} == {None}
    assert quarter["pending_days"] == []  # the days before the workspace existed are not pending
    html = api.get("/reports/quarterly?quarter=2026-Q1&format=html")
    assert html.status_code == 200 and "<svg" in html.body.decode()


def test_report_parameters_are_checked(month):
    api, _channels, _network = month
    assert api.get("/reports/monthly?month=2026-13").status_code == 422
    assert api.get("/reports/monthly?month=2026-03&format=pdf").status_code == 422
    assert api.get("/reports/quarterly?quarter=2026-Q5").status_code == 422
    assert api.get("/metrics/daily?from=2026-03-10&to=2026-03-01").status_code == 422
    assert api.get("/metrics/daily?from=2025-01-01&to=2026-03-01").status_code == 422
    assert api.get("/metrics/daily?from=2026-03-01&to=2026-03-02&channel_id=ch_nope").status_code == 404
    assert api.get("/reports/monthly?month=2026-03", headers={"Authorization": ""}).status_code == 401
