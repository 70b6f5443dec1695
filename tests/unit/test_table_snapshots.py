from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from infra.local.table_snapshots import TableSnapshots

TABLE = "herald-local-posts"


def create_table(dynamodb: Any) -> None:
    dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])


ITEM = {
    "pk": {"S": "post#1"},
    "count": {"N": "3"},
    "raw": {"B": b"\x00\xffbytes"},
    "tags": {"SS": ["a", "b"]},
    "blobs": {"BS": [b"\x01", b"\x02"]},
    "nested": {"M": {"inner": {"L": [{"B": b"\x03"}, {"NULL": True}, {"BOOL": False}]}}},
}


def test_items_survive_a_restart_with_every_attribute_type(tmp_path: Path) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        for number in range(60):  # more than one BatchWriteItem
            dynamodb.put_item(TableName=TABLE, Item={**ITEM, "pk": {"S": f"post#{number}"}})
        assert TableSnapshots(dynamodb, tmp_path, [TABLE]).save() == [TABLE]

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        assert TableSnapshots(dynamodb, tmp_path, [TABLE]).restore() == {TABLE: 60}
        restored = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "post#1"}})["Item"]
        assert restored == {**ITEM, "pk": {"S": "post#1"}}


def test_a_table_is_written_only_when_it_changed(tmp_path: Path) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        snapshots = TableSnapshots(dynamodb, tmp_path, [TABLE])
        assert snapshots.save() == [TABLE]
        assert snapshots.save() == []
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "new"}})
        assert snapshots.save() == [TABLE]

    saved = json.loads((tmp_path / f"{TABLE}.json").read_text())
    assert saved["items"] == [{"pk": {"S": "new"}}]
    assert list(tmp_path.iterdir()) == [tmp_path / f"{TABLE}.json"]  # no temporary files left behind
