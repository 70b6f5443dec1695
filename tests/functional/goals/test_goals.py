"""Goals through the API, with an injected clock: progress from the reports' own figures, a pace from the
share of the period gone by, and the goals in the monthly report (json, csv, html)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.functional.links.test_links import AGENTS, click, code_of, post_with_link, shorten_everywhere
from tests.functional.publishing.test_publishing import sandbox
from tests.support.http import Api

MARCH_11 = datetime(2026, 3, 11, tzinfo=UTC)  # 10 of March's 31 days are over


@pytest.fixture
def anonymous(client):
    return Api(client, {})


def visitors(anonymous, code, count):
    """`count` clicks by `count` different browsers."""
    for n in range(count):
        assert click(anonymous, code, f"{AGENTS['browsers']['chrome']} visitor/{n}").status_code == 302


def traffic_goal(api, target=31, **more):
    answer = api.post("/goals", {"metric": "traffic", "target": target, "period": "month", "month": "2026-03",
                                 **more})
    assert answer.status_code == 201, answer.body
    return answer.json


@pytest.mark.parametrize(("clicks", "pace", "behind_by", "ahead_by"), [
    (10, "on_track", None, None), (5, "behind", 5, None), (20, "ahead", None, 10), (31, "met", None, None)])
def test_a_traffic_goal_is_paced_by_the_share_of_the_month_gone_by(api, anonymous, clock, clicks, pace,
                                                                   behind_by, ahead_by):
    shorten_everywhere(api)
    code = code_of(post_with_link(api, clock, [sandbox(api)])["deliveries"][0])
    visitors(anonymous, code, clicks)
    goal = traffic_goal(api)
    clock.set(MARCH_11)
    progress = api.get("/goals").json["items"][0]["progress"]
    assert (progress["value"], progress["expected"], progress["pace"]) == (clicks, 10, pace)
    assert (progress["behind_by"], progress["ahead_by"]) == (behind_by, ahead_by)
    assert progress["elapsed_pct"] == 32.3 and progress["as_of"] == "2026-03-11"
    assert goal["figure"] == "clicks"


def test_a_goal_covers_only_its_channels(api, anonymous, clock):
    shorten_everywhere(api)
    first, second = sandbox(api), sandbox(api)
    post = post_with_link(api, clock, [first, second])
    codes = {d["channel_id"]: code_of(d) for d in post["deliveries"]}
    visitors(anonymous, codes[first], 3)
    visitors(anonymous, codes[second], 4)
    only_second = traffic_goal(api, channel_ids=[second])
    everything = traffic_goal(api)
    assert only_second["progress"]["value"] == 4 and everything["progress"]["value"] == 7


def test_a_rate_and_a_time_are_compared_with_the_target_as_they_stand(api, deps, clock, workspace):
    channel = sandbox(api)
    deps.counters.record_inbound(workspace.id, channel, "comment", clock.now(), new_conversation=True)
    deps.counters.record_first_response(workspace.id, channel, clock.now(), 1800)
    quick = api.post("/goals", {"metric": "response_time", "target": 3600, "period": "quarter",
                                "quarter": "2026-Q1"}).json
    assert (quick["progress"]["value"], quick["progress"]["pace"]) == (1800, "on_track")
    slow = api.post("/goals", {"metric": "response_time", "target": 600, "period": "custom",
                               "from": "2026-03-01", "to": "2026-03-02"}).json
    assert (slow["progress"]["pace"], slow["progress"]["behind_by"]) == ("behind", 1200)
    clock.set(datetime(2026, 3, 5, tzinfo=UTC))
    rate = api.post("/goals", {"metric": "response_rate", "target": 90, "period": "custom",
                               "from": "2026-03-01", "to": "2026-03-02"}).json
    assert (rate["progress"]["value"], rate["progress"]["pace"]) == (100, "met")


def test_a_goal_is_edited_and_deleted(api, clock):
    goal = traffic_goal(api)
    assert goal["progress"]["pace"] == "behind"  # nothing yet, a day and 9 hours into March
    changed = api.patch(f"/goals/{goal['id']}", {"target": 100, "period": "custom", "from": "2026-04-01",
                                                 "to": "2026-04-30"})
    assert changed.status_code == 200, changed.body
    assert changed.json["target"] == 100 and changed.json["period"]["label"] == "2026-04-01..2026-04-30"
    assert changed.json["progress"]["pace"] == "not_started"
    assert api.delete(f"/goals/{goal['id']}").status_code == 204
    assert api.get("/goals").json["items"] == []
    assert api.delete(f"/goals/{goal['id']}").status_code == 404


def test_a_goal_that_cannot_be_followed_is_refused_by_name(api, client, workspace, other_workspace):
    not_yet = api.post("/goals", {"metric": "ad_spend_efficiency", "target": 2, "period": "month",
                                  "month": "2026-03"})
    assert not_yet.status_code == 422
    assert not_yet.json["error"]["details"][0] == {
        "field": "metric", "metric": "ad_spend_efficiency",
        "message": "ad_spend_efficiency is not computed by the reports yet, so a goal on it cannot be followed"}
    no_month = api.post("/goals", {"metric": "traffic", "target": 2, "period": "month"})
    assert no_month.status_code == 422 and no_month.json["error"]["details"][0]["field"] == "month"
    stranger = api.post("/goals", {"metric": "traffic", "target": 2, "period": "month", "month": "2026-03",
                                   "channel_ids": ["chn_nope"]})
    assert stranger.status_code == 422 and stranger.json["error"]["details"][0]["field"] == "channel_ids.0"
    viewer = Api(client, workspace.headers("viewer"))
    assert viewer.post("/goals", {"metric": "traffic", "target": 2, "period": "month",
                                  "month": "2026-03"}).status_code == 403
    goal = traffic_goal(api)
    rival = Api(client, other_workspace.headers())
    assert rival.patch(f"/goals/{goal['id']}", {"target": 5}).status_code == 404
    assert rival.get("/goals").json["items"] == []
    assert api.get("/goals").json["items"][0]["id"] == goal["id"]


def test_the_monthly_report_has_the_traffic_and_the_goals(api, anonymous, clock, workspace, client):
    channel = sandbox(api)
    shorten_everywhere(api)
    post = post_with_link(api, clock, [channel])
    code = code_of(post["deliveries"][0])
    visitors(anonymous, code, 4)
    Api(client, workspace.headers("editor")).post("/conversions", {"link_code": code, "value": 30})
    traffic_goal(api)
    clock.set(MARCH_11)

    report = api.get("/reports/monthly?month=2026-03").json
    figures = report["figures"]
    assert (figures["clicks"]["value"], figures["unique_visitors"]["value"]) == (4, 4)
    assert (figures["conversions"]["value"], figures["conversion_value"]["value"]) == (1, 30)
    assert figures["conversion_rate"]["value"] == 25
    assert report["channels"][0]["figures"]["clicks"]["value"] == 4
    assert report["traffic_posts"] == [{"channel_id": channel, "post_id": post["id"], "preview": None,
                                        "clicks": 4, "unique_visitors": 4, "conversions": 1,
                                        "conversion_value": 30, "conversion_rate": 25,
                                        "channel_name": "Sandbox"}]
    assert [d["clicks"] for d in report["daily"][:3]] == [0, 4, 0]
    [goal] = report["goals"]
    assert (goal["metric"], goal["progress"]["value"], goal["progress"]["pace"]) == ("traffic", 4, "behind")
    assert goal["progress"]["behind_by"] == 6

    sheet = list(csv.reader(io.StringIO(api.get("/reports/monthly?month=2026-03&format=csv").body.decode()
                                        .lstrip("\ufeff"))))
    assert ["Link clicks (bots left out)", "", "4", "", "", ""] in sheet
    assert ["traffic", "31", "2026-03-01 to 2026-03-31", "all", "4", "12.9", "10", "behind", "6", ""] in sheet
    page = api.get("/reports/monthly?month=2026-03&format=html").body.decode()
    assert "Goals (the 90-day review)" in page and "behind by 6" in page
    assert "Traffic and conversions" in page
    quarter = api.get("/reports/quarterly?quarter=2026-Q1").json
    assert [g["id"] for g in quarter["goals"]] == [goal["id"]] and quarter["figures"]["clicks"]["value"] == 4
