"""Signing fixture payloads the way each network does, and playing the
`inbox_events` queue into its consumer the way SQS feeds Lambda."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from chalicelib.core.clock import to_rfc3339
from tests.support.events import EVENTS, event_bytes

META_SECRET = os.environ["HERALD_META_APP_SECRET"]
META_VERIFY_TOKEN = os.environ["HERALD_META_VERIFY_TOKEN"]
X_SECRET = os.environ["HERALD_X_CONSUMER_SECRET"]
LINKEDIN_SECRET = os.environ["HERALD_LINKEDIN_CLIENT_SECRET"]
TIKTOK_SECRET = os.environ["HERALD_TIKTOK_CLIENT_SECRET"]


def _mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def meta_headers(body: bytes, secret: str = META_SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + _mac(secret, body).hex(), "Content-Type": "application/json"}


def x_headers(body: bytes, secret: str = X_SECRET) -> dict[str, str]:
    signature = base64.b64encode(_mac(secret, body)).decode()
    return {"x-twitter-webhooks-signature": "sha256=" + signature, "Content-Type": "application/json"}


def linkedin_headers(body: bytes, secret: str = LINKEDIN_SECRET) -> dict[str, str]:
    return {"X-LI-Signature": _mac(secret, b"hmacsha256=" + body).hex(), "Content-Type": "application/json"}


def tiktok_headers(body: bytes, at: datetime, secret: str = TIKTOK_SECRET) -> dict[str, str]:
    stamp = str(int(at.timestamp()))
    signature = _mac(secret, stamp.encode() + b"." + body).hex()
    return {"TikTok-Signature": f"t={stamp},s={signature}", "Content-Type": "application/json"}


def signed_headers(network: str, body: bytes, at: datetime, secret: str) -> dict[str, str]:
    """`body` signed the way `network`'s receiver checks, with any secret."""
    if network == "tiktok":
        return tiktok_headers(body, at, secret)
    return {"meta": meta_headers, "x": x_headers, "linkedin": linkedin_headers}[network](body, secret)


# A handshake of the shape each network documents (Meta: an int; X's worked example: a UUID; LinkedIn: a UUID).
DOCUMENTED_HANDSHAKES: dict[str, dict[str, str]] = {
    "meta": {"hub.mode": "subscribe", "hub.verify_token": META_VERIFY_TOKEN, "hub.challenge": "1158201444"},
    "x": {"crc_token": "9b4507b3-9040-4669-9ca3-6b94edb50553"},
    "linkedin": {"challengeCode": "890e4665-4dfe-4ab1-b689-ed553bceeed0"},
}


def json_objects_as_text() -> list[str]:
    """Texts a POST receiver would parse as a JSON object: every webhook fixture, as it is and compacted,
    behind and before the whitespace (and byte order mark) `json.loads` skips, and the smallest objects."""
    objects = ['{}', '{"a":1}', '{"":""}']
    for network in ("meta", "x", "linkedin", "tiktok"):
        for path in sorted((EVENTS / network).glob("*.json")):
            text = path.read_text()
            objects += [text, json.dumps(json.loads(text), separators=(",", ":"))]
    edges = [("", ""), (" ", ""), ("\n", ""), ("\t", ""), ("\r", ""), ("\ufeff", ""), (" \r\n\t", "\n"),
             ("", " ")]
    return [before + text + after for text in objects for before, after in edges]


def random_tokens(alphabet: frozenset[str], count: int = 300, seed: int = 10) -> list[str]:
    """Tokens of 1..256 characters drawn from `alphabet`, the same ones every run."""
    chooser, letters = random.Random(seed), sorted(alphabet)
    return ["".join(chooser.choices(letters, k=chooser.randint(1, 256))) for _ in range(count)]


def fixture(network: str, name: str) -> bytes:
    return event_bytes(network, name)


def as_bytes(payload: Any) -> bytes:
    return json.dumps(payload).encode()


