"""Listening beyond the inbox: rules with `search: true` search X and Mastodon (real adapters against the
local fakes) every 15 minutes; each post found becomes a mention once, a refused search is said on the rule."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.jobs import run_job_by_name
from tests.fakes.mastodon_server import MastodonFake
from tests.fakes.x_api import XApi
from tests.support.channel_health import connect_x, x_container
from tests.support.outbound import allow_local_peers


@pytest.fixture
def x_api(clock: Any) -> Iterator[XApi]:
    with XApi(clock) as fake:
        yield fake


@pytest.fixture
def mastodon(clock: Any) -> Iterator[MastodonFake]:
    with MastodonFake(clock=clock) as fake:
        yield fake


@pytest.fixture
def deps(aws: Any, clock: Any, network_apis: Any, x_api: XApi) -> Any:
    return allow_local_peers(x_container(aws, clock, network_apis, x_api))


def connect_mastodon(api: Any, mastodon: MastodonFake) -> str:
    created = api.post("/channels", {"network": "mastodon", "name": "Herald on Mastodon", "credentials": {
        "instance_url": mastodon.url, "access_token": mastodon.access_token}})
    assert created.status_code == 201, created.body
    return str(created.json["id"])


def make_rule(api: Any, **body: Any) -> dict[str, Any]:
    created = api.post("/listening/rules", {"name": "Herald", "any_of": ["herald"], "search": True, **body})
    assert created.status_code == 201, created.body
    return dict(created.json)


def mentions(api: Any) -> list[tuple[str, str, str]]:
    items = api.get("/listening/mentions").json["items"]
    return sorted((m["network"], m["text"], m["source"]) for m in items)


def test_searches_make_each_post_a_mention_once_across_runs(deps: Any, api: Any, workspace: Any, x_api: XApi,
                                                            mastodon: MastodonFake, clock: Any) -> None:
    connect_x(deps, workspace.id, x_api, clock)
    connect_mastodon(api, mastodon)
    rule = make_rule(api, exclude=["hiring"])
    x_api.user("44", "ada")
    x_api.post_as("44", "Tried Herald today, lovely flat white")
    x_api.post_as("44", "Herald is hiring baristas")  # found by the search, left out by the rule
    mastodon.add_status("herald roasts on Fridays", author=mastodon.add_account("bob", "remote.example"))

    first = run_job_by_name("search_listening")
    clock.advance(minutes=15)
    x_api.post_as("44", "Back at Herald again")
    second = run_job_by_name("search_listening")
    third = run_job_by_name("search_listening")

    assert (first["mentions"], second["mentions"], third["mentions"]) == (2, 1, 0)
    assert mentions(api) == [("mastodon", "herald roasts on Fridays", "search"),
                             ("x", "Back at Herald again", "search"),
                             ("x", "Tried Herald today, lovely flat white", "search")]
    searched = x_api.calls("GET", "/2/tweets/search/recent")
    assert "since_id" not in searched[0].query and searched[1].query["since_id"]  # the cursor was kept
    assert searched[0].query["query"] == ['("herald") -is:retweet']
    shown = api.get("/listening/rules").json["items"][0]
    assert shown["id"] == rule["id"]
    assert {n: s["status"] for n, s in shown["searches"].items()} == {"mastodon": "ok", "x": "ok"}
    assert "cursor" not in shown["searches"]["x"]


def test_a_refused_search_is_said_on_the_rule_and_the_others_go_on(deps: Any, api: Any, workspace: Any,
                                                                    x_api: XApi, mastodon: MastodonFake,
                                                                    clock: Any) -> None:
    connect_x(deps, workspace.id, x_api, clock)
    connect_mastodon(api, mastodon)
    make_rule(api)
    x_api.search_allowed = False  # an app on a plan without search/recent
    mastodon.full_text_search = False  # an instance without Elasticsearch

    report = run_job_by_name("search_listening")

    assert report["failed"] == [] and len(report["refused"]) == 1
    searches = api.get("/listening/rules").json["items"][0]["searches"]
    assert searches["x"]["status"] == "refused"
    assert "client-not-enrolled" in searches["x"]["message"]
    assert searches["mastodon"]["status"] == "ok" and searches["mastodon"]["found"] == 0
    assert "may not offer full-text search" in searches["mastodon"]["message"]
    channels = api.get("/channels").json["items"]
    assert {c["network"]: c["status"] for c in channels}["x"] == "active"  # a plan is not a revoked token


def test_rules_that_do_not_search_are_not_searched(deps: Any, api: Any, workspace: Any, x_api: XApi,
                                                   clock: Any) -> None:
    connect_x(deps, workspace.id, x_api, clock)
    rule = make_rule(api, search=False)
    searching = make_rule(api, name="later")
    assert api.patch(f"/listening/rules/{searching['id']}", {"search": False}).status_code == 200

    report = run_job_by_name("search_listening")

    assert report["rules"] == 0 and x_api.calls("GET", "/2/tweets/search/recent") == []
    assert api.get("/listening/rules").json["items"][0]["searches"] == {} and rule["search"] is False


def test_a_competitor_rule_matches_its_name_and_handles(deps: Any, api: Any, workspace: Any, x_api: XApi,
                                                        clock: Any) -> None:
    connect_x(deps, workspace.id, x_api, clock)
    rule = make_rule(api, name="Rival", any_of=[], kind="competitor",
                     competitor={"name": "Rival Roasters", "handles": ["@rivalroast"]})
    x_api.user("45", "bo")
    x_api.post_as("45", "Rival Roasters has a new blend")
    x_api.post_as("45", "queue at @rivalroast again")

    run_job_by_name("search_listening")

    assert rule["kind"] == "competitor" and rule["competitor"] == {"name": "Rival Roasters",
                                                                   "handles": ["@rivalroast"]}
    assert len(mentions(api)) == 2


def test_a_competitor_rule_needs_the_competitors_name(api: Any) -> None:
    answer = api.post("/listening/rules", {"name": "Rival", "any_of": ["rival"], "kind": "competitor"})
    assert answer.status_code == 422
    assert answer.json["error"]["details"][0]["field"] == "competitor"
    assert api.get("/listening/rules").json["items"] == []


def test_the_monthly_report_shows_share_of_voice_per_network(deps: Any, api: Any, workspace: Any, x_api: XApi,
                                                             mastodon: MastodonFake, clock: Any) -> None:
    connect_x(deps, workspace.id, x_api, clock)
    connect_mastodon(api, mastodon)
    make_rule(api)
    make_rule(api, name="Herald coffee", any_of=["herald coffee"])  # overlaps: a post counts once
    make_rule(api, name="Rival", any_of=[], kind="competitor", competitor={"name": "Rival", "handles": []})
    x_api.user("44", "ada")
    for text in ("Herald coffee rocks", "Herald opens at 8", "Rival is closed", "Herald or Rival?"):
        x_api.post_as("44", text)
    mastodon.add_status("rival beans are fine", author=mastodon.add_account("bob", "remote.example"))
    run_job_by_name("search_listening")

    report = api.get("/reports/monthly?month=2026-03").json
    csv_text = api.get("/reports/monthly?month=2026-03&format=csv").body.decode("utf-8-sig")
    html = api.get("/reports/monthly?month=2026-03&format=html").body.decode()

    voice = report["share_of_voice"]
    assert voice["brand"] == {"mentions": 3, "share": 50.0}
    assert voice["competitors"] == [{"name": "Rival", "mentions": 3, "share": 50.0}]
    assert voice["by_network"] == [
        {"network": "mastodon", "brand": 0, "brand_share": 0.0,
         "competitors": [{"name": "Rival", "mentions": 1, "share": 100.0}]},
        {"network": "x", "brand": 3, "brand_share": 60.0,
         "competitors": [{"name": "Rival", "mentions": 2, "share": 40.0}]},
    ]
    assert "Share of voice,Network,Mentions,Share (%)" in csv_text and "Rival,x,2,40.0" in csv_text
    assert "<h2>Share of voice</h2>" in html and "3 (60.0%)" in html
    assert api.get("/reports/monthly?month=2026-04").json["share_of_voice"]["brand"]["mentions"] == 0


def test_a_turkish_workspace_matches_the_turkish_way(deps: Any, api: Any, workspace: Any, x_api: XApi,
                                                     clock: Any) -> None:
    connect_x(deps, workspace.id, x_api, clock)
    assert api.patch("/workspace", {"language": "tr"}).json["language"] == "tr"
    make_rule(api, name="Şeker", any_of=["şeker"])
    x_api.user("46", "ayse")
    x_api.post_as("46", "Şekerlerimizi denediniz mi?")  # şeker + ler + imiz + i
    x_api.post_as("46", "Kuzular seker seker koşuyor")  # seker (it jumps) is not şeker (sugar)

    run_job_by_name("search_listening")

    assert [text for _network, text, _source in mentions(api)] == ["Şekerlerimizi denediniz mi?"]
    assert api.patch("/workspace", {"language": "Turkish"}).status_code == 422
