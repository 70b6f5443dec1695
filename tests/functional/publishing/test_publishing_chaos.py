"""Chaos through the real Lambda handlers: the minute's `tick`, its `tick_worker` units and `publish_worker`
batches (partial batch failures, a visibility timeout), fed by an SQS made of the test's clock that delivers
messages twice. Two ticks overlap, ticks run beside workers, workers and tick units die between their steps
(a tick between marking rows and sending them), network calls outlast their claim's lease, DynamoDB throttles
and answers TransactionConflict (through the repository and connection the engine is given), networks answer
429 with Retry-After, time out before and after sending, and one network's idempotency window ends.

Seeded and bounded. Nothing is published twice, nothing is left unfinished, a `failed` delivery was never
visible on its network, every `unknown` is one whose network could not settle it, and Retry-After was kept."""
from __future__ import annotations

import contextlib
import random
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from pynamodb.exceptions import UpdateError

from chalicelib.core.clock import FixedClock
from chalicelib.networks.base import AmbiguousError, PublishResult, RetryableError
from chalicelib.networks.sandbox import LIMITS
from chalicelib.publishing.delivery_repository import DeliveryRepository, Outcome
from chalicelib.publishing.post_repository import DeliveryRow
from chalicelib.publishing.post_status import final_post_status
from chalicelib.publishing.posts import PostDraft
from chalicelib.publishing.publish_queue import PublishQueue
from chalicelib.publishing.publishing_jobs import publish_worker, tick, tick_worker
from infra.local.sqs_poller import sqs_event
from tests.functional.publishing.test_publishing import ConflictingConnection
from tests.support.events import load_event
from tests.support.fixtures import make_workspace

SEED = 14
POSTS = 12  # three channels each: 36 deliveries
VISIBILITY = timedelta(seconds=120)  # the queues' VisibilityTimeout (infra/resources.py)
STEP = timedelta(seconds=5)
WINDOW = timedelta(minutes=10)
SCHEDULED = load_event("aws", "eventbridge_scheduled_event.json")  # EventBridge user guide


class Crash(BaseException):
    """A Lambda invocation dying mid-run (a timeout, the runtime killed): nothing in the engine may catch it."""


class ClockSqs:
    """SQS as a Lambda event source sees it, on the test's clock: DelaySeconds, a visibility timeout, messages
    left after a failed invocation or named in batchItemFailures, and (at random) every message sent twice."""

    def __init__(self, clock: FixedClock, rng: random.Random) -> None:
        self.clock, self.rng = clock, rng
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._ids = 0

    def get_queue_url(self, QueueName: str) -> dict[str, str]:  # noqa: N803 - boto3's names
        return {"QueueUrl": QueueName}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        with self._lock:
            for entry in Entries:
                for _copy in range(2 if self.rng.random() < 0.3 else 1):
                    self._ids += 1
                    self.messages[QueueUrl].append({
                        "MessageId": f"m{self._ids}", "ReceiptHandle": f"h{self._ids}", "Body": entry["MessageBody"],
                        "MD5OfBody": "", "visible_at": self.clock.now() + timedelta(seconds=entry["DelaySeconds"])})
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def receive(self, queue: str, count: int) -> list[dict[str, Any]]:
        now = self.clock.now()
        with self._lock:
            ready = [m for m in self.messages[queue] if m["visible_at"] <= now][:count]
            for message in ready:
                message["visible_at"] = now + VISIBILITY
        return ready

    def delete(self, queue: str, message_ids: set[str]) -> None:
        with self._lock:
            self.messages[queue] = [m for m in self.messages[queue] if m["MessageId"] not in message_ids]

    def next_visible(self) -> datetime | None:
        with self._lock:
            moments = [m["visible_at"] for messages in self.messages.values() for m in messages]
        return max(self.clock.now(), min(moments)) if moments else None


