"""Running the tick and the worker in a test's time, the way EventBridge and SQS would."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.clock import FixedClock
from chalicelib.wiring import Container


def publish_due(deps: Container, clock: FixedClock, publish_at: datetime) -> list[str]:
    """Tick, then feed the worker what the tick queued (retries included, a few rounds at most).

    `deps.publish_queue` must be a tests.support.queues.RecordingQueue.
    """
    deps.engine.publish_due_deliveries()
    clock.set(publish_at)
    results = []
    for _ in range(5):
        batch = deps.publish_queue.take()
        if not batch:
            return results
        for message, delay in batch:
            clock.set(max(clock.now(), publish_at + timedelta(seconds=delay)))
            results.append(deps.engine.publish_delivery(message))
    return results
