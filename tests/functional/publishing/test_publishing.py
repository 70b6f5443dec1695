"""The publishing engine end to end in-process: API → tick → queue → worker → sandbox."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core.clock import parse_rfc3339, to_rfc3339
from chalicelib.networks.base import AmbiguousError, PublishResult
from chalicelib.publishing.delivery_repository import LostClaim, Outcome
from chalicelib.publishing.engine import MAX_ATTEMPTS
from tests.support.dynamodb_calls import dynamodb_calls
from tests.support.queues import RecordingQueue


@pytest.fixture
def queue(deps):
    recording = RecordingQueue()
    deps.publish_queue = recording
    return recording



def sandbox(api, **settings):
    created = api.post("/channels", {"network": "sandbox", "name": "Sandbox", "settings": settings})
    assert created.status_code == 201, created.body
    return created.json["id"]


def schedule(api, clock, channel_ids, seconds=90, text="Launch day"):
    publish_at = clock.now() + timedelta(seconds=seconds)
    answer = api.post("/posts", {"text": text, "channel_ids": channel_ids, "publish_at": to_rfc3339(publish_at)})
    assert answer.status_code == 201, answer.body
    return answer.json["id"], publish_at


def received(api, channel_id):
    return api.get(f"/channels/{channel_id}/sandbox/posts").json["items"]


def run_messages(deps, queue, clock, *, duplicate=False):
    """Plays the queue the way SQS would: each message when its delay is over; then the posts table's
    stream, the way Lambda hands it to the counter consumer."""
    from tests.support.streams import run_stream_consumers

    results = []
    for _round in range(20):
        batch = queue.take()
        if not batch:
            run_stream_consumers(deps)
            return results
        base = clock.now()
        for message, delay in sorted(batch, key=lambda item: item[1]):
            clock.set(max(clock.now(), base + timedelta(seconds=delay)))
            for _copy in range(2 if duplicate else 1):
                results.append(deps.engine.publish_delivery(message))
    raise AssertionError("the queue never drained")


def test_a_scheduled_post_goes_out_on_its_second_exactly_once(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=150)  # 09:02:30
    assert deps.engine.publish_due_deliveries().queued == 0  # the 09:00 tick looks to 09:02:00
    assert api.get(f"/posts/{post_id}").json["deliveries"][0]["status"] == "scheduled"

    clock.advance(60)
    report = deps.engine.publish_due_deliveries()
    assert report.queued == 1
    [(message, delay)] = queue.sent
    assert delay == 90 and message.post_id == post_id
    assert api.get(f"/posts/{post_id}").json["deliveries"][0]["status"] == "queued"

    clock.set(publish_at - timedelta(milliseconds=400))  # SQS delays are whole seconds: early by < 1 s
    slept = []
    deps.engine.sleep = slept.append
    assert deps.engine.publish_delivery(queue.take()[0][0]) == "published"

    assert slept and slept[0] == pytest.approx(0.4, abs=0.01)
    post = api.get(f"/posts/{post_id}").json
    assert post["status"] == "published"
    delivery = post["deliveries"][0]
    assert delivery["status"] == "published" and delivery["attempts"] == 1
    assert delivery["remote_id"].startswith("sbx_") and delivery["remote_url"]
    assert [item["text"] for item in received(api, channel)] == ["Launch day"]
    assert api.get("/posts?status=published").json["items"][0]["id"] == post_id


def test_a_second_tick_does_not_queue_again_and_duplicate_messages_publish_once(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=30)
    deps.engine.publish_due_deliveries()
    deps.engine.publish_due_deliveries()
    assert len(queue.sent) == 1
    clock.set(publish_at)
    results = run_messages(deps, queue, clock, duplicate=True)
    assert results == ["published", "dropped"]
    assert len(received(api, channel)) == 1


def test_an_edit_after_queueing_drops_the_old_message(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=50)
    deps.engine.publish_due_deliveries()
    stale = queue.take()
    assert api.patch(f"/posts/{post_id}", {"text": "Edited", "version": 1}).status_code == 200
    clock.set(publish_at)
    assert [deps.engine.publish_delivery(m) for m, _ in stale] == ["dropped"]
    deps.engine.publish_due_deliveries()
    run_messages(deps, queue, clock)
    assert [item["text"] for item in received(api, channel)] == ["Edited"]


def test_a_cancel_after_queueing_publishes_nothing(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=50)
    deps.engine.publish_due_deliveries()
    assert api.post(f"/posts/{post_id}/cancel").json["status"] == "canceled"
    clock.set(publish_at)
    assert run_messages(deps, queue, clock) == ["dropped"]
    assert received(api, channel) == []


def test_server_errors_are_retried_with_backoff_then_published(deps, api, clock, queue):
    channel = sandbox(api, fail="500", fail_times=2)
    post_id, publish_at = schedule(api, clock, [channel], seconds=10)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    deps.engine.jitter = lambda: 0.5
    assert run_messages(deps, queue, clock) == ["retrying", "retrying", "published"]
    delivery = api.get(f"/posts/{post_id}").json["deliveries"][0]
    assert delivery["status"] == "published" and delivery["attempts"] == 3
    assert len(received(api, channel)) == 1


def test_rate_limits_honour_retry_after(deps, api, clock, queue):
    channel = sandbox(api, fail="429", fail_times=1)
    _, publish_at = schedule(api, clock, [channel], seconds=10)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    deps.engine.publish_delivery(queue.take()[0][0])
    [(_, delay)] = queue.sent
    assert delay >= 1


def test_retries_stop_after_the_maximum_and_say_why(deps, api, clock, queue):
    channel = sandbox(api, fail="500")
    post_id, publish_at = schedule(api, clock, [channel], seconds=10)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    results = run_messages(deps, queue, clock)
    assert results[-1] == "failed" and len(results) == 5
    post = api.get(f"/posts/{post_id}").json
    assert post["status"] == "failed"
    assert "Gave up after 5 attempts" in post["deliveries"][0]["last_error"]
    assert received(api, channel) == []


def test_a_refused_post_fails_with_the_networks_reason(deps, api, clock, queue):
    channel = sandbox(api, fail="invalid")
    post_id, publish_at = schedule(api, clock, [channel], seconds=10)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    assert run_messages(deps, queue, clock) == ["failed"]
    assert "refused the post" in api.get(f"/posts/{post_id}").json["deliveries"][0]["last_error"]


def test_revoked_credentials_fail_the_delivery_and_flag_the_channel(deps, api, clock, queue):
    channel = sandbox(api, fail="auth")
    post_id, publish_at = schedule(api, clock, [channel], seconds=10)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    run_messages(deps, queue, clock)
    assert api.get(f"/posts/{post_id}").json["deliveries"][0]["status"] == "failed"
    assert api.get(f"/channels/{channel}").json["status"] == "needs_reauth"


def test_a_timeout_after_sending_is_unknown_not_retried(deps, api, clock, queue):
    channel = sandbox(api, fail="timeout")
    post_id, publish_at = schedule(api, clock, [channel], seconds=10)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    assert run_messages(deps, queue, clock) == ["unknown"]
    delivery = api.get(f"/posts/{post_id}").json["deliveries"][0]
    assert delivery["status"] == "unknown" and "may or may not" in delivery["last_error"]
    assert len(received(api, channel)) == 1  # it did arrive: retrying would have made two


def test_a_lost_message_is_sent_again_once_its_lease_runs_out(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    deps.engine.publish_due_deliveries()
    queue.take()  # lost
    clock.set(publish_at + timedelta(seconds=30))
    assert deps.engine.publish_due_deliveries().resent == 0  # still within its lease
    clock.set(publish_at + timedelta(seconds=61))
    assert deps.engine.publish_due_deliveries().resent == 1
    run_messages(deps, queue, clock)
    assert api.get(f"/posts/{post_id}").json["status"] == "published"


class Crash(Exception):
    pass


def crash_once_at(step):
    state = {"armed": True}

    def checkpoint(name):
        if name == step and state["armed"]:
            state["armed"] = False
            raise Crash(name)

    return checkpoint


def test_a_worker_that_dies_after_claiming_leaves_unknown_on_a_network_without_idempotency(
        deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    deps.engine.checkpoint = crash_once_at("attempted")
    [(message, _)] = queue.take()
    with pytest.raises(Crash):
        deps.engine.publish_delivery(message)
    assert deps.engine.publish_delivery(message) == "dropped"  # SQS redelivery: the claim is held
    clock.advance(121)
    assert deps.engine.publish_due_deliveries().marked_unknown == 1
    delivery = api.get(f"/posts/{post_id}").json["deliveries"][0]
    assert delivery["status"] == "unknown"
    assert len(received(api, channel)) == 1


class IdempotentNetwork:
    """A network that, like Mastodon with Idempotency-Key, publishes a delivery once."""

    network = "sandbox"
    idempotent_publish = True

    def __init__(self, fail_after_send=0):
        self.posts = {}
        self.calls = 0
        self.fail_after_send = fail_after_send
        from chalicelib.networks.sandbox import LIMITS

        self.limits = LIMITS

    def publish(self, channel, request):
        self.calls += 1
        self.posts.setdefault(request.delivery_id, request.text)
        if self.fail_after_send:
            self.fail_after_send -= 1
            raise AmbiguousError("read timed out")
        return PublishResult(remote_id=f"id-{request.delivery_id}")

    def describe_account(self, channel):
        return {"handle": "idem", "account_id": channel.channel_id}


def test_an_ambiguous_timeout_is_retried_where_the_network_is_idempotent(deps, api, clock, queue):
    network = IdempotentNetwork(fail_after_send=1)
    deps._adapter_overrides["sandbox"] = network
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    assert run_messages(deps, queue, clock) == ["retrying", "published"]
    assert network.calls == 2 and len(network.posts) == 1


def test_a_crashed_claim_is_recovered_where_the_network_is_idempotent(deps, api, clock, queue):
    network = IdempotentNetwork()
    deps._adapter_overrides["sandbox"] = network
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    deps.engine.checkpoint = crash_once_at("attempted")
    with pytest.raises(Crash):
        deps.engine.publish_delivery(queue.take()[0][0])
    clock.advance(121)
    assert deps.engine.publish_due_deliveries().recovered == 1
    run_messages(deps, queue, clock)
    assert api.get(f"/posts/{post_id}").json["status"] == "published"
    assert len(network.posts) == 1


def test_a_claim_that_keeps_crashing_is_given_up_after_the_last_attempt(deps, api, clock, queue):
    """The tick knows the attempts from the `due` index alone: without them it would recover forever."""
    deps._adapter_overrides["sandbox"] = IdempotentNetwork()
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=20)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)

    def crash_after_every_attempt(name):
        if name == "attempted":
            raise Crash(name)

    deps.engine.checkpoint = crash_after_every_attempt
    reports = []
    for _attempt in range(MAX_ATTEMPTS):
        [(message, _)] = queue.take()
        with pytest.raises(Crash):
            deps.engine.publish_delivery(message)
        clock.advance(121)
        reports.append(deps.engine.publish_due_deliveries())
    assert [(r.recovered, r.marked_unknown) for r in reports] == [(1, 0)] * (MAX_ATTEMPTS - 1) + [(0, 1)]
    delivery = api.get(f"/posts/{post_id}").json["deliveries"][0]
    assert delivery["status"] == "unknown" and delivery["attempts"] == MAX_ATTEMPTS
    assert queue.take() == []


def test_one_failed_channel_makes_the_post_partially_published(deps, api, clock, queue):
    good, bad = sandbox(api), sandbox(api, fail="invalid")
    post_id, publish_at = schedule(api, clock, [good, bad], seconds=20)
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    run_messages(deps, queue, clock)
    post = api.get(f"/posts/{post_id}").json
    assert post["status"] == "partially_published"
    assert [d["status"] for d in post["deliveries"]] == ["published", "failed"]
    assert [p["id"] for p in api.get("/posts?status=partially_published").json["items"]] == [post_id]


def test_publish_now_queues_at_once(deps, api, clock, queue):
    channel = sandbox(api)
    draft = api.post("/posts", {"text": "Now", "channel_ids": [channel]}).json
    answer = api.post(f"/posts/{draft['id']}/publish-now")
    assert answer.status_code == 200
    assert answer.json["deliveries"][0]["status"] == "queued"
    [(_, delay)] = queue.sent
    assert delay == 0
    run_messages(deps, queue, clock)
    assert api.get(f"/posts/{draft['id']}").json["status"] == "published"


def test_a_post_due_before_the_next_tick_is_queued_when_it_is_made(deps, api, clock, queue):
    channel = sandbox(api)
    clock.set(clock.now() + timedelta(seconds=20))  # 09:00:20: this minute's tick has run
    answer = api.post("/posts", {"text": "Soon", "channel_ids": [channel],
                                 "publish_at": to_rfc3339(clock.now() + timedelta(seconds=70))})
    assert answer.status_code == 201
    assert answer.json["deliveries"][0]["status"] == "queued"
    [(message, delay)] = queue.sent
    assert delay == 70 and message.post_id == answer.json["id"]
    clock.set(clock.now().replace(second=0) + timedelta(minutes=1))  # the 09:01 tick
    assert deps.engine.publish_due_deliveries().queued == 0
    assert len(queue.sent) == 1


def test_a_post_due_after_the_next_ticks_horizon_waits_for_the_tick(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, _ = schedule(api, clock, [channel], seconds=121)  # 09:02:01: the 09:01 tick queues it
    assert queue.sent == []
    assert api.get(f"/posts/{post_id}").json["deliveries"][0]["status"] == "scheduled"


def test_rescheduling_into_the_next_minute_queues_at_once_and_drops_the_old_message(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, _ = schedule(api, clock, [channel], seconds=600)
    assert queue.sent == []
    soon = clock.now() + timedelta(seconds=45)
    answer = api.patch(f"/posts/{post_id}", {"publish_at": to_rfc3339(soon), "version": 1})
    assert answer.status_code == 200 and answer.json["deliveries"][0]["status"] == "queued"
    [(message, delay)] = queue.sent
    assert delay == 45 and message.due_at == to_rfc3339(soon)

    later = clock.now() + timedelta(seconds=50)
    assert api.patch(f"/posts/{post_id}", {"publish_at": to_rfc3339(later), "version": 2}).status_code == 200
    clock.set(later)
    assert run_messages(deps, queue, clock) == ["dropped", "published"]
    assert len(received(api, channel)) == 1


class SteppingClock:
    """Moves on by `step` every time it is read, like a tick that takes time to write."""

    def __init__(self, start, step):
        self._now, self.step = start, step

    def now(self):
        self._now += self.step
        return self._now

    def peek(self):
        return self._now


class TimedQueue(RecordingQueue):
    """Records when each batch was sent, to see when each message becomes visible."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.visible_at = []

    def send(self, messages):
        sent_at = self.clock.peek()
        self.visible_at += [(message, sent_at + timedelta(seconds=delay)) for message, delay in messages]
        return super().send(messages)


