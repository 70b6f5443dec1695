from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.bucket_snapshots import BucketSnapshots
from infra.local.moto_map_keys import keep_empty_map_keys
from infra.local.runner import StateSaver, report_stop
from infra.local.state_files import write_atomically
from infra.local.table_snapshots import TableSnapshots, encode_item

TABLE = "herald-local-posts"
OTHER = "herald-local-channels"
FIXED_NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def emulation_as_the_local_stack_runs_it() -> None:
    keep_empty_map_keys()


def create_table(dynamodb: Any, name: str = TABLE) -> None:
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])


def scan(dynamodb: Any, name: str = TABLE) -> dict[str, dict[str, Any]]:
    items = [item for page in dynamodb.get_paginator("scan").paginate(TableName=name) for item in page["Items"]]
    return {item["pk"]["S"]: item for item in items}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "bottom"}
    for level in range(depth):
        value = {"M": {f"level{level}": {"L": [value, {"N": str(level)}]}}} if level % 2 else {"L": [value]}
    return value


ITEM = {
    "pk": {"S": "post#1"},
    "count": {"N": "3"},
    "raw": {"B": b"\x00\xffbytes"},
    "tags": {"SS": ["a", "b"]},
    "blobs": {"BS": [b"\x01", b"\x02"]},
    "nested": {"M": {"inner": {"L": [{"B": b"\x03"}, {"NULL": True}, {"BOOL": False}]}}},
}

# Every shape of item DynamoDB (here, the emulation the local stack runs) accepts that made trouble, or might.
AWKWARD_ITEMS = [
    {"pk": {"S": "empty-map-key"}, "settings": {"M": {"a": {"M": {"": {"N": "1"}}}}}},
    {"pk": {"S": "empty-map-key-top"}, "settings": {"M": {"": {"M": {"": {"S": ""}, "b": {"N": "2"}}}}}},
    {"pk": {"S": "empty-key-in-list"}, "list": {"L": [{"M": {"": {"L": [{"M": {"": {"BOOL": True}}}]}}}]}},
    {"pk": {"S": "empty-values"}, "s": {"S": ""}, "b": {"B": b""}, "m": {"M": {}}, "l": {"L": []}},
    {"pk": {"S": "binary"}, "b": {"B": bytes(range(256))}, "bs": {"BS": [b"\x00", b"\xff" * 64]},
     "m": {"M": {"inner": {"B": b"\x80\x81"}}}},
    {"pk": {"S": "numbers"}, "big": {"N": "9" * 38}, "negative": {"N": "-" + "9" * 38},
     "tiny": {"N": "1E-130"}, "huge": {"N": "9.9999999999999999999999999999999999999E+125"},
     "ns": {"NS": ["0", "-1", "1" * 38]}},
    {"pk": {"S": "unicode ✓ 🐘 עברית"}, "text": {"S": "e\u0301 \u0000 \t\r\n \u202e 🧑‍🤝‍🧑"},
     "ss": {"SS": ["\u00fc", "u\u0308", "🐘"]}, "naïve name": {"S": "attribute names are text too"}},
    {"pk": {"S": "deep"}, "deep": nested(30)},
    {"pk": {"S": "large"}, "text": {"S": "x" * 395_000}},
]


def test_every_awkward_item_survives_save_and_restore_item_by_item(tmp_path: Path) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        for item in AWKWARD_ITEMS:
            dynamodb.put_item(TableName=TABLE, Item=item)
        saved = scan(dynamodb)
        assert TableSnapshots(dynamodb, tmp_path, [TABLE]).save().failed == {}

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        assert TableSnapshots(dynamodb, tmp_path, [TABLE]).restore() == {TABLE: len(AWKWARD_ITEMS)}
        restored = scan(dynamodb)
    assert restored.keys() == saved.keys() == {item["pk"]["S"] for item in AWKWARD_ITEMS}
    for key, item in saved.items():
        assert restored[key] == item, key


