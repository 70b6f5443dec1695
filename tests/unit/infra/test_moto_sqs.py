from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.moto_sqs import COUNTS, make_sqs_counts_lazy


@pytest.fixture
def sqs() -> Iterator[Any]:
    make_sqs_counts_lazy()
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def counts(sqs: Any, url: str, names: list[str]) -> dict[str, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return {name: int(attributes[name]) for name in COUNTS if name in attributes}


def test_the_counts_are_right_whenever_they_are_asked_for(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="publish")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(index), "MessageBody": str(index), "DelaySeconds": 900 if index < 2 else 0} for index in range(5)])
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]

    assert len(received) == 1
    expected = {"ApproximateNumberOfMessages": 2, "ApproximateNumberOfMessagesDelayed": 2,
                "ApproximateNumberOfMessagesNotVisible": 1}
    assert counts(sqs, url, ["All"]) == expected
    assert counts(sqs, url, list(COUNTS)) == expected
    assert counts(sqs, url, ["ApproximateNumberOfMessagesDelayed"]) == {"ApproximateNumberOfMessagesDelayed": 2}


def test_messages_still_come_and_go(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="publish", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    message = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    assert message["Body"] == "hello"
    assert counts(sqs, url, ["All"]) == dict.fromkeys(COUNTS, 0)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])["Attributes"] == {
        "MessageRetentionPeriod": "60"}
