"""Counters kept as things happen, per workspace, channel and local day.

The inbox, listening and reply code call this small API right after the event
is stored; the nightly roll-up reads the counters back, one item per channel
and day, instead of reading every event again. The publishing engine's
outcomes are counted from the posts table's stream (metrics/outcome_consumer.py).

    counters = container().counters
    counters.record_inbound(workspace_id, channel_id, "comment", occurred_at, new_conversation=True)
    counters.record_listening_match(workspace_id, matched_at, channel_id=None)
    counters.record_reply_sent(workspace_id, channel_id, sent_at)
    counters.record_first_response(workspace_id, channel_id, conversation_started_at, seconds=840.0)

Rules for callers:

- Count an event once: call after your own conditional write of the event
  succeeded (a webhook delivered twice is stored once, so it is counted once).
  For a count that must commit with that write, pass `transaction=` (a PynamoDB
  `TransactWrite`): the counter update becomes one more item of it.
- `new_conversation=True` on the inbound event that opens a conversation (the
  first inbound message of a thread): the response rate divides by these.
- `record_first_response` once per conversation, when its first reply is sent,
  with the time the conversation started (the day it is counted on, the same
  day its `new_conversation` was counted) and the seconds until that reply. The
  roll-up re-reads the last 7 days each night, so a reply that comes after the
  day was rolled up still reaches its day's row.
- A consumer that may see the same thing twice (a stream record delivered again) passes
  `once=(key, keep_until)`: the count commits with a marker put on condition that the key is
  new (MetricsRepository.add_once), so it is counted once.
- Times are aware datetimes; the local day comes from the workspace's time zone
  (pass `timezone=` when you have it, to save a lookup).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from chalicelib.core.clock import Clock, local_day
from chalicelib.metrics.metric_repository import MetricsRepository

InboundKind = Literal["comment", "message", "mention"]
# (a key naming the thing counted, how long its marker is kept)
Once = tuple[str, datetime]
INBOUND_COUNTERS = {"comment": "comments", "message": "messages", "mention": "mentions"}
ANSWERED_WITHIN_S = 24 * 3600


class WorkspaceTimezones:
    """The workspace's time zone, remembered for `ttl_s` so that busy webhooks
    do not read the workspace for every event."""

    def __init__(self, lookup: Callable[[str], str | None], clock: Clock, ttl_s: float = 300.0) -> None:
        self._lookup = lookup
        self._clock = clock
        self._ttl_s = ttl_s
        self._known: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, workspace_id: str) -> str:
        now = self._clock.now().timestamp()
        with self._lock:
            known = self._known.get(workspace_id)
        if known and now - known[1] < self._ttl_s:
            return known[0]
        timezone = self._lookup(workspace_id) or "UTC"
        with self._lock:
            self._known[workspace_id] = (timezone, now)
        return timezone


class CounterService:
    def __init__(self, metrics: MetricsRepository, timezones: Callable[[str], str]) -> None:
        self.metrics = metrics
        self.timezones = timezones

    def _day(self, workspace_id: str, moment: datetime, timezone: str | None) -> Any:
        if moment.tzinfo is None:
            raise ValueError("counters need an aware datetime")
        return local_day(moment, timezone or self.timezones(workspace_id))

    def _add(self, workspace_id: str, channel_id: str | None, day: Any, increments: dict[str, float],
             appends: dict[str, list[Any]] | None, transaction: Any, once: Once | None) -> None:
        if once is None:
            self.metrics.add(workspace_id, channel_id, day, increments, appends, transaction=transaction)
        else:
            self.metrics.add_once(once[0], once[1], workspace_id, channel_id, day, increments, appends)

    def record_inbound(self, workspace_id: str, channel_id: str, kind: InboundKind, occurred_at: datetime, *,
                       new_conversation: bool = False, timezone: str | None = None,
                       transaction: Any = None, once: Once | None = None) -> None:
        """A comment, direct message or mention that reached one of the workspace's channels."""
        if kind not in INBOUND_COUNTERS:
            raise ValueError(f"unknown inbound kind {kind!r}")
        increments: dict[str, float] = {INBOUND_COUNTERS[kind]: 1, "conversations": 1 if new_conversation else 0}
        self._add(workspace_id, channel_id, self._day(workspace_id, occurred_at, timezone), increments, None,
                  transaction, once)

    def record_listening_match(self, workspace_id: str, matched_at: datetime, *,
                               channel_id: str | None = None, timezone: str | None = None,
                               transaction: Any = None, once: Once | None = None) -> None:
        """A post found by a listening rule; without a channel it counts for the workspace."""
        self._add(workspace_id, channel_id, self._day(workspace_id, matched_at, timezone),
                  {"listening_matches": 1}, None, transaction, once)

    def record_reply_sent(self, workspace_id: str, channel_id: str, sent_at: datetime, *,
                          timezone: str | None = None, transaction: Any = None) -> None:
        """A reply the network accepted (any reply, not only the first of a conversation)."""
        self.metrics.add(workspace_id, channel_id, self._day(workspace_id, sent_at, timezone),
                         {"replies_sent": 1}, transaction=transaction)

    def record_first_response(self, workspace_id: str, channel_id: str, conversation_started_at: datetime,
                              seconds: float, *, timezone: str | None = None,
                              transaction: Any = None, once: Once | None = None) -> None:
        """The first reply to a conversation, `seconds` after it started; kept
        one by one so that the median and 90th percentile are exact."""
        if seconds < 0:
            raise ValueError("a first response cannot come before the conversation started")
        seconds = round(float(seconds), 3)
        increments = {"answered": 1, "answered_24h": 1 if seconds <= ANSWERED_WITHIN_S else 0,
                      "first_response_sum_s": seconds}
        self._add(workspace_id, channel_id, self._day(workspace_id, conversation_started_at, timezone),
                  increments, {"first_response_s": [seconds]}, transaction, once)
