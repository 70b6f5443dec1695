"""Feeds each `@app.on_dynamodb_record` handler the way Lambda's DynamoDB Streams event source mapping does.

One reader per stream, reading its shards in order from the emulated stream (DescribeStream,
GetShardIterator, GetRecords) and handing each batch of up to `batch_size` records to the handler, one
batch at a time per shard, as Lambda does. The handler answers a partial batch response
(`batchItemFailures` naming sequence numbers): reading starts again at the first one it names, after a
pause; a handler that raises has the whole batch delivered again. So a record may reach the handler twice,
as on AWS, and the handler must count it once.

The local stack runs the readers in a process of their own (`python -m infra.local.stream_poller`, started
and stopped by StreamProcess), at a lower CPU priority than the stack: in the stack's process they shared
one interpreter lock with the publish workers and fell behind in a burst while taking the workers' time.
Tests and the CPU bench call StreamPoller in their own process.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import Any

from chalice.app import DynamoDBEventConfig

from infra.functions import stream_table_name
from infra.local.lambda_runtime import LambdaEnvironment

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
# On stop, read what is left for at most this long (the bench gives a stack 60 s to stop).
STOP_DRAIN_S = 20.0
# How much lower the readers' process runs than the stack (os.nice: 0 is the same, 19 the lowest).
READER_NICENESS = 10
# The readers' process is killed when it has not stopped this long after the drain's bound.
STOP_GRACE_S = 10.0


def stream_sources(env: LambdaEnvironment) -> list[DynamoDBEventConfig]:
    return [source for source in env.app.event_sources if isinstance(source, DynamoDBEventConfig)]


def streams_client(endpoint_url: str, region: str) -> Any:
    import boto3

    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name=region).client("dynamodbstreams", endpoint_url=endpoint_url)


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it over: the event source ARN added, times in epoch seconds."""
    change = dict(record.get("dynamodb") or {})
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {"eventID": record.get("eventID", ""), "eventName": record.get("eventName", ""),
            "eventVersion": record.get("eventVersion", "1.1"), "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion") or region, "dynamodb": change, "eventSourceARN": stream_arn}


def first_failed(result: Any, sequences: list[str]) -> str | None:
    """The sequence number to read again from, as Lambda reads a partial batch response: the lowest named.
    An answer naming a record that is not in the batch fails the whole batch."""
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return None
    named = [failure.get("itemIdentifier") for failure in result["batchItemFailures"] if isinstance(failure, dict)]
    if not named or not set(named) <= set(sequences):
        return sequences[0]
    return min(named, key=int)


