"""What the inbox counts for metrics: each inbound message, match, reply and first response once."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.wiring import Container, use_container
from tests.support.fake_network import FakeNetwork, inbound
from tests.support.streams import run_stream_consumers
from tests.support.webhooks import queued_messages, run_inbox_worker, settle_inbox

POST = "at://did:plc:heraldcoffee/app.bsky.feed.post/3kpost"
DAY = date(2026, 3, 2)  # the fixtures' clock, in the workspace's UTC


@pytest.fixture
def deps(aws, clock):
    return use_container(Container(clock=clock, clients=aws, sleep=lambda _s: None,
                                   adapter_overrides={"bluesky": FakeNetwork()}))



@pytest.fixture
def channel(api):
    created = api.post("/channels", {"network": "bluesky", "name": "Main", "credentials": {
        "service_url": "https://pds.example", "handle": "heraldcoffee.example", "app_password": "x"}})
    assert created.status_code == 201, created.body
    return created.json["id"]


@pytest.fixture
def ingest(deps, workspace):
    def ingest(channel_id, *events):
        deps.ingest.ingest(list(events), channel=deps.channel_repository.get(workspace.id, channel_id))

    return ingest


def counted(deps, workspace, channel):
    counters, _rows = deps.metrics_repository.window(workspace.id, channel, DAY, DAY)
    return counters.get(DAY)


def test_inbound_messages_are_counted_once_and_conversations_when_they_open(deps, api, workspace, channel,
                                                                           ingest):
    ingest(channel, inbound("c1", thread=POST), inbound("c2", thread=POST),
           inbound("d1", kind="message", thread="did:plc:ada"))
    bodies = queued_messages(deps)
    run_inbox_worker(bodies)
    run_inbox_worker(bodies)  # SQS delivered the batch again
    ingest(channel, inbound("c1", thread=POST))  # and the network sent one again
    settle_inbox(deps)
    run_stream_consumers(deps, from_start=True)  # and the stream delivered every record again

    counts = counted(deps, workspace, channel)
    assert (counts.count("comments"), counts.count("messages"), counts.count("conversations")) == (2, 1, 2)


def test_listening_matches_are_counted(deps, api, workspace, channel, ingest):
    api.post("/listening/rules", {"name": "Brand", "any_of": ["herald"]})
    api.post("/listening/rules", {"name": "Coffee", "any_of": ["coffee"]})
    ingest(channel, inbound("c1", thread=POST, text="Herald coffee!"), inbound("c2", thread=POST, text="tea"))
    settle_inbox(deps)

    assert counted(deps, workspace, channel).count("listening_matches") == 2


def test_replies_and_the_first_response_are_counted_once(deps, api, workspace, channel, ingest, clock):
    ingest(channel, inbound("c1", thread=POST))
    settle_inbox(deps)
    [conversation] = api.get("/inbox/conversations").json["items"]
    clock.advance(seconds=95)
    api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "Hello!"})
    clock.advance(minutes=5)
    api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "Anything else?"})

    counts = counted(deps, workspace, channel)
    assert counts.count("replies_sent") == 2
    assert counts.count("answered") == 1 and counts.first_response_s == [95.0]
