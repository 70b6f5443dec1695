"""Chaos: 2,000 deliveries, several workers at once, every message delivered
twice, a crash injected at each step of the worker in turn, and network
timeouts before and after sending. Nothing may be published twice or lost."""
from __future__ import annotations

import queue
import threading
from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.networks.base import AmbiguousError, PublishResult, RetryableError
from chalicelib.networks.sandbox import LIMITS
from chalicelib.publishing.posts import PostDraft
from chalicelib.publishing.publish_queue import PublishMessage
from tests.support.fixtures import make_workspace

POSTS = int(__import__("os").environ.get("CHAOS_POSTS", "1000"))  # two channels each: 2,000 deliveries
WORKERS = 4
CRASH_STEPS = ("claimed", "attempted", "finished", None)


class Crash(BaseException):
    """A worker dying mid-flight (BaseException: nothing in the engine may swallow it)."""


class ChaosNetwork:
    """Counts what became visible on the network, per delivery."""

    def __init__(self, network: str, idempotent: bool) -> None:
        self.network = network
        self.idempotent_publish = idempotent
        self.limits = LIMITS
        self.visible: Counter[str] = Counter()
        self.calls = 0
        self._lock = threading.Lock()

    def fault_for(self, delivery_id: str, attempt_number: int) -> str | None:
        if attempt_number > 1:
            return None
        bucket = sum(delivery_id.encode()) % 10
        return {0: "before_send", 1: "after_send"}.get(bucket)

    def publish(self, channel, request):
        with self._lock:
            self.calls += 1
            attempt = self.calls_per.setdefault(request.delivery_id, 0) + 1
            self.calls_per[request.delivery_id] = attempt
        fault = self.fault_for(request.delivery_id, attempt)
        if fault == "before_send":
            raise RetryableError("connect timeout: the request was never sent")
        with self._lock:
            if not (self.idempotent_publish and self.visible[request.delivery_id]):
                self.visible[request.delivery_id] += 1
        if fault == "after_send":
            raise AmbiguousError("read timeout after the request was sent")
        return PublishResult(remote_id=f"{self.network}-{request.delivery_id}")

    def describe_account(self, channel):
        return {"handle": self.network, "account_id": channel.channel_id}

    calls_per: dict[str, int]


class DoubleDeliveryQueue:
    """SQS as the worst case allows: every message arrives twice."""

    def __init__(self) -> None:
        self.pending: queue.Queue[PublishMessage] = queue.Queue()

    def send(self, messages):
        for message, _delay in messages:
            self.pending.put(message)
            self.pending.put(message)
        return []


@pytest.fixture
def chaos(deps, clock):
    plain, idempotent = ChaosNetwork("sandbox", False), ChaosNetwork("mastodon", True)
    plain.calls_per, idempotent.calls_per = {}, {}
    deps._adapter_overrides.update({"sandbox": plain, "mastodon": idempotent})
    sqs = DoubleDeliveryQueue()
    deps.publish_queue = sqs
    return plain, idempotent, sqs


def crash_each_step_in_turn(engine, current):
    """The first time a delivery's message is handled, its worker dies at the
    next step in turn: after claiming, after the network call, after the write."""
    plan: dict[str, str | None] = {}

    def checkpoint(step: str) -> None:
        key = current.delivery_id
        if key not in plan:
            plan[key] = CRASH_STEPS[len(plan) % len(CRASH_STEPS)]
        if plan[key] == step:
            plan[key] = "done"
            raise Crash(step)

    engine.checkpoint = checkpoint


def drain(engine, sqs, current) -> None:
    """Several workers at once, like concurrent Lambda invocations."""
    redeliver: list[PublishMessage] = []

    def worker() -> None:
        while True:
            try:
                message = sqs.pending.get_nowait()
            except queue.Empty:
                return
            current.delivery_id = f"{message.post_id}.{message.channel_id}"
            try:
                engine.publish_delivery(message)
            except Crash:
                redeliver.append(message)  # not deleted: SQS shows it again after the visibility timeout

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for message in redeliver:
        sqs.pending.put(message)


def test_no_delivery_is_published_twice_or_lost(deps, clock, chaos):
    plain, idempotent, sqs = chaos
    workspace = make_workspace(deps)
    first = deps.channels.create(workspace.id, "sandbox", "Plain network", {}, {})
    second = deps.channels.create(workspace.id, "mastodon", "Idempotent network",
                                  {"instance_url": "https://x.test", "access_token": "t"}, {})
    start = clock.now()
    for i in range(POSTS):
        deps.posts.create(workspace.id, PostDraft(f"post {i}", [first.channel_id, second.channel_id], {}, [],
                                                  start + timedelta(seconds=30 + i % 60), None))
    current = threading.local()
    crash_each_step_in_turn(deps.engine, current)
    deps.engine.jitter = lambda: 0.5
    clock.set(start + timedelta(minutes=2))
    for _round in range(20):
        deps.engine.publish_due_deliveries()
        drain(deps.engine, sqs, current)
        if not still_active(deps, clock.now() + timedelta(days=1)):
            break
        clock.advance(minutes=3)  # leases and backoffs run out; the next tick recovers

    deliveries = all_deliveries(deps, workspace.id)
    assert len(deliveries) == 2 * POSTS
    outcome = Counter(d.status for d in deliveries)
    assert set(outcome) <= {"published", "failed", "unknown"}, outcome  # nothing lost or stuck
    for delivery in deliveries:
        network = plain if delivery.network == "sandbox" else idempotent
        seen = network.visible[delivery.delivery_id]
        assert seen <= 1, f"{delivery.delivery_id} published {seen} times"
        assert (seen == 1 and delivery.remote_id) if delivery.status == "published" else delivery.last_error
    # The idempotent network never needs a person to look; the plain one only after a crash or a timeout.
    assert not [d for d in deliveries if d.network == "mastodon" and d.status != "published"]
    assert outcome["unknown"] > 0 and outcome["published"] > POSTS


def still_active(deps, until) -> bool:
    """Anything scheduled, queued or publishing is in the due index."""
    return any(next(deps.delivery_repository.due(shard, until), None) for shard in range(deps.settings.due_shards))


def all_deliveries(deps, workspace_id):
    posts, cursor, found = [], None, []
    while True:
        page, cursor = deps.post_repository.list_posts(workspace_id, status=None, channel_id=None, start=None,
                                                       end=None, limit=100, cursor=cursor)
        posts += page
        if not cursor:
            break
    for rows in deps.post_repository.deliveries_of(posts).values():
        found += rows
    return found
