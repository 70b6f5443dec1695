"""The inbox tells webhook endpoints what arrived: a new conversation, each inbound message, each listening
match; once each, even when the queue consumer applies an event again."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.wiring import Container, use_container
from tests.support.fake_network import FakeNetwork, inbound
from tests.support.http import Api
from tests.support.outbound import allow_local_peers
from tests.support.streams import run_stream_consumers
from tests.support.webhook_receiver import WebhookReceiver, drain_webhooks
from tests.support.webhooks import queued_messages, run_inbox_worker, settle_inbox


@pytest.fixture
def deps(aws: Any, clock: Any) -> Container:
    return allow_local_peers(use_container(Container(clock=clock, clients=aws, sleep=lambda _s: None,
                                                     adapter_overrides={"bluesky": FakeNetwork()})))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def channel(api: Api) -> str:
    created = api.post("/channels", {"network": "bluesky", "name": "Herald on Bluesky", "credentials": {
        "service_url": "https://pds.example", "handle": "heraldcoffee.example", "app_password": "x"}})
    assert created.status_code == 201, created.body
    return str(created.json["id"])


def subscribe(api: Api, receiver: WebhookReceiver, *events: str) -> None:
    made = api.post("/webhook-endpoints", {"url": receiver.hook(), "events": list(events)})
    assert made.status_code == 201, made.body


def received(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received()]


def test_a_new_comment_opens_a_conversation_and_each_message_is_sent_once(
        api: Api, deps: Container, workspace: Any, channel: str, receiver: WebhookReceiver) -> None:
    subscribe(api, receiver, "conversation.created", "message.received")
    row = deps.channel_repository.get(workspace.id, channel)
    deps.ingest.ingest([inbound("at://c/1", text="Is the shop open?")], channel=row)
    bodies = queued_messages(deps)
    run_inbox_worker(bodies)
    run_inbox_worker(bodies)  # SQS delivered the inbox message twice
    deps.ingest.ingest([inbound("at://c/2", text="Hello?")], channel=row)
    settle_inbox(deps)
    run_stream_consumers(deps, from_start=True)  # the stream delivered every record again
    drain_webhooks(deps)
    sent = received(receiver)
    assert [(s["type"], s["data"].get("message_id")) for s in sent] == [
        ("conversation.created", None), ("message.received", "at://c/1"), ("message.received", "at://c/2")]
    [conversation] = api.get("/inbox/conversations").json["items"]
    assert {s["data"]["conversation_id"] for s in sent} == {conversation["id"]}
    assert sent[1]["data"]["text"] == "Is the shop open?"
    assert sent[1]["data"]["author"] == {"id": "did:plc:ada", "name": "Ada Lovelace", "handle": "ada.example"}


def test_a_listening_match_is_sent_as_mention_matched(api: Api, deps: Container, workspace: Any, channel: str,
                                                       receiver: WebhookReceiver) -> None:
    subscribe(api, receiver, "mention.matched")
    rule = api.post("/listening/rules", {"name": "Brand", "any_of": ["herald"]}).json
    row = deps.channel_repository.get(workspace.id, channel)
    deps.ingest.ingest([inbound("at://c/1", text="I love Herald coffee"),
                        inbound("at://c/2", text="nothing to see")], channel=row)
    settle_inbox(deps)
    drain_webhooks(deps)
    [sent] = received(receiver)
    assert sent["type"] == "mention.matched"
    assert (sent["data"]["rule_id"], sent["data"]["rule_name"], sent["data"]["message_id"]) == (
        rule["id"], "Brand", "at://c/1")
    assert sent["data"]["matched_terms"] == ["herald"]
