"""Keeps moto's SQS from slowing down with the depth of a queue.

moto works out every attribute of a queue, the three ApproximateNumberOfMessages*
counts included, whenever it reads any one of them. The counts look at each message
in the queue, and moto reads an attribute on every message sent (ContentBasedDeduplication)
and on every message received (MessageRetentionPeriod), so sending or receiving n messages
costs n x the queue's depth: with the 5,000 messages of a burst, the tick needed minutes
to send them. Here the counts are worked out only for a GetQueueAttributes that asks
for them, as SQS does.
"""
from __future__ import annotations

import functools
import threading
from typing import Any

COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
          "ApproximateNumberOfMessagesNotVisible")
_ASKED = threading.local()


def make_sqs_counts_lazy() -> None:
    from moto.sqs.models import Queue, SQSBackend

    original = SQSBackend.get_queue_attributes
    if getattr(original, "_herald_lazy_counts", False):
        return

    @functools.wraps(original)
    def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> Any:
        _ASKED.counts = "All" in attribute_names or any(name in COUNTS for name in attribute_names)
        try:
            return original(self, queue_name, attribute_names)
        finally:
            _ASKED.counts = False

    get_queue_attributes._herald_lazy_counts = True  # type: ignore[attr-defined]
    SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]
    for name in ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
                 "approximate_number_of_messages_not_visible"):
        setattr(Queue, name, _counted_when_asked(getattr(Queue, name)))


def _counted_when_asked(count: property) -> property:
    def value(queue: Any) -> int:
        return count.fget(queue) if getattr(_ASKED, "counts", False) else 0  # type: ignore[misc]

    return property(value)