def test_each_message_is_delayed_from_when_it_is_sent_not_from_when_the_tick_began(deps, api, clock, queue):
    from chalicelib.core.clock import parse_rfc3339

    channel = sandbox(api)
    for index in range(25):
        schedule(api, clock, [channel], seconds=130 + index, text=f"Post {index}")
    assert queue.sent == []
    tick_start = clock.now() + timedelta(seconds=60)
    stepping = SteppingClock(tick_start, timedelta(milliseconds=700))
    timed = TimedQueue(stepping)
    deps.engine.clock, deps.engine.queue = stepping, timed
    assert deps.engine.publish_due_deliveries().queued == 25
    assert stepping.now() - tick_start > timedelta(seconds=5)  # a slow tick: its clock ran on
    for message, visible_at in timed.visible_at:
        due = parse_rfc3339(message.due_at)
        assert due - timedelta(seconds=1) < visible_at <= due, message.due_at


def test_a_retry_is_not_sent_twice_while_its_message_is_due(deps, api, clock, queue):
    channel = sandbox(api, fail="500", fail_times=1)
    post_id, publish_at = schedule(api, clock, [channel], seconds=10)
    clock.set(publish_at)
    deps.engine.jitter = lambda: 0.5
    assert deps.engine.publish_delivery(queue.take()[0][0]) == "retrying"
    [(retry, delay)] = queue.sent
    clock.advance(delay + 30)  # the retry is due, its message not handled yet
    assert deps.engine.publish_due_deliveries().resent == 0
    assert run_messages(deps, queue, clock) == ["published"]


