"""Runs `python -m infra.local` for real with the test app, stops it, and runs it again."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.ports import free_ports
from tests.support.local_stack import aws, eventually, local_stack, read_env_file


@pytest.mark.integration
def test_the_stack_serves_the_app_feeds_its_queue_and_keeps_state_across_a_restart(tmp_path: Path) -> None:
    state_dir, log_path = tmp_path / ".local", tmp_path / "stack.log"
    ports = free_ports(2)

    with local_stack(state_dir, log_path, ports) as api:
        answer = requests.get(f"{api}/hello?name=herald", timeout=5)
        assert (answer.status_code, answer.json()) == (200, {"hello": "herald"})

        missing = requests.post(f"{api}/no/such/route", headers={"Authorization": "Bearer k"}, timeout=5)
        assert missing.status_code == 404
        assert missing.json() == {"error": {
            "code": "not_found", "message": "No route for POST /no/such/route", "details": []}}

        env = read_env_file(state_dir / "env")
        assert env["HERALD_API_URL"] == api
        dynamodb, sqs, kms = aws(env, "dynamodb"), aws(env, "sqs"), aws(env, "kms")
        queue_url = sqs.get_queue_url(QueueName=env["HERALD_QUEUE_PUBLISH"])["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody="delivery-1")
        key = {"channel_key": {"S": "queue"}, "received_key": {"S": "delivery-1"}}
        table = env["HERALD_TABLE_SANDBOX_POSTS"]
        item = eventually(lambda: dynamodb.get_item(TableName=table, Key=key).get("Item"),
                          "the queue function recording the message")
        assert item["receive_count"] == {"S": "1"}
        sealed = kms.encrypt(KeyId=env["HERALD_KMS_KEY_ID"], Plaintext=b"channel token")["CiphertextBlob"]

    assert "Local stack stopped" in log_path.read_text()

    with local_stack(state_dir, log_path, ports):
        env = read_env_file(state_dir / "env")
        dynamodb, kms = aws(env, "dynamodb"), aws(env, "kms")
        assert dynamodb.get_item(TableName=table, Key=key).get("Item") == item
        assert kms.decrypt(CiphertextBlob=sealed)["Plaintext"] == b"channel token"


@pytest.mark.integration
def test_the_stack_counts_its_dynamodb_writes_when_asked(tmp_path: Path) -> None:
    state_dir, log_path, counts = tmp_path / ".local", tmp_path / "stack.log", tmp_path / "writes.json"
    extra_env = {"HERALD_LOCAL_DYNAMODB_METER": str(counts), "HERALD_SAVE_EVERY_S": "0"}

    with local_stack(state_dir, log_path, free_ports(2), extra_env=extra_env):
        env = read_env_file(state_dir / "env")
        dynamodb, sqs = aws(env, "dynamodb"), aws(env, "sqs")
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=env["HERALD_QUEUE_PUBLISH"])["QueueUrl"],
                         MessageBody="delivery-1")
        key = {"channel_key": {"S": "queue"}, "received_key": {"S": "delivery-1"}}
        eventually(lambda: dynamodb.get_item(TableName=env["HERALD_TABLE_SANDBOX_POSTS"], Key=key).get("Item"),
                   "the queue function recording the message")

    writes = json.loads(counts.read_text())["writes"]
    assert {"table": env["HERALD_TABLE_SANDBOX_POSTS"], "operation": "PutItem", "requests": 1, "items": 1,
            "failed_requests": 0, "wcu": 1, "index_wcu": 0} in writes


def put_all(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        requests_left: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while requests_left:
            requests_left = dynamodb.batch_write_item(RequestItems=requests_left).get("UnprocessedItems") or {}


def every_item(dynamodb: Any, table: str) -> dict[str, dict[str, Any]]:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return {json.dumps(item, sort_keys=True): item for page in pages for item in page["Items"]}


@pytest.mark.integration
def test_a_restart_keeps_every_post_even_next_to_a_channel_with_an_odd_settings_map(tmp_path: Path) -> None:
    state_dir, log_path = tmp_path / ".local", tmp_path / "stack.log"
    ports = free_ports(2)
    posts = [{"pk": {"S": f"ws#demo#post#{number:04d}"}, "sk": {"S": "post"},
              "text": {"S": f"post {number} ✓"}, "version": {"N": "1"}} for number in range(1000)]
    # Accepted by the emulation; before, it made every snapshot of its table fail from then on.
    channel = {"workspace_id": {"S": "ws_demo"}, "channel_id": {"S": "ch_odd"},
               "settings": {"M": {"a": {"M": {"": {"N": "1"}}}}}}

    with local_stack(state_dir, log_path, ports):
        env = read_env_file(state_dir / "env")
        dynamodb = aws(env, "dynamodb")
        posts_table, channels_table = env["HERALD_TABLE_POSTS"], env["HERALD_TABLE_CHANNELS"]
        dynamodb.put_item(TableName=channels_table, Item=channel)
        put_all(dynamodb, posts_table, posts)
        saved_posts, saved_channels = every_item(dynamodb, posts_table), every_item(dynamodb, channels_table)
        assert len(saved_posts) == 1000

    stopped = log_path.read_text()
    assert "ERROR" not in stopped and "state saved in" in stopped

    with local_stack(state_dir, log_path, ports):
        dynamodb = aws(read_env_file(state_dir / "env"), "dynamodb")
        assert every_item(dynamodb, posts_table) == saved_posts
        assert every_item(dynamodb, channels_table) == saved_channels


@pytest.mark.integration
def test_stopping_says_what_was_not_saved_instead_of_state_saved(tmp_path: Path) -> None:
    state_dir, log_path = tmp_path / ".local", tmp_path / "stack.log"
    with local_stack(state_dir, log_path, free_ports(2), expect_returncode=1,
                     extra_env={"HERALD_SAVE_EVERY_S": "0.2"}):
        env = read_env_file(state_dir / "env")
        table = env["HERALD_TABLE_SANDBOX_POSTS"]
        snapshot = state_dir / "dynamodb" / f"{table}.json"
        eventually(snapshot.is_file, "the first snapshot of the table")
        aws(env, "dynamodb").put_item(TableName=table, Item={"channel_key": {"S": "c"}, "received_key": {"S": "r"}})
        snapshot.unlink()
        snapshot.mkdir()  # nothing can be renamed over a folder: every save of this table now fails
        eventually(lambda: f"Could not save table {table}" in log_path.read_text(), "an ERROR about the table")

    said = log_path.read_text()
    assert f"ERROR   Could not save table {table}: IsADirectoryError" in said
    assert "state saved" not in said
    assert (f"ERROR   Local stack stopped, but NOT all of its state was saved in {state_dir}/: table {table} "
            "(IsADirectoryError") in said
