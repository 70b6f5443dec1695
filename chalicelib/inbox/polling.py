"""Pollers for networks without webhooks (Bluesky, Mastodon).

Every run reads the channels of each pollable network through the sparse
`pollable` index, asks the adapter for what is new since the channel's cursor,
sends the events down the same ingest path as webhooks, and only then moves
the cursor. A run that dies half way repeats the same events next time, and
the ingest path stores them once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chalicelib.accounts.channel_repository import ChannelRow
from chalicelib.core.clock import Clock
from chalicelib.inbox.ingest import IngestReport, IngestService
from chalicelib.networks.base import AuthError, NetworkAdapter, NetworkError
from chalicelib.networks.registry import NETWORKS

log = logging.getLogger("herald.polling")


@dataclass
class PollReport:
    channels: int = 0
    stored: int = 0
    requeued: int = 0  # seen before but not yet applied
    duplicates: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


class InboxPoller:
    def __init__(self, channels: Any, channel_repository: Any, config: Any, ingest: IngestService,
                 adapters: Callable[[str], NetworkAdapter], clock: Clock, threads: int = 4) -> None:
        self.channels = channels
        self.channel_repository = channel_repository
        self.config = config
        self.ingest = ingest
        self.adapters = adapters
        self.clock = clock
        self.threads = threads

    def poll_all(self) -> PollReport:
        rows = [row for spec in NETWORKS.values() if spec.polls_inbox
                for row in self.channel_repository.pollable(spec.name)]
        report = PollReport()
        with ThreadPoolExecutor(max_workers=max(1, min(self.threads, len(rows) or 1))) as pool:
            for row, outcome in zip(rows, pool.map(self._poll_safely, rows), strict=True):
                if isinstance(outcome, str):
                    report.failed.append(f"{row.channel_id}: {outcome}")
                elif outcome is None:
                    report.skipped += 1
                else:
                    report.channels += 1
                    report.stored += outcome.stored
                    report.requeued += outcome.requeued
                    report.duplicates += outcome.duplicates
        log.info("Polled %d channels: %d stored, %d duplicates, %d failed", report.channels, report.stored,
                 report.duplicates, len(report.failed))
        return report

    def _poll_safely(self, row: ChannelRow) -> IngestReport | str | None:
        try:
            return self.poll_channel(row)
        except Exception as exc:  # one channel's trouble must not stop the others
            log.exception("Polling channel %s failed", row.channel_id)
            return str(exc)

    def poll_channel(self, row: ChannelRow) -> IngestReport | None:
        """What the poll stored, or None when the channel is not polled now."""
        if row.status != "active":
            return None
        known, cursor = self.config.poll_cursor(row.workspace_id, row.channel_id)
        try:
            result = self.adapters(row.network).poll_inbox(self.channels.context_for(row), cursor)
        except AuthError:
            self.channels.mark_needs_reauth(row.workspace_id, row.channel_id)
            raise
        except NetworkError as error:
            raise RuntimeError(f"{row.network} refused the poll: {error.message}") from error
        report = self.ingest.ingest(result.events, channel=row)
        if result.cursor != cursor or not known:
            self.config.save_poll_cursor(row.workspace_id, row.channel_id, result.cursor, known=known,
                                         previous=cursor, at=self.clock.now())
        return report
