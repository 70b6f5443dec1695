"""The answer path shared by webhooks and pollers: find each event's channel,
store the event at most once, queue it, and only then report success.

Nothing here waits on the inbox itself: the queue consumer writes each event into
its message, and the inbox table's stream consumer threads it into its conversation,
runs listening rules and counts. A stored event that could not be queued is queued
again by the network's retry (its message does not have it yet: `applied`), so an
event is never lost once the caller has answered 2xx. Most such retries come while the
first copy is still on the queue: the copy sent again is marked, and the consumer looks
at the message before writing it (a read, where a refused write would cost a write).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.accounts.channel_repository import ChannelRow
from chalicelib.core.clock import Clock
from chalicelib.core.ids import new_id
from chalicelib.inbox.stored_events import StoredEvent
from chalicelib.inbox.webhook_event_repository import WebhookEventRepository
from chalicelib.networks.base import InboundEvent

log = logging.getLogger("herald.ingest")

# How long a warm function trusts the channels it found for an account. Only found
# channels are kept: a channel connected a moment ago is found at once; one
# disconnected is still fed for at most this long.
CHANNEL_CACHE_S = 15.0


@dataclass
class IngestReport:
    received: int = 0  # events parsed from the delivery
    stored: int = 0  # new (event, channel) pairs
    requeued: int = 0  # seen before but not yet applied: queued again
    duplicates: int = 0  # seen and written into its message before: nothing to do
    unrouted: int = 0  # no connected channel has this account
    ignored: int = 0  # entries of kinds the inbox does not keep
    rejected: int = 0  # malformed entries of an otherwise good delivery

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class IngestService:
    def __init__(self, channels: Any, events: WebhookEventRepository, queue: Any, clock: Clock,
                 applied: Callable[[StoredEvent], bool]) -> None:
        self.channels = channels
        self.events = events
        self.applied = applied  # whether the queue consumer wrote the event into its message (a read)
        self.queue = queue
        self.clock = clock
        self._found: dict[tuple[str, str], tuple[float, list[ChannelRow]]] = {}

    def sandbox_message(self, channel: ChannelRow, text: str, kind: str, author_name: str,
                        author_handle: str, newest_post: str | None = None) -> IngestReport:
        """A fan's comment (under the channel's newest post, `newest_post` its remote id: one conversation per
        post, as a network's comments on a post) or direct message (one conversation per fan) arriving at a
        sandbox channel, by the path every network's events take."""
        now = self.clock.now()
        message_id = new_id("sbm", now)
        if kind == "comment":
            thread = newest_post or f"sandbox-post:{channel.channel_id}"
        else:
            thread = f"sandbox-dm:{author_handle}"
        event = InboundEvent(
            network="sandbox", account_id=channel.handle or channel.channel_id, event_id=message_id,
            kind=kind, action="created", thread_key=thread, message_id=message_id,  # type: ignore[arg-type]
            direction="inbound", text=text, occurred_at=now, author_id=f"sandbox:{author_handle}",
            author_name=author_name, author_handle=author_handle, reply_context={})
        return self.ingest([event], channel=channel)

    def ingest(self, events: list[InboundEvent], *, channel: ChannelRow | None = None) -> IngestReport:
        """Raises if anything could not be stored or queued: the caller must not answer 2xx then."""
        report = IngestReport(received=len(events))
        now = self.clock.now()
        targets = self._targets(channel)
        outgoing: list[str] = []
        for event in events:
            channels = targets(event)
            if not channels:
                report.unrouted += 1
                continue
            for row in channels:
                stored = StoredEvent(row.workspace_id, row.channel_id, now, event)
                if self.events.put_once(stored):
                    report.stored += 1
                    outgoing.append(stored.to_json())
                    continue
                found = self.events.find(stored.key)
                if found is None or self.applied(found[1]):
                    report.duplicates += 1
                else:  # stored by an earlier delivery whose answer failed: make sure it is queued
                    report.requeued += 1
                    outgoing.append(found[1].to_json(again=True))
        if outgoing:
            self.queue.send(outgoing)
        return report

    def _targets(self, channel: ChannelRow | None) -> Callable[[InboundEvent], list[ChannelRow]]:
        if channel is not None:
            return lambda _event: [channel]
        return lambda event: self._channels_for(event.network, event.account_id)

    def _channels_for(self, network: str, account_id: str) -> list[ChannelRow]:
        now = self.clock.now().timestamp()
        key = (network, account_id)
        cached = self._found.get(key)
        if cached is not None and now - cached[0] < CHANNEL_CACHE_S:
            return cached[1]
        rows = self.channels.find_by_account(network, account_id)
        if rows:
            self._found[key] = (now, rows)
        else:
            self._found.pop(key, None)
        return rows