class StreamPoller:
    def __init__(self, env: LambdaEnvironment, source: DynamoDBEventConfig, dynamodb: Any, streams: Any,
                 starting_position: str | None = None, idle_wait_s: float = 0.1, retry_wait_s: float = 1.0,
                 sleep: Sleep | None = None) -> None:
        self._env = env
        self._source = source
        self._streams = streams
        self._idle_wait_s = idle_wait_s
        self._retry_wait_s = retry_wait_s
        self._stop = threading.Event()
        self._sleep: Sleep = sleep or (lambda seconds: self._stop.wait(seconds) and None)
        self._thread: threading.Thread | None = None
        self.table_name = stream_table_name(source.stream_arn)
        self.stream_arn: str = dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        position = starting_position or source.starting_position
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        self._iterators: dict[str, str | None] = {
            shard["ShardId"]: self._iterator(shard["ShardId"], position) for shard in shards}
        self.delivered = 0  # records handed to the handler, repeats included

    def _iterator(self, shard_id: str, position: str, sequence: str | None = None) -> str:
        extra = {"SequenceNumber": sequence} if sequence else {}
        return self._streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id,
                                                ShardIteratorType=position, **extra)["ShardIterator"]

    def poll_once(self) -> int:
        """One batch from each shard that has records; returns how many records the handler took."""
        taken = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            answer = self._streams.get_records(ShardIterator=iterator, Limit=self._source.batch_size)
            records = answer.get("Records") or []
            if not records:
                self._iterators[shard_id] = answer.get("NextShardIterator")
                continue
            retry_from = self.handle_batch(records)
            taken += len(records)
            if retry_from is None:
                self._iterators[shard_id] = answer.get("NextShardIterator")
            else:
                self._iterators[shard_id] = self._iterator(shard_id, "AT_SEQUENCE_NUMBER", retry_from)
                self._sleep(self._retry_wait_s)
        return taken

    def handle_batch(self, records: list[dict[str, Any]]) -> str | None:
        """Calls the handler; the sequence number to read again from, or None when the batch is done."""
        name = self._source.name
        region = self._env.region
        event = {"Records": [lambda_record(record, self.stream_arn, region) for record in records]}
        sequences = [str(record["dynamodb"]["SequenceNumber"]) for record in records]
        self.delivered += len(records)
        try:
            result = self._env.handler(name)(event, self._env.context(name))
        except Exception:
            log.exception("Stream function %s failed on %d record(s) of %s; they are read again", name,
                          len(records), self.table_name)
            return sequences[0]
        return first_failed(result, sequences)

    def drain(self, rounds: int = 100, within_s: float | None = None) -> int:
        """Polls until a round finds nothing (tests, and the last records before stopping), or `within_s`."""
        deadline = None if within_s is None else time.monotonic() + within_s
        total = 0
        for _ in range(rounds):
            taken = self.poll_once()
            if not taken:
                break
            total += taken
            if deadline is not None and time.monotonic() > deadline:
                log.warning("Stopped reading the stream of %s with records left after %.0f s: the local "
                            "stack keeps no stream across a restart, so what they would count is not counted",
                            self.table_name, within_s)
                break
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                taken = self.poll_once()
            except Exception:
                log.exception("Reading the stream of %s failed; trying again in a second", self.table_name)
                self._stop.wait(1.0)
                continue
            if not taken:
                self._stop.wait(self._idle_wait_s)

    def start(self) -> None:
        log.info("Feeding %s from the stream of %s (batches of up to %d)", self._source.name, self.table_name,
                 self._source.batch_size)
        self._thread = threading.Thread(target=self._loop, name=f"stream-{self.table_name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops reading once the batch in hand is done, then reads what is left (nothing writes any more)."""
        self._stop.set()
        if self._thread:
            self._thread.join()
        self._sleep = lambda _seconds: None
        try:
            self.drain(within_s=STOP_DRAIN_S)
        except Exception:
            log.exception("Reading the last records of the stream of %s failed", self.table_name)


class StreamProcess:
    """The stack's stream readers in a child process: its own interpreter, a lower priority, the same log."""

    def __init__(self, app_spec: str, endpoint_url: str, region: str, stage: str,
                 niceness: int = READER_NICENESS, stop_within_s: float = STOP_DRAIN_S + STOP_GRACE_S,
                 command: list[str] | None = None) -> None:
        self._command = command or [sys.executable, "-m", "infra.local.stream_poller", "--app", app_spec,
                                    "--endpoint-url", endpoint_url, "--region", region, "--stage", stage,
                                    "--niceness", str(niceness)]
        self._stop_within_s = stop_within_s
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The stack's environment (the app's settings, the emulation's address) is the child's too.
        self._process = subprocess.Popen(self._command, cwd=os.getcwd(), stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        """Asks the readers to stop and read what is left (for at most STOP_DRAIN_S); kills them after that."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=self._stop_within_s)
        except subprocess.TimeoutExpired:
            log.warning("The stream readers did not stop within %.0f s; killed", self._stop_within_s)
            process.kill()
            process.wait()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None


def stop_all(pollers: list[StreamPoller]) -> None:
    """Stops every reader at once, so their last reads (each bounded) run side by side."""
    threads = [threading.Thread(target=poller.stop, name=f"stop-{poller.table_name}") for poller in pollers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.stream_poller",
                                     description="The local stack's DynamoDB Streams readers (started by it).")
    parser.add_argument("--app", default="app:app")
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--niceness", type=int, default=READER_NICENESS)
    args = parser.parse_args(argv)
    os.nice(args.niceness)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("botocore", "boto3", "urllib3", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    from infra.local.lambda_runtime import LambdaEnvironment, read_chalice_config
    from infra.local.runner import app_project_dir, load_app

    chalice_config = read_chalice_config(app_project_dir(args.app))
    env = LambdaEnvironment(app=load_app(args.app), stage=args.stage, region=args.region,
                            config_from_disk=chalice_config)
    import boto3

    dynamodb = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                     region_name=args.region).client("dynamodb", endpoint_url=args.endpoint_url)
    streams = streams_client(args.endpoint_url, args.region)
    pollers = [StreamPoller(env, source, dynamodb, streams) for source in stream_sources(env)]
    for poller in pollers:
        poller.start()
    stop.wait()
    stop_all(pollers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
