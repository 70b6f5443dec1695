"""A key of one workspace can neither see nor touch another workspace's objects,
and the answer never reveals that they exist."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.factories import connect_sandbox, iso, make_post
from tests.support.http import Api

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