class MeetingNetwork(IdempotentNetwork):
    """Publishes only once `parties` calls are in flight together: a batch handled one
    record after another never gets there."""

    def __init__(self, parties):
        super().__init__()
        import threading

        self.barrier = threading.Barrier(parties, timeout=10)

    def publish(self, channel, request):
        self.barrier.wait()
        return super().publish(channel, request)


def test_the_worker_publishes_the_records_of_a_batch_at_once(deps, api, clock, queue):
    from chalicelib.publishing.publishing_jobs import publish_worker
    from infra.local.sqs_poller import sqs_event

    network = MeetingNetwork(parties=3)
    deps._adapter_overrides["sandbox"] = network
    channel = sandbox(api)
    for index in range(3):
        schedule(api, clock, [channel], seconds=10, text=f"Post {index}")
    clock.advance(10)
    received_messages = [{"MessageId": f"m{index}", "ReceiptHandle": f"r{index}", "Body": message.body(),
                          "MD5OfBody": ""} for index, (message, _) in enumerate(queue.take())]
    event = sqs_event(received_messages, "arn:aws:sqs:us-east-1:123456789012:publish", "us-east-1")
    answer = publish_worker(event, None)
    assert answer == {"batchItemFailures": []}
    assert sorted(network.posts.values()) == ["Post 0", "Post 1", "Post 2"]


