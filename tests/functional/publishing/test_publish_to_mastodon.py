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
        for message, delay in batch:
            clock.set(max(clock.now(), publish_at + timedelta(seconds=delay)))
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
