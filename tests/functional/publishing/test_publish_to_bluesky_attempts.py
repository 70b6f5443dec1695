"""Bluesky after an ambiguous attempt: its record key is the delivery's, for ever, so a retry however late makes
no second post; and an edit meanwhile is refused, since Bluesky would report the first text as published."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from chalicelib.core.clock import to_rfc3339
from chalicelib.networks.bluesky import make_adapter
from tests.fakes.bluesky import Failure, FakeBluesky
from tests.support.http import Api
from tests.support.queues import RecordingQueue

CREATE = "com.atproto.repo.createRecord"


@pytest.fixture
def bluesky() -> FakeBluesky:
    return FakeBluesky()


@pytest.fixture
def api(client, workspace, deps, clock, bluesky):
    deps._adapter_overrides["bluesky"] = make_adapter(http=bluesky, clock=clock)
    deps.publish_queue = RecordingQueue()
    return Api(client, workspace.headers())


def scheduled_after_a_lost_answer(api, deps, clock, bluesky, text="The first text"):
    answer = api.post("/channels", {"network": "bluesky", "name": "Brand on Bluesky", "credentials": {
        "service_url": "https://pds.example.com", "handle": bluesky.handle, "app_password": bluesky.password}})
    assert answer.status_code == 201, answer.body
    channel = answer.json["id"]
    publish_at = clock.now() + timedelta(seconds=40)
    post = api.post("/posts", {"text": text, "channel_ids": [channel], "publish_at": to_rfc3339(publish_at)}).json
    bluesky.fail_next(CREATE, Failure(exception=requests.ReadTimeout("read timed out"), after_handling=True))
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    assert deps.engine.publish_delivery(deps.publish_queue.take()[0][0]) == "retrying"
    return post["id"], channel


def test_an_edit_after_a_lost_answer_is_refused_and_the_first_text_goes_out_once(api, deps, clock, bluesky):
    post_id, channel = scheduled_after_a_lost_answer(api, deps, clock, bluesky)
    answer = api.patch(f"/posts/{post_id}", {"text": "An edit Bluesky would never see", "version": 1})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "attempt_unresolved"

    clock.advance(60)
    assert deps.engine.publish_delivery(deps.publish_queue.take()[0][0]) == "published"
    [record] = bluesky.posts()
    assert record["value"]["text"] == "The first text"
    post = api.get(f"/posts/{post_id}").json
    assert post["text"] == "The first text" and post["deliveries"][0]["remote_id"] == record["uri"]


def test_a_retry_hours_later_still_makes_one_post(api, deps, clock, bluesky):
    post_id, _ = scheduled_after_a_lost_answer(api, deps, clock, bluesky)
    clock.advance(hours=5)  # no window: the record key never expires
    assert deps.engine.publish_delivery(deps.publish_queue.take()[0][0]) == "published"
    assert len(bluesky.posts()) == 1
    assert api.get(f"/posts/{post_id}").json["status"] == "published"


def test_a_cancel_after_a_lost_answer_ends_unknown_not_canceled_and_nothing_is_retried(api, deps, clock, bluesky):
    """The record was made (the answer was lost): calling the delivery canceled would hide a live post."""
    post_id, _ = scheduled_after_a_lost_answer(api, deps, clock, bluesky)
    answer = api.post(f"/posts/{post_id}/cancel")
    assert answer.status_code == 200, answer.body
    [delivery] = answer.json["deliveries"]
    assert delivery["status"] == "unknown" and "did not confirm" in delivery["last_error"]

    clock.advance(60)
    assert deps.engine.publish_delivery(deps.publish_queue.take()[0][0]) == "dropped"
    assert len(bluesky.posts()) == 1  # the lost answer's record, and no second one
    assert api.get(f"/posts/{post_id}").json["deliveries"][0]["status"] == "unknown"


def test_a_cancel_before_any_attempt_is_a_plain_cancel(api, deps, clock, bluesky):
    answer = api.post("/channels", {"network": "bluesky", "name": "Brand on Bluesky", "credentials": {
        "service_url": "https://pds.example.com", "handle": bluesky.handle, "app_password": bluesky.password}})
    publish_at = clock.now() + timedelta(seconds=40)
    post = api.post("/posts", {"text": "Later", "channel_ids": [answer.json["id"]],
                               "publish_at": to_rfc3339(publish_at)}).json
    canceled = api.post(f"/posts/{post['id']}/cancel").json
    assert canceled["status"] == "canceled" and canceled["deliveries"][0]["status"] == "canceled"