class Webhooks:
    """Posts signed deliveries to the app through Chalice's test client."""

    def __init__(self, client: Any, clock: Any) -> None:
        self.client = client
        self.clock = clock

    def post(self, network: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
        signed = headers if headers is not None else self.sign(network, body)
        response = self.client.http.post(f"/webhooks/{network}", headers=signed, body=body)
        response.json = json.loads(response.body) if response.body[:1] == b"{" else None
        return response

    def sign(self, network: str, body: bytes) -> dict[str, str]:
        if network == "meta":
            return meta_headers(body)
        if network == "x":
            return x_headers(body)
        if network == "linkedin":
            return linkedin_headers(body)
        return tiktok_headers(body, self.clock.now())

    def get(self, network: str, query: str | dict[str, str]) -> Any:
        """A GET handshake; a dict query is percent-encoded (`+` and spaces included), as a network would."""
        if isinstance(query, dict):
            query = urlencode(query, quote_via=quote)
        response = self.client.http.get(f"/webhooks/{network}?{query}")
        response.json = json.loads(response.body) if response.body[:1] == b"{" else None
        return response


def queued_messages(deps: Any) -> list[str]:
    """Takes every message off the inbox queue (moto's SQS), without running them."""
    sqs, url = deps.client("sqs"), deps.inbox_queue.url
    bodies = []
    while True:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def run_inbox_worker(bodies: list[str], receive_count: int = 1) -> dict[str, Any]:
    """Runs the consumer Lambda on these message bodies, as one SQS batch; `receive_count`: how many times
    SQS has handed each out (more than 1: delivered again)."""
    from chalicelib.inbox.inbox_jobs import inbox_worker

    attributes = {"ApproximateReceiveCount": str(receive_count)}
    records = [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body, "attributes": attributes,
                "messageAttributes": {}, "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:inbox-events"}
               for i, body in enumerate(bodies)]
    return inbox_worker({"Records": records}, None)


def drain_inbox(deps: Any) -> int:
    """Plays the queue into the consumer until it is empty; returns how many messages ran."""
    ran = 0
    for _round in range(10):
        bodies = queued_messages(deps)
        if not bodies:
            return ran
        answer = run_inbox_worker(bodies)
        assert answer["batchItemFailures"] == [], answer
        ran += len(bodies)
    raise AssertionError("the inbox queue never drained")


def settle_inbox(deps: Any) -> int:
    """The whole way in: the queue played into its consumer (the message writes), then the inbox table's
    stream into its consumer (conversations, listening, counters, webhook events). Returns the messages run."""
    from tests.support.streams import run_stream_consumers

    ran = drain_inbox(deps)
    run_stream_consumers(deps)
    return ran


def table_items(deps: Any, logical: str) -> list[dict[str, Any]]:
    """Every item of a table. Tests may Scan: this is how they see what the code stored."""
    paginator = deps.client("dynamodb").get_paginator("scan")
    pages = paginator.paginate(TableName=deps.settings.table(logical))
    return [item for page in pages for item in page["Items"]]


def stored_event_keys(deps: Any) -> list[str]:
    return sorted(item["event_key"]["S"] for item in table_items(deps, "webhook_events"))


def outcomes(deps: Any, receiver: str, clock: Any) -> dict[str, int]:
    """What a receiver answered 200 to without storing, counted for today."""
    return deps.inbox_config_repository.webhook_outcomes(receiver, clock.now().strftime("%Y-%m-%d"))


def assert_nothing_stored(deps: Any) -> None:
    assert stored_event_keys(deps) == []
    assert table_items(deps, "inbox") == []
    assert queued_messages(deps) == []


def iso(moment: datetime) -> str:
    return to_rfc3339(moment) or ""


def common_bad_deliveries(body: bytes, sign: Any,
                          unknown_shape: bytes) -> dict[str, tuple[bytes, dict[str, str], int]]:
    """The bad-input cases every receiver must refuse (4xx) without storing anything.

    `sign(body, secret=None)` gives the network's signed headers; `unknown_shape`
    is valid JSON with none of the fields the network documents.
    """
    reserialised = json.dumps(json.loads(body)).encode()
    oversized = b'{"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    utf16, with_bom = reserialised.decode().encode("utf-16"), b"\xef\xbb\xbf" + reserialised
    return {
        "the event in UTF-16": (utf16, sign(utf16), 400),
        "the event behind a byte order mark": (with_bom, sign(with_bom), 400),
        "no signature": (body, {}, 401),
        "signed with another secret": (body, sign(body, secret="not-our-secret"), 401),
        "signature over other bytes": (body, sign(reserialised), 401),
        "tampered body": (body[:-2] + b" }", sign(body), 401),
        "malformed JSON": (b'{"oops": [', sign(b'{"oops": ['), 400),
        "a JSON list": (b"[]", sign(b"[]"), 400),
        "nothing of the documented shape": (unknown_shape, sign(unknown_shape), 400),
        "body over the limit": (oversized, sign(oversized), 413),
    }
