"""Runs `python -m infra.local` for real with the test app, stops it, and runs it again."""
from __future__ import annotations

import json
from pathlib import Path

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
