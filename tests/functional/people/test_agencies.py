"""An agency owns client workspaces: its members reach every client with their agency role, a client's own
members only theirs; agency-wide reads (calendar, inbox, posts needing attention, the month's figures) cover
every client in one call."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container, use_container
from tests.support.factories import connect_sandbox, make_post
from tests.support.fake_network import FakeNetwork, inbound
from tests.support.http import Api
from tests.support.people import Person, invite_person, sign_in
from tests.support.publishing import publish_due
from tests.support.queues import RecordingQueue
from tests.support.webhooks import settle_inbox


@pytest.fixture
def deps(aws: Any, clock: Any) -> Container:
    from tests.support.people import with_user_pool

    made = Container(with_user_pool(get_settings(), aws["cognito-idp"]), clock=clock, clients=aws,
                     sleep=lambda _s: None, adapter_overrides={"bluesky": FakeNetwork()})
    made.publish_queue = RecordingQueue()  # type: ignore[misc]
    return use_container(made)


@pytest.fixture
def agency(client: Any, workspace: Any) -> dict[str, Any]:
    """An agency whose owner (Olivia) made it and two client workspaces, and invited Ed as an agency editor."""
    olivia = invite_person(client, workspace.headers(), "olivia@agency.test", "owner")
    made = Api(client, olivia.headers()).post("/agencies", {"name": "Northwind Agency"})
    assert made.status_code == 201, made.json
    agency_id = made.json["id"]
    api = Api(client, olivia.headers(agency_id=agency_id))
    clients = {}
    for name, timezone in (("Blue Bakery", "Europe/Paris"), ("Red Gym", "America/New_York")):
        created = api.post("/agency/workspaces", {"name": name, "timezone": timezone})
        assert created.status_code == 201, created.json
        clients[name] = created.json
    ed = invite_person(client, olivia.headers(agency_id=agency_id), "ed@agency.test", "editor",
                       path="/agency/invitations")
    return {"id": agency_id, "owner": olivia, "editor": ed, "clients": clients}


def test_an_agency_member_reaches_every_client_with_the_agency_role(client: Any, agency: dict[str, Any]) -> None:
    ed: Person = agency["editor"]
    for workspace in agency["clients"].values():
        api = Api(client, ed.headers(workspace["id"]))
        assert api.get("/workspace").json["name"] == workspace["name"]
        assert api.post("/saved-replies", {"name": "n", "text": "t"}).status_code == 201
        assert api.patch("/workspace", {"name": "Not mine to rename"}).status_code == 403
    me = Api(client, ed.headers()).get("/me").json
    assert me["agencies"] == [{"id": agency["id"], "name": "Northwind Agency", "role": "editor"}]
    assert {(w["name"], w["role"], w["through"]) for w in me["workspaces"]} == {
        ("Blue Bakery", "editor", "agency"), ("Red Gym", "editor", "agency")}


def test_a_client_member_reaches_only_their_own_workspace(client: Any, agency: dict[str, Any]) -> None:
    bakery, gym = agency["clients"]["Blue Bakery"], agency["clients"]["Red Gym"]
    baker = invite_person(client, agency["owner"].headers(bakery["id"]), "baker@bakery.test", "admin")
    assert Api(client, baker.headers()).get("/workspace").json["id"] == bakery["id"]
    sibling = Api(client, baker.headers(gym["id"])).get("/workspace")
    assert sibling.status_code == 404
    assert Api(client, baker.headers()).get("/agency").status_code in (400, 404)
    assert Api(client, baker.headers(agency_id=agency["id"])).get("/agency/calendar?month=2026-03").status_code == 404
    channel = connect_sandbox(Api(client, agency["owner"].headers(gym["id"])), "Gym")
    assert Api(client, baker.headers(bakery["id"])).get(f"/channels/{channel['id']}").status_code == 404


def test_only_an_agency_admin_makes_client_workspaces_and_invites(client: Any, agency: dict[str, Any]) -> None:
    ed = Api(client, agency["editor"].headers())
    assert ed.post("/agency/workspaces", {"name": "Sneaky"}).status_code == 403
    assert ed.post("/agency/invitations", {"email": "x@agency.test", "role": "viewer"}).status_code == 403
    names = [w["name"] for w in ed.get("/agency/workspaces").json["items"]]
    assert sorted(names) == ["Blue Bakery", "Red Gym"]


def test_api_keys_do_not_reach_agency_routes(client: Any, agency: dict[str, Any], workspace: Any) -> None:
    assert Api(client, workspace.headers()).get("/agency/calendar?month=2026-03").status_code == 401


def test_making_a_client_workspace_is_audited_with_the_person(client: Any, agency: dict[str, Any]) -> None:
    bakery = agency["clients"]["Blue Bakery"]
    entries = Api(client, agency["owner"].headers(bakery["id"])).get("/audit").json["items"]
    assert [(e["action"], e["actor"]) for e in entries if e["action"] == "POST /agency/workspaces"] == [
        ("POST /agency/workspaces", f"user:{agency['owner'].user_id}")]


def test_the_agency_calendar_shows_every_client_s_month(client: Any, agency: dict[str, Any], clock: Any) -> None:
    owner: Person = agency["owner"]
    for name, workspace in agency["clients"].items():
        api = Api(client, owner.headers(workspace["id"]))
        channel = connect_sandbox(api, f"{name} sandbox")
        make_post(api, [channel["id"]], clock.now() + timedelta(days=2), text=f"Hello from {name}")
    calendar = Api(client, owner.headers()).get("/agency/calendar?month=2026-03")
    assert calendar.status_code == 200
    seen = {w["name"]: (w["timezone"], [p["text_preview"] for d in w["days"] for p in d["posts"]])
            for w in calendar.json["workspaces"]}
    assert seen == {"Blue Bakery": ("Europe/Paris", ["Hello from Blue Bakery"]),
                    "Red Gym": ("America/New_York", ["Hello from Red Gym"])}
    assert Api(client, owner.headers()).get("/agency/calendar?month=March").status_code == 422


def test_posts_at_risk_or_failed_across_clients(client: Any, agency: dict[str, Any], clock: Any,
                                                deps: Container) -> None:
    owner: Person = agency["owner"]
    bakery, gym = agency["clients"]["Blue Bakery"], agency["clients"]["Red Gym"]
    bakery_api, gym_api = Api(client, owner.headers(bakery["id"])), Api(client, owner.headers(gym["id"]))
    lapsed = connect_sandbox(bakery_api, "Lapsed")
    at_risk = make_post(bakery_api, [lapsed["id"]], clock.now() + timedelta(days=1), text="At risk")
    deps.channels.mark_needs_reauth(bakery["id"], lapsed["id"])
    broken = connect_sandbox(gym_api, "Broken", fail="invalid")
    when = clock.now() + timedelta(seconds=40)
    failed = make_post(gym_api, [broken["id"]], when, text="Will fail")
    publish_due(deps, clock, when)
    assert gym_api.get(f"/posts/{failed['id']}").json["status"] == "failed"

    items = Api(client, owner.headers()).get("/agency/posts/attention").json["items"]
    assert sorted((i["workspace"]["name"], i["reason"], i["post"]["id"]) for i in items) == [
        ("Blue Bakery", "at_risk", at_risk["id"]), ("Red Gym", "failed", failed["id"])]


def test_the_agency_inbox_lists_open_conversations_of_every_client(client: Any, agency: dict[str, Any],
                                                                   deps: Container) -> None:
    owner: Person = agency["owner"]
    for name, workspace in agency["clients"].items():
        api = Api(client, owner.headers(workspace["id"]))
        made = api.post("/channels", {"network": "bluesky", "name": name, "credentials": {
            "service_url": "https://pds.example", "handle": f"{name.split()[0].lower()}.example",
            "app_password": "x"}})
        assert made.status_code == 201, made.json
        channel = deps.channel_repository.get(workspace["id"], made.json["id"])
        deps.ingest.ingest([inbound(f"{name}-1", account_id=channel.account_key.split("#", 1)[1],
                                    text=f"Question for {name}")], channel=channel)
    settle_inbox(deps)
    items = Api(client, owner.headers()).get("/agency/inbox").json["items"]
    assert sorted((i["workspace"]["name"], i["last_message_preview"]) for i in items) == [
        ("Blue Bakery", "Question for Blue Bakery"), ("Red Gym", "Question for Red Gym")]


def test_the_month_s_figures_per_client(client: Any, agency: dict[str, Any]) -> None:
    report = Api(client, agency["owner"].headers()).get("/agency/reports/monthly?month=2026-03")
    assert report.status_code == 200
    assert sorted(c["workspace"]["name"] for c in report.json["clients"]) == ["Blue Bakery", "Red Gym"]
    assert all("figures" in c and c["period"]["from"] == "2026-03-01" for c in report.json["clients"])


def test_the_owner_signs_in_again_and_still_sees_the_agency(client: Any, agency: dict[str, Any]) -> None:
    again = sign_in(client, "olivia@agency.test")
    assert [a["id"] for a in Api(client, again.headers()).get("/me").json["agencies"]] == [agency["id"]]