class Chaos:
    """What went wrong where, seeded, and what each network saw."""

    def __init__(self, clock: FixedClock, rng: random.Random) -> None:
        self.clock, self.rng = clock, rng
        self.current = threading.local()
        self.happened: Counter[str] = Counter()
        # Deliveries whose outcome Herald could not learn: the network may have it (an answer lost, a worker
        # dead after claiming, a claim lost mid-call, an outcome never written).
        self.uncertain: set[str] = set()
        self._lock = threading.Lock()

    def roll(self, what: str, chance: float) -> bool:
        """True now and then, and always the first time (each trouble happens at least once, whatever the
        threads' order does to the draws)."""
        with self._lock:
            hit = self.rng.random() < chance or not self.happened[what]
            if hit:
                self.happened[what] += 1
        return hit

    def checkpoint(self, step: str) -> None:
        if step == "tick_marked" and self.roll("tick killed between marking and sending", 0.15):
            raise Crash(step)
        if step in ("claimed", "attempted") and self.roll(f"worker killed after {step}", 0.04):
            self.uncertain.add(self.current.delivery_id)
            raise Crash(step)


class ChaosRepository(DeliveryRepository):
    """The engine's delivery repository, with DynamoDB throttling the writes now and then (after botocore's
    own retries): a claim, a tick's mark, an outcome."""

    chaos: Chaos

    def claim(self, row: DeliveryRow, token: str, lease_until: datetime, now: datetime) -> DeliveryRow:
        self._throttle("claim")
        claimed = super().claim(row, token, lease_until, now)
        self.chaos.current.delivery_id = claimed.delivery_id
        return claimed

    def mark_queued(self, row: DeliveryRow, lease_until: datetime) -> DeliveryRow:
        self._throttle("mark")
        return super().mark_queued(row, lease_until)

    def finish(self, row: DeliveryRow, token: str, outcome: Outcome, read: Any = None) -> DeliveryRow:
        if self.chaos.roll("outcome throttled", 0.03):
            self.chaos.uncertain.add(row.delivery_id)
            raise _throttled()
        return super().finish(row, token, outcome, read)

    def _throttle(self, what: str) -> None:
        if self.chaos.roll(f"{what} throttled", 0.03):
            raise _throttled()


def _throttled() -> UpdateError:
    from botocore.exceptions import ClientError

    cause = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}},
                        "UpdateItem")
    return UpdateError("Failed to update item", cause=cause)


class RandomConflicts(ConflictingConnection):
    """TransactionConflict on an outcome transaction now and then (the repository pauses and writes again)."""

    def __init__(self, chaos: Chaos) -> None:
        super().__init__(times=0)
        self.chaos = chaos

    def transact_write_items(self, *args: Any, **kwargs: Any) -> Any:
        outcome = bool(kwargs.get("update_items"))  # not a post being made
        self.times = 1 if outcome and self.chaos.roll("TransactionConflict", 0.1) else 0
        return super().transact_write_items(*args, **kwargs)