class ConflictingConnection:
    """DynamoDB's answer when another transaction holds an item of ours at the same moment
    (TransactionConflict), for the first `times` outcome transactions; the rest go through."""

    def __init__(self, times):
        from pynamodb.connection import Connection

        from chalicelib.core.settings import get_settings

        settings = get_settings()
        self.real = Connection(region=settings.region, host=settings.aws_endpoint_url)
        self.times = times

    def __getattr__(self, name):
        return getattr(self.real, name)

    def transact_write_items(self, *args, **kwargs):
        from botocore.exceptions import ClientError
        from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

        if self.times:
            self.times -= 1
            cause = VerboseClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}},
                "TransactWriteItems", {}, cancellation_reasons=[
                    None, CancellationReason(code="TransactionConflict", message="Transaction is ongoing")])
            assert isinstance(cause, ClientError)
            raise TransactWriteError("Failed to write transaction items", cause=cause)
        return self.real.transact_write_items(*args, **kwargs)


def test_an_outcome_that_collides_with_another_transaction_is_written_after_a_pause(deps, api, clock, queue):
    channel = sandbox(api)
    post_id, publish_at = schedule(api, clock, [channel], seconds=10)
    clock.set(publish_at)
    deps.post_repository._connection = ConflictingConnection(times=3)
    pauses = []
    deps.delivery_repository.sleep = pauses.append

    assert run_messages(deps, queue, clock) == ["published"]

    assert len(pauses) == 3 and all(0 <= pause <= 0.4 for pause in pauses)
    post = api.get(f"/posts/{post_id}").json
    assert post["status"] == "published" and post["deliveries"][0]["status"] == "published"
    assert len(received(api, channel)) == 1


