from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.moto_atomic import make_dynamodb_atomic

TABLE = "herald-local-posts"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    make_dynamodb_atomic()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "due")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "due", "KeySchema": [{"AttributeName": "due", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}])
        for post in ("a", "b", "c"):
            for sk in ("delivery#2", "post", "delivery#1"):
                client.put_item(TableName=TABLE, Item={"pk": {"S": post}, "sk": {"S": sk}, "due": {"S": "soon"}})
        yield client


def keys(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["pk"]["S"], item["sk"]["S"]) for item in answer["Items"]]


def test_a_query_on_the_table_key_answers_its_partition_in_order(dynamodb: Any) -> None:
    answer = dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                            ExpressionAttributeValues={":p": {"S": "b"}})

    assert keys(answer) == [("b", "delivery#1"), ("b", "delivery#2"), ("b", "post")]


def test_pages_ranges_and_reverse_order_still_work(dynamodb: Any) -> None:
    first = dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :p AND begins_with(sk, :d)",
                           ExpressionAttributeValues={":p": {"S": "c"}, ":d": {"S": "delivery#"}},
                           ScanIndexForward=False, Limit=1)
    second = dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :p AND begins_with(sk, :d)",
                            ExpressionAttributeValues={":p": {"S": "c"}, ":d": {"S": "delivery#"}},
                            ScanIndexForward=False, Limit=1, ExclusiveStartKey=first["LastEvaluatedKey"])

    assert keys(first) + keys(second) == [("c", "delivery#2"), ("c", "delivery#1")]


def test_an_unknown_partition_is_empty_and_an_index_still_sees_every_partition(dynamodb: Any) -> None:
    nothing = dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": "zzz"}})
    indexed = dynamodb.query(TableName=TABLE, IndexName="due", KeyConditionExpression="due = :d",
                             ExpressionAttributeValues={":d": {"S": "soon"}})

    assert nothing["Items"] == []
    assert len(indexed["Items"]) == 9
    assert len(dynamodb.scan(TableName=TABLE)["Items"]) == 9
