from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local.dynamodb_meter import DynamoDBWriteMeter, attribute_size, item_size
from infra.moto_atomic import make_dynamodb_atomic

TABLE = "herald-local-posts"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    make_dynamodb_atomic()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "due_key")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{"IndexName": "due", "KeySchema": [{"AttributeName": "due_key", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}])
        yield client


@pytest.fixture
def meter() -> Iterator[DynamoDBWriteMeter]:
    counting = DynamoDBWriteMeter()
    counting.start()
    yield counting
    counting.stop()


def tally(meter: DynamoDBWriteMeter, operation: str) -> dict[str, Any]:
    rows = [row for row in meter.rows() if row["operation"] == operation]
    assert len(rows) == 1, meter.rows()
    return {name: rows[0][name] for name in ("requests", "items", "failed_requests", "wcu", "index_wcu")}


def set_status(dynamodb: Any, pk: str, status: str, due_key: str | None = None) -> None:
    expression, values = "SET #s = :s", {":s": {"S": status}}
    if due_key is not None:
        expression += ", due_key = :d"
        values[":d"] = {"S": due_key}
    dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": pk}}, UpdateExpression=expression,
                         ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues=values)


def test_sizes_are_counted_the_way_dynamodb_bills_them() -> None:
    assert attribute_size({"S": "héllo"}) == 6  # UTF-8 bytes
    assert attribute_size({"N": "12345"}) == 4  # 1 byte per two significant digits, plus 1
    assert attribute_size({"N": "-0.00100"}) == 2
    assert attribute_size({"BOOL": True}) == attribute_size({"NULL": True}) == 1
    assert attribute_size({"L": [{"S": "ab"}, {"S": "c"}]}) == 3 + (2 + 1) + (1 + 1)
    assert attribute_size({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1
    assert item_size({"pk": {"S": "a"}, "status": {"S": "queued"}}) == 2 + 1 + 6 + 6


def test_a_put_costs_its_size_and_the_index_entry_it_makes(dynamodb: Any, meter: DynamoDBWriteMeter) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "small"}, "due_key": {"S": "2026"}})
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "big"}, "text": {"S": "x" * 1500}})

    assert tally(meter, "PutItem") == {"requests": 2, "items": 2, "failed_requests": 0,
                                       "wcu": 1 + 2, "index_wcu": 1}  # "big" is not in the sparse index


def test_an_update_pays_twice_in_the_index_when_it_moves_the_index_key(dynamodb: Any,
                                                                        meter: DynamoDBWriteMeter) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "d"}, "due_key": {"S": "09:00"}})
    set_status(dynamodb, "d", "queued")  # the index entry is rewritten: one index write
    set_status(dynamodb, "d", "publishing", due_key="09:02")  # the entry moves: delete and put
    dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": "d"}}, UpdateExpression="REMOVE due_key")  # leaves

    assert tally(meter, "UpdateItem") == {"requests": 3, "items": 3, "failed_requests": 0,
                                          "wcu": 3, "index_wcu": 1 + 2 + 1}


def test_a_transaction_pays_double_for_each_item(dynamodb: Any, meter: DynamoDBWriteMeter) -> None:
    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": pk}}, "UpdateExpression": "SET #s = :s",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":s": {"S": "published"}}}} for pk in ("a", "b")])

    assert tally(meter, "TransactWriteItems(Update)") == {"requests": 1, "items": 2, "failed_requests": 0,
                                                          "wcu": 4, "index_wcu": 0}


def test_a_write_whose_condition_fails_still_costs_a_unit(dynamodb: Any, meter: DynamoDBWriteMeter) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "c"}, "status": {"S": "queued"}, "due_key": {"S": "1"}})
    with pytest.raises(ClientError):
        dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": "c"}}, UpdateExpression="SET #s = :p",
                             ConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":s": {"S": "scheduled"}, ":p": {"S": "publishing"}})

    assert tally(meter, "UpdateItem") == {"requests": 1, "items": 1, "failed_requests": 1,
                                          "wcu": 1, "index_wcu": 0}
    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "c"}})["Item"]
    assert item["status"] == {"S": "queued"}


def test_reads_are_not_counted_and_the_counts_are_saved(dynamodb: Any, meter: DynamoDBWriteMeter,
                                                        tmp_path: Path) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "r"}})
    dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "r"}})
    dynamodb.scan(TableName=TABLE)
    meter.save(tmp_path / "writes.json")

    saved = json.loads((tmp_path / "writes.json").read_text())["writes"]
    assert [(row["table"], row["operation"], row["requests"]) for row in saved] == [(TABLE, "PutItem", 1)]


def test_a_stopped_meter_counts_nothing(dynamodb: Any, meter: DynamoDBWriteMeter) -> None:
    meter.stop()
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "after"}})

    assert meter.rows() == []


def test_an_index_costs_only_when_its_key_or_a_projected_attribute_changes(dynamodb: Any,
                                                                          meter: DynamoDBWriteMeter) -> None:
    dynamodb.create_table(
        TableName="projected", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "channel", "ws")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_channel", "KeySchema": [{"AttributeName": "channel", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "by_workspace", "KeySchema": [{"AttributeName": "ws", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]}}])

    def index_wcu_of_setting(attribute: str, value: str) -> int:
        before = sum(row["index_wcu"] for row in meter.rows() if row["operation"] == "UpdateItem")
        dynamodb.update_item(TableName="projected", Key={"pk": {"S": "p"}}, UpdateExpression="SET #a = :v",
                             ExpressionAttributeNames={"#a": attribute},
                             ExpressionAttributeValues={":v": {"S": value}})
        return sum(row["index_wcu"] for row in meter.rows() if row["operation"] == "UpdateItem") - before

    dynamodb.put_item(TableName="projected", Item={"pk": {"S": "p"}, "channel": {"S": "c1"}, "ws": {"S": "w"},
                                                   "status": {"S": "scheduled"}, "seq": {"S": "1"}})
    assert tally(meter, "PutItem")["index_wcu"] == 2  # one entry in each index

    assert index_wcu_of_setting("seq", "2") == 0  # projected nowhere
    assert index_wcu_of_setting("status", "published") == 1  # by_workspace's entry only
    assert index_wcu_of_setting("channel", "c2") == 2  # by_channel's key moved (delete and put); status kept