def test_items_survive_a_restart_with_every_attribute_type(tmp_path: Path) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        for number in range(60):  # more than one BatchWriteItem
            dynamodb.put_item(TableName=TABLE, Item={**ITEM, "pk": {"S": f"post#{number}"}})
        assert TableSnapshots(dynamodb, tmp_path, [TABLE]).save().changed == [TABLE]

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        assert TableSnapshots(dynamodb, tmp_path, [TABLE]).restore() == {TABLE: 60}
        restored = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "post#1"}})["Item"]
        assert restored == {**ITEM, "pk": {"S": "post#1"}}


def test_a_thousand_posts_and_one_odd_channel_all_come_back(tmp_path: Path) -> None:
    posts = [{"pk": {"S": f"post#{number:04d}"}, "text": {"S": f"post {number}"}} for number in range(1000)]
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        create_table(dynamodb, OTHER)
        dynamodb.put_item(TableName=OTHER, Item=AWKWARD_ITEMS[0])
        for post in posts:
            dynamodb.put_item(TableName=TABLE, Item=post)
        assert TableSnapshots(dynamodb, tmp_path, [TABLE, OTHER]).save().failed == {}

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        create_table(dynamodb, OTHER)
        assert TableSnapshots(dynamodb, tmp_path, [TABLE, OTHER]).restore() == {TABLE: 1000, OTHER: 1}
        assert scan(dynamodb) == {post["pk"]["S"]: post for post in posts}


def test_a_table_is_written_only_when_it_changed(tmp_path: Path) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        snapshots = TableSnapshots(dynamodb, tmp_path, [TABLE])
        assert snapshots.save().changed == [TABLE]
        assert snapshots.save().changed == []
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "new"}})
        assert snapshots.save().changed == [TABLE]

    saved = json.loads((tmp_path / f"{TABLE}.json").read_text())
    assert saved["items"] == [{"pk": {"S": "new"}}]
    assert list(tmp_path.iterdir()) == [tmp_path / f"{TABLE}.json"]  # no temporary files left behind


class WriterThatBreaksMidway:
    """Writes through the real atomic writer, and raises after the first chunks when told to."""

    def __init__(self) -> None:
        self.failing = False

    def __call__(self, path: Path, data: bytes | Iterable[bytes], mode: int = 0o644) -> None:
        write_atomically(path, self._chunks([data] if isinstance(data, bytes) else data), mode)

    def _chunks(self, data: Iterable[bytes]) -> Iterable[bytes]:
        for index, chunk in enumerate(data):
            if self.failing and index == 2:
                raise OSError(28, "No space left on device")
            yield chunk


def test_a_save_that_fails_midway_keeps_the_previous_snapshot_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer = WriterThatBreaksMidway()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        for number in range(10):
            dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"post#{number}"}})
        snapshots = TableSnapshots(dynamodb, tmp_path, [TABLE], write=writer)
        assert snapshots.save().changed == [TABLE]
        before = (tmp_path / f"{TABLE}.json").read_bytes()

        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "post#new"}})
        writer.failing = True
        with caplog.at_level(logging.ERROR, logger="infra.local.table_snapshots"):
            report = snapshots.save()
            assert snapshots.save().failed == report.failed  # tried again, and said so again

        assert report.changed == []
        assert report.failed == {TABLE: "OSError: [Errno 28] No space left on device"}
        assert (tmp_path / f"{TABLE}.json").read_bytes() == before
        assert len(json.loads(before)["items"]) == 10
        assert list(tmp_path.iterdir()) == [tmp_path / f"{TABLE}.json"]
        errors = [record for record in caplog.records if record.levelno == logging.ERROR]
        assert len(errors) == 2
        assert TABLE in errors[0].getMessage() and "No space left on device" in errors[0].getMessage()
        assert f"the last good snapshot of {TABLE} is {tmp_path / (TABLE + '.json')}" in errors[0].getMessage()

        writer.failing = False
        assert snapshots.save().changed == [TABLE]  # the failed save did not count as written
    assert len(json.loads((tmp_path / f"{TABLE}.json").read_text())["items"]) == 11


