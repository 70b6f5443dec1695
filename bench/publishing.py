"""The publishing engine on the local stack (issue 3): how late, how fast through a burst, how many
DynamoDB writes, and whether anything was published twice or lost. See bench/README.md.

Two runs, each on a fresh local stack of its own (bench/stack.py) with the real app, the real scheduler
(the tick fires at minute boundaries) and WORKERS queue handlers at once:

- lateness: LATENESS_DELIVERIES posts, one sandbox channel each, due at random whole seconds over the
  next three minutes, made through the API in the order they are due. Lateness is when the sandbox
  received a delivery (`received_at`) minus its `publish_at`.
- burst: BURST_DELIVERIES deliveries all due at the same second, as posts made through the API to
  BURST_CHANNELS_PER_POST sandbox channels each (as a team posts, and 5x fewer requests to make them),
  on channels that take BURST_LATENCY_MS to answer. Drain is the last arrival minus that second. The
  bench waits until the queue is empty, BURST_WAIT_S at most (the local stack drains slowly: README).

Writes are counted inside the stack (infra/local/dynamodb_meter.py). The engine's own are the updates of
the posts table (tick `queued`, claim, outcome transaction): making a post only puts items, and the
sandbox network writes a table of its own.
"""
from __future__ import annotations

import logging
import math
import os
import random
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import engine_cpu, projection
from bench.api import HeraldApi, parse_time
from bench.stack import LocalStackProcess

log = logging.getLogger("bench.publishing")

# Queue handlers at once. Lambda would scale out further, but the local stack is one process on one core:
# past this, more handlers only fight over the GIL (64 drained a burst about 2x slower than 8).
WORKERS = 8
CHANNELS = 10
CREATE_THREADS = 8
LATENESS_DELIVERIES = 500
LATENESS_WINDOW_S = 180
LATENESS_LEAD_S = 5  # the first due second is at least this far after the bench starts making posts
LATENESS_WAIT_S = 120  # after the last due second, at most
BURST_DELIVERIES = int(os.environ.get("HERALD_BENCH_BURST_DELIVERIES", "5000"))
BURST_CHANNELS_PER_POST = 5
BURST_LATENCY_MS = 50
# Due this long after the first minute boundary that follows its making: every post is made more than two
# minutes before it is due, beyond the horizon of the tick of its minute (to the end of the next minute), so
# the API queues none and a tick queues them all, 60-120 s ahead, as in steady state.
BURST_AFTER_TICK_S = 120
BURST_WAIT_S = int(os.environ.get("HERALD_BENCH_BURST_WAIT_S", "900"))  # after the due second, at most
TERMINAL = ("published", "failed", "unknown")
ENGINE_TABLE = "herald-local-posts"
ENGINE_OPERATIONS = ("UpdateItem", "TransactWriteItems(Update)")
# The outcome transaction also writes the channel's day in the metrics table: its items and units are
# the engine's too (the request is already counted once, on the posts table).
COUNTER_TABLE = "herald-local-metrics"
# The scheduled tick only fans out; its units, run by tick_worker, queue the deliveries: each unit's run as the
# local stack's queue poller logs it (infra/local/sqs_poller.py), and what it queued as the handler logs it
# (chalicelib/publishing/publishing_jobs.py).
TICK_LOGGED = re.compile(r"Queue function tick_worker took \d+ message\(s\) from \S+ in (\d+) ms")
TICK_QUEUED = re.compile(r"Tick shard \d+: (\d+) queued")


@dataclass(frozen=True)
class Scheduled:
    post_id: str
    channel_id: str
    publish_at: datetime
    created_at: datetime
    queued_by_api: bool = False

    @property
    def delivery_id(self) -> str:
        return f"{self.post_id}.{self.channel_id}"


