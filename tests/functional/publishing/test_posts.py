"""Posts before they go out: drafts, scheduling, edits, cancelation and lists."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.deliveries import due_times, set_delivery_status
from tests.support.factories import connect_sandbox, iso, make_post
from tests.support.http import Api


@pytest.fixture
def api(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers("editor"))


@pytest.fixture
def channels(client: Any, workspace: Any) -> list[str]:
    admin = Api(client, workspace.headers("admin"))
    return [connect_sandbox(admin, "First")["id"], connect_sandbox(admin, "Second")["id"]]


def error_fields(response: Any, status: int = 422) -> list[str]:
    assert response.status_code == status, response.body
    return [d["field"] for d in response.json["error"]["details"]]


def test_a_post_without_publish_at_is_a_draft_and_nothing_is_due(api, channels, deps, aws):
    post = make_post(api, channels)
    assert post["status"] == "draft"
    assert post["publish_at"] is None
    assert [d["channel_id"] for d in post["deliveries"]] == channels
    assert [d["due_at"] for d in post["deliveries"]] == [None, None]
    assert due_times(deps, aws, post["id"], channels) == {}


def test_a_post_with_publish_at_is_scheduled_and_due_then(api, channels, clock, deps, aws):
    when = clock.now() + timedelta(hours=5)
    post = make_post(api, channels, when)
    assert post["status"] == "scheduled"
    assert post["publish_at"] == iso(when)
    assert [(d["status"], d["due_at"]) for d in post["deliveries"]] == [("scheduled", iso(when))] * 2
    assert due_times(deps, aws, post["id"], channels) == {cid: "2026-03-02T14:00:00.000Z" for cid in channels}
    assert api.get(f"/posts/{post['id']}").json == post


def test_a_draft_may_carry_a_planned_time_without_being_due(api, channels, clock, deps, aws):
    post = make_post(api, channels, clock.now() + timedelta(hours=1), status="draft")
    assert post["status"] == "draft"
    assert due_times(deps, aws, post["id"], channels) == {}


def test_scheduling_without_a_time_is_refused(api, channels):
    assert error_fields(api.post("/posts", {"text": "x", "channel_ids": channels, "status": "scheduled"})) \
        == ["publish_at"]


def test_variants_per_channel_are_kept(api, channels, clock):
    post = make_post(api, channels, clock.now() + timedelta(hours=1), text="General",
                     variants={channels[1]: {"text": "Only for the second"}})
    assert post["variants"] == {channels[1]: {"text": "Only for the second"}}
    assert api.get(f"/posts/{post['id']}").json["variants"] == post["variants"]


def test_a_variant_over_the_limit_is_named_by_its_channel(api, channels, client, workspace):
    short = connect_sandbox(Api(client, workspace.headers("admin")), "Short", max_characters=10)["id"]
    response = api.post("/posts", {"text": "short", "channel_ids": [channels[0], short],
                                   "variants": {short: {"text": "far too long for it"}}})
    [detail] = response.json["error"]["details"]
    assert response.status_code == 422
    assert (detail["field"], detail["network"], detail["limit"]) == (f"variants.{short}.text", "sandbox", 10)


def test_a_channel_may_have_media_of_its_own_checked_by_its_network(api, channels):
    cat = [{"url": "https://example.com/cat.png", "alt": "A cat"}]
    video = [{"url": "https://example.com/terrace.mp4", "alt": "The terrace"}]
    post = make_post(api, channels, text="Spring", media=cat, variants={channels[1]: {"media": video}})
    assert (post["media"], post["variants"]) == (cat, {channels[1]: {"media": video}})
    assert make_post(api, channels, text="", media=cat, variants={channels[1]: {"text": "No picture", "media": []}})

    refused = api.post("/posts", {"text": "", "channel_ids": channels, "media": cat, "variants": {
        channels[0]: {"media": [{"url": "https://example.com/menu.pdf"}, {"alt": "no source"}]},
        channels[1]: {"media": []}}})
    assert sorted(error_fields(refused)) == sorted([f"variants.{channels[0]}.media.0",
                                                    f"variants.{channels[0]}.media.1", "text"])


def test_a_variant_for_a_channel_not_posted_to_is_refused(api, channels):
    response = api.post("/posts", {"text": "x", "channel_ids": [channels[0]],
                                   "variants": {channels[1]: {"text": "y"}}})
    assert error_fields(response) == [f"variants.{channels[1]}"]


def test_publish_at_may_be_up_to_60_seconds_in_the_past(api, channels, clock):
    assert make_post(api, channels, clock.now() - timedelta(seconds=59))["status"] == "scheduled"
    response = api.post("/posts", {"text": "x", "channel_ids": channels,
                                   "publish_at": iso(clock.now() - timedelta(seconds=61))})
    assert error_fields(response) == ["publish_at"]
    assert len(api.get("/posts").json["items"]) == 1


def test_empty_text_without_media_is_refused(api, channels):
    for text in ("", "   \n "):
        assert error_fields(api.post("/posts", {"text": text, "channel_ids": channels[:1]})) == ["text"]
    assert error_fields(api.post("/posts", {"channel_ids": channels[:1]})) == ["text"]


def test_empty_text_with_media_is_accepted(api, channels):
    post = make_post(api, channels[:1], text="", media=[{"url": "https://example.com/cat.png", "alt": "A cat"}])
    assert post["media"] == [{"url": "https://example.com/cat.png", "alt": "A cat"}]


def test_a_media_item_without_media_id_or_url_is_refused(api, channels):
    for item in ({}, {"alt": "no source"}, {"media_id": "", "url": None}):
        assert error_fields(api.post("/posts", {"text": "x", "channel_ids": channels[:1], "media": [item]})) \
            == ["media.0"], item


def test_repeated_channel_ids_make_one_delivery_each(api, channels):
    post = make_post(api, [channels[0], channels[0], channels[1]])
    assert post["channel_ids"] == channels
    assert [d["channel_id"] for d in post["deliveries"]] == channels


# -- edits ------------------------------------------------------------------------


def test_an_edit_changes_the_post_and_its_version(api, channels, clock):
    post = make_post(api, channels[:1], clock.now() + timedelta(hours=1))
    clock.advance(minutes=5)
    edited = api.patch(f"/posts/{post['id']}", {"text": "Better", "channel_ids": channels, "version": 1})
    assert edited.status_code == 200, edited.body
    assert (edited.json["text"], edited.json["version"]) == ("Better", 2)
    assert edited.json["updated_at"] == iso(clock.now())
    assert [d["channel_id"] for d in edited.json["deliveries"]] == channels
    assert api.get(f"/posts/{post['id']}").json == edited.json


def test_an_edit_based_on_a_stale_version_is_a_conflict_and_changes_nothing(api, channels, clock):
    post = make_post(api, channels, clock.now() + timedelta(hours=1))
    current = api.patch(f"/posts/{post['id']}", {"text": "First edit", "version": 1}).json
    response = api.patch(f"/posts/{post['id']}", {"text": "Second edit", "version": 1})
    assert response.status_code == 409, response.body
    assert response.json["error"]["code"] == "version_conflict"
    assert api.get(f"/posts/{post['id']}").json == current


def test_an_edit_that_is_not_valid_changes_nothing(api, channels, clock):
    post = make_post(api, channels, clock.now() + timedelta(hours=1))
    assert error_fields(api.patch(f"/posts/{post['id']}", {"text": "x" * 5001, "version": 1})) == ["text", "text"]
    assert api.get(f"/posts/{post['id']}").json == post


def test_a_canceled_post_cannot_be_edited(api, channels, clock):
    post = make_post(api, channels, clock.now() + timedelta(hours=1))
    canceled = api.post(f"/posts/{post['id']}/cancel").json
    response = api.patch(f"/posts/{post['id']}", {"text": "Back from the dead", "version": canceled["version"]})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "not_editable"
    assert api.get(f"/posts/{post['id']}").json == canceled


def test_a_published_post_cannot_be_edited_nor_rescheduled(api, channels, clock, deps, workspace):
    post = make_post(api, channels, clock.now() + timedelta(minutes=1))
    for channel_id in channels:
        set_delivery_status(deps, workspace.id, post["id"], channel_id, "published", clock.now())
    published = api.get(f"/posts/{post['id']}").json
    assert published["status"] == "published"
    for method, path, body in (("PATCH", "", {"text": "Too late", "version": published["version"]}),
                               ("POST", "/schedule", {"publish_at": iso(clock.now() + timedelta(days=1))}),
                               ("POST", "/publish-now", None)):
        response = api.call(method, f"/posts/{post['id']}{path}", body)
        assert response.status_code == 409, (method, path, response.body)
    assert api.get(f"/posts/{post['id']}").json == published


def test_a_post_being_published_cannot_be_edited(api, channels, clock, deps, workspace):
    post = make_post(api, channels, clock.now() + timedelta(minutes=1))
    set_delivery_status(deps, workspace.id, post["id"], channels[0], "publishing")
    response = api.patch(f"/posts/{post['id']}", {"text": "Changed my mind", "version": post["version"]})
    assert response.status_code == 409
    assert api.get(f"/posts/{post['id']}").json["text"] == "Hello"


def test_the_status_filter_follows_the_status_shown_while_a_post_goes_out(api, channels, clock, deps, workspace):
    going = make_post(api, channels, clock.now() + timedelta(minutes=1))
    waiting = make_post(api, channels, clock.now() + timedelta(minutes=5))
    clock.advance(minutes=2)
    set_delivery_status(deps, workspace.id, going["id"], channels[0], "publishing")
    assert api.get(f"/posts/{going['id']}").json["status"] == "publishing"

    assert [p["id"] for p in api.get("/posts?status=publishing").json["items"]] == [going["id"]]
    assert [p["id"] for p in api.get("/posts?status=scheduled").json["items"]] == [waiting["id"]]
    assert api.get(f"/posts?status=publishing&channel_id={channels[0]}").json["items"][0]["id"] == going["id"]


# -- scheduling and cancelation ------------------------------------------------------


def test_scheduling_a_draft_makes_its_deliveries_due(api, channels, clock, deps, aws):
    post = make_post(api, channels)
    when = clock.now() + timedelta(days=2)
    scheduled = api.post(f"/posts/{post['id']}/schedule", {"publish_at": iso(when)})
    assert scheduled.status_code == 200, scheduled.body
    assert (scheduled.json["status"], scheduled.json["publish_at"]) == ("scheduled", iso(when))
    assert [d["due_at"] for d in scheduled.json["deliveries"]] == [iso(when)] * 2
    assert due_times(deps, aws, post["id"], channels) == {cid: "2026-03-04T09:00:00.000Z" for cid in channels}


def test_rescheduling_moves_when_the_deliveries_are_due(api, channels, clock, deps, aws):
    post = make_post(api, channels, clock.now() + timedelta(days=2))
    later = clock.now() + timedelta(days=3, minutes=30)
    moved = api.post(f"/posts/{post['id']}/schedule", {"publish_at": iso(later)}).json
    assert moved["publish_at"] == iso(later)
    assert [d["due_at"] for d in moved["deliveries"]] == [iso(later)] * 2
    assert due_times(deps, aws, post["id"], channels) == {cid: "2026-03-05T09:30:00.000Z" for cid in channels}


def test_scheduling_into_the_past_is_refused(api, channels, clock):
    post = make_post(api, channels, clock.now() + timedelta(hours=1))
    response = api.post(f"/posts/{post['id']}/schedule", {"publish_at": iso(clock.now() - timedelta(minutes=5))})
    assert error_fields(response) == ["publish_at"]
    assert api.get(f"/posts/{post['id']}").json == post


def test_a_scheduled_post_whose_time_has_passed_cannot_be_edited_without_a_new_time(api, channels, clock):
    post = make_post(api, channels, clock.now() + timedelta(minutes=5))
    clock.advance(minutes=10)
    assert error_fields(api.patch(f"/posts/{post['id']}", {"text": "Late edit", "version": 1})) == ["publish_at"]


@pytest.mark.parametrize(("method", "suffix"), [("POST", "/cancel"), ("DELETE", "")])
def test_canceling_cancels_every_delivery_and_nothing_stays_due(api, channels, clock, deps, aws, method, suffix):
    post = make_post(api, channels, clock.now() + timedelta(hours=1))
    response = api.call(method, f"/posts/{post['id']}{suffix}")
    assert response.status_code == 200, response.body
    assert response.json["status"] == "canceled"
    assert [d["status"] for d in response.json["deliveries"]] == ["canceled", "canceled"]
    assert due_times(deps, aws, post["id"], channels) == {}
    assert api.get(f"/posts/{post['id']}").json == response.json
    assert api.call(method, f"/posts/{post['id']}{suffix}").json["status"] == "canceled"


def test_canceling_a_draft_cancels_it(api, channels):
    post = make_post(api, channels)
    assert api.post(f"/posts/{post['id']}/cancel").json["status"] == "canceled"


def test_canceling_after_one_channel_published_cancels_only_the_rest(api, channels, clock, deps, workspace):
    post = make_post(api, channels, clock.now() + timedelta(minutes=1))
    set_delivery_status(deps, workspace.id, post["id"], channels[0], "published", clock.now())
    canceled = api.post(f"/posts/{post['id']}/cancel").json
    assert canceled["status"] == "partially_published"
    assert [d["status"] for d in canceled["deliveries"]] == ["published", "canceled"]


def test_canceling_a_post_that_is_all_out_is_a_conflict(api, channels, clock, deps, workspace):
    post = make_post(api, channels[:1], clock.now() + timedelta(minutes=1))
    set_delivery_status(deps, workspace.id, post["id"], channels[0], "published", clock.now())
    response = api.delete(f"/posts/{post['id']}")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "not_cancelable"


def test_publish_now_makes_the_post_due_at_the_clocks_now(api, channels, clock, deps, aws):
    post = make_post(api, channels, clock.now() + timedelta(days=1))
    clock.advance(seconds=42)
    now = api.post(f"/posts/{post['id']}/publish-now")
    assert now.status_code == 200, now.body
    assert now.json["publish_at"] == iso(clock.now()) == "2026-03-02T09:00:42Z"
    assert [d["status"] for d in now.json["deliveries"]] == ["queued"] * len(channels)
    # Queued at once; the due entry stays at the due time (the tick passes over it while its lease runs).
    assert due_times(deps, aws, post["id"], channels) == {cid: "2026-03-02T09:00:42.000Z" for cid in channels}


def test_publish_now_of_a_draft_schedules_it_for_now(api, channels, clock):
    post = make_post(api, channels)
    now = api.post(f"/posts/{post['id']}/publish-now").json
    assert now["status"] in ("scheduled", "publishing", "published")
    assert now["publish_at"] == iso(clock.now())


# -- lists ---------------------------------------------------------------------------


@pytest.fixture
def many(api: Api, channels: list[str], clock: Any) -> list[dict[str, Any]]:
    """Six posts: five scheduled an hour apart (alternating channels), then one draft."""
    posts = [make_post(api, [channels[i % 2]], clock.now() + timedelta(hours=i + 1), text=f"Post {i}")
             for i in range(5)]
    posts.append(make_post(api, channels, text="Undated draft"))
    return posts


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.body
    return [p["id"] for p in response.json["items"]]


def test_a_list_is_ordered_by_publish_time_with_undated_drafts_last(api, many):
    assert ids(api.get("/posts")) == [p["id"] for p in many]


def test_pages_of_two_cover_the_list_without_duplicates_or_gaps(api, many):
    seen, cursor, pages = [], None, 0
    while True:
        page = api.get("/posts?limit=2" + (f"&cursor={cursor}" if cursor else "")).json
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages in (3, 4)  # DynamoDB may hand out one empty last page
    assert seen == [p["id"] for p in many]


def test_filters_by_status(api, many):
    api.post(f"/posts/{many[1]['id']}/cancel")
    assert ids(api.get("/posts?status=draft")) == [many[5]["id"]]
    assert ids(api.get("/posts?status=canceled")) == [many[1]["id"]]
    assert ids(api.get("/posts?status=scheduled")) == [many[i]["id"] for i in (0, 2, 3, 4)]


def test_filters_by_channel(api, many, channels):
    assert ids(api.get(f"/posts?channel_id={channels[1]}")) == [many[i]["id"] for i in (1, 3, 5)]


def test_filters_by_channel_and_status(api, many, channels):
    assert ids(api.get(f"/posts?channel_id={channels[0]}&status=draft")) == [many[5]["id"]]


def test_a_listed_post_is_the_post_as_read_alone_whichever_list_it_is_in(api, channels, clock):
    """The lists read the indexes, which hold only some attributes: none that a post shows may be missing."""
    publish_at = clock.now() + timedelta(hours=1)
    post = make_post(api, channels, publish_at, text="General",
                     variants={channels[1]: {"text": "Only for the second"}},
                     media=[{"url": "https://example.com/cat.png", "alt": "A cat"}])
    alone = api.get(f"/posts/{post['id']}").json
    start, end = iso(publish_at - timedelta(minutes=1)), iso(publish_at + timedelta(minutes=1))
    for query in ("", "?status=scheduled", f"?channel_id={channels[1]}", f"?from={start}&to={end}"):
        assert api.get(f"/posts{query}").json["items"] == [alone], query


def test_filters_by_time(api, many):
    start, end = many[1]["publish_at"], many[3]["publish_at"]
    assert ids(api.get(f"/posts?from={start}&to={end}")) == [many[i]["id"] for i in (1, 2, 3)]
    assert ids(api.get(f"/posts?to={many[0]['publish_at']}")) == [many[0]["id"]]


def test_from_alone_leaves_out_undated_drafts(api, many):
    assert ids(api.get(f"/posts?from={many[3]['publish_at']}")) == [many[3]["id"], many[4]["id"]]


def test_paging_a_filtered_list(api, many, channels):
    first = api.get(f"/posts?channel_id={channels[1]}&limit=2").json
    second = api.get(f"/posts?channel_id={channels[1]}&limit=2&cursor={first['next_cursor']}").json
    assert [p["id"] for p in first["items"] + second["items"]] == [many[i]["id"] for i in (1, 3, 5)]


def test_a_limit_outside_1_to_100_is_refused(api):
    for limit in ("0", "101", "-1", "2.5"):
        assert error_fields(api.get(f"/posts?limit={limit}")) == ["limit"], limit
    assert api.get("/posts?limit=1").status_code == api.get("/posts?limit=100").status_code == 200


BAD_CURSORS = [
    "not-a-cursor",
    "%%%",
    "WzFd",  # [1]
    "eyJwb3N0X3dvcmtzcGFjZV9pZCI6IngifQ",  # {"post_workspace_id":"x"}
    "eyJwb3N0X3dvcmtzcGFjZV9pZCI6eyJTIjoid3Nfb3RoZXIifX0",  # another workspace's list
]


def test_a_bad_cursor_is_a_400(api, many):
    for cursor in BAD_CURSORS:
        response = api.get(f"/posts?limit=2&cursor={cursor}")
        assert response.status_code == 400, (cursor, response.body)
        assert response.json["error"]["code"] == "invalid_cursor"


def test_a_cursor_of_another_list_is_a_400(api, many, channels):
    cursor = api.get("/posts?limit=2").json["next_cursor"]
    response = api.get(f"/posts?limit=2&channel_id={channels[0]}&cursor={cursor}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_cursor"


def test_a_cursor_of_this_list_with_its_position_missing_is_a_400(api, many, workspace):
    import base64
    import json

    raw = json.dumps({"post_workspace_id": {"S": workspace.id}}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = api.get(f"/posts?limit=2&cursor={cursor}")
    assert response.status_code == 400, response.body


def test_times_are_given_back_in_utc_with_z(api, channels):
    response = api.post("/posts", {"text": "Offset", "channel_ids": channels[:1],
                                   "publish_at": "2026-03-03T10:00:00.250+02:00"})
    assert response.status_code == 201, response.body
    post = response.json
    assert post["publish_at"] == "2026-03-03T08:00:00.250Z"
    assert post["created_at"] == "2026-03-02T09:00:00Z"
    assert post["deliveries"][0]["due_at"] == "2026-03-03T08:00:00.250Z"


def test_a_scheduled_post_can_go_back_to_being_a_draft(api, channels, clock, deps, aws):
    post = make_post(api, channels, clock.now() + timedelta(hours=1))
    draft = api.patch(f"/posts/{post['id']}", {"status": "draft", "version": 1})
    assert draft.status_code == 200, draft.body
    assert draft.json["status"] == "draft"
    assert due_times(deps, aws, post["id"], channels) == {}


def test_taking_a_channel_off_a_post_drops_its_delivery(api, channels, clock, deps, aws):
    post = make_post(api, channels, clock.now() + timedelta(hours=1))
    edited = api.patch(f"/posts/{post['id']}", {"channel_ids": [channels[1]], "version": 1}).json
    assert [d["channel_id"] for d in edited["deliveries"]] == [channels[1]]
    assert list(due_times(deps, aws, post["id"], channels)) == [channels[1]]
    assert ids(api.get(f"/posts?channel_id={channels[0]}")) == []