def test_a_table_that_cannot_be_read_does_not_stop_the_others_being_saved(tmp_path: Path) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "kept"}})
        report = TableSnapshots(dynamodb, tmp_path, ["herald-local-missing", TABLE]).save()
    assert report.changed == [TABLE]
    assert list(report.failed) == ["herald-local-missing"]
    assert "ResourceNotFoundException" in report.failed["herald-local-missing"]


def test_an_item_the_emulation_refuses_at_start_does_not_stop_the_others_and_its_file_is_kept(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # A lone surrogate can reach the emulation in raw JSON ("\ud800") though boto3 cannot send it back.
    odd = {"pk": {"S": "lone"}, "text": {"S": "a\ud800b"}}
    assert json.loads(encode_item(odd)) == odd
    items = [{"pk": {"S": f"post#{number}"}} for number in range(30)] + [odd]
    snapshot = tmp_path / f"{TABLE}.json"
    snapshot.write_bytes(json.dumps({"table": TABLE, "items": items}).encode("ascii"))

    with mock_aws(), caplog.at_level(logging.ERROR, logger="infra.local.table_snapshots"):
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb)
        snapshots = TableSnapshots(dynamodb, tmp_path, [TABLE], now=lambda: FIXED_NOW)
        assert snapshots.restore() == {TABLE: 30}
        assert len(scan(dynamodb)) == 30
    kept = tmp_path / f"{TABLE}.unrestored-20260301T120000Z.json"
    assert json.loads(kept.read_bytes())["items"] == items
    assert any(str(kept) in record.getMessage() and "1 of the 31" in record.getMessage()
               for record in caplog.records)


# What Ctrl-C says: "state saved" only when it was.

def test_stopping_says_state_saved_when_every_table_was(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with mock_aws(), caplog.at_level(logging.INFO, logger="infra.local"):
        dynamodb, s3 = boto3.client("dynamodb", region_name="us-east-1"), boto3.client("s3", region_name="us-east-1")
        create_table(dynamodb)
        saver = StateSaver(TableSnapshots(dynamodb, tmp_path / "dynamodb", [TABLE]),
                           BucketSnapshots(s3, tmp_path / "s3", []), every_s=0)
        saver.stop()
        assert report_stop(tmp_path, saver.unsaved()) == 0
    assert caplog.messages[-1] == f"Local stack stopped; state saved in {tmp_path}/"


def test_stopping_after_a_failed_save_says_what_was_not_saved_and_where_the_last_good_snapshot_is(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer = WriterThatBreaksMidway()
    with mock_aws(), caplog.at_level(logging.INFO, logger="infra.local"):
        dynamodb, s3 = boto3.client("dynamodb", region_name="us-east-1"), boto3.client("s3", region_name="us-east-1")
        create_table(dynamodb)
        create_table(dynamodb, OTHER)
        tables = TableSnapshots(dynamodb, tmp_path / "dynamodb", [TABLE, OTHER], write=writer)
        saver = StateSaver(tables, BucketSnapshots(s3, tmp_path / "s3", []), every_s=0)
        assert saver.save().changed == [TABLE, OTHER]
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "post#late"}})
        writer.failing = True
        saver.stop()
        assert report_stop(tmp_path, saver.unsaved()) == 1

    said = caplog.records[-1]
    assert said.levelno == logging.ERROR
    assert "state saved" not in said.getMessage()
    assert said.getMessage().startswith(f"Local stack stopped, but NOT all of its state was saved in {tmp_path}/: "
                                        f"table {TABLE} (OSError: [Errno 28] No space left on device); "
                                        f"the last good snapshot of {TABLE} is {tmp_path / 'dynamodb' / TABLE}.json")
    assert OTHER not in said.getMessage()


def test_stopping_when_the_final_save_never_finished_does_not_claim_it_did(tmp_path: Path) -> None:
    with mock_aws():
        dynamodb, s3 = boto3.client("dynamodb", region_name="us-east-1"), boto3.client("s3", region_name="us-east-1")
        saver = StateSaver(TableSnapshots(dynamodb, tmp_path, []), BucketSnapshots(s3, tmp_path, []), every_s=0)
        assert saver.unsaved() == ["the final save did not run to the end (see the error above)"]
        assert report_stop(tmp_path, saver.unsaved()) == 1
