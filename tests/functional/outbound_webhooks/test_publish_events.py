"""`post.published`, `post.failed` and `delivery.unknown` go out from the posts table's stream (the counter
consumer, metrics/outcome_consumer.py): once per post reaching its final status, once per delivery left
unknown, even when the stream hands a record over again; and the day's counters count each outcome once."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import to_rfc3339
from tests.functional.publishing.test_publishing import run_messages
from tests.support.http import Api
from tests.support.queues import RecordingQueue
from tests.support.streams import run_stream_consumers
from tests.support.webhook_receiver import WebhookReceiver, drain_webhooks

EVENTS = ["post.published", "post.failed", "delivery.unknown"]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def sandbox(api: Api, **settings: Any) -> str:
    made = api.post("/channels", {"network": "sandbox", "name": "Sandbox", "settings": settings})
    assert made.status_code == 201, made.body
    return str(made.json["id"])


def test_each_final_outcome_is_announced_and_counted_once_when_the_stream_repeats_itself(
        client: Any, workspace: Any, local_peers: Any, clock: Any, receiver: WebhookReceiver) -> None:
    deps = local_peers
    queue = RecordingQueue()
    deps.publish_queue = queue
    api = Api(client, workspace.headers("admin"))
    assert api.post("/webhook-endpoints", {"url": receiver.hook(), "events": EVENTS}).status_code == 201
    fine, refused, lost = sandbox(api), sandbox(api, fail="invalid"), sandbox(api, fail="timeout")
    publish_at = clock.now() + timedelta(seconds=40)
    out = api.post("/posts", {"text": "Out", "channel_ids": [fine], "publish_at": to_rfc3339(publish_at)}).json
    not_out = api.post("/posts", {"text": "Not out", "channel_ids": [refused, lost],
                                  "publish_at": to_rfc3339(publish_at)}).json
    deps.engine.publish_due_deliveries()
    assert sorted(run_messages(deps, queue, clock)) == ["failed", "published", "unknown"]  # reads the stream

    for _again in range(2):  # the stream hands every record over again, twice
        assert run_stream_consumers(deps, from_start=True) > 0
    drain_webhooks(deps)

    sent = sorted((json.loads(r.body) for r in receiver.received()), key=lambda s: s["type"])
    assert [(s["type"], s["data"]["post_id"], s["data"]["status"]) for s in sent] == [
        ("delivery.unknown", not_out["id"], "unknown"),
        ("post.failed", not_out["id"], "failed"),
        ("post.published", out["id"], "published"),
    ]
    assert sent[0]["data"]["channel_id"] == lost
    assert [(d["channel_id"], d["status"]) for d in sent[1]["data"]["deliveries"]] == [
        (refused, "failed"), (lost, "unknown")]
    [published] = sent[2]["data"]["deliveries"]
    assert published["channel_id"] == fine and published["remote_url"]

    day = api.get(f"/metrics/daily?from={publish_at.date()}&to={publish_at.date()}").json["days"][0]
    assert (day["posts_published"], day["posts_failed"], day["posts_unknown"]) == (1, 1, 1)