@dataclass
class Outcome:
    """What one run saw when it stopped waiting."""
    scheduled: list[Scheduled]
    drained: bool  # the publish queue was empty: nothing left in flight
    arrivals: dict[str, list[datetime]]  # delivery id -> when the sandbox received it, each time
    unfinished: set[str]  # delivery ids not yet published, failed or unknown, read from the deliveries
    writes: list[dict[str, Any]]
    tick_s: list[float]  # how long each tick ran, from the stack's log
    queued_by_tick: int | None = None  # what the ticks said they queued, from the stack's log
    queued_by_api: int = 0  # deliveries the API answered `queued` as it made their post

    def lateness_s(self, keep: Callable[[Scheduled], bool] = lambda _item: True) -> list[float]:
        """One per expected delivery: a delivery that never arrived is infinitely late."""
        return [(min(self.arrivals[item.delivery_id]) - item.publish_at).total_seconds()
                if self.arrivals.get(item.delivery_id) else math.inf
                for item in self.scheduled if keep(item)]

    @property
    def arrived(self) -> int:
        return sum(1 for item in self.scheduled if self.arrivals.get(item.delivery_id))

    @property
    def duplicates(self) -> int:
        return sum(1 for times in self.arrivals.values() if len(times) > 1)

    @property
    def lost(self) -> int:
        """Deliveries neither published nor failed/unknown when the bench stopped waiting (whether or not
        the queue had drained: one still in flight then is not out on time either)."""
        ours = {item.delivery_id for item in self.scheduled}
        return len(self.unfinished & ours)

    @property
    def early(self) -> int:
        return sum(1 for late in self.lateness_s() if late < 0)

    def engine_writes_of(self, table: str) -> Counter[str]:
        totals = Counter[str]()
        for row in self.writes:
            if row["table"] == table:
                for name in ("requests", "failed_requests", "items", "wcu", "index_wcu"):
                    totals[name] += row[name]
        return totals

    @property
    def longest_tick_s(self) -> float | None:
        return round(max(self.tick_s), 1) if self.tick_s else None

    def engine_writes(self) -> Counter[str]:
        totals = Counter[str]()
        for row in self.writes:
            engine = row["table"] == ENGINE_TABLE and row["operation"] in ENGINE_OPERATIONS
            counters = row["table"] == COUNTER_TABLE and row["operation"].startswith("TransactWriteItems")
            if engine:
                totals["requests"] += row["requests"]
                totals["failed_requests"] += row["failed_requests"]
            if engine or counters:
                totals["items"] += row["items"]
                totals["wcu"] += row["wcu"] + row["index_wcu"]
                totals["index_wcu"] += row["index_wcu"]
            if counters:
                totals["counter_wcu"] += row["wcu"] + row["index_wcu"]
        return totals


def now() -> datetime:
    return datetime.now(UTC)


def next_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


def queued_when_made(item: Scheduled) -> bool:
    """Due before the horizon of the tick of the minute it was made in: the API queued it at once
    (chalicelib/publishing/engine.py, `queue_due_soon`); the others a tick queued 60-120 s ahead."""
    return item.publish_at <= next_minute(item.created_at) + timedelta(minutes=1)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def seconds(value: float) -> float | None:
    """Rounded; None for a non-arrival (infinitely late), which JSON cannot say."""
    return None if math.isinf(value) else round(value, 3)


def create_posts(api: HeraldApi, plan: list[tuple[list[str], datetime]]) -> list[Scheduled]:
    """One post per (channels, publish_at), made in the plan's order by a few threads; one Scheduled
    per delivery, saying whether the API's answer had it queued already."""
    def create(index: int) -> list[Scheduled]:
        channel_ids, publish_at = plan[index]
        post = api.schedule_post(f"bench {index}", channel_ids, publish_at)
        created_at = now()
        queued = {d["channel_id"] for d in post.get("deliveries", []) if d.get("status") == "queued"}
        return [Scheduled(post["id"], channel_id, publish_at, created_at, channel_id in queued)
                for channel_id in channel_ids]

    started = time.monotonic()
    with ThreadPoolExecutor(CREATE_THREADS) as pool:
        created = [item for items in pool.map(create, range(len(plan))) for item in items]
    elapsed = time.monotonic() - started
    log.info("Made %d posts (%d deliveries) through the API in %.1f s (%.0f posts/s)", len(plan), len(created),
             elapsed, len(plan) / elapsed)
    return created


def wait_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - now()).total_seconds()))


def wait_for_queue_to_drain(stack: LocalStackProcess, deadline: datetime) -> bool:
    """Until the publish queue holds nothing (delayed, waiting or in a handler's hands), or the deadline.
    Asked every few seconds only: moto counts a queue's messages one by one, and reading the posts
    through the API would cost the stack more, slowing down what is measured."""
    sqs = stack.aws_client("sqs")
    url = sqs.get_queue_url(QueueName=stack.environment()["HERALD_QUEUE_PUBLISH"])["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
             "ApproximateNumberOfMessagesDelayed"]
    while True:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if all(int(attributes.get(name, "0")) == 0 for name in names):
            return True
        if now() >= deadline:
            log.warning("Stopped waiting with messages still in the publish queue: %s", attributes)
            return False
        time.sleep(5.0)


