from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import pytest
from chalice import Chalice
from chalice.app import SQSEvent

from infra.local.lambda_runtime import LambdaEnvironment
from infra.local.sqs_poller import QueuePoller, failed_message_ids, sqs_event, sqs_sources
from tests.support.events import load_event

QUEUE_ARN = "arn:aws:sqs:us-east-2:123456789012:my-queue"


def receive_answer_for(record: dict[str, Any]) -> dict[str, Any]:
    """The boto3 ReceiveMessage answer SQS gave for the message behind a documented Lambda record."""
    message: dict[str, Any] = {
        "MessageId": record["messageId"], "ReceiptHandle": record["receiptHandle"], "Body": record["body"],
        "MD5OfBody": record["md5OfBody"], "Attributes": record["attributes"],
    }
    if "md5OfMessageAttributes" in record:
        message["MD5OfMessageAttributes"] = record["md5OfMessageAttributes"]
    attributes = {}
    for name, value in record["messageAttributes"].items():
        attribute: dict[str, Any] = {"DataType": value["dataType"]}
        if "stringValue" in value:
            attribute["StringValue"] = value["stringValue"]
        if "binaryValue" in value:
            attribute["BinaryValue"] = base64.b64decode(value["binaryValue"])
        if value["binaryListValues"]:
            attribute["BinaryListValues"] = [base64.b64decode(item) for item in value["binaryListValues"]]
        attributes[name] = attribute
    if attributes:
        message["MessageAttributes"] = attributes
    return message


class FakeSqs:
    """Answers like SQS: hands out the queued messages once, records what was deleted."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.waiting = list(messages)
        self.deleted: list[str] = []
        self.receive_calls: list[dict[str, Any]] = []

    def get_queue_url(self, QueueName: str) -> dict[str, Any]:
        return {"QueueUrl": f"https://sqs.us-east-2.amazonaws.com/123456789012/{QueueName}"}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        return {"Attributes": {"QueueArn": QUEUE_ARN}}

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.receive_calls.append(kwargs)
        size = kwargs["MaxNumberOfMessages"]
        batch, self.waiting = self.waiting[:size], self.waiting[size:]
        return {"Messages": batch} if batch else {}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.deleted.extend(entry["ReceiptHandle"] for entry in Entries)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}


def message(number: int) -> dict[str, Any]:
    return {"MessageId": f"id-{number}", "ReceiptHandle": f"handle-{number}", "Body": f"body-{number}",
            "MD5OfBody": "x", "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"}}


def run_inline(name: str, work: Callable[[], None]) -> None:
    work()


def poller_for(handler: Callable[[SQSEvent], Any], sqs: FakeSqs, batch_size: int = 10,
               maximum_concurrency: int | None = None) -> tuple[QueuePoller, list[list[str]]]:
    app = Chalice(app_name="herald", configure_logs=False)
    seen: list[list[str]] = []

    @app.on_sqs_message(queue="my-queue", batch_size=batch_size, maximum_concurrency=maximum_concurrency)
    def worker(event: SQSEvent) -> Any:
        seen.append([record.body for record in event])
        return handler(event)

    env = LambdaEnvironment(app=app, stage="local", region="us-east-2")
    return QueuePoller(env, sqs_sources(env)[0], sqs, workers=4, launch=run_inline), seen


def test_the_event_has_the_shape_lambda_builds_from_sqs() -> None:
    documented = load_event("aws", "lambda_sqs_event.json")
    answer = [receive_answer_for(record) for record in documented["Records"]]
    assert sqs_event(answer, QUEUE_ARN, "us-east-2") == documented


def test_a_batch_the_handler_finishes_is_deleted() -> None:
    sqs = FakeSqs([message(1), message(2), message(3)])
    poller, seen = poller_for(lambda event: None, sqs, batch_size=2)

    assert poller.poll_once() == 2
    assert poller.poll_once() == 1
    assert poller.poll_once() == 0

    assert seen == [["body-1", "body-2"], ["body-3"]]
    assert sqs.deleted == ["handle-1", "handle-2", "handle-3"]
    assert sqs.receive_calls[0]["MaxNumberOfMessages"] == 2
    assert sqs.receive_calls[0]["MessageAttributeNames"] == ["All"]


def test_a_failing_handler_leaves_the_whole_batch_for_redelivery(caplog: pytest.LogCaptureFixture) -> None:
    def fail(event: SQSEvent) -> None:
        raise RuntimeError("network down")

    sqs = FakeSqs([message(1), message(2)])
    poller, _ = poller_for(fail, sqs)
    with caplog.at_level(logging.ERROR):
        poller.poll_once()

    assert sqs.deleted == []
    assert "Queue function worker failed on 2 message(s) from my-queue" in caplog.text
    assert "network down" in caplog.text


def test_a_partial_batch_response_keeps_only_the_named_records() -> None:
    def fail_second(event: SQSEvent) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "id-2"}]}

    sqs = FakeSqs([message(1), message(2), message(3)])
    poller, _ = poller_for(fail_second, sqs)
    poller.poll_once()

    assert sqs.deleted == ["handle-1", "handle-3"]


@pytest.mark.parametrize("result, failed", [
    (None, set()),
    ({"batchItemFailures": []}, set()),
    ({"statusCode": 200}, set()),
    ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
    ({"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}, {"a", "b"}),
    ({"batchItemFailures": [{"itemIdentifier": None}]}, {"a", "b"}),
    ({"batchItemFailures": [{}]}, {"a", "b"}),
])
def test_partial_batch_responses_are_read_as_lambda_reads_them(result: Any, failed: set[str]) -> None:
    assert failed_message_ids(result, ["a", "b"]) == failed


def test_concurrency_is_capped_by_the_sources_maximum_concurrency() -> None:
    sqs = FakeSqs([message(n) for n in range(5)])
    held: list[Callable[[], None]] = []
    app = Chalice(app_name="herald", configure_logs=False)

    @app.on_sqs_message(queue="my-queue", batch_size=1, maximum_concurrency=2)
    def worker(event: SQSEvent) -> None:
        pass

    env = LambdaEnvironment(app=app, stage="local", region="us-east-2")
    poller = QueuePoller(env, sqs_sources(env)[0], sqs, workers=4,
                         launch=lambda name, work: held.append(work))

    taken = [poller.poll_once() for _ in range(3)]
    assert taken == [1, 1, 0]  # two batches in hand, no third until one finishes
    held.pop(0)()
    assert poller.poll_once() == 1
