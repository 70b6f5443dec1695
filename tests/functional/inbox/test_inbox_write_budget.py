"""Issue 14, finding 5: an inbound event costs at most two DynamoDB write requests on its way in (one to
deduplicate, one to store); the conversation, the counters, listening and webhook events belong off that
path. Counted through PynamoDB's pre-send signal (tests/support/dynamodb_calls.py) while the webhook path
and the `inbox_events` consumer handle one new comment.

The queue consumer writes the message only; the conversation, mentions, counters and webhook events
follow from the inbox table's stream (`thread_messages`), which this test does not run."""
from __future__ import annotations

import pytest

from chalicelib.wiring import Container, use_container
from tests.support.dynamodb_calls import WRITES, dynamodb_calls
from tests.support.fake_network import FakeNetwork, inbound
from tests.support.webhooks import drain_inbox

POST = "at://did:plc:heraldcoffee/app.bsky.feed.post/3kpost"


@pytest.fixture
def deps(aws, clock):
    return use_container(Container(clock=clock, clients=aws, sleep=lambda _s: None,
                                   adapter_overrides={"bluesky": FakeNetwork()}))


@pytest.fixture
def channel(deps, api, workspace):
    created = api.post("/channels", {"network": "bluesky", "name": "Main", "credentials": {
        "service_url": "https://pds.example", "handle": "heraldcoffee.example", "app_password": "x"}})
    assert created.status_code == 201, created.body
    return deps.channel_repository.get(workspace.id, created.json["id"])


def test_a_new_comment_costs_two_writes_on_its_way_in(deps, channel):
    with dynamodb_calls() as calls:
        deps.ingest.ingest([inbound("c1", thread=POST)], channel=channel)
        drain_inbox(deps)
    assert calls.count(*WRITES) <= 2, calls.calls
