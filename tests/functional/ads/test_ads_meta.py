"""A Meta campaign end to end: the ad account read with the channel's token before it is trusted, three days of
insights read by the daily job from the local Marketing API fake (paged), the figures, one pacing alert."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from chalicelib.ads.ad_jobs import ads_daily
from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container, use_container
from tests.fakes.meta_ads import MetaAdsFake
from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.outbound import allow_local_peers
from tests.support.webhook_receiver import WebhookReceiver, drain_webhooks

ACCOUNT = "1234567890"
META_CAMPAIGN = "120210000000001"
PAGE_TOKEN = "page-token-ads"


@pytest.fixture
def meta() -> Iterator[MetaAdsFake]:
    with MetaAdsFake(page_size=2) as fake:  # two rows a page: three days take two pages
        fake.page(PAGE_TOKEN, "448242228374517", "Herald Coffee")
        fake.ad_account(ACCOUNT, tokens={PAGE_TOKEN})
        fake.campaign(ACCOUNT, META_CAMPAIGN)
        fake.day(META_CAMPAIGN, date(2026, 3, 2), impressions=10000, reach=8000, clicks=200, spend="95.00",
                 actions={"link_click": 180, "purchase": 4, "offsite_conversion.fb_pixel_purchase": 4})
        fake.day(META_CAMPAIGN, date(2026, 3, 3), impressions=12000, reach=9000, clicks=240, spend="100.00",
                 actions={"purchase": 5, "omni_purchase": 5})
        fake.day(META_CAMPAIGN, date(2026, 3, 4), impressions=15000, reach=11000, clicks=300, spend="150.00",
                 actions={"purchase": 6, "lead": 1})
        yield fake


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def ads_deps(aws: dict[str, Any], clock: Any, meta: MetaAdsFake) -> Container:
    settings = replace(get_settings(), meta_graph_url=meta.graph_url)
    return allow_local_peers(use_container(Container(settings, clock=clock, clients=aws, sleep=lambda _s: None)))


@pytest.fixture
def ads_api(ads_deps: Container) -> Iterator[Api]:
    from chalice.test import Client

    from app import app

    workspace = make_workspace(ads_deps)
    with Client(app) as test_client:
        yield Api(test_client, workspace.headers("admin"))


def meta_campaign(channel_id: str, account: str = f"act_{ACCOUNT}") -> dict[str, Any]:
    return {"name": "Spring launch", "objective": "sales", "audience": "Coffee lovers in Istanbul, 25-45",
            "budget": {"total": 1000, "daily": 100, "currency": "EUR"},
            "start_date": "2026-03-02", "end_date": "2026-03-11", "source": "meta",
            "meta": {"channel_id": channel_id, "ad_account_id": account, "campaign_id": META_CAMPAIGN}}


def run_job_at(deps: Container, clock: Any, moment: datetime) -> dict[str, Any]:
    clock.set(moment)
    done = ads_daily({"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
                      "account": "123456789012", "time": moment.isoformat(), "region": "us-east-1",
                      "resources": [], "detail": {}}, None)
    drain_webhooks(deps)
    return done


def test_a_meta_campaign_reads_three_days_of_insights_and_alerts_once(
        ads_api: Api, ads_deps: Container, clock: Any, meta: MetaAdsFake, receiver: WebhookReceiver) -> None:
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    channel = ads_api.post("/channels", {"network": "facebook", "name": "Herald Coffee",
                                         "credentials": {"page_access_token": PAGE_TOKEN}, "settings": {}})
    assert channel.status_code == 201, channel.body
    hook = ads_api.post("/webhook-endpoints", {"url": receiver.hook(), "events": ["ads.pacing_alert"]})
    assert hook.status_code == 201, hook.body

    made = ads_api.post("/ads/campaigns", meta_campaign(channel.json["id"]))
    assert made.status_code == 201, made.body
    campaign = made.json
    assert campaign["meta"]["ad_account_name"] == "Herald Coffee Ads"
    assert campaign["timezone"] == "Europe/Istanbul"  # Meta's days are the ad account's
    assert campaign["budget"] == {"total": 1000.0, "daily": 100.0, "currency": "EUR"}
    read = meta.calls("GET", f"/v25.0/act_{ACCOUNT}")
    assert [r.headers["authorization"] for r in read] == [f"Bearer {PAGE_TOKEN}"]

    for day in (3, 4, 5):  # each morning the job reads up to yesterday
        assert run_job_at(ads_deps, clock, datetime(2026, 3, day, 7, 15, tzinfo=UTC)).get("synced") == 1
    run_job_at(ads_deps, clock, datetime(2026, 3, 5, 9, 0, tzinfo=UTC))  # a second run the same day

    results = ads_api.get(f"/ads/campaigns/{campaign['id']}/results")
    assert results.status_code == 200, results.body
    body = results.json
    assert [d["date"] for d in body["days"]] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    # conversions: purchase and lead only (never Meta's duplicate pixel / omni variants)
    assert [d["conversions"] for d in body["days"]] == [4, 5, 7]
    assert body["totals"] == {"impressions": 37000, "reach": 11000, "clicks": 740, "spend": 345.0,
                              "conversions": 16, "ctr": 2.0, "cpc": 0.47, "cpm": 9.32,
                              "cost_per_conversion": 21.56}
    assert body["days"][0]["cpc"] == 0.48 and body["days"][0]["ctr"] == 2.0
    assert body["pacing"]["as_of"] == "2026-03-04"
    assert body["pacing"]["spend_to_date"] == 345.0 and body["pacing"]["expected_spend"] == 300.0

    alerts = [json.loads(r.body) for r in receiver.received()]
    assert [(a["type"], a["data"]["as_of"], a["data"]["alerts"]) for a in alerts] == [
        ("ads.pacing_alert", "2026-03-04", ["daily_overspend"])]
    assert alerts[0]["data"]["day_spend"] == 150.0 and alerts[0]["data"]["campaign_id"] == campaign["id"]

    insights = meta.calls("GET", f"/v25.0/{META_CAMPAIGN}/insights")
    assert all(r.arg("time_increment") == "1" and r.arg("level") == "campaign" for r in insights)
    assert any(r.arg("after") for r in insights)  # the third day came on a second page
    assert meta.violations == []


def test_an_ad_account_the_channel_cannot_read_is_refused_and_nothing_is_stored(
        ads_api: Api, meta: MetaAdsFake, clock: Any) -> None:
    meta.ad_account("5550001", tokens={"someone-elses-token"})
    channel = ads_api.post("/channels", {"network": "facebook", "name": "Herald Coffee",
                                         "credentials": {"page_access_token": PAGE_TOKEN}, "settings": {}})
    for account in ("act_5550001", "act_999"):
        answer = ads_api.post("/ads/campaigns", {**meta_campaign(channel.json["id"], account),
                                                 "meta": {"channel_id": channel.json["id"],
                                                          "ad_account_id": account}})
        assert answer.status_code == 422, answer.body
        assert answer.json["error"]["details"][0]["field"] == "meta.ad_account_id"
        assert "cannot read" in answer.json["error"]["details"][0]["message"]
    wrong_currency = ads_api.post("/ads/campaigns", {**meta_campaign(channel.json["id"]),
                                                     "budget": {"total": 1000, "currency": "USD"}})
    assert wrong_currency.status_code == 422
    assert wrong_currency.json["error"]["details"][0]["field"] == "budget.currency"
    assert ads_api.get("/ads/campaigns").json["items"] == []


def test_a_refused_insights_read_is_shown_on_the_campaign_and_read_again_next_time(
        ads_api: Api, ads_deps: Container, clock: Any, meta: MetaAdsFake) -> None:
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    channel = ads_api.post("/channels", {"network": "facebook", "name": "Herald Coffee",
                                         "credentials": {"page_access_token": PAGE_TOKEN}, "settings": {}})
    campaign = ads_api.post("/ads/campaigns", meta_campaign(channel.json["id"])).json
    meta.fail("GET", f"/v25.0/{META_CAMPAIGN}/insights", 403, {"error": {
        "message": "(#200) Ad account owner has NOT grant ads_management or ads_read permission",
        "type": "OAuthException", "code": 200, "fbtrace_id": "AbCdEfGh123"}})
    assert run_job_at(ads_deps, clock, datetime(2026, 3, 4, 7, 15, tzinfo=UTC)) == {"sync_failed": 1}
    problem = ads_api.get(f"/ads/campaigns/{campaign['id']}").json["meta"]["problem"]
    assert "ads_read" in problem and PAGE_TOKEN not in problem
    assert ads_api.get(f"/ads/campaigns/{campaign['id']}/results").json["days"] == []

    assert run_job_at(ads_deps, clock, datetime(2026, 3, 5, 7, 15, tzinfo=UTC))["synced"] == 1
    after = ads_api.get(f"/ads/campaigns/{campaign['id']}")
    assert after.json["meta"]["problem"] is None
    window = ads_api.get(f"/ads/campaigns/{campaign['id']}/results?from=2026-03-03&to=2026-03-04").json
    assert [d["date"] for d in window["days"]] == ["2026-03-03", "2026-03-04"]  # never synced: from the start
    assert window["totals"]["spend"] == 250.0