class ChaosNetwork:
    """A network that records what became visible. `window`: it drops a repeat whose key it saw within that
    long (None: not idempotent). `looks`: it can say whether a delivery is out (find_published)."""

    limits = LIMITS

    def __init__(self, network: str, chaos: Chaos, *, window: timedelta | None = None, looks: bool = False) -> None:
        self.network, self.chaos = network, chaos
        self.idempotent_publish = window is not None
        if window is not None:
            self.idempotency_window = window
        if looks:
            self.find_published = self._find_published
        self.visible: Counter[str] = Counter()
        self.first_seen: dict[str, datetime] = {}
        self.not_before: dict[str, datetime] = {}
        self.early: list[str] = []
        self._lock = threading.Lock()

    def publish(self, channel: Any, request: Any) -> PublishResult:
        key, now = request.delivery_id, self.chaos.clock.now()
        with self._lock:
            if now < self.not_before.get(key, now):
                self.early.append(key)  # Retry-After not honoured
        if self.chaos.roll(f"{self.network} 429", 0.08):
            with self._lock:
                self.not_before[key] = now + timedelta(seconds=40)
            raise RetryableError("429 Too Many Requests", status=429, retry_after_s=40)
        if self.chaos.roll(f"{self.network} refused before sending", 0.05):
            raise RetryableError("connection refused")
        with self._lock:
            seen = self.first_seen.get(key)
            if not (self.idempotent_publish and seen and now - seen < self.idempotency_window):
                self.visible[key] += 1
                self.first_seen.setdefault(key, now)
        if self.chaos.roll("a call outlasts its claim's lease", 0.03):
            self.chaos.uncertain.add(key)
            self.chaos.clock.advance(150)  # the sweep may take the claim back while this call is out
        if self.chaos.roll(f"{self.network} answer lost", 0.12):
            self.chaos.uncertain.add(key)
            raise AmbiguousError("read timeout after the request was sent")
        return PublishResult(remote_id=f"{self.network}-{key}")

    def _find_published(self, channel: Any, request: Any) -> PublishResult | None:
        with self._lock:
            out = self.visible[request.delivery_id] > 0
        return PublishResult(remote_id=f"{self.network}-{request.delivery_id}") if out else None

    def describe_account(self, channel: Any) -> dict[str, str]:
        return {"handle": self.network, "account_id": channel.channel_id}


@pytest.fixture
def chaos(deps: Any, clock: FixedClock) -> Any:
    rng = random.Random(SEED)
    chaos = Chaos(clock, rng)
    networks = {"sandbox": ChaosNetwork("sandbox", chaos),
                "mastodon": ChaosNetwork("mastodon", chaos, window=WINDOW),
                "bluesky": ChaosNetwork("bluesky", chaos, looks=True)}
    deps._adapter_overrides.update(networks)
    sqs = ClockSqs(clock, random.Random(SEED + 1))
    deps.publish_queue = PublishQueue(sqs, "publish")
    deps.tick_queue = PublishQueue(sqs, "tick")
    repository = ChaosRepository(deps.post_repository, final_post_status, clock,
                                 sleep=lambda _s: None)
    repository.chaos = chaos
    deps.delivery_repository = repository
    deps.post_repository._connection = RandomConflicts(chaos)
    deps.engine.checkpoint = chaos.checkpoint
    deps.engine.jitter = rng.random
    return chaos, networks, sqs


def invoke(handler: Any, sqs: ClockSqs, queue: str, messages: list[dict[str, Any]]) -> None:
    """One Lambda invocation: the batch is deleted but for its batchItemFailures; if it dies, none is."""
    event = sqs_event(messages, f"arn:aws:sqs:us-east-1:123456789012:{queue}", "us-east-1")
    try:
        answer = handler(event, None)
    except Crash:
        return  # every record comes back after the visibility timeout
    failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
    sqs.delete(queue, {m["MessageId"] for m in messages} - failed)


def run_tick(chaos: Chaos) -> None:
    with contextlib.suppress(Crash):  # a tick that dies is run again by the next minute's
        tick(SCHEDULED, None)


