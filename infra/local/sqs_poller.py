"""Feeds each `@app.on_sqs_message` handler the way the Lambda SQS event source mapping does.

One receiver per queue hands batches to up to `workers` concurrent invocations
(Lambda's concurrency). A batch is deleted when the handler returns, except the
records it names in a partial batch response (`batchItemFailures`); when the
handler raises, the whole batch stays and reappears after the visibility timeout.

How it polls: moto's long polling wakes at once for a message sent without a
delay, but only rechecks the queue once a second otherwise, so a message sent
with DelaySeconds would reach the handler up to a second after it became
visible. So while the queue holds delayed messages the receiver polls without
waiting every `idle_wait_s` (0.1 s), and otherwise long-polls a second at a time.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from chalice.app import SQSEventConfig

from infra.local.lambda_runtime import LambdaEnvironment

log = logging.getLogger(__name__)

Launcher = Callable[[str, Callable[[], None]], None]
SQS_MAX_BATCH = 10


def sqs_sources(env: LambdaEnvironment) -> list[SQSEventConfig]:
    return [source for source in env.app.event_sources if isinstance(source, SQSEventConfig)]


def queue_name(source: SQSEventConfig) -> str:
    if source.queue:
        return source.queue
    assert source.queue_arn is not None
    return source.queue_arn.rsplit(":", 1)[-1]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [_b64(item) for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _b64(value["BinaryValue"])
    return attribute


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda builds from an SQS ReceiveMessage answer."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(message, queue_arn, region) for message in messages]}


def failed_message_ids(result: Any, message_ids: list[str]) -> set[str]:
    """Which records the handler reported as failed (a partial batch response), as Lambda reads it.

    An answer naming a record that is not in the batch (or naming none) fails the whole batch.
    """
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set()
    failures = result["batchItemFailures"] or []
    named = {failure.get("itemIdentifier") for failure in failures if isinstance(failure, dict)}
    if len(named) != len(failures) or not named <= set(message_ids):
        return set(message_ids)
    return {str(item) for item in named}


def _launch_on_thread(name: str, work: Callable[[], None]) -> None:
    threading.Thread(target=work, name=f"sqs-{name}", daemon=True).start()


class QueuePoller:
    def __init__(self, env: LambdaEnvironment, source: SQSEventConfig, sqs: Any, workers: int,
                 idle_wait_s: float = 0.1, long_wait_s: int = 1,
                 launch: Launcher = _launch_on_thread) -> None:
        self._env = env
        self._source = source
        self._sqs = sqs
        self._idle_wait_s = idle_wait_s
        self._long_wait_s = long_wait_s
        self._launch = launch
        self._workers = min(workers, source.maximum_concurrency or workers)
        self._slots = threading.BoundedSemaphore(self._workers)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.queue_name = queue_name(source)
        self.queue_url: str = sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        self.queue_arn: str = sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def poll_once(self, wait_time_s: int = 0) -> int:
        """Take one worker slot, receive one batch and hand it to a worker. Returns the batch size."""
        if not self._slots.acquire(timeout=0.5):
            return 0
        try:
            messages = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(self._source.batch_size, SQS_MAX_BATCH),
                WaitTimeSeconds=wait_time_s,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception:
            self._slots.release()
            raise
        if not messages:
            self._slots.release()
            return 0
        self._launch(self._source.name, lambda: self._handle_and_release(messages))
        return len(messages)

    def _handle_and_release(self, messages: list[dict[str, Any]]) -> None:
        try:
            self.handle_batch(messages)
        finally:
            self._slots.release()

    def handle_batch(self, messages: list[dict[str, Any]]) -> None:
        name = self._source.name
        event = sqs_event(messages, self.queue_arn, self._env.region)
        started = time.monotonic()
        try:
            result = self._env.handler(name)(event, self._env.context(name))
        except Exception:
            log.exception("Queue function %s failed on %d message(s) from %s; they return after the "
                          "visibility timeout", name, len(messages), self.queue_name)
            return
        message_ids = [message["MessageId"] for message in messages]
        failed = failed_message_ids(result, message_ids)
        done = [message for message in messages if message["MessageId"] not in failed]
        if done:
            self._delete(done)
        log.info("Queue function %s took %d message(s) from %s in %.0f ms%s", name, len(messages),
                 self.queue_name, (time.monotonic() - started) * 1000,
                 f"; {len(failed)} reported failed and will return" if failed else "")

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        answer = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)])
        for failure in answer.get("Failed", []):
            log.warning("Could not delete a message from %s: %s", self.queue_name, failure.get("Message"))

    def has_delayed_messages(self) -> bool:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessagesDelayed", "0")) > 0

    def _loop(self) -> None:
        eager = True
        empty_polls = 0
        while not self._stop.is_set():
            try:
                taken = self.poll_once(wait_time_s=0 if eager else self._long_wait_s)
                if taken:
                    empty_polls = 0
                    continue
                empty_polls += 1
                # Looking at the queue costs a request too, so while polling eagerly look about once a second.
                if not eager or empty_polls % max(1, round(1 / self._idle_wait_s)) == 0:
                    eager = self.has_delayed_messages()
            except Exception:
                log.exception("Receiving from %s failed; trying again in a second", self.queue_name)
                self._stop.wait(1.0)
                continue
            if eager:
                self._stop.wait(self._idle_wait_s)

    def start(self) -> None:
        log.info("Feeding %s from queue %s (batches of up to %d, %d at a time)", self._source.name,
                 self.queue_name, min(self._source.batch_size, SQS_MAX_BATCH), self._workers)
        self._thread = threading.Thread(target=self._loop, name=f"sqs-receive-{self.queue_name}", daemon=True)
        self._thread.start()

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop receiving; give batches in hand `grace_s` to finish (unfinished ones come back later)."""
        self._stop.set()
        if self._thread:
            self._thread.join()
        deadline = time.monotonic() + grace_s
        taken = 0
        for _ in range(self._workers):
            if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break
            taken += 1
        if taken < self._workers:
            log.warning("%d batch(es) from %s still running at shutdown; SQS will deliver them again",
                        self._workers - taken, self.queue_name)
