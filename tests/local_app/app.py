"""A small Chalice app the local stack's tests run: one route, two schedules, one queue consumer.

The handlers record what reached them in the sandbox_posts table, so a test can see it.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice import Chalice, Cron, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib.core.settings import get_settings

app = Chalice(app_name="herald-local-test")


@lru_cache(maxsize=1)
def _dynamodb() -> Any:
    import boto3

    settings = get_settings()
    return boto3.client("dynamodb", endpoint_url=settings.aws_endpoint_url, region_name=settings.region)


def _record(channel_key: str, received_key: str, **fields: str) -> None:
    item = {"channel_key": {"S": channel_key}, "received_key": {"S": received_key}}
    item.update({name: {"S": value} for name, value in fields.items()})
    _dynamodb().put_item(TableName=get_settings().table("sandbox_posts"), Item=item)


@app.route("/hello")
def hello() -> dict[str, Any]:
    return {"hello": app.current_request.query_params.get("name", "world") if app.current_request.query_params
            else "world"}


@app.schedule(Rate(1, unit=Rate.MINUTES))
def every_minute(event: CloudWatchEvent) -> None:
    _record("schedule", f"every_minute#{event.to_dict()['time']}")


@app.schedule(Cron(0, 3, "*", "*", "?", "*"))
def nightly(event: CloudWatchEvent) -> None:
    _record("schedule", f"nightly#{event.to_dict()['time']}")


@app.on_sqs_message(queue=get_settings().queue("publish"), batch_size=5)
def publish_worker(event: SQSEvent) -> dict[str, Any]:
    failures = []
    for record in event:
        message = record.to_dict()
        if record.body.startswith("fail"):
            failures.append({"itemIdentifier": message["messageId"]})
            continue
        _record("queue", record.body, receive_count=message["attributes"]["ApproximateReceiveCount"])
    return {"batchItemFailures": failures}