def collect(api: HeraldApi, stack: LocalStackProcess, channel_ids: list[str], scheduled: list[Scheduled],
            drained: bool, queued_by_api: int = 0) -> Outcome:
    """What the sandbox received, and which deliveries are not done, read from every post's deliveries
    (whatever the post's own status says), once the measurement is over."""
    arrivals: dict[str, list[datetime]] = {}
    for channel_id in channel_ids:
        for receipt in api.sandbox_received(channel_id):
            arrivals.setdefault(receipt["delivery_id"], []).append(parse_time(receipt["received_at"]))
    unfinished = {f"{post['id']}.{delivery['channel_id']}" for post in api.posts()
                  for delivery in post["deliveries"] if delivery["status"] not in TERMINAL}
    stack.stop()
    log_text = stack.log_path.read_text()
    ticks = [int(ms) / 1000 for ms in TICK_LOGGED.findall(log_text)]
    reported = [int(n) for n in TICK_QUEUED.findall(log_text)]
    return Outcome(scheduled, drained, arrivals, unfinished, stack.dynamodb_writes(), ticks,
                   queued_by_tick=sum(reported) if reported else None, queued_by_api=queued_by_api)


def on_stack(root: Path, name: str, channel_settings: dict[str, Any],
             scenario: Callable[[HeraldApi, LocalStackProcess, list[str]], Outcome]) -> Outcome:
    # Tables saved on exit only: a save reads every table whole, which would slow down what is measured.
    stack = LocalStackProcess(root / name, workers=WORKERS, extra_env={"HERALD_SAVE_EVERY_S": "0"})
    stack.start()
    try:
        api = HeraldApi(stack.api_url, stack.api_key, connections=CREATE_THREADS)
        channel_ids = [api.create_sandbox_channel(f"bench {index}", channel_settings) for index in range(CHANNELS)]
        return scenario(api, stack, channel_ids)
    finally:
        stack.stop()


def lateness_run(api: HeraldApi, stack: LocalStackProcess, channel_ids: list[str]) -> Outcome:
    rng = random.Random(3)
    first = now().replace(microsecond=0) + timedelta(seconds=LATENESS_LEAD_S)
    dues = sorted(first + timedelta(seconds=rng.randrange(LATENESS_WINDOW_S)) for _ in range(LATENESS_DELIVERIES))
    log.info("Lateness: %d deliveries due between %s and %s", len(dues), dues[0].strftime("%H:%M:%S"),
             dues[-1].strftime("%H:%M:%S"))
    scheduled = create_posts(api, [([channel_ids[i % len(channel_ids)]], due) for i, due in enumerate(dues)])
    wait_until(dues[-1] + timedelta(seconds=2))
    drained = wait_for_queue_to_drain(stack, dues[-1] + timedelta(seconds=LATENESS_WAIT_S))
    return collect(api, stack, channel_ids, scheduled, drained, sum(1 for s in scheduled if s.queued_by_api))


def burst_run(api: HeraldApi, stack: LocalStackProcess, channel_ids: list[str],
              posts_per_second: float) -> Outcome:
    posts = BURST_DELIVERIES // BURST_CHANNELS_PER_POST
    making_s = posts / posts_per_second
    due = next_minute(now() + timedelta(seconds=making_s)) + timedelta(seconds=BURST_AFTER_TICK_S)
    log.info("Burst: %d deliveries due at %s (about %.0f s of making posts, then the tick queues them)",
             BURST_DELIVERIES, due.strftime("%H:%M:%S"), making_s)
    plan = [([channel_ids[(i + k) % len(channel_ids)] for k in range(BURST_CHANNELS_PER_POST)], due)
            for i in range(posts)]
    scheduled = create_posts(api, plan)
    by_api = sum(1 for item in scheduled if item.queued_by_api)
    made_late = sum(1 for item in scheduled if item.publish_at - item.created_at <= timedelta(minutes=2))
    log.info("Burst: the API queued %d deliveries as it made them; %d posts were made 2 minutes or less "
             "before they were due", by_api, made_late)
    wait_until(due)
    drained = wait_for_queue_to_drain(stack, due + timedelta(seconds=BURST_WAIT_S))
    return collect(api, stack, channel_ids, scheduled, drained, by_api)


def log_lateness_by_minute(run: Outcome) -> None:
    """Which tick queued a delivery follows from the minute it was due: shows where the lateness comes from."""
    minutes = sorted({item.publish_at.replace(second=0) for item in run.scheduled})
    for minute in minutes:
        late = run.lateness_s(keep=lambda item, minute=minute: item.publish_at.replace(second=0) == minute)
        if late:
            log.info("Due %s: %d deliveries, lateness p50 %.2f s, max %.2f s", minute.strftime("%H:%M"), len(late),
                     statistics.median(late), max(late))


