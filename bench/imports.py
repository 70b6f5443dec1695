"""Benchmark of a CSV import of 10,000 rows (issue 16), in-process under moto, as bench/nightly.py runs.

One workspace with 5 sandbox channels; a 10,000-row CSV (UTF-8, `;`-delimited as Excel writes it in Turkey)
of posts scheduled over the next month, one or two channels each, named by channel name or id. The import
is announced, the file put where the presigned URL points, started, and the import worker run on each
message of the post_imports queue until the import is done: the time is from the start call to done. Every
DynamoDB request the import makes is counted through PynamoDB's pre-send signal.

moto answers each request with a few ms of Python, so the time is the emulation's more than DynamoDB's; the
write counts are what DynamoDB would bill as requests (a post and its deliveries are one transaction).

    python -m bench.imports        # HERALD_BENCH_IMPORT_ROWS=500 for a quick look
"""
from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.nightly import ACCOUNT_ID, WRITES, _environment

ROWS = int(os.environ.get("HERALD_BENCH_IMPORT_ROWS", "10000"))
CHANNELS = 5
START = datetime(2026, 3, 2, 8, tzinfo=UTC)


class _Requests:
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, _sender: object, operation_name: str, table_name: str | None, req_uuid: object) -> None:
        with self._lock:
            self.seen[f"{operation_name} {table_name}"] += 1


def csv_of(rows: int, channels: list[tuple[str, str]]) -> bytes:
    """`rows` posts, scheduled every few minutes from a day after START, on one or two channels each."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["text", "channels", "publish_at", "media", "text:sandbox"])
    for n in range(rows):
        first, second = channels[n % len(channels)], channels[(n + 1) % len(channels)]
        targets = f"{first[1]}|{second[0]}" if n % 3 == 0 else first[1]  # by name, and by id
        when = (START + timedelta(days=1, minutes=4 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow([f"Gönderi {n}: yeni ürünler çıktı", targets, when, "", "" if n % 5 else f"Kısa {n}"])
    return out.getvalue().encode("utf-8")


def run() -> dict[str, Any]:
    with _environment():
        return measure(ROWS)


def measure(rows: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from chalicelib.core.clock import FixedClock
    from chalicelib.core.settings import get_settings
    from chalicelib.wiring import Container, use_container
    from infra.local.aws_emulation import AwsClients
    from infra.local.kms_keys import KmsKeyKeeper
    from infra.local.provision import Provisioner
    from infra.moto_atomic import make_dynamodb_atomic
    from infra.resources import resources

    make_dynamodb_atomic()
    with mock_aws():
        settings = get_settings()
        clients = {name: boto3.client(name, region_name=settings.region) for name in ("dynamodb", "sqs", "kms", "s3")}
        keys = KmsKeyKeeper(None, clients["kms"], ACCOUNT_ID, settings.region)
        Provisioner(AwsClients(**clients), keys, settings.region, ACCOUNT_ID).provision(resources(settings.stage))
        deps = use_container(Container(clock=FixedClock(START), clients=clients, sleep=lambda _s: None))
        workspace, _key = deps.access.create_workspace("Bench imports", "Europe/Istanbul")
        channels = [deps.channels.create(workspace.workspace_id, "sandbox", f"Kanal {c}", {}, {})
                    for c in range(CHANNELS)]
        data = csv_of(rows, [(c.channel_id, c.name) for c in channels])
        announced = deps.imports.create(workspace.workspace_id, "bench.csv", len(data), "valid_rows")
        row = deps.import_repository.get(workspace.workspace_id, announced["id"])
        assert row is not None
        clients["s3"].put_object(Bucket=settings.media_bucket, Key=row.object_key, Body=data, ContentType="text/csv")
        return _timed_import(deps, clients["sqs"], workspace.workspace_id, announced["id"], rows)


def _timed_import(deps: Any, sqs: Any, workspace_id: str, import_id: str, rows: int) -> dict[str, Any]:
    from pynamodb.signals import pre_dynamodb_send

    from chalicelib.imports.import_queue import parse_step

    url = sqs.get_queue_url(QueueName=deps.settings.queue("post_imports"))["QueueUrl"]
    requests = _Requests()
    pre_dynamodb_send.connect(requests)
    try:
        started = time.perf_counter()
        deps.imports.start(workspace_id, import_id)
        messages = 0
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []):
            deps.imports.run_step(*parse_step(batch[0]["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=batch[0]["ReceiptHandle"])
            messages += 1
        elapsed = time.perf_counter() - started
    finally:
        pre_dynamodb_send.disconnect(requests)
    report = deps.imports.get(workspace_id, import_id)
    writes = {name: count for name, count in requests.seen.items() if name.split()[0] in WRITES}
    return {
        "import_10k_rows_s": round(elapsed, 1),
        "import_ddb_writes_per_row": round(sum(writes.values()) / rows, 3),
        "import_rows": rows,
        "import_created": report.created,
        "import_invalid": report.invalid,
        "import_status": report.status,
        "import_messages": messages,
        "import_ddb_writes": dict(sorted(writes.items())),
        "import_where": "in-process moto (DynamoDB, SQS, S3 emulated); sandbox channels; valid_rows",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
