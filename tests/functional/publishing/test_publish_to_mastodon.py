"""A post scheduled through Herald's API goes out to Mastodon (a local fake that follows the
documented API, Idempotency-Key included): once, even when the answer is lost."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.networks.mastodon import make_adapter
from tests.fakes.mastodon_server import MastodonFake
from tests.support.http import Api
from tests.support.queues import RecordingQueue

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


@pytest.fixture
def fake(clock):
    with MastodonFake(clock=clock, stall_s=1.0) as server:
        yield server


@pytest.fixture
def api(client, workspace, deps, clock):
    # Short read timeout so that a stalled answer is a timeout in a test's time.
    # The fake is a local peer on 127.0.0.1: only the allowing policy reaches it.
    deps._adapter_overrides["mastodon"] = make_adapter(clock=clock, timeout=(2.0, 0.3), policy=ALLOW_LOCAL_PEERS)
    deps.publish_queue = RecordingQueue()
    return Api(client, workspace.headers())


def connect(api, fake):
    answer = api.post("/channels", {"network": "mastodon", "name": "Brand on Mastodon", "credentials": {
        "instance_url": fake.url, "access_token": fake.access_token}})
    assert answer.status_code == 201, answer.body
    return answer.json


def publish(deps, clock, publish_at):
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    results = []
    for _ in range(5):
        batch = deps.publish_queue.take()
        if not batch:
            return results
        sent_at = max(clock.now(), publish_at)  # SQS counts a delay from when the message was sent
        for message, delay in batch:
            clock.set(max(clock.now(), sent_at + timedelta(seconds=delay)))
            results.append(deps.engine.publish_delivery(message))
    return results


def test_a_scheduled_post_with_an_image_reaches_mastodon_once(api, fake, deps, clock, aws, workspace):
    channel = connect(api, fake)
    assert channel["handle"] == f"herald@{fake.domain}"
    upload = api.post("/media", {"filename": "pixel.png", "mime": "image/png", "size": len(PNG)}).json
    aws["s3"].put_object(Bucket=deps.settings.media_bucket, Key=f"{workspace.id}/{upload['id']}", Body=PNG,
                         ContentType="image/png")
    publish_at = clock.now() + timedelta(seconds=40)
    post = api.post("/posts", {"text": "Spring menu https://example.com/menu", "channel_ids": [channel["id"]],
                               "publish_at": to_rfc3339(publish_at),
                               "media": [{"media_id": upload["id"], "alt": "Asparagus"}]}).json

    assert publish(deps, clock, publish_at) == ["published"]

    [status] = fake.created
    assert status.text == "Spring menu https://example.com/menu"
    assert status.idempotency_key == f"{post['id']}.{channel['id']}"
    assert [m["description"] for m in status.media] == ["Asparagus"]
    delivery = api.get(f"/posts/{post['id']}").json["deliveries"][0]
    assert (delivery["status"], delivery["remote_id"]) == ("published", status.id)


def test_a_lost_answer_is_retried_safely_with_the_same_idempotency_key(api, fake, deps, clock):
    channel = connect(api, fake)
    publish_at = clock.now() + timedelta(seconds=40)
    post = api.post("/posts", {"text": "Once only", "channel_ids": [channel["id"]],
                               "publish_at": to_rfc3339(publish_at)}).json
    fake.fail_next("timeout_after_processing", method="POST", path="/api/v1/statuses")

    assert publish(deps, clock, publish_at) == ["retrying", "published"]

    assert len(fake.created) == 1
    keys = {r.headers["idempotency-key"] for r in fake.requests_to("POST", "/api/v1/statuses")}
    assert keys == {f"{post['id']}.{channel['id']}"}
    delivery = api.get(f"/posts/{post['id']}").json["deliveries"][0]
    assert (delivery["status"], delivery["attempts"]) == ("published", 2)


def test_the_instance_limit_is_what_validation_counts_against(api, fake):
    fake.max_characters = 60
    channel = connect(api, fake)
    answer = api.post("/posts", {"text": "x" * 61, "channel_ids": [channel["id"]]})
    assert answer.status_code == 422
    assert answer.json["error"]["details"][0]["limit"] == 60
    url_heavy = "see https://example.com/" + "a" * 80  # a URL counts as 23
    assert api.post("/posts", {"text": url_heavy, "channel_ids": [channel["id"]]}).status_code == 201


def test_a_retry_after_the_idempotency_window_is_not_sent_blindly(api, fake, deps, clock):
    """Mastodon keeps an Idempotency-Key about an hour: a retry that comes later could post twice, and Mastodon
    cannot be asked whether the first went out, so the delivery is `unknown` and nothing is sent again."""
    channel = connect(api, fake)
    publish_at = clock.now() + timedelta(seconds=40)
    post = api.post("/posts", {"text": "Once only", "channel_ids": [channel["id"]],
                               "publish_at": to_rfc3339(publish_at)}).json
    fake.fail_next("timeout_after_processing", method="POST", path="/api/v1/statuses")
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    [(first, _)] = deps.publish_queue.take()
    assert deps.engine.publish_delivery(first) == "retrying"
    [(retry, _)] = deps.publish_queue.take()

    clock.advance(hours=1, minutes=1)  # the retry's message comes an hour late (an outage, a backlog)
    assert deps.engine.publish_delivery(retry) == "unknown"

    assert len(fake.created) == 1 and len(fake.requests_to("POST", "/api/v1/statuses")) == 1
    delivery = api.get(f"/posts/{post['id']}").json["deliveries"][0]
    assert delivery["status"] == "unknown" and "1 hour" in delivery["last_error"]


def test_a_retry_inside_the_window_is_sent_with_the_same_key(api, fake, deps, clock):
    channel = connect(api, fake)
    publish_at = clock.now() + timedelta(seconds=40)
    api.post("/posts", {"text": "Once only", "channel_ids": [channel["id"]], "publish_at": to_rfc3339(publish_at)})
    fake.fail_next("timeout_after_processing", method="POST", path="/api/v1/statuses")
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    assert deps.engine.publish_delivery(deps.publish_queue.take()[0][0]) == "retrying"
    clock.advance(minutes=55)
    assert deps.engine.publish_delivery(deps.publish_queue.take()[0][0]) == "published"
    assert len(fake.created) == 1


def test_a_post_cannot_be_edited_while_an_attempt_is_unresolved(api, fake, deps, clock):
    channel = connect(api, fake)
    publish_at = clock.now() + timedelta(seconds=40)
    post = api.post("/posts", {"text": "The first text", "channel_ids": [channel["id"]],
                               "publish_at": to_rfc3339(publish_at)}).json
    fake.fail_next("timeout_after_processing", method="POST", path="/api/v1/statuses")
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    assert deps.engine.publish_delivery(deps.publish_queue.take()[0][0]) == "retrying"

    later = to_rfc3339(clock.now() + timedelta(hours=3))
    for change in ({"text": "Edited", "version": 1}, {"publish_at": later, "version": 1},
                   {"variants": {channel["id"]: {"text": "Edited"}}, "version": 1}):
        answer = api.patch(f"/posts/{post['id']}", change)
        assert answer.status_code == 409, answer.body
        assert answer.json["error"]["code"] == "attempt_unresolved"
        assert "may already be on mastodon" in answer.json["error"]["message"]
    assert api.post(f"/posts/{post['id']}/schedule", {"publish_at": later}).status_code == 409

    clock.advance(60)
    assert deps.engine.publish_delivery(deps.publish_queue.take()[0][0]) == "published"
    assert [status.text for status in fake.created] == ["The first text"]
    assert api.get(f"/posts/{post['id']}").json["deliveries"][0]["attempts"] == 2
