"""The webhook bench's write figures, from a recording shaped as moto's request recorder writes it: what
stored an event, what a repeat's refused conditional writes cost, and what the stream consumer wrote."""

from __future__ import annotations

import json
from typing import Any

from bench.webhooks import _count_writes, _ingest_writes, _write_figures

DEDUPE, INBOX, METRICS = "herald-local-webhook-events", "herald-local-inbox", "herald-local-metrics"
TABLES = {DEDUPE, INBOX, METRICS}


def request(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": "http://127.0.0.1:4566/",
        "body": json.dumps(body),
        "headers": {"X-Amz-Target": f"DynamoDB_20120810.{operation}"},
    }


def dedupe_put(key: str) -> dict[str, Any]:
    return request(
        "PutItem",
        {
            "TableName": DEDUPE,
            "Item": {"event_key": {"S": key}, "event": {"S": "{}"}},
            "ConditionExpression": "attribute_not_exists (#0)",
        },
    )


def message_write(message: str, key: str) -> dict[str, Any]:
    return request(
        "UpdateItem",
        {
            "TableName": INBOX,
            "Key": {"pk": {"S": "w#c"}, "sk": {"S": f"message#{message}"}},
            "ExpressionAttributeValues": {":0": {"SS": [key]}, ":1": {"S": "{}"}},
        },
    )


def conversation_write() -> dict[str, Any]:
    return request("PutItem", {"TableName": INBOX, "Item": {"pk": {"S": "w#c"}, "sk": {"S": "conversation"}}})


def counter_transaction() -> dict[str, Any]:
    return request(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": METRICS, "Item": {"pk": {"S": "marker"}}}},
                {"Update": {"TableName": METRICS, "Key": {"pk": {"S": "day"}}}},
                {"ConditionCheck": {"TableName": METRICS, "Key": {"pk": {"S": "x"}}}},
            ]
        },
    )


def test_a_repeat_costs_a_refused_put_and_a_copy_sent_again_a_refused_message_write() -> None:
    recording = [
        dedupe_put("w#c#e1"),
        message_write("m1", "w#c#e1"),
        conversation_write(),
        counter_transaction(),
        dedupe_put("w#c#e2"),
        dedupe_put("w#c#e2"),  # a repeat of e2
        message_write("m2", "w#c#e2"),
        message_write("m2", "w#c#e2"),  # e2 queued again: its write refused
        dedupe_put("w#c#e3"),
        message_write("m3", "w#c#e3"),
        request("GetItem", {"TableName": INBOX, "Key": {}}),  # reads are no writes
        request("PutItem", {"TableName": "herald-local-posts", "Item": {"pk": {"S": "p"}}}),  # not counted
    ]
    writes = _ingest_writes(recording, TABLES, DEDUPE, INBOX)
    assert (writes.stored, writes.refused_dedupe, writes.refused_message, writes.off_path) == (6, 1, 1, 3)
    figures = _write_figures(writes, events=3, deliveries=4)
    assert figures["webhook_ddb_writes_per_event"] == 2.667  # 8 on the ingest path over 3 distinct events
    assert figures["webhook_ddb_writes_per_delivery"] == 2.0
    assert figures["webhook_ddb_writes_per_new_event"] == 2.0
    assert figures["webhook_ddb_refused_dedupe_puts"] == 1 and figures["webhook_ddb_refused_message_writes"] == 1
    assert figures["webhook_ddb_writes_per_event_off_path"] == 1.0  # the conversation put, the two counter items


def test_an_edit_of_a_message_is_a_new_write_of_it() -> None:
    recording = [message_write("m1", "w#c#created"), message_write("m1", "w#c#edited")]
    assert _ingest_writes(recording, TABLES, DEDUPE, INBOX).stored == 2


def test_the_plain_count_the_links_bench_uses_is_every_write_to_the_tables() -> None:
    recording = [dedupe_put("k"), dedupe_put("k"), counter_transaction(), conversation_write()]
    assert _count_writes(recording, {DEDUPE, METRICS}) == 4
