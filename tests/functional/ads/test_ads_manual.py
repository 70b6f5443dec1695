"""A campaign on a network Herald does not read (TikTok here): results entered as JSON or imported as CSV,
validated (a 422 changes nothing), idempotent per day; the campaign's life through the routes."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support.factories import connect_sandbox, make_post
from tests.support.http import Api

CSV_HEADERS = {"Content-Type": "text/csv; charset=utf-8"}


def manual_campaign(api: Api, **overrides: Any) -> dict[str, Any]:
    body = {"name": "TikTok spring", "network": "tiktok", "objective": "traffic", "audience": "Students, 18-24",
            "budget": {"total": 500, "daily": 50, "currency": "USD"},
            "start_date": "2026-03-01", "end_date": "2026-03-10", **overrides}
    answer = api.post("/ads/campaigns", body)
    assert answer.status_code == 201, answer.body
    return answer.json


def test_csv_results_of_a_tiktok_campaign_are_validated_and_written_once_per_day(api: Api, clock: Any) -> None:
    clock.set(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    post = make_post(api, [connect_sandbox(api)["id"]], text="Spring menu")
    campaign = manual_campaign(api, post_ids=[post["id"]])
    assert campaign["source"] == "manual" and campaign["post_ids"] == [post["id"]] and campaign["meta"] is None
    url = f"/ads/campaigns/{campaign['id']}/results"

    csv_body = ("date,impressions,clicks,spend,conversions\r\n"
                "2026-03-01,4000,80,40.00,2\r\n"
                "2026-03-02,5000,100,50.50,3\r\n")
    first = api.post(url, csv_body, headers=CSV_HEADERS)
    assert first.status_code == 200, first.body
    assert first.json["days_written"] == 2
    again = api.post(url, csv_body, headers=CSV_HEADERS)  # the same import twice: the same two days
    assert again.status_code == 200
    assert again.json["totals"] == first.json["totals"] == {
        "impressions": 9000, "reach": None, "clicks": 180, "spend": 90.5, "conversions": 5, "ctr": 2.0,
        "cpc": 0.5, "cpm": 10.06, "cost_per_conversion": 18.1}

    corrected = api.post(url, {"rows": [{"date": "2026-03-02", "impressions": 5000, "clicks": 100,
                                         "spend": 60, "conversions": 4}]})
    assert corrected.status_code == 200, corrected.body
    days = api.get(url).json["days"]
    assert [(d["date"], d["spend"], d["source"]) for d in days] == [("2026-03-01", 40.0, "csv"),
                                                                    ("2026-03-02", 60.0, "manual")]

    for bad, field in [
        ("date,impressions,clicks\r\n2026-03-03,1,1\r\n", "body"),  # no spend column
        ("date,impressions,clicks,spend\r\n2026-03-03,1,1,ten\r\n", "line 2: spend"),
        ("date,impressions,clicks,spend\r\n2026-03-03,-5,1,1\r\n", "line 2: impressions"),
        ("date,impressions,clicks,spend\r\n2026-03-04,1,1,1\r\n2026-03-20,1,1,1\r\n", "rows.1.date"),  # flight
        ("date,impressions,clicks,spend\r\n2026-03-07,1,1,1\r\n", "rows.0.date"),  # tomorrow
    ]:
        refused = api.post(url, bad, headers=CSV_HEADERS)
        assert refused.status_code == 422, (bad, refused.body)
        assert refused.json["error"]["details"][0]["field"] == field, refused.body
    twice = api.post(url, {"rows": [{"date": "2026-03-05", "impressions": 1, "clicks": 1, "spend": 1}] * 2})
    assert twice.status_code == 422 and twice.json["error"]["details"][0]["field"] == "rows.1.date"
    assert [d["date"] for d in api.get(url).json["days"]] == ["2026-03-01", "2026-03-02"]  # nothing changed


def test_a_campaign_is_listed_changed_and_removed_and_another_workspace_sees_none_of_it(
        api: Api, client: Any, other_workspace: Any, clock: Any) -> None:
    clock.set(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    refused = api.post("/ads/campaigns", {"name": "X", "budget": {"total": 10, "daily": 20, "currency": "USD"},
                                          "start_date": "2026-03-01", "end_date": "2026-03-10"})
    assert refused.status_code == 422  # a daily budget above the total
    unknown_post = api.post("/ads/campaigns", {"name": "X", "budget": {"total": 10, "currency": "USD"},
                                               "start_date": "2026-03-01", "end_date": "2026-03-10",
                                               "post_ids": ["pst_nope"]})
    assert unknown_post.status_code == 422
    assert unknown_post.json["error"]["details"][0]["field"] == "post_ids.0"

    campaign = manual_campaign(api)
    changed = api.patch(f"/ads/campaigns/{campaign['id']}", {"budget": {"total": 800, "daily": 80,
                                                                         "currency": "USD"},
                                                             "end_date": "2026-03-20", "status": "paused"})
    assert changed.status_code == 200, changed.body
    assert (changed.json["budget"]["total"], changed.json["end_date"], changed.json["status"]) == (
        800.0, "2026-03-20", "paused")
    backwards = api.patch(f"/ads/campaigns/{campaign['id']}", {"start_date": "2026-03-25"})
    assert backwards.status_code == 422
    assert [c["id"] for c in api.get("/ads/campaigns").json["items"]] == [campaign["id"]]

    rival = Api(client, other_workspace.headers())
    assert rival.get(f"/ads/campaigns/{campaign['id']}/results").status_code == 404
    assert rival.delete(f"/ads/campaigns/{campaign['id']}").status_code == 404
    assert rival.get("/ads/campaigns").json["items"] == []

    assert api.delete(f"/ads/campaigns/{campaign['id']}").status_code == 204
    assert api.get(f"/ads/campaigns/{campaign['id']}").status_code == 404


def test_the_monthly_and_quarterly_reports_show_each_campaign_and_totals_per_currency(api: Api, clock: Any) -> None:
    clock.set(datetime(2026, 4, 2, 12, 0, tzinfo=UTC))
    tiktok = manual_campaign(api)
    linkedin = manual_campaign(api, name="LinkedIn leads", network="linkedin", objective="leads",
                               budget={"total": 300, "currency": "EUR"}, start_date="2026-03-25",
                               end_date="2026-04-05")
    api.post(f"/ads/campaigns/{tiktok['id']}/results",
             "date,impressions,clicks,spend,conversions\r\n2026-03-01,4000,80,40.00,2\r\n2026-03-02,6000,120,60,3\r\n",
             headers=CSV_HEADERS)
    api.post(f"/ads/campaigns/{linkedin['id']}/results", {"rows": [
        {"date": "2026-03-31", "impressions": 2000, "clicks": 10, "spend": 30, "conversions": 0},
        {"date": "2026-04-01", "impressions": 1000, "clicks": 5, "spend": 15, "conversions": 1}]})

    march = api.get("/reports/monthly?month=2026-03")
    assert march.status_code == 200, march.body
    ads = march.json["ads"]
    assert [(c["name"], c["spend"], c["clicks"], c["cpc"], c["cost_per_conversion"]) for c in ads["campaigns"]] == [
        ("TikTok spring", 100.0, 200, 0.5, 20.0), ("LinkedIn leads", 30.0, 10, 3.0, None)]  # April is not March
    assert [(t["currency"], t["spend"], t["cpm"], t["ctr"]) for t in ads["totals"]] == [
        ("EUR", 30.0, 15.0, 0.5), ("USD", 100.0, 10.0, 2.0)]
    quarter = api.get("/reports/quarterly?quarter=2026-Q1").json["ads"]
    assert quarter["totals"] == ads["totals"]

    csv_text = api.get("/reports/monthly?month=2026-03&format=csv").body.decode("utf-8-sig")
    assert "Ads\r\nCampaign,Network,Currency,Budget,Spend,Impressions,Clicks,Conversions,CTR (%),CPC,CPM," \
           "Cost per conversion\r\nTikTok spring,tiktok,USD,500.0,100.0,10000,200,5,2.0,0.5,10.0,20.0\r\n" in csv_text
    html = api.get("/reports/monthly?month=2026-03&format=html").body.decode()
    assert "<h2>Ads</h2>" in html and "LinkedIn leads" in html and "All campaigns (USD)" in html
