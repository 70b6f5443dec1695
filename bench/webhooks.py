"""Webhook ingest under a burst: signed Meta deliveries against the running local stack.

    run(api_url, aws_endpoint_url) -> {"webhook_events_per_s", "webhook_ddb_writes_per_event",
                                       "raw_putitem_per_s", ...}

- `webhook_events_per_s`: deliveries answered 200 per second, for a burst of
  single-comment Meta deliveries of which 10% are exact repeats (a network retrying).
- `webhook_ddb_writes_per_event`: DynamoDB write requests (PutItem, UpdateItem,
  DeleteItem, and each item of BatchWriteItem/TransactWriteItems) on the ingest path
  (the `webhook_events` dedupe put and the `inbox` message write) from the first
  delivery until the `inbox_events` queue has drained, divided by the distinct
  events. Counted with the emulator's request recorder (moto's /moto-api/recorder),
  so it includes the queue consumer's writes and the refused conditional writes of
  the repeats; `webhook_ddb_writes_per_delivery` divides the same by the deliveries
  received (a repeat is an inbound event too).
- What those writes did: `webhook_ddb_writes_per_new_event` the ones that stored
  something (the first write of each dedupe key and of each event into its message;
  the goal: 2), `webhook_ddb_refused_dedupe_puts` the repeats' refused dedupe puts
  (one per repeat: that refusal is the deduplication), `webhook_ddb_refused_message_writes`
  an event written into its message a second time and refused (an event queued again
  by a repeat, `webhook_requeued`, or a queue message SQS delivered again). The
  recorder keeps requests, not answers: a write is "refused" when an earlier request
  wrote the same dedupe key, or the same event key into the same message.
- `webhook_ddb_writes_per_event_off_path`: the other writes to the tables an event
  leads to (conversations, mentions, counters and their markers), made by the inbox
  table stream's consumer in the same window and up to STREAM_SETTLE_S after it,
  divided by the distinct events.
- `raw_putitem_per_s`: plain PutItem calls of an item of the same size, with the same
  concurrency, against the same emulator in the same run: the ceiling to compare with.

Needs the stack's Meta app secret (HERALD_META_APP_SECRET) and an owner or admin
API key (HERALD_API_KEY, else `.local/api-key`); table and queue names come from
HERALD_STAGE as in chalicelib/core/settings.py.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 1000
DUPLICATE_SHARE = 0.10
CONCURRENCY = 8
POSTS = 40  # comments spread over this many posts: many conversations, some busy ones
DRAIN_TIMEOUT_S = 180.0
STREAM_SETTLE_S = 10.0  # after the queue drained, the stream consumer's last writes
RAW_PUTS = 1000
# Every table an inbound event writes to: the dedupe item, the conversation, mentions, the counters.
COUNTED_TABLES = ("webhook_events", "inbox", "inbox_config", "metrics")
WRITE_TARGETS = {"PutItem", "UpdateItem", "DeleteItem"}
WRITE_FIGURES = ("webhook_ddb_writes_per_event", "webhook_ddb_writes_per_delivery", "webhook_ddb_writes_per_new_event",
                 "webhook_ddb_refused_dedupe_puts", "webhook_ddb_refused_message_writes",
                 "webhook_ddb_writes_per_event_off_path")


def run(api_url: str, aws_endpoint_url: str, *, network_apis: Any, events: int = EVENTS,
        concurrency: int = CONCURRENCY) -> dict[str, Any]:
    """`network_apis` is the fake of the networks' APIs the stack verifies channels with
    (tests/fakes/network_apis.py): it is told the bench's Page token before the channel connects."""
    import requests

    from chalicelib.core.settings import resource_name, table_env_var

    stage = os.environ.get("HERALD_STAGE", "local")
    names = {t: os.environ.get(table_env_var(t), resource_name(stage, t)) for t in COUNTED_TABLES}
    tables = set(names.values())
    queue_name = os.environ.get("HERALD_QUEUE_INBOX_EVENTS", resource_name(stage, "inbox_events"))
    secret = os.environ.get("HERALD_META_APP_SECRET", "")
    if not secret:
        raise SystemExit("bench/webhooks: set HERALD_META_APP_SECRET to the local stack's Meta app secret")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {_api_key()}"
    page_id = str(10**15 + secrets.randbelow(10**15))
    network_apis.facebook_page("bench-page-token", page_id, "Webhook bench")
    created = api.post(f"{api_url}/channels", json={
        "network": "facebook", "name": "Webhook bench", "credentials": {"page_access_token": "bench-page-token"}},
        timeout=30)
    created.raise_for_status()
    channel_id = created.json()["id"]

    bodies = [_delivery(page_id, number) for number in range(events)]
    rng = random.Random(4)
    burst = bodies + rng.sample(bodies, int(events * DUPLICATE_SHARE))
    rng.shuffle(burst)

    recorder = _Recorder(aws_endpoint_url)
    recorder.start()
    hooks = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=concurrency, pool_maxsize=concurrency)
    hooks.mount("http://", adapter)

    def deliver(body: bytes) -> tuple[int, int]:
        """(the status, how many of the delivery's events the answer says were queued again)"""
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        response = hooks.post(f"{api_url}/webhooks/meta", data=body, timeout=60, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": signature})
        return response.status_code, int(response.json().get("requeued", 0)) if response.ok else 0

    answers, elapsed = _timed(burst, deliver, concurrency)
    drained = _wait_for_drain(aws_endpoint_url, queue_name)
    time.sleep(STREAM_SETTLE_S)
    recorded = recorder.stop()
    writes = (_ingest_writes(recorded, tables, names["webhook_events"], names["inbox"])
              if recorded is not None else None)
    # A stored event weighs about what its delivery does: the normalised JSON is close in size.
    raw_per_s = _raw_putitem_per_s(aws_endpoint_url, len(bodies[0]), concurrency)
    api.delete(f"{api_url}/channels/{channel_id}", timeout=30)

    answered = sum(1 for status, _requeued in answers if status == 200)
    return {
        "webhook_events_per_s": round(answered / elapsed, 1),
        **_write_figures(writes, events, len(burst)),
        "webhook_requeued": sum(requeued for _status, requeued in answers),
        "raw_putitem_per_s": round(raw_per_s, 1),
        "webhook_deliveries": len(burst),
        "webhook_distinct_events": events,
        "webhook_non_200": len(burst) - answered,
        "webhook_queue_drained": drained,
    }


def _write_figures(writes: IngestWrites | None, events: int, deliveries: int) -> dict[str, Any]:
    if writes is None:  # an emulator without moto's recorder
        return dict.fromkeys(WRITE_FIGURES)
    return {
        "webhook_ddb_writes_per_event": round(writes.ingest / events, 3),
        "webhook_ddb_writes_per_delivery": round(writes.ingest / deliveries, 3),
        "webhook_ddb_writes_per_new_event": round(writes.stored / events, 3),
        "webhook_ddb_refused_dedupe_puts": writes.refused_dedupe,
        "webhook_ddb_refused_message_writes": writes.refused_message,
        "webhook_ddb_writes_per_event_off_path": round(writes.off_path / events, 2),
    }


def _api_key() -> str:
    key = os.environ.get("HERALD_API_KEY")
    if key:
        return key.strip()
    path = ROOT / ".local" / "api-key"
    if not path.exists():
        raise SystemExit("bench/webhooks: set HERALD_API_KEY or start the stack with `make run`")
    return path.read_text().strip()


def _delivery(page_id: str, number: int) -> bytes:
    """One Page feed comment, shaped as tests/events/meta/feed_comment_add.json."""
    post_id = f"{page_id}_{900000 + number % POSTS}"
    created = 1_770_000_000 + number
    return json.dumps({"object": "page", "entry": [{"id": page_id, "time": created, "changes": [{
        "field": "feed",
        "value": {"from": {"id": str(7_000_000 + number % 97), "name": f"Reader {number % 97}"},
                  "message": f"Comment number {number}: do you ship to Lisbon?", "post_id": post_id,
                  "comment_id": f"{post_id.split('_')[1]}_{5_000_000 + number}", "created_time": created,
                  "item": "comment", "parent_id": post_id, "verb": "add"}}]}]}).encode()


def _timed(items: list[Any], call: Callable[[Any], Any], concurrency: int) -> tuple[list[Any], float]:
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        started = time.perf_counter()
        results = list(pool.map(call, items))
        return results, time.perf_counter() - started


def _wait_for_drain(aws_endpoint_url: str, queue_name: str) -> bool:
    sqs = _client("sqs", aws_endpoint_url)
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    deadline, quiet = time.monotonic() + DRAIN_TIMEOUT_S, 0
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        waiting = sum(int(value) for value in attributes.values())
        quiet = quiet + 1 if waiting == 0 else 0
        if quiet >= 3:  # three empty looks in a row: the consumer is done
            return True
        time.sleep(0.5)
    return False


def _raw_putitem_per_s(aws_endpoint_url: str, item_bytes: int, concurrency: int) -> float:
    dynamodb = _client("dynamodb", aws_endpoint_url)
    table = f"herald-bench-raw-{secrets.token_hex(4)}"
    dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    padding = "x" * max(0, item_bytes - 40)
    try:
        def put(number: int) -> int:
            dynamodb.put_item(TableName=table, Item={"pk": {"S": f"item-{number}"}, "body": {"S": padding}})
            return 200

        _, elapsed = _timed(list(range(RAW_PUTS)), put, concurrency)
        return RAW_PUTS / elapsed
    finally:
        dynamodb.delete_table(TableName=table)


def _client(service: str, endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
                        config=Config(max_pool_connections=CONCURRENCY * 2))


class _Recorder:
    """moto's request recorder: every request the emulator served while it ran."""

    def __init__(self, endpoint: str) -> None:
        import requests

        self.endpoint = endpoint.rstrip("/")
        self.http = requests.Session()
        self.available = False

    def start(self) -> None:
        reset = self.http.post(f"{self.endpoint}/moto-api/recorder/reset-recording", timeout=10)
        started = self.http.post(f"{self.endpoint}/moto-api/recorder/start-recording", timeout=10)
        self.available = reset.ok and started.ok

    def stop(self) -> list[dict[str, Any]] | None:
        if not self.available:
            return None
        self.http.post(f"{self.endpoint}/moto-api/recorder/stop-recording", timeout=10)
        text = self.http.get(f"{self.endpoint}/moto-api/recorder/download-recording", timeout=60).text
        self.http.post(f"{self.endpoint}/moto-api/recorder/reset-recording", timeout=10)
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _on_ingest_path(table: str, item: dict[str, Any], dedupe_table: str, inbox_table: str) -> bool:
    """The dedupe put, or a write of a message item (not a conversation's): the ingest path's writes."""
    if table == dedupe_table:
        return True
    if table != inbox_table:
        return False
    key = item.get("Key") or item.get("Item") or {}
    return str((key.get("sk") or {}).get("S", "")).startswith("message#")


def _write_identity(table: str, item: dict[str, Any]) -> tuple[Any, ...]:
    """What one ingest write stores: the dedupe item's event key, or the message and the event keys it adds.
    The first write of an identity stores it; a later one is refused by its condition (`attribute_not_exists`,
    the message's `events` not containing the key)."""
    if "Item" in item:
        return (table, str((item["Item"].get("event_key") or {}).get("S", "")))
    key = item.get("Key") or {}
    added = sorted(value for typed in (item.get("ExpressionAttributeValues") or {}).values()
                   for value in typed.get("SS", []))
    return (table, str((key.get("pk") or {}).get("S", "")), str((key.get("sk") or {}).get("S", "")), *added)


def _requests(entry: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(table, request) of each item a recorded DynamoDB call writes."""
    headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
    target = str(headers.get("x-amz-target", ""))
    if not target.startswith("DynamoDB_"):
        return []
    operation = target.split(".", 1)[1]
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    try:
        request = json.loads(body) if body else {}
    except ValueError:
        return []
    if operation in WRITE_TARGETS:
        return [(str(request.get("TableName")), request)]
    if operation == "BatchWriteItem":
        return [(table, next(iter(one.values()), {})) for table, items in request.get("RequestItems", {}).items()
                for one in items]
    if operation == "TransactWriteItems":  # a ConditionCheck writes nothing
        return [(str(item[kind].get("TableName")), item[kind]) for item in request.get("TransactItems", [])
                for kind in ("Put", "Update", "Delete") if kind in item]
    return []


def _count_writes(recorded: list[dict[str, Any]], tables: set[str]) -> int:
    """Write requests to `tables` (each item of a batch or a transaction one), refused ones included."""
    return sum(1 for entry in recorded for table, _item in _requests(entry) if table in tables)


@dataclass
class IngestWrites:
    """The write requests of a burst on `tables`, by what they did."""

    stored: int = 0  # ingest path: the first write of each dedupe item and of each event into its message
    refused_dedupe: int = 0  # ingest path: a repeat's dedupe put, refused (the event was stored already)
    refused_message: int = 0  # ingest path: an event written into its message again, refused
    off_path: int = 0  # the stream consumer's: conversations, mentions, counters and their markers

    @property
    def ingest(self) -> int:
        return self.stored + self.refused_dedupe + self.refused_message


def _ingest_writes(recorded: list[dict[str, Any]], tables: set[str], dedupe_table: str,
                   inbox_table: str) -> IngestWrites:
    writes = IngestWrites()
    seen: set[tuple[Any, ...]] = set()
    for entry in recorded:
        for table, item in _requests(entry):
            if table not in tables:
                continue
            if not _on_ingest_path(table, item, dedupe_table, inbox_table):
                writes.off_path += 1
                continue
            identity = _write_identity(table, item)
            if identity not in seen:
                seen.add(identity)
                writes.stored += 1
            elif table == dedupe_table:
                writes.refused_dedupe += 1
            else:
                writes.refused_message += 1
    return writes
