"""Goals through the API, with an injected clock: progress from the reports' own figures, a pace from the
share of the period gone by, and the goals in the monthly report (json, csv, html)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.functional.ads.test_ads_manual import CSV_HEADERS, manual_campaign
from tests.functional.links.test_links import AGENTS, click, code_of, post_with_link, shorten_everywhere
from tests.functional.publishing.test_publishing import sandbox
from tests.support.factories import make_post
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
    unknown = api.post("/goals", {"metric": "happiness", "target": 2, "period": "month", "month": "2026-03"})
    assert unknown.status_code == 422 and unknown.json["error"]["details"][0]["field"] == "metric"
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


# -- ad spend efficiency: the ads' cost per conversion (spend / conversions), lower is better -------------------


def spend_goal(api, target=20, **more):
    answer = api.post("/goals", {"metric": "ad_spend_efficiency", "target": target, "currency": "USD",
                                 "period": "month", "month": "2026-03", **more})
    assert answer.status_code == 201, answer.body
    return answer.json


def results(api, campaign, csv_rows):
    answer = api.post(f"/ads/campaigns/{campaign['id']}/results",
                      "date,impressions,clicks,spend,conversions\r\n" + "".join(f"{row}\r\n" for row in csv_rows),
                      headers=CSV_HEADERS)
    assert answer.status_code == 200, answer.body


@pytest.fixture
def campaigns(api, clock):
    """Three campaigns in March: two in USD, each promoting a post on its own channel, and one in EUR."""
    clock.set(MARCH_11)
    shop, blog = sandbox(api), sandbox(api)
    spring = manual_campaign(api, post_ids=[make_post(api, [shop], text="Spring menu")["id"]],
                             end_date="2026-03-31")
    blog_ads = manual_campaign(api, name="Blog", post_ids=[make_post(api, [blog], text="New blog")["id"]],
                               end_date="2026-03-31")
    euro = manual_campaign(api, name="Euro", budget={"total": 500, "currency": "EUR"}, end_date="2026-03-31")
    results(api, spring, ["2026-03-01,4000,80,40.00,2", "2026-03-02,5000,100,50.50,3"])  # 90.50 for 5
    results(api, blog_ads, ["2026-03-03,1000,10,30.00,1"])  # 30 for 1
    results(api, euro, ["2026-03-03,1000,10,1.00,1"])  # 1 EUR for 1: never added to dollars
    return {"shop": shop, "blog": blog, "spring": spring["id"], "blog_ads": blog_ads["id"], "euro": euro["id"]}


def test_an_ad_spend_goal_follows_the_cost_per_conversion_of_its_campaigns_lower_being_better(api, campaigns):
    everything = spend_goal(api)  # 120.50 USD for 6 conversions
    assert (everything["figure"], everything["unit"], everything["currency"]) == ("cost_per_conversion", "amount",
                                                                                  "USD")
    assert (everything["progress"]["value"], everything["progress"]["pace"]) == (20.08, "behind")
    assert everything["progress"]["behind_by"] == 0.08
    shop = spend_goal(api, channel_ids=[campaigns["shop"]])
    assert (shop["progress"]["value"], shop["progress"]["pace"]) == (18.1, "on_track")
    assert shop["progress"]["percent_of_target"] == 110.5  # 20 / 18.10: better than the target
    blog = spend_goal(api, campaign_ids=[campaigns["blog_ads"]])
    assert (blog["progress"]["value"], blog["progress"]["pace"], blog["progress"]["behind_by"]) == (30, "behind",
                                                                                                    10)
    strict = spend_goal(api, target=15, channel_ids=[campaigns["shop"]])
    assert (strict["progress"]["pace"], strict["progress"]["behind_by"]) == ("behind", 3.1)

    widened = api.patch(f"/goals/{blog['id']}", {"campaign_ids": [campaigns["blog_ads"], campaigns["spring"]],
                                                 "target": 21})
    assert widened.status_code == 200, widened.body
    assert (widened.json["progress"]["value"], widened.json["progress"]["pace"]) == (20.08, "on_track")
    in_euros = api.patch(f"/goals/{blog['id']}", {"currency": "EUR"})
    assert in_euros.status_code == 422  # its campaigns spend in dollars
    assert in_euros.json["error"]["details"][0] == {"field": "campaign_ids.0", "message": "spends in USD, not EUR"}
    euros = spend_goal(api, target=2, currency="EUR")
    assert (euros["progress"]["value"], euros["progress"]["pace"]) == (1, "on_track")


def test_a_period_that_ended_with_money_spent_and_no_conversion_is_behind(api, campaigns):
    nothing_yet = spend_goal(api, period="custom", **{"from": "2026-03-05", "to": "2026-03-06"})
    assert (nothing_yet["progress"]["value"], nothing_yet["progress"]["pace"]) == (None, "unknown")
    results(api, {"id": campaigns["spring"]}, ["2026-03-05,3000,30,25.00,0"])
    missed = api.get("/goals").json["items"][0]
    assert (missed["progress"]["value"], missed["progress"]["pace"]) == (None, "behind")
    results(api, {"id": campaigns["spring"]}, ["2026-03-06,3000,30,5.00,2"])  # 30 for 2, the target 20
    [late] = [g for g in api.get("/goals").json["items"] if g["id"] == nothing_yet["id"]]
    assert (late["progress"]["value"], late["progress"]["pace"], late["progress"]["behind_by"]) == (15, "met",
                                                                                                    None)


def test_an_ad_spend_goal_needs_a_currency_and_campaigns_of_this_workspace(api, client, other_workspace,
                                                                          campaigns):
    body = {"metric": "ad_spend_efficiency", "target": 20, "period": "month", "month": "2026-03"}
    for extra, field, message in [
        ({}, "currency", "required for ad_spend_efficiency: its target is an amount of money (the cost per "
                         "conversion)"),
        ({"currency": "USD", "campaign_ids": ["adc_nope"]}, "campaign_ids.0", "no ad campaign adc_nope in this "
                                                                               "workspace"),
        ({"currency": "USD", "campaign_ids": [campaigns["euro"]]}, "campaign_ids.0", "spends in EUR, not USD"),
        ({"currency": "usd"}, "currency", None),
    ]:
        refused = api.post("/goals", {**body, **extra})
        assert refused.status_code == 422, (extra, refused.body)
        detail = refused.json["error"]["details"][0]
        assert detail["field"] == field and (message is None or detail["message"] == message), detail
    traffic = api.post("/goals", {"metric": "traffic", "target": 2, "period": "month", "month": "2026-03",
                                  "currency": "USD"})
    assert traffic.status_code == 422 and traffic.json["error"]["details"][0]["field"] == "currency"
    rival = Api(client, other_workspace.headers())
    theirs = rival.post("/goals", {**body, "currency": "USD", "campaign_ids": [campaigns["spring"]]})
    assert theirs.status_code == 422 and theirs.json["error"]["details"][0]["field"] == "campaign_ids.0"
    assert api.get("/goals").json["items"] == []


def test_the_monthly_and_quarterly_reports_show_an_ad_spend_goal_in_its_currency(api, campaigns):
    goal = spend_goal(api, target=15, channel_ids=[campaigns["shop"]])

    report = api.get("/reports/monthly?month=2026-03").json
    [shown] = report["goals"]
    assert (shown["id"], shown["progress"]["value"], shown["progress"]["pace"]) == (goal["id"], 18.1, "behind")
    quarter = api.get("/reports/quarterly?quarter=2026-Q1").json
    assert [(g["id"], g["progress"]["behind_by"]) for g in quarter["goals"]] == [(goal["id"], 3.1)]
    sheet = list(csv.reader(io.StringIO(api.get("/reports/monthly?month=2026-03&format=csv").body.decode()
                                        .lstrip("\ufeff"))))
    assert ["ad_spend_efficiency (USD)", "15", "2026-03-01 to 2026-03-31", campaigns["shop"], "18.1", "82.9", "15",
            "behind", "3.1", ""] in sheet
    page = api.get("/reports/quarterly?quarter=2026-Q1&format=html").body.decode()
    assert "18.10 USD" in page and "behind by 3.10 USD" in page