def lateness_figures(run: Outcome) -> dict[str, Any]:
    log_lateness_by_minute(run)
    late = run.lateness_s()
    by_tick = run.lateness_s(keep=lambda item: not queued_when_made(item))
    writes = run.engine_writes()
    deliveries = len(run.scheduled)
    return {
        "lateness_deliveries": deliveries,
        "lateness_expected": deliveries,
        "lateness_arrived": run.arrived,
        "lateness_p50_s": seconds(percentile(late, 0.50)),
        "lateness_p99_s": seconds(percentile(late, 0.99)),
        "lateness_max_s": seconds(max(late)),
        "lateness_queued_when_made": run.queued_by_api,
        "lateness_p99_s_queued_by_tick": seconds(percentile(by_tick, 0.99)) if by_tick else None,
        "lateness_longest_tick_s": run.longest_tick_s,
        "ddb_writes_per_delivery": round(writes["requests"] / deliveries, 3),
        "ddb_items_written_per_delivery": round(writes["items"] / deliveries, 3),
        "ddb_wcu_per_delivery": round(writes["wcu"] / deliveries, 3),
        "ddb_index_wcu_per_delivery": round(writes["index_wcu"] / deliveries, 3),
        "ddb_counter_wcu_per_delivery": round(writes["counter_wcu"] / deliveries, 3),
        "wcu_method": "computed from item sizes (moto's ConsumedCapacity is a constant)",
    }


def burst_figures(run: Outcome) -> dict[str, Any]:
    due = run.scheduled[0].publish_at
    arrivals = sorted(min(times) for times in run.arrivals.values())
    writes = run.engine_writes()
    everything_arrived = len(arrivals) == len(run.scheduled)
    return {
        "burst_deliveries": len(run.scheduled),
        "burst_due": "same second",
        "burst_channels_per_post": BURST_CHANNELS_PER_POST,
        "burst_latency_ms": BURST_LATENCY_MS,
        "burst_received": len(arrivals),
        "burst_drain_s": round((arrivals[-1] - due).total_seconds(), 3) if everything_arrived else None,
        "burst_first_s": round((arrivals[0] - due).total_seconds(), 3) if arrivals else None,
        "burst_received_per_s": round(len(arrivals) / max(1e-3, (arrivals[-1] - arrivals[0]).total_seconds()), 1)
        if len(arrivals) > 1 else None,
        "burst_unfinished": None if run.drained else len(run.unfinished),
        "burst_longest_tick_s": run.longest_tick_s,
        "burst_ddb_writes": writes["requests"],
        "burst_ddb_failed_writes": writes["failed_requests"],
        "burst_ddb_writes_per_delivery": round(writes["requests"] / len(run.scheduled), 3),
        "burst_ddb_wcu_per_delivery": round(writes["wcu"] / len(run.scheduled), 3),
        # of which the counter consumer's, on the metrics table (a table of its own, with its own throughput)
        "burst_counter_wcu_per_delivery": round(writes["counter_wcu"] / len(run.scheduled), 3),
        "burst_counter_writes_per_delivery": round(
            run.engine_writes_of(COUNTER_TABLE)["requests"] / len(run.scheduled), 3),
        "burst_queued_by_tick": run.queued_by_tick,
        "burst_queued_by_api": run.queued_by_api,
    }


def run() -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="herald-bench-publishing-"))
    lateness = on_stack(root, "lateness", {}, lateness_run)
    made = lateness.scheduled
    # A cautious guess at how fast the burst's posts (several channels each) can be made, from how fast
    # these were; an error of up to a minute only shortens how long ahead the tick queues the burst.
    rate = 0.5 * len(made) / max(1.0, (made[-1].created_at - made[0].created_at).total_seconds())
    burst = on_stack(root, "burst", {"latency_ms": BURST_LATENCY_MS},
                     lambda api, stack, channels: burst_run(api, stack, channels, rate))
    for name, outcome in (("lateness", lateness), ("burst", burst)):
        for row in outcome.writes:
            log.info("DynamoDB writes in the %s run: %s", name, row)
    checked = {name: outcome.lost for name, outcome in (("lateness", lateness), ("burst", burst))}
    result = {
        "workers": WORKERS,
        **lateness_figures(lateness),
        **burst_figures(burst),
        "early": lateness.early + burst.early,
        "duplicates": lateness.duplicates + burst.duplicates,
        "lost": sum(checked.values()),
        "lost_checked_in": "+".join(checked),
    }
    result.update(engine_cpu.run())
    config = projection.deployed("prod")
    result["cost_per_million_deliveries_usd"] = projection.cost_per_million_usd(result, config)
    result.update(projection.drain_100k(result, config))
    shutil.rmtree(root, ignore_errors=True)  # kept (with the stacks' logs) when a run fails
    return result