def test_nothing_is_published_twice_lost_failed_while_visible_or_unknown_while_settleable(deps, clock, chaos):
    chaos_, networks, sqs = chaos
    workspace = make_workspace(deps)
    channels = [deps.channels.create(workspace.id, "sandbox", "Plain", {}, {}),
                deps.channels.create(workspace.id, "mastodon", "Windowed",
                                     {"instance_url": "https://x.test", "access_token": "t"}, {}),
                deps.channels.create(workspace.id, "bluesky", "Looks", {
                    "service_url": "https://pds.example.com", "handle": "a.test", "app_password": "p"}, {})]
    start = clock.now()
    for i in range(POSTS):
        deps.posts.create(workspace.id, PostDraft(f"post {i}", [c.channel_id for c in channels], {}, [],
                                                  start + timedelta(seconds=150 + 7 * i), None))
    play(deps, clock, chaos_, sqs)

    deliveries = all_deliveries(deps, workspace.id)
    assert len(deliveries) == 3 * POSTS
    outcome = Counter((d.network, d.status) for d in deliveries)
    assert {status for _, status in outcome} <= {"published", "failed", "unknown"}, outcome  # nothing stuck
    for delivery in deliveries:
        check(delivery, networks[delivery.network], chaos_)
    assert not any(network.early for network in networks.values()), "Retry-After was not honoured"
    # Every kind of trouble happened (else the seed tests less than it says).
    for what in ("tick killed between marking and sending", "worker killed after claimed", "claim throttled",
                 "mark throttled", "outcome throttled", "TransactionConflict", "a call outlasts its claim's lease",
                 "mastodon answer lost", "sandbox 429", "queues stalled 12 minutes"):
        assert chaos_.happened[what], (what, chaos_.happened)
    assert outcome[("mastodon", "unknown")] and outcome[("bluesky", "published")] > POSTS // 2, outcome


def check(delivery: DeliveryRow, network: ChaosNetwork, chaos_: Chaos) -> None:
    seen = network.visible[delivery.delivery_id]
    assert seen <= 1, f"{delivery.delivery_id} published {seen} times on {delivery.network}"
    if delivery.status == "published":
        assert seen == 1 and delivery.remote_id == f"{delivery.network}-{delivery.delivery_id}"
    if delivery.status == "failed":
        assert seen == 0, f"{delivery.delivery_id} failed but is on {delivery.network}: {delivery.last_error}"
    if delivery.status == "unknown":  # only where the network cannot be asked, and Herald could not know
        assert delivery.network != "bluesky" and delivery.delivery_id in chaos_.uncertain, delivery.last_error


def play(deps: Any, clock: FixedClock, chaos_: Chaos, sqs: ClockSqs) -> None:
    """EventBridge, the tick queue's and the publish queue's event sources, at once, until nothing is left."""
    rng = random.Random(SEED + 2)
    with ThreadPoolExecutor(max_workers=6) as pool:
        ticked = None
        for _step in range(1000):
            if clock.now().replace(second=0, microsecond=0) != ticked:  # EventBridge, each minute; sometimes twice
                ticked = clock.now().replace(second=0, microsecond=0)
                ticks = [pool.submit(run_tick, chaos_) for _ in range(2 if rng.random() < 0.5 else 1)]
            else:
                ticks = []
            units = [pool.submit(invoke, tick_worker, sqs, "tick", [m]) for m in sqs.receive("tick", 4)]
            received = [sqs.receive("publish", 10) for _ in range(3)]
            batches = [pool.submit(invoke, publish_worker, sqs, "publish", batch) for batch in received if batch]
            for future in ticks + units + batches:
                future.result()
            stalls = chaos_.happened["queues stalled 12 minutes"]
            if (rng.random() < 0.02 and stalls < 3) or (chaos_.happened["mastodon answer lost"] and not stalls):
                chaos_.happened["queues stalled 12 minutes"] += 1
                clock.advance(minutes=12)  # a backlog, an outage: retries come after the window
            elif units or batches or ticks:
                clock.advance(STEP.total_seconds())
            elif not still_active(deps, clock.now() + timedelta(days=1)):
                break
            else:  # idle: on to the next message or the next minute's tick
                clock.set(min(sqs.next_visible() or next_minute(clock.now()), next_minute(clock.now())))
        else:
            raise AssertionError("the engine never settled")


def next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def still_active(deps: Any, until: datetime) -> bool:
    """Anything scheduled, queued or publishing is in the due index."""
    return any(next(deps.delivery_repository.due(shard, until), None) for shard in range(deps.settings.due_shards))


def all_deliveries(deps: Any, workspace_id: str) -> list[DeliveryRow]:
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
