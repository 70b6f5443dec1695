"""A claim belongs to one message: the one the engine sent last for the delivery (its send token), and only
once that message is due. Copies SQS delivers again, and messages of earlier attempts, do nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.functional.publishing.test_publishing import received, sandbox, schedule
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


def test_a_lost_message_is_sent_again_a_minute_after_its_lease_when_nothing_waits_in_the_queue(
        deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    queue.take()  # queued when made, then lost
    clock.set(publish_at + timedelta(seconds=61))
    assert deps.engine.publish_due_deliveries().resent == 1
    [(copy, _)] = queue.take()
    assert deps.engine.publish_delivery(copy) == "published"
    assert len(received(api, channel)) == 1
    assert api.get(f"/posts/{post_id}").json["status"] == "published"


def test_a_late_message_behind_waiting_messages_is_left_in_its_line_until_the_backlog_grace_ends(
        deps, api, clock, queue):
    """A copy would join the same line, cost a write and a refused claim, and make the line longer."""
    from chalicelib.publishing.engine import BACKLOG_GRACE, QUEUED_GRACE

    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    [(original, _)] = queue.take()  # queued when made; late, behind a long queue
    queue.waiting_messages = 4000
    clock.set(publish_at + QUEUED_GRACE + timedelta(seconds=1))
    report = deps.engine.publish_due_deliveries()
    assert (report.resent, report.waiting, queue.take()) == (0, 1, [])
    clock.set(publish_at + QUEUED_GRACE + BACKLOG_GRACE - timedelta(seconds=1))
    assert deps.engine.publish_due_deliveries().resent == 0 and queue.take() == []

    clock.set(publish_at + QUEUED_GRACE + BACKLOG_GRACE)  # lost after all, or a line that long: sent again
    assert deps.engine.publish_due_deliveries().resent == 1
    [(copy, _)] = queue.take()
    assert [deps.engine.publish_delivery(m) for m in (copy, original)] == ["published", "dropped"]
    assert len(received(api, channel)) == 1
    assert api.get(f"/posts/{post_id}").json["status"] == "published"


def test_a_late_message_is_sent_again_when_the_queue_cannot_be_read(deps, api, clock, queue):
    channel = sandbox(api)
    _, publish_at = schedule(api, clock, [channel], seconds=20)
    queue.take()

    def unreadable():
        raise RuntimeError("AccessDenied")

    queue.waiting = unreadable
    clock.set(publish_at + timedelta(seconds=61))
    assert deps.engine.publish_due_deliveries().resent == 1 and len(queue.take()) == 1


def test_a_late_original_and_its_copy_publish_once_whichever_comes_first(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    [(original, _)] = queue.take()
    clock.set(publish_at + timedelta(seconds=61))
    assert deps.engine.publish_due_deliveries().resent == 1
    [(copy, _)] = queue.take()
    assert [deps.engine.publish_delivery(m) for m in (original, copy)] == ["published", "dropped"]
    assert len(received(api, channel)) == 1