def raw_post_item(deps, workspace_id, post_id):
    from chalicelib.publishing.post_repository import POST_SK, post_pk
    from chalicelib.publishing.tables import PostRecord

    return PostRecord.get(post_pk(workspace_id, post_id), POST_SK, consistent_read=True)


def test_the_deliveries_of_a_post_finish_together_and_the_last_one_sets_its_status(
        deps, api, clock, queue, workspace):
    from chalicelib.publishing.publishing_jobs import publish_worker
    from infra.local.sqs_poller import sqs_event

    network = MeetingNetwork(parties=5)  # all five calls in flight at once
    deps._adapter_overrides["sandbox"] = network
    channels = [sandbox(api) for _ in range(5)]
    post_id, publish_at = schedule(api, clock, channels, seconds=10)
    assert raw_post_item(deps, workspace.id, post_id).open_deliveries == 5
    clock.set(publish_at)
    messages = [{"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": m.body(), "MD5OfBody": ""}
                for i, (m, _) in enumerate(queue.take())]
    answer = publish_worker(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:publish", "us-east-1"), None)

    assert answer == {"batchItemFailures": []}
    post = api.get(f"/posts/{post_id}").json
    assert post["status"] == "published" and [d["status"] for d in post["deliveries"]] == ["published"] * 5
    item = raw_post_item(deps, workspace.id, post_id)
    assert (item.status, item.open_deliveries) == ("published", 0)
    assert [p["id"] for p in api.get("/posts?status=published").json["items"]] == [post_id]


class CountingConnection:
    """The real connection, counting transactions and the ones DynamoDB refused."""

    def __init__(self):
        from pynamodb.connection import Connection

        from chalicelib.core.settings import get_settings

        settings = get_settings()
        self.real = Connection(region=settings.region, host=settings.aws_endpoint_url)
        self.transactions, self.refused = 0, 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def transact_write_items(self, *args, **kwargs):
        from pynamodb.exceptions import TransactWriteError

        self.transactions += 1
        try:
            return self.real.transact_write_items(*args, **kwargs)
        except TransactWriteError:
            self.refused += 1
            raise


def test_the_last_of_a_posts_deliveries_to_finish_knows_it_is_last_without_a_refused_write(
        deps, api, clock, queue, workspace):
    """Five workers (not one batch) each read the post before publishing, when all five were open; they
    finish one after another, so the last one's read says four others are open. It must not learn
    otherwise from a refused transaction: that is a write request per post."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    deps._adapter_overrides["sandbox"] = MeetingNetwork(parties=5)  # all five read before any finishes
    channels = [sandbox(api) for _ in range(5)]
    post_id, publish_at = schedule(api, clock, channels, seconds=10)
    clock.set(publish_at)
    one_at_a_time = threading.Lock()

    def finish_one_at_a_time(moment):
        if moment == "attempted":
            assert one_at_a_time.acquire(timeout=10)
        elif moment == "finished":
            one_at_a_time.release()

    deps.engine.checkpoint = finish_one_at_a_time
    connection = CountingConnection()
    deps.post_repository._connection = connection
    pauses = []
    deps.delivery_repository.sleep = pauses.append
    with ThreadPoolExecutor(max_workers=5) as pool:
        said = list(pool.map(deps.engine.publish_delivery, [message for message, _ in queue.take()]))

    assert said == ["published"] * 5
    item = raw_post_item(deps, workspace.id, post_id)
    assert (item.status, item.open_deliveries) == ("published", 0)
    assert (connection.transactions, connection.refused, pauses) == (5, 0, [])


def batch_event(messages):
    from infra.local.sqs_poller import sqs_event

    records = [{"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": m.body(), "MD5OfBody": ""}
               for i, m in enumerate(messages)]
    return sqs_event(records, "arn:aws:sqs:us-east-1:123456789012:publish", "us-east-1")


def test_a_posts_deliveries_in_one_worker_batch_write_their_outcomes_in_one_transaction(
        deps, api, clock, queue, workspace):
    """Published at once and written one by one, siblings collide on the post item: refused writes."""
    from chalicelib.publishing.publishing_jobs import publish_worker

    network = MeetingNetwork(parties=6)  # all six out at once
    deps._adapter_overrides["sandbox"] = network
    channels = [sandbox(api) for _ in range(5)]
    post_id, publish_at = schedule(api, clock, channels, seconds=10)
    other_id, _ = schedule(api, clock, channels[:1], seconds=10, text="Another post")
    clock.set(publish_at)
    connection = CountingConnection()
    deps.post_repository._connection = connection
    with dynamodb_calls() as calls:
        assert publish_worker(batch_event([m for m, _ in queue.take()]), None) == {"batchItemFailures": []}

    assert (connection.transactions, connection.refused) == (2, 0)  # one per post
    assert calls.count("UpdateItem", table="posts") == 6  # the claims
    post = api.get(f"/posts/{post_id}").json
    assert post["status"] == "published" and [d["status"] for d in post["deliveries"]] == ["published"] * 5
    assert all(d["remote_id"] for d in post["deliveries"])
    assert (raw_post_item(deps, workspace.id, post_id).open_deliveries, api.get(f"/posts/{other_id}").json["status"]) \
        == (0, "published")
    assert len(network.posts) == 6


def test_a_sibling_that_will_retry_does_not_hold_the_others_back(deps, api, clock, queue, workspace):
    from chalicelib.publishing.publishing_jobs import publish_worker

    failing, *fine = [sandbox(api, fail="500", fail_times=1)] + [sandbox(api) for _ in range(3)]
    post_id, publish_at = schedule(api, clock, [failing, *fine], seconds=10)
    clock.set(publish_at)
    connection = CountingConnection()
    deps.post_repository._connection = connection
    assert publish_worker(batch_event([m for m, _ in queue.take()]), None) == {"batchItemFailures": []}

    assert (connection.transactions, connection.refused) == (1, 0)  # the three published, together
    item = raw_post_item(deps, workspace.id, post_id)
    assert (item.status, item.open_deliveries) == ("scheduled", 1)
    statuses = {d["channel_id"]: d["status"] for d in api.get(f"/posts/{post_id}").json["deliveries"]}
    assert statuses == {failing: "queued", **{channel: "published" for channel in fine}}
    [(retry, _delay)] = queue.sent
    clock.set(parse_rfc3339(retry.due_at))
    assert publish_worker(batch_event([m for m, _ in queue.take()]), None) == {"batchItemFailures": []}
    assert api.get(f"/posts/{post_id}").json["status"] == "published"


def test_siblings_whose_claim_was_lost_meanwhile_are_written_one_by_one(deps, api, clock, queue, workspace):
    """A sweep took one claim back while it was out: the shared transaction is refused; each is written alone,
    the lost one writes nothing and the sweep's decision stands."""
    from chalicelib.publishing.publishing_jobs import publish_worker

    channels = [sandbox(api) for _ in range(3)]
    post_id, publish_at = schedule(api, clock, channels, seconds=10)
    clock.set(publish_at)

    deps._adapter_overrides["sandbox"] = MeetingNetwork(parties=3)  # all three claimed before any finishes
    taken_back = []

    def sweep_during_first_attempt(moment):
        while moment == "attempted" and not taken_back:
            _post, rows, _seq = deps.post_repository.get_with_seq(workspace.id, post_id)
            row = next(row for row in rows if row.channel_id == channels[0])
            try:  # its worker may be writing progress at this moment: read again
                taken_back.append(deps.delivery_repository.expire_claim(
                    row, Outcome("unknown", last_error="taken back by a test")))
            except LostClaim:
                continue

    deps.engine.checkpoint = sweep_during_first_attempt
    answer = publish_worker(batch_event([m for m, _ in queue.take()]), None)

    assert answer == {"batchItemFailures": []}  # a lost claim is the sweep's to decide, not SQS's
    statuses = {d["channel_id"]: d["status"] for d in api.get(f"/posts/{post_id}").json["deliveries"]}
    assert statuses == {channels[0]: "unknown", channels[1]: "published", channels[2]: "published"}
    assert raw_post_item(deps, workspace.id, post_id).open_deliveries == 0


def test_a_post_canceled_while_one_delivery_is_out_ends_with_that_deliverys_outcome(
        deps, api, clock, queue, workspace):
    first, second = sandbox(api), sandbox(api)
    post_id, publish_at = schedule(api, clock, [first, second], seconds=10)
    clock.set(publish_at)
    messages = {m.channel_id: m for m, _ in queue.take()}
    deps.engine.checkpoint = crash_once_at("attempted")  # the first is published, its outcome not yet written
    with pytest.raises(Crash):
        deps.engine.publish_delivery(messages[first])
    assert api.post(f"/posts/{post_id}/cancel").json["deliveries"][1]["status"] == "canceled"
    assert raw_post_item(deps, workspace.id, post_id).open_deliveries == 1

    clock.advance(121)
    assert deps.engine.publish_due_deliveries().marked_unknown == 1
    post = api.get(f"/posts/{post_id}").json
    assert [d["status"] for d in post["deliveries"]] == ["unknown", "canceled"]
    assert post["status"] == raw_post_item(deps, workspace.id, post_id).status == "failed"


def test_a_post_written_before_open_deliveries_still_gets_its_status(deps, api, clock, queue, workspace):
    first, second = sandbox(api), sandbox(api)
    post_id, publish_at = schedule(api, clock, [first, second], seconds=10)
    item = raw_post_item(deps, workspace.id, post_id)
    item.update(actions=[type(item).open_deliveries.remove()])
    clock.set(publish_at)
    assert run_messages(deps, queue, clock) == ["published", "published"]
    item = raw_post_item(deps, workspace.id, post_id)
    assert (item.status, item.open_deliveries, item.outcome_seq) == ("published", None, 2)


class BatchRecordingQueue(RecordingQueue):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def send(self, messages):
        self.batches.append([message.post_id for message, _delay in messages])
        return super().send(messages)


def test_the_tick_sends_a_posts_deliveries_in_one_message_batch(deps, api, clock):
    """A batch that split a post would leave its halves to write their outcomes apart, colliding."""
    queue = BatchRecordingQueue()
    deps.engine.queue = queue
    channels = [sandbox(api) for _ in range(3)]
    posts = [schedule(api, clock, channels, seconds=150, text=f"Post {index}")[0] for index in range(30)]
    clock.advance(60)

    assert deps.engine.publish_due_deliveries().queued == 90  # 8 shards: more than 10 in most
    assert sorted(post for batch in queue.batches for post in batch) == sorted(posts * 3)
    assert all(len(batch) <= 10 for batch in queue.batches)
    for batch in queue.batches:
        for post in set(batch):
            assert batch.count(post) == 3, queue.batches
