"""How late does the local stack hand an SQS message to its handler?

Lateness = when the handler ran - when the message became visible (SentTimestamp + DelaySeconds).
Compares the poller with plain moto long polling. Run: python -m bench.local_sqs_pickup
"""
from __future__ import annotations

import socket
import statistics
import threading
import time
from typing import Any

from chalice import Chalice
from chalice.app import SQSEvent

from infra.local.aws_emulation import AwsEmulation, aws_clients
from infra.local.lambda_runtime import LambdaEnvironment
from infra.local.sqs_poller import QueuePoller, sqs_sources

MESSAGES = 40


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure(sqs: Any, queue: str, label: str, long_polls_only: bool = False) -> None:
    app = Chalice(app_name="bench")
    lateness: dict[int, list[float]] = {}
    done = threading.Event()

    @app.on_sqs_message(queue=queue, batch_size=1)
    def handle(event: SQSEvent) -> None:
        now = time.time()
        for record in event:
            delay = int(record.body)
            visible_at = int(record.to_dict()["attributes"]["SentTimestamp"]) / 1000 + delay
            lateness.setdefault(delay, []).append(now - visible_at)
        if sum(map(len, lateness.values())) >= MESSAGES:
            done.set()

    env = LambdaEnvironment(app=app, stage="bench", region="us-east-1")
    poller = QueuePoller(env, sqs_sources(env)[0], sqs, workers=4)
    stop = threading.Event()
    if long_polls_only:
        def long_poll() -> None:
            while not stop.is_set():
                poller.poll_once(wait_time_s=20)
        threading.Thread(target=long_poll, daemon=True).start()
    else:
        poller.start()
    for index in range(MESSAGES):
        delay = index % 4
        sqs.send_message(QueueUrl=poller.queue_url, MessageBody=str(delay), DelaySeconds=delay)
        time.sleep(0.137)  # spread the visibility moments over the poll cycle
    done.wait(60)
    stop.set()
    poller.stop(grace_s=25)
    print(label)
    for delay, values in sorted(lateness.items()):
        ordered = sorted(values)
        print(f"  DelaySeconds={delay}: n={len(ordered)} median={statistics.median(ordered) * 1000:.0f} ms "
              f"max={ordered[-1] * 1000:.0f} ms")


def main() -> None:
    emulation = AwsEmulation("127.0.0.1", _free_port())
    emulation.start()
    clients = aws_clients(emulation.endpoint_url, "us-east-1")
    for name in ("poller", "long"):
        clients.sqs.create_queue(QueueName=name)
    measure(clients.sqs, "poller", "the local stack's poller")
    measure(clients.sqs, "long", "moto long polls only (WaitTimeSeconds=20)", long_polls_only=True)
    emulation.stop()


if __name__ == "__main__":
    main()
