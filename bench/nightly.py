"""Benchmark of the nightly metrics roll-up for 1,000 channels.

Runs in-process against moto's DynamoDB, KMS, SQS and S3 (no endpoint, no
network): 100 workspaces of 10 sandbox channels, each channel with a day of
counters (a published post, comments, a first response). It times one nightly
run that rolls up that day, and counts the DynamoDB requests it sends through
PynamoDB's pre-send signal.

moto answers a Query by walking every item of the table, so the time here is
an upper bound dominated by the emulator; the request counts are what DynamoDB
would bill.

    python -m bench.nightly
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
WORKSPACES = 100
CHANNELS_PER_WORKSPACE = 10
READS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@contextlib.contextmanager
def _environment() -> Iterator[None]:
    """This bench's settings, for its run only: the benches after it (in the same process) read
    their own (`make bench` once failed on a queue named for this bench's stage)."""
    saved = dict(os.environ)
    for name, value in {"HERALD_STAGE": "bench", "AWS_ACCESS_KEY_ID": "bench",
                        "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    os.environ.pop("HERALD_AWS_ENDPOINT_URL", None)
    from chalicelib.core.settings import get_settings

    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


class _Requests:
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, _sender: object, operation_name: str, table_name: str | None,
                 req_uuid: object) -> None:
        with self._lock:
            self.seen[operation_name] += 1


def _populate(deps: Any, day: date) -> int:
    channels = 0
    for w in range(WORKSPACES):
        workspace, _key = deps.access.create_workspace(f"Bench {w}", "UTC")
        for c in range(CHANNELS_PER_WORKSPACE):
            channel = deps.channels.create(workspace.workspace_id, "sandbox", f"Channel {c}", {},
                                           {"followers": 1000 + c})
            moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            post = {"post_id": f"pst_{w}_{c}", "remote_id": f"sbx_{w:03d}{c:03d}",
                    "published_at": "2026-03-02T12:00:00.000Z", "preview": "Hello"}
            deps.metrics_repository.add(workspace.workspace_id, channel.channel_id, day,
                                        {"published": 1, "lateness_sum_s": 0.5},
                                        {"lateness_s": [0.5], "posts": [post]})
            deps.counters.record_inbound(workspace.workspace_id, channel.channel_id, "comment", moment,
                                         new_conversation=True, timezone="UTC")
            deps.counters.record_first_response(workspace.workspace_id, channel.channel_id, moment, 300,
                                                timezone="UTC")
            channels += 1
    return channels


def run() -> dict[str, Any]:
    with _environment():
        return _run()


def _run() -> dict[str, Any]:
    import boto3
    from moto import mock_aws
    from pynamodb.signals import pre_dynamodb_send

    from chalicelib.core.clock import FixedClock
    from chalicelib.core.settings import get_settings
    from chalicelib.wiring import Container, use_container
    from infra.local.aws_emulation import AwsClients
    from infra.local.kms_keys import KmsKeyKeeper
    from infra.local.provision import Provisioner
    from infra.moto_atomic import make_dynamodb_atomic
    from infra.resources import resources

    day = date(2026, 3, 2)
    make_dynamodb_atomic()  # as the tests and the local stack run it
    with mock_aws():
        settings = get_settings()
        clients = {name: boto3.client(name, region_name=settings.region)
                   for name in ("dynamodb", "sqs", "kms", "s3")}
        keys = KmsKeyKeeper(None, clients["kms"], ACCOUNT_ID, settings.region)
        Provisioner(AwsClients(**clients), keys, settings.region, ACCOUNT_ID).provision(resources(settings.stage))
        clock = FixedClock(datetime(2026, 3, 2, 8, tzinfo=UTC))
        deps = use_container(Container(clock=clock, clients=clients, sleep=lambda _s: None))
        channels = _populate(deps, day)

        clock.set(datetime(2026, 3, 3, 0, 15, tzinfo=UTC))
        requests = _Requests()
        pre_dynamodb_send.connect(requests)
        try:
            started = time.perf_counter()
            report = deps.rollup.run()
            elapsed = time.perf_counter() - started
        finally:
            pre_dynamodb_send.disconnect(requests)
    channel_days = report.channel_days
    reads = sum(requests.seen[op] for op in READS)
    writes = sum(requests.seen[op] for op in WRITES)
    return {
        "nightly_s_per_1000_channels": round(elapsed * 1000 / channels, 3),
        "nightly_ddb_reads_per_channel_day": round(reads / channel_days, 3),
        "nightly_ddb_writes_per_channel_day": round(writes / channel_days, 3),
        "nightly_channels": channels,
        "nightly_channel_days": channel_days,
        "nightly_rows_written": report.rows_written,
        "nightly_scans": requests.seen["Scan"],
        "nightly_requests": dict(sorted(requests.seen.items())),
        "nightly_where": "in-process moto (DynamoDB, KMS emulated); sandbox network",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
