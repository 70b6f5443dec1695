"""A key of one workspace can neither see nor touch another workspace's objects,
and the answer never reveals that they exist."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.factories import connect_sandbox, connect_verified, credentials_for, grant_access, iso, make_post
from tests.support.http import Api
from tests.support.webhooks import Webhooks, fixture, settle_inbox

# Every route that takes an id, with a body that would be accepted for an object of one's own.
CHANNEL_ROUTES = [
    ("GET", "/channels/{id}", None),
    ("PATCH", "/channels/{id}", {"name": "Taken over", "status": "disabled"}),
    ("DELETE", "/channels/{id}", None),
    ("GET", "/channels/{id}/sandbox/posts", None),
]
POST_ROUTES = [
    ("GET", "/posts/{id}", None),
    ("PATCH", "/posts/{id}", {"text": "Taken over", "version": 1}),
    ("DELETE", "/posts/{id}", None),
    ("POST", "/posts/{id}/schedule", {"publish_at": "2026-03-05T10:00:00Z"}),
    ("POST", "/posts/{id}/cancel", None),
    ("POST", "/posts/{id}/publish-now", None),
]


@pytest.fixture
def apis(client: Any, workspace: Any, other_workspace: Any) -> tuple[Api, Api]:
    return Api(client, workspace.headers("owner")), Api(client, other_workspace.headers("owner"))


@pytest.fixture
def theirs(apis: tuple[Api, Api], clock: Any) -> dict[str, Any]:
    _, their_api = apis
    channel = connect_sandbox(their_api, "Their sandbox")
    post = make_post(their_api, [channel["id"]], clock.now() + timedelta(days=1), text="Their post")
    return {"channel": channel, "post": post}


def assert_not_found(response: Any, what: str) -> None:
    assert response.status_code == 404, (what, response.status_code, response.body)
    assert response.json["error"]["code"] == "not_found", what
    assert set(response.json["error"]) >= {"code", "message", "details"}, what


@pytest.mark.parametrize(("method", "path", "body"), CHANNEL_ROUTES)
def test_another_workspaces_channel_is_not_found_and_left_alone(apis, theirs, method, path, body):
    mine, their_api = apis
    channel_id = theirs["channel"]["id"]
    before = their_api.get(f"/channels/{channel_id}").json

    assert_not_found(mine.call(method, path.format(id=channel_id), body), f"{method} {path}")

    after = their_api.get(f"/channels/{channel_id}")
    assert after.status_code == 200
    assert after.json == before


@pytest.mark.parametrize(("method", "path", "body"), POST_ROUTES)
def test_another_workspaces_post_is_not_found_and_left_alone(apis, theirs, method, path, body):
    mine, their_api = apis
    post_id = theirs["post"]["id"]
    before = their_api.get(f"/posts/{post_id}").json

    assert_not_found(mine.call(method, path.format(id=post_id), body), f"{method} {path}")

    after = their_api.get(f"/posts/{post_id}")
    assert after.status_code == 200
    assert after.json == before


def test_the_not_found_answer_is_the_same_as_for_an_id_that_never_existed(apis, theirs):
    mine, _ = apis
    foreign = mine.get(f"/posts/{theirs['post']['id']}")
    made_up_id = "pst_00000000000000000000zz"
    made_up = mine.get(f"/posts/{made_up_id}")
    assert foreign.status_code == made_up.status_code == 404
    assert foreign.json["error"]["message"].replace(theirs["post"]["id"], "<id>") \
        == made_up.json["error"]["message"].replace(made_up_id, "<id>")


def test_posting_to_another_workspaces_channel_is_refused_naming_the_field(apis, theirs, clock):
    mine, _ = apis
    my_channel = connect_sandbox(mine)
    response = mine.post("/posts", {"text": "Hi", "channel_ids": [my_channel["id"], theirs["channel"]["id"]],
                                    "publish_at": iso(clock.now() + timedelta(hours=1))})
    assert response.status_code == 422, response.body
    assert [d["field"] for d in response.json["error"]["details"]] == ["channel_ids.1"]
    assert mine.get("/posts").json["items"] == []


def test_editing_a_post_onto_another_workspaces_channel_is_refused(apis, theirs, clock):
    mine, their_api = apis
    my_channel = connect_sandbox(mine)
    post = make_post(mine, [my_channel["id"]], clock.now() + timedelta(hours=1))
    response = mine.patch(f"/posts/{post['id']}", {"channel_ids": [theirs["channel"]["id"]], "version": 1})
    assert response.status_code == 422, response.body
    assert response.json["error"]["details"][0]["field"] == "channel_ids.0"
    assert mine.get(f"/posts/{post['id']}").json == post
    assert their_api.get(f"/posts?channel_id={theirs['channel']['id']}").json["items"] == [theirs["post"]]


def test_listing_posts_of_another_workspaces_channel_is_not_found(apis, theirs):
    mine, _ = apis
    assert_not_found(mine.get(f"/posts?channel_id={theirs['channel']['id']}"), "GET /posts?channel_id")


def test_lists_show_only_ones_own_workspace(apis, theirs, clock):
    mine, _ = apis
    my_channel = connect_sandbox(mine, "Mine")
    my_post = make_post(mine, [my_channel["id"]], clock.now() + timedelta(hours=2))
    assert [c["id"] for c in mine.get("/channels").json["items"]] == [my_channel["id"]]
    assert [p["id"] for p in mine.get("/posts").json["items"]] == [my_post["id"]]
    days = mine.get("/calendar?month=2026-03").json["days"]
    assert [p["id"] for day in days for p in day["posts"]] == [my_post["id"]]


# -- a platform account belongs to the workspaces whose credentials the network vouches for ----------

# network → (webhook receiver, a fixture delivery for the account, the account's id in it, its settings key)
WEBHOOK_ACCOUNTS = {
    "facebook": ("meta", "messenger_message.json", "448242228374517", "page_id"),
    "instagram": ("meta", "instagram_dm.json", "17841474524784050", "ig_user_id"),
    "x": ("x", "direct_message_incoming.json", "2975699229", "user_id"),
    "linkedin": ("linkedin", "comment_notification.json", "urn:li:organization:96072893", "organization_urn"),
    "tiktok": ("tiktok", None, "act.example12345Example12345Example", "open_id"),  # TikTok sends no inbox events
}
BOGUS = "bogus-token-the-network-never-issued"


def claim(api: Api, network: str, token: str, **settings: Any) -> Any:
    return api.post("/channels", {"network": network, "name": "Claimed",
                                  "credentials": credentials_for(network, token), "settings": settings})


def deliver(client: Any, clock: Any, deps: Any, network: str) -> None:
    receiver, name, _, _ = WEBHOOK_ACCOUNTS[network]
    if name is None:
        return
    answer = Webhooks(client, clock).post(receiver, fixture(receiver, name))
    assert answer.status_code == 200, answer.body
    settle_inbox(deps)


def inbox(api: Api) -> list[dict[str, Any]]:
    answer = api.get("/inbox/conversations")
    assert answer.status_code == 200, answer.body
    return answer.json["items"]


def routed_to(deps: Any, network: str) -> list[str]:
    """The workspaces a webhook event for the account is routed to (the ingest path's own look-up)."""
    account_id = WEBHOOK_ACCOUNTS[network][2]
    return sorted(row.workspace_id for row in deps.channel_repository.find_by_account(network, account_id))


@pytest.mark.parametrize("network", list(WEBHOOK_ACCOUNTS))
def test_an_account_cannot_be_claimed_with_a_token_the_network_refuses(
        apis, network_apis, deps, client, clock, workspace, network):
    mine, theirs = apis
    _, name, account_id, key = WEBHOOK_ACCOUNTS[network]
    connect_verified(mine, network_apis, network, account_id)

    refused = claim(theirs, network, BOGUS, **{key: account_id})

    assert refused.status_code == 422, refused.body
    assert [d["field"] for d in refused.json["error"]["details"]] == ["credentials"]
    assert BOGUS.encode() not in refused.body
    assert theirs.get("/channels").json["items"] == []
    assert routed_to(deps, network) == [workspace.id]
    deliver(client, clock, deps, network)
    if name is not None:
        assert len(inbox(mine)) == 1
        assert inbox(theirs) == []


@pytest.mark.parametrize("network", list(WEBHOOK_ACCOUNTS))
def test_one_account_connected_with_valid_credentials_in_two_workspaces_feeds_both(
        apis, network_apis, deps, client, clock, workspace, other_workspace, network):
    mine, theirs = apis
    _, name, account_id, _ = WEBHOOK_ACCOUNTS[network]
    connect_verified(mine, network_apis, network, account_id, token="the-owners-token")
    connect_verified(theirs, network_apis, network, account_id, token="the-agencys-token")

    assert routed_to(deps, network) == sorted([workspace.id, other_workspace.id])
    deliver(client, clock, deps, network)
    if name is not None:
        assert len(inbox(mine)) == 1
        assert len(inbox(theirs)) == 1


@pytest.mark.parametrize("network", list(WEBHOOK_ACCOUNTS))
def test_an_account_id_the_network_does_not_confirm_is_never_used(
        apis, network_apis, deps, client, clock, workspace, network):
    mine, theirs = apis
    _, name, account_id, key = WEBHOOK_ACCOUNTS[network]
    their_own = "urn:li:organization:555" if network == "linkedin" else "555000555"
    connect_verified(mine, network_apis, network, account_id)
    grant_access(network_apis, network, "their-own-token", their_own)

    typed_someone_elses = claim(theirs, network, "their-own-token", **{key: account_id})
    assert typed_someone_elses.status_code == 422, typed_someone_elses.body
    assert [d["field"] for d in typed_someone_elses.json["error"]["details"]] == [f"settings.{key}"]
    assert theirs.get("/channels").json["items"] == []

    connected = claim(theirs, network, "their-own-token")
    assert connected.status_code == 201, connected.body
    assert connected.json["settings"][key] == their_own
    assert routed_to(deps, network) == [workspace.id]
    deliver(client, clock, deps, network)
    if name is not None:
        assert inbox(theirs) == []


@pytest.mark.parametrize("network", list(WEBHOOK_ACCOUNTS))
def test_new_credentials_are_checked_before_they_replace_the_old_ones(apis, network_apis, deps, workspace,
                                                                      network):
    mine, _ = apis
    _, _, account_id, key = WEBHOOK_ACCOUNTS[network]
    channel = connect_verified(mine, network_apis, network, account_id, token="first-token")
    path = f"/channels/{channel['id']}"

    refused = mine.patch(path, {"credentials": credentials_for(network, BOGUS)})
    assert [d["field"] for d in refused.json["error"]["details"]] == ["credentials"], refused.body
    retyped = mine.patch(path, {"settings": {key: "urn:li:organization:7" if network == "linkedin" else "7"}})
    assert [d["field"] for d in retyped.json["error"]["details"]] == [f"settings.{key}"], retyped.body
    grant_access(network_apis, network, "another-accounts-token", "urn:li:organization:8"
                 if network == "linkedin" else "8")
    elsewhere = mine.patch(path, {"credentials": credentials_for(network, "another-accounts-token")})
    assert [d["field"] for d in elsewhere.json["error"]["details"]] == [f"settings.{key}"], elsewhere.body

    assert mine.get(path).json == channel
    row = deps.channel_repository.get(workspace.id, channel["id"])
    assert deps.channels.context_for(row).credentials == credentials_for(network, "first-token")
    grant_access(network_apis, network, "renewed-token", account_id)
    renewed = mine.patch(path, {"credentials": credentials_for(network, "renewed-token")})
    assert renewed.status_code == 200, renewed.body
    assert routed_to(deps, network) == [workspace.id]


def test_a_linkedin_member_names_one_of_the_organizations_they_administer(apis, network_apis):
    mine, _ = apis
    first, second, viewed = "urn:li:organization:101", "urn:li:organization:102", "urn:li:organization:103"
    network_apis.linkedin_member("admin-of-two", first, second)
    network_apis.linkedin_member("admin-of-two", viewed, role="ANALYST")

    unnamed = claim(mine, "linkedin", "admin-of-two")
    assert unnamed.status_code == 422, unnamed.body
    [detail] = unnamed.json["error"]["details"]
    assert (detail["field"], detail["choices"]) == ("settings.organization_urn", [first, second])
    assert [d["field"] for d in claim(mine, "linkedin", "admin-of-two", organization_urn=viewed)
            .json["error"]["details"]] == ["settings.organization_urn"]
    named = claim(mine, "linkedin", "admin-of-two", organization_urn=second)
    assert named.status_code == 201, named.body
    assert named.json["settings"] == {"organization_urn": second}
    asked_each_time = network_apis.requests_to("/rest/organizationAcls")
    assert len(asked_each_time) == 3  # one verifying call per attempt
    asked = asked_each_time[-1]
    assert (asked.query["q"], asked.query["role"], asked.query["state"]) == (["roleAssignee"], ["ADMINISTRATOR"],
                                                                            ["APPROVED"])
    assert asked.headers["x-restli-protocol-version"] == "2.0.0"
    assert len(asked.headers["linkedin-version"]) == 6


def test_an_instagram_channel_needs_a_page_with_a_linked_professional_account(apis, network_apis):
    mine, _ = apis
    network_apis.facebook_page("page-without-instagram", "4242", "No IG")
    refused = claim(mine, "instagram", "page-without-instagram")
    assert [d["field"] for d in refused.json["error"]["details"]] == ["credentials"], refused.body
    assert "Instagram" in refused.json["error"]["message"]
    assert mine.get("/channels").json["items"] == []
