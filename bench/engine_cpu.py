"""The engine's own CPU per delivery, apart from the emulator's (issue 14).

The AWS emulation runs in a process of its own (infra/local/aws_emulation.py, the local stack's), so
`time.process_time()` in this one counts only what Lambda would run: the real `tick` (which only fans out),
`tick_worker` (one unit per due shard: the tick's work), `publish_worker` and `count_outcomes` handlers, called
with the events Lambda builds (SQS batches of 1 and 10, stream batches of 100),
their boto3/PynamoDB clients and the sandbox network's own writes. An injected clock moves the time to each
post's due second, so the tick (not the API) queues every delivery and no one waits for a minute boundary.

    run() -> {"worker_cpu_ms_per_delivery", "tick_cpu_ms_per_delivery", "counter_cpu_ms_per_delivery",
              "engine_cpu_deliveries", "engine_ddb_reads_per_delivery", "engine_sqs_requests_per_delivery"}
"""
from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger("bench.engine_cpu")

POSTS = 60
CHANNELS_PER_POST = 5
CHANNELS = 10
SQS_BATCH = 10  # the publish worker's batch size (chalicelib/publishing/publishing_jobs.py)
READS = ("GetItem", "BatchGetItem", "Query", "TransactGetItems")
EVENT_SOURCE_CALLS = ("ReceiveMessage", "DeleteMessageBatch", "GetQueueAttributes")
START = datetime(2026, 6, 1, 9, 0, 10, tzinfo=UTC)
STACK_ENV = {"HERALD_STAGE": "cpu", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
             "AWS_DEFAULT_REGION": "us-east-1"}


@contextlib.contextmanager
def _emulation() -> Iterator[str]:
    """The local stack's AWS emulation in a subprocess, provisioned there (its KMS keys are made in moto's
    own process); its endpoint once it says `ready`."""
    from infra.local.ports import free_ports

    [port] = free_ports(1)
    code = (f"import sys, time; from bench.engine_cpu import _serve; _serve({port}); print('ready', flush=True); "
            "time.sleep(86400)")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, **STACK_ENV})
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the AWS emulation did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _serve(port: int) -> None:
    from infra.local.aws_emulation import AwsEmulation

    emulation = AwsEmulation("127.0.0.1", port)
    emulation.start()
    _provision(emulation.endpoint_url)


@contextlib.contextmanager
def _environment(endpoint: str) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update({**STACK_ENV, "HERALD_AWS_ENDPOINT_URL": endpoint})
    for name in list(os.environ):
        if name.startswith(("HERALD_TABLE_", "HERALD_QUEUE_", "HERALD_STREAM_")):
            os.environ.pop(name)
    from chalicelib.core.settings import get_settings

    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


