"""The local stack's DynamoDB Streams reader: moto's stream handed to an `@app.on_dynamodb_record` handler
as Lambda hands it (the documented record shape), in order, with a partial batch failure read again from
the first sequence number it names."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from chalice import Chalice
from moto import mock_aws

from infra.local.lambda_runtime import LambdaEnvironment
from infra.local.stream_poller import StreamPoller, first_failed, stream_sources
from tests.support.events import load_event

REGION = "us-east-2"


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(TableName="herald-local-things", BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        yield dynamodb


def poller_for(dynamodb: Any, handle: Any) -> StreamPoller:
    app = Chalice(app_name="herald", configure_logs=False)
    app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:us-east-2:000000000000:table/herald-local-things/"
                                      "stream/latest", starting_position="TRIM_HORIZON", name="things")(handle)
    env = LambdaEnvironment(app=app, stage="local", region=REGION)
    streams = boto3.client("dynamodbstreams", region_name=REGION,
                           endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com")
    [source] = stream_sources(env)
    return StreamPoller(env, source, dynamodb, streams, sleep=lambda _s: None)


def test_records_reach_the_handler_in_the_documented_shape(table: Any) -> None:
    seen: list[dict[str, Any]] = []
    poller = poller_for(table, lambda event: seen.extend(event.to_dict()["Records"]))
    table.put_item(TableName="herald-local-things", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    table.put_item(TableName="herald-local-things", Item={"pk": {"S": "a"}, "n": {"N": "2"}})
    assert poller.drain() == 2
    [documented] = load_event("aws", "lambda_dynamodb_stream_event.json")["Records"]
    assert [r["eventName"] for r in seen] == ["INSERT", "MODIFY"]
    assert set(seen[1]) == set(documented) and set(seen[1]["dynamodb"]) == set(documented["dynamodb"])
    assert seen[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"} and seen[1]["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert isinstance(seen[1]["dynamodb"]["ApproximateCreationDateTime"], float)
    assert poller.drain() == 0  # nothing new


def test_a_partial_batch_failure_is_read_again_from_the_first_named_record(table: Any) -> None:
    seen: list[str] = []
    failures = {"b": 1}

    def handle(event: Any) -> dict[str, Any]:
        for record in event.to_dict()["Records"]:
            key = record["dynamodb"]["Keys"]["pk"]["S"]
            seen.append(key)
            if failures.get(key):
                failures[key] -= 1
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    poller = poller_for(table, handle)
    for key in "abc":
        table.put_item(TableName="herald-local-things", Item={"pk": {"S": key}})
    poller.drain()
    assert seen == ["a", "b", "b", "c"]


@pytest.mark.parametrize(("result", "retry_from"), [
    ({"batchItemFailures": []}, None), (None, None),
    ({"batchItemFailures": [{"itemIdentifier": "12"}, {"itemIdentifier": "11"}]}, "11"),
    ({"batchItemFailures": [{"itemIdentifier": "99"}]}, "10"),  # not in the batch: all of it again
])
def test_partial_batch_responses_are_read_as_lambda_reads_them(result: Any, retry_from: str | None) -> None:
    assert first_failed(result, ["10", "11", "12"]) == retry_from
