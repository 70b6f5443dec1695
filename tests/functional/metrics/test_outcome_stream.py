"""The counter consumer (`count_outcomes`) on the event Lambda hands it: a stream record delivered twice
counts once, a record of anything but a final outcome counts nothing, and a record that fails is handed back
by its sequence number with those after it."""
from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.metrics.metric_jobs import count_outcomes
from chalicelib.metrics.outcome_consumer import OutcomeConsumer
from tests.support.events import load_event
from tests.support.http import Api
from tests.support.queues import RecordingQueue


def published_delivery(deps: Any, api: Api, clock: Any) -> tuple[dict[str, Any], str]:
    """A delivery the engine published, as the posts table holds it now; and its channel."""
    queue = RecordingQueue()
    deps.publish_queue = queue
    channel = api.post("/channels", {"network": "sandbox", "name": "Sandbox"}).json["id"]
    publish_at = clock.now() + timedelta(seconds=30)
    post_id = api.post("/posts", {"text": "Hello", "channel_ids": [channel],
                                  "publish_at": to_rfc3339(publish_at)}).json["id"]
    deps.engine.publish_due_deliveries()
    clock.set(publish_at + timedelta(seconds=2))
    assert deps.engine.publish_delivery(queue.take()[0][0]) == "published"
    [item] = deps.client("dynamodb").query(
        TableName=deps.settings.table("posts"), KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
        ExpressionAttributeValues={":pk": {"S": f"{api_workspace(api)}#{post_id}"}, ":d": {"S": "delivery#"}},
        ConsistentRead=True)["Items"]
    return item, channel


def api_workspace(api: Api) -> str:
    return str(api.get("/workspace").json["id"])


def stream_event(new: dict[str, Any], old_status: str, *sequences: str) -> dict[str, Any]:
    [documented] = load_event("aws", "lambda_dynamodb_stream_event.json")["Records"]
    old = {**copy.deepcopy(new), "status": {"S": old_status}}
    return {"Records": [{**documented, "dynamodb": {**documented["dynamodb"], "SequenceNumber": sequence,
                                                    "Keys": {"pk": new["pk"], "sk": new["sk"]},
                                                    "NewImage": new, "OldImage": old}}
                        for sequence in sequences]}


def published_today(api: Api, channel: str, day: date) -> int:
    return int(api.get(f"/metrics/daily?from={day}&to={day}&channel_id={channel}").json["days"][0][
        "posts_published"])


def test_a_record_delivered_twice_counts_once(deps: Any, api: Api, clock: Any) -> None:
    item, channel = published_delivery(deps, api, clock)
    day = clock.now().date()
    assert published_today(api, channel, day) == 0  # nothing counted on the publish path

    assert count_outcomes(stream_event(item, "publishing", "10", "10"), None) == {"batchItemFailures": []}
    assert count_outcomes(stream_event(item, "publishing", "10"), None) == {"batchItemFailures": []}
    assert published_today(api, channel, day) == 1
    assert count_outcomes(stream_event(item, "published", "11"), None) == {"batchItemFailures": []}  # no move
    assert count_outcomes(load_event("aws", "lambda_dynamodb_stream_event.json"), None) == {
        "batchItemFailures": []}  # another table's record
    assert published_today(api, channel, day) == 1


class Unreadable:
    def __call__(self, workspace_id: str, post_id: str) -> Any:
        raise ConnectionError("DynamoDB did not answer")


def test_a_failing_record_comes_back_with_the_ones_after_it(deps: Any, api: Api, clock: Any) -> None:
    item, channel = published_delivery(deps, api, clock)
    consumer = OutcomeConsumer(deps.metrics_repository, Unreadable(), deps.webhook_emitter, clock)
    records = stream_event(item, "publishing", "20", "21")["Records"]
    assert consumer.consume(records).failed == ["20", "21"]
    assert published_today(api, channel, clock.now().date()) == 0