class _Calls:
    """DynamoDB reads (PynamoDB's signal) and SQS requests (botocore's events) the engine made."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def dynamodb(self, _sender: object, operation_name: str, table_name: str | None, req_uuid: object) -> None:
        with self._lock:
            self.seen[f"dynamodb.{operation_name}"] += 1

    def sqs(self, event_name: str = "", **_kwargs: Any) -> None:
        with self._lock:
            self.seen[f"sqs.{event_name.rsplit('.', 1)[-1]}"] += 1


class _Timer:
    def __init__(self) -> None:
        self.cpu_s: Counter[str] = Counter()

    @contextlib.contextmanager
    def measure(self, name: str) -> Iterator[None]:
        started = time.process_time()
        try:
            yield
        finally:
            self.cpu_s[name] += time.process_time() - started


def _provision(endpoint: str) -> None:
    from chalicelib.core.settings import get_settings
    from infra.local.aws_emulation import aws_clients
    from infra.local.kms_keys import KmsKeyKeeper
    from infra.local.lambda_runtime import LOCAL_ACCOUNT_ID
    from infra.local.provision import Provisioner
    from infra.resources import resources

    settings = get_settings()
    clients = aws_clients(endpoint, settings.region)
    keys = KmsKeyKeeper(None, clients.kms, LOCAL_ACCOUNT_ID, settings.region)
    Provisioner(clients, keys, settings.region, LOCAL_ACCOUNT_ID).provision(resources(settings.stage))


def _make_posts(deps: Any, due: datetime) -> int:
    from chalicelib.publishing.posts import PostDraft

    workspace, _owner = deps.access.create_workspace("CPU bench", "UTC")
    channels = [deps.channels.create(workspace.workspace_id, "sandbox", f"cpu {i}", {}, {}).channel_id
                for i in range(CHANNELS)]
    for number in range(POSTS):
        chosen = [channels[(number + k) % CHANNELS] for k in range(CHANNELS_PER_POST)]
        deps.posts.create(workspace.workspace_id, PostDraft(f"cpu {number}", chosen, {}, [], due, None))
    return POSTS * CHANNELS_PER_POST


def _sqs_batches(deps: Any, queue: str = "publish", size: int = SQS_BATCH) -> Iterator[list[dict[str, Any]]]:
    """A queue's messages, in Lambda's batches of up to `size`, as SQS records."""
    from infra.local.sqs_poller import sqs_event

    sqs = deps.client("sqs")
    url = sqs.get_queue_url(QueueName=deps.settings.queue(queue))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    empty = 0
    while empty < 3:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=size, WaitTimeSeconds=1,
                                       MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not messages:
            empty += 1
            continue
        empty = 0
        yield sqs_event(messages, arn, deps.settings.region)["Records"]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


def _measure(endpoint: str) -> dict[str, Any]:
    from pynamodb.signals import pre_dynamodb_send

    from app import app
    from chalicelib.core.clock import FixedClock
    from chalicelib.wiring import Container, use_container
    from infra.local.lambda_runtime import LambdaEnvironment
    from infra.local.scheduler import scheduled_event
    from infra.local.stream_poller import StreamPoller, stream_sources, streams_client

    clock = FixedClock(START)
    deps = use_container(Container(clock=clock))
    due = START.replace(second=0) + timedelta(minutes=3)
    deliveries = _make_posts(deps, due)
    env = LambdaEnvironment(app=app, stage=deps.settings.stage, region=deps.settings.region)
    [source] = [source for source in stream_sources(env) if source.name == "count_outcomes"]
    stream = StreamPoller(env, source, deps.client("dynamodb"), streams_client(endpoint, deps.settings.region),
                          starting_position="LATEST")
    calls, timer = _Calls(), _Timer()
    pre_dynamodb_send.connect(calls.dynamodb)
    deps.client("sqs").meta.events.register("before-call.sqs", calls.sqs)
    try:
        clock.set(due - timedelta(seconds=1))  # the tick of the minute before: every delivery is in its horizon
        with timer.measure("tick"):
            env.handler("tick")(scheduled_event(env, "tick", clock.now()), env.context("tick"))
        units = 0
        for records in _sqs_batches(deps, "tick", 1):  # the tick worker's batch size (publishing_jobs.py)
            units += 1
            with timer.measure("tick"):
                env.handler("tick_worker")({"Records": records}, env.context("tick_worker"))
        clock.set(due)
        batches = 0
        for records in _sqs_batches(deps):
            batches += 1
            with timer.measure("worker"):
                env.handler("publish_worker")({"Records": records}, env.context("publish_worker"))
        with timer.measure("counter"):
            stream.drain()
    finally:
        pre_dynamodb_send.disconnect(calls.dynamodb)
    reads = sum(count for name, count in calls.seen.items() if name.split(".", 1)[1] in READS
                and name.startswith("dynamodb."))
    # Lambda's SQS event source receives and deletes once per batch: billed SQS requests too.
    # The bench plays the event source itself (receive, delete, the queue's ARN) on the same client: those
    # calls are not counted one by one, but as the event source's two per batch.
    sqs_requests = sum(count for name, count in calls.seen.items() if name.startswith("sqs.")
                       and name.split(".", 1)[1] not in EVENT_SOURCE_CALLS) + 2 * (batches + units)
    log.info("Engine CPU: %s s over %d deliveries; requests %s", dict(timer.cpu_s), deliveries, dict(calls.seen))
    return {
        "engine_cpu_deliveries": deliveries,
        "worker_cpu_ms_per_delivery": round(1000 * timer.cpu_s["worker"] / deliveries, 2),
        "tick_cpu_ms_per_delivery": round(1000 * timer.cpu_s["tick"] / deliveries, 2),
        "counter_cpu_ms_per_delivery": round(1000 * timer.cpu_s["counter"] / deliveries, 2),
        "engine_ddb_reads_per_delivery": round(reads / deliveries, 2),
        "engine_sqs_requests_per_delivery": round(sqs_requests / deliveries, 2),
        "engine_worker_batches": batches,
        "engine_tick_units": units,
    }


def run() -> dict[str, Any]:
    with _emulation() as endpoint, _environment(endpoint):
        return _measure(endpoint)


if __name__ == "__main__":
    import json

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    print(json.dumps(run()))
