"""The tick spreads its minute over one unit per due shard, each done by a tick worker through the real
handlers; a unit pages with a time budget and hands the rest on; a unit killed between marking rows queued and
sending their messages leaves nothing stuck: the sweep sends them again a minute after their lease."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.publishing.engine import tick_horizon
from chalicelib.publishing.publish_queue import TickUnit
from chalicelib.publishing.publishing_jobs import tick, tick_worker
from infra.local.sqs_poller import sqs_event
from tests.functional.publishing.test_publishing import received, run_messages, sandbox, schedule
from tests.support.events import load_event
from tests.support.queues import RecordingQueue

SCHEDULED = load_event("aws", "eventbridge_scheduled_event.json")  # EventBridge user guide

ARN = "arn:aws:sqs:us-east-1:123456789012:tick"


class Killed(BaseException):
    """The tick worker's Lambda stopping mid-run (a timeout): nothing in the engine may catch it."""


@pytest.fixture
def queues(deps):
    publish, units = RecordingQueue(), RecordingQueue()
    deps.publish_queue = publish
    deps.tick_queue = units
    return publish, units


def run_units(deps, units) -> list[dict]:
    answers = []
    while batch := units.take():
        for index, (unit, _delay) in enumerate(batch):
            event = sqs_event([{"MessageId": f"u{index}", "ReceiptHandle": f"r{index}", "Body": unit.body(),
                                "MD5OfBody": ""}], ARN, "us-east-1")
            answers.append(tick_worker(event, None))
    return answers


def test_the_tick_sends_one_unit_per_shard_and_the_units_queue_what_is_due(deps, api, clock, queues):
    publish, units = queues
    channel = sandbox(api)
    posts = [schedule(api, clock, [channel], seconds=130 + i, text=f"Post {i}")[0] for i in range(12)]
    clock.advance(60)
    assert tick(SCHEDULED, None) == {"units": deps.settings.due_shards}
    sent = units.sent[:]
    assert sorted(unit.shard for unit, _ in sent) == list(range(deps.settings.due_shards))
    assert all(unit.cursor is None for unit, _ in sent) and publish.sent == []
    assert run_units(deps, units) == [{"batchItemFailures": []}] * deps.settings.due_shards
    assert sorted(m.post_id for m, _ in publish.sent) == sorted(posts)


def test_a_unit_out_of_time_hands_the_rest_of_its_shard_to_a_new_unit(deps, api, clock, queues):
    publish, units = queues
    channel = sandbox(api)
    for i in range(30):
        schedule(api, clock, [channel], seconds=130 + i, text=f"Post {i}")
    clock.advance(60)
    seconds = iter(range(0, 10_000, 15))  # each read of the timer: 15 s later (a slow page)
    deps.engine.timer = lambda: float(next(seconds))
    deps.engine.tick_page = 2
    later = clock.now() + timedelta(hours=1)
    busiest = max(range(deps.settings.due_shards),
                  key=lambda shard: sum(1 for _ in deps.delivery_repository.due(shard, later)))
    horizon = to_rfc3339(tick_horizon(clock.now()))
    report = deps.engine.run_tick_unit(TickUnit(busiest, horizon))
    assert (report.queued, report.continued) == (4, 1)  # two pages inside 20 s, then handed on
    [(rest, delay)] = units.take()
    assert (rest.shard, delay) == (busiest, 0) and rest.cursor
    assert TickUnit.parse(rest.body()) == rest and json.loads(rest.body())["cursor"] == rest.cursor
    deps.engine.timer = lambda: 0.0
    total = report.queued + deps.engine.run_tick_unit(rest).queued
    assert total == sum(1 for m, _ in publish.sent) and len({m.post_id for m, _ in publish.sent}) == total


def test_a_unit_killed_between_marking_and_sending_leaves_nothing_stuck(deps, api, clock, queues):
    publish, units = queues
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=130)
    clock.advance(60)

    def killed(step):
        if step == "tick_marked":
            raise Killed(step)

    deps.engine.checkpoint = killed
    tick(SCHEDULED, None)
    with pytest.raises(Killed):
        run_units(deps, units)
    assert publish.sent == []
    assert api.get(f"/posts/{post_id}").json["deliveries"][0]["status"] == "queued"  # marked, never sent
    deps.engine.checkpoint = lambda _step: None
    units.take()

    clock.set(publish_at + timedelta(seconds=61))  # its lease (due + 60 s) has run out: the next tick sends it
    tick(SCHEDULED, None)
    run_units(deps, units)
    assert [m.post_id for m, _ in publish.sent] == [post_id]
    assert run_messages(deps, publish, clock) == ["published"]
    assert len(received(api, channel)) == 1
