"""A claim belongs to one message: the one the engine sent last for the delivery (its send token), and only
once that message is due. Copies SQS delivers again, and messages of earlier attempts, do nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.functional.publishing.test_publishing import received, run_messages, sandbox, schedule
from tests.support.queues import RecordingQueue


@pytest.fixture
def queue(deps):
    recording = RecordingQueue()
    deps.publish_queue = recording
    return recording


def test_a_copy_of_the_first_message_does_not_skip_the_retrys_backoff(deps, api, clock, queue):
    channel = sandbox(api, fail="500", fail_times=1)
    post_id, publish_at = schedule(api, clock, [channel], seconds=10)
    clock.set(publish_at)
    deps.engine.jitter = lambda: 0.5
    [(first, _)] = queue.take()
    assert deps.engine.publish_delivery(first) == "retrying"
    [(retry, delay)] = queue.take()
    assert delay == 15  # the backoff

    clock.advance(2)  # SQS delivers the first message again, long before the retry is due
    assert deps.engine.publish_delivery(first) == "dropped"
    assert received(api, channel) == []
    delivery = api.get(f"/posts/{post_id}").json["deliveries"][0]
    assert (delivery["status"], delivery["attempts"]) == ("queued", 1)

    clock.advance(delay)
    assert deps.engine.publish_delivery(retry) == "published"
    assert deps.engine.publish_delivery(first) == "dropped"  # and once more, after it is out
    assert len(received(api, channel)) == 1


def test_a_message_of_an_earlier_attempt_does_not_claim_the_retry_early(deps, api, clock, queue):
    """Retry-After is honoured even against a copy of the retry's own predecessor that arrives late."""
    channel = sandbox(api, fail="429", fail_times=2)
    post_id, publish_at = schedule(api, clock, [channel], seconds=10)
    clock.set(publish_at)
    deps.engine.jitter = lambda: 0.5
    [(first, _)] = queue.take()
    assert deps.engine.publish_delivery(first) == "retrying"
    [(second, delay)] = queue.take()
    clock.advance(delay)
    assert deps.engine.publish_delivery(second) == "retrying"
    [(third, later)] = queue.take()
    assert later >= 30
    for stale in (first, second):  # both come back while the third waits for its second
        assert deps.engine.publish_delivery(stale) == "dropped"
    assert api.get(f"/posts/{post_id}").json["deliveries"][0]["attempts"] == 2
    clock.advance(later)
    assert deps.engine.publish_delivery(third) == "published"


def test_a_message_that_arrives_long_before_it_is_due_comes_back_at_its_time(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=100)
    deps.engine.publish_due_deliveries()
    [(message, _)] = queue.take()
    clock.set(publish_at - timedelta(seconds=40))
    assert deps.engine.publish_delivery(message) == "early"
    [(again, delay)] = queue.take()
    assert again == message and delay == 40
    assert api.get(f"/posts/{post_id}").json["deliveries"][0]["status"] == "queued"
    clock.set(publish_at)
    assert deps.engine.publish_delivery(again) == "published"


def test_a_lost_message_is_sent_again_a_minute_after_its_lease_even_behind_a_backlog(deps, api, clock, queue):
    """Whatever the queue's depth (the tick no longer reads it): the copy and a late original claim once."""
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    [(original, _)] = queue.take()  # queued when made; late, behind a long queue
    clock.set(publish_at + timedelta(seconds=61))
    assert deps.engine.publish_due_deliveries().resent == 1
    [(copy, _)] = queue.take()
    assert run_messages(deps, queue, clock) == []
    assert [deps.engine.publish_delivery(m) for m in (copy, original)] == ["published", "dropped"]
    assert len(received(api, channel)) == 1
    assert api.get(f"/posts/{post_id}").json["status"] == "published"


def test_a_late_original_and_its_copy_publish_once_whichever_comes_first(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    [(original, _)] = queue.take()
    clock.set(publish_at + timedelta(seconds=61))
    assert deps.engine.publish_due_deliveries().resent == 1
    [(copy, _)] = queue.take()
    assert [deps.engine.publish_delivery(m) for m in (original, copy)] == ["published", "dropped"]
    assert len(received(api, channel)) == 1
