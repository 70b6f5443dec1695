"""Channel health: a cheap check of each channel, what it found in words a person acts on, and the
scheduled posts it puts at risk.

`check` (POST /channels/{id}/check, and the daily channel_health job for every channel) refreshes a token
that lapses before the next run, asks the network who the credentials belong to (`describe_account`), warns
`WARN_BEFORE` ahead of an expiry no refresh can push back, and records `health {status, checked_at,
expires_at, problem}` on the channel. Every change of a channel's standing re-flags its unsent deliveries
(`at_risk` and why); a deauthorization from the network disables the channel and says so on each of them.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.accounts.channel_repository import HEALTH_SHARDS, ChannelRow
from chalicelib.accounts.health_rules import WARN_BEFORE, expiry_problem, health, network_name, risk_for
from chalicelib.accounts.tokens import TokenService, moment
from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.networks.base import AuthError, NetworkAdapter, NetworkError, RetryableError

if TYPE_CHECKING:
    from chalicelib.accounts.channels import ChannelService
    from chalicelib.publishing.post_repository import DeliveryRow, PostRow

log = logging.getLogger("herald.health")

# The job runs daily: a refreshable token lapsing before the next run (and a margin) is refreshed now.
REFRESH_AHEAD = timedelta(hours=26)
# Deliveries of posts due from this long ago on are re-flagged (older ones are the engine's already).
RISK_LOOKBACK = timedelta(hours=1)


class DeliveryRisks(Protocol):
    """The posts side (publishing/post_repository.py): a channel's unsent deliveries and their flag."""

    def unsent_on_channel(self, workspace_id: str, channel_id: str,
                          since: datetime) -> list[tuple[PostRow, DeliveryRow]]: ...

    def set_risk(self, delivery: DeliveryRow, reason: str | None, *, last_error: str | None = None) -> bool: ...


class HealthService:
    def __init__(self, channels: ChannelService, tokens: TokenService, adapters: Callable[[str], NetworkAdapter],
                 deliveries: DeliveryRisks, clock: Clock, *, warn_before: timedelta = WARN_BEFORE,
                 meta_app_secret: str = "") -> None:
        self.channels = channels
        self._meta_app_secret = meta_app_secret
        self.tokens = tokens
        self.adapters = adapters
        self.deliveries = deliveries
        self.clock = clock
        self.warn_before = warn_before

    # -- checks ------------------------------------------------------------------------------------------

    def check(self, workspace_id: str, channel_id: str) -> ChannelRow:
        return self.check_row(self.channels.get(workspace_id, channel_id))

    def check_row(self, row: ChannelRow) -> ChannelRow:
        if row.status == "disabled":
            problem = (row.health or {}).get("problem") or (
                f"The {network_name(row.network)} channel is disabled: enable or reconnect it to publish.")
            row.health = health("failing", self._now(), row.grant_expires_at, problem)
        else:
            row.health = self._verified(row)
        self.channels.repository.set_health(row.workspace_id, row.channel_id, row.health)
        self.flag_deliveries(row)
        return row

    def _verified(self, row: ChannelRow) -> dict[str, Any]:
        name = network_name(row.network)
        try:
            if self.tokens.due(row, REFRESH_AHEAD) and self.tokens.refreshable(row):
                self.tokens.refresh(row)
            self.adapters(row.network).describe_account(self.channels.context_for(row))
        except AuthError as exc:
            if row.status == "active":
                self.channels.mark_needs_reauth(row.workspace_id, row.channel_id)
            row.status = "needs_reauth"
            return health("failing", self._now(), row.grant_expires_at,
                          f"{name} no longer accepts this channel's authorization ({exc.message}): reconnect "
                          "the channel.")
        except RetryableError as exc:
            return health("warning", self._now(), row.grant_expires_at,
                          f"Could not reach {name} to check this channel ({exc.message}); Herald tries again "
                          "later, nothing needs doing yet.")
        except NetworkError as exc:
            return health("warning", self._now(), row.grant_expires_at, f"{name} answered the check: {exc.message}")
        if row.status == "needs_reauth":
            return health("failing", self._now(), row.grant_expires_at,
                          f"{name} refused this channel's authorization earlier: reconnect the channel.")
        return self._expiry_health(row)

    def _expiry_health(self, row: ChannelRow) -> dict[str, Any]:
        now = self.clock.now()
        expires = moment(row.grant_expires_at)
        if expires is not None and expires - self.warn_before <= now:
            status = "failing" if expires <= now else "warning"
            return health(status, self._now(), row.grant_expires_at, expiry_problem(row.network, expires, now))
        return health("ok", self._now(), row.grant_expires_at, None)

    def run(self) -> dict[str, int]:
        """The daily job: every channel, shard by shard of the `by_health` index (no Scan)."""
        counts: Counter[str] = Counter()
        for shard in range(HEALTH_SHARDS):
            for row in self.channels.repository.in_health_shard(shard):
                try:
                    counts[str((self.check_row(row).health or {}).get("status"))] += 1
                except Exception:  # one channel's surprise never stops the others' checks
                    log.exception("Could not check channel %s", row.channel_id)
                    counts["errors"] += 1
        log.info("channel_health: %s", dict(counts))
        return {"checked": sum(v for k, v in counts.items() if k != "errors"), **counts}

    # -- posts at risk -------------------------------------------------------------------------------------

    def channel_changed(self, workspace_id: str, channel_id: str) -> int:
        row = self.channels.repository.get(workspace_id, channel_id, consistent=True)
        return self.flag_deliveries(row) if row is not None else 0

    def flag_deliveries(self, row: ChannelRow, *, last_error: str | None = None) -> int:
        """Sets (or clears) `at_risk` on the channel's unsent deliveries; how many are at risk."""
        flagged = 0
        since = self.clock.now() - RISK_LOOKBACK
        for post, delivery in self.deliveries.unsent_on_channel(row.workspace_id, row.channel_id, since):
            reason = risk_for(row, post.publish_at) if post.status == "scheduled" else None
            if reason != delivery.at_risk or last_error:
                self.deliveries.set_risk(delivery, reason, last_error=last_error if reason else None)
            flagged += 1 if reason else 0
        return flagged

    # -- the network says the user removed Herald --------------------------------------------------------

    def deauthorize(self, rows: list[ChannelRow], problem: str) -> int:
        """Disables each channel and tells its scheduled deliveries why; the number of channels."""
        for row in rows:
            row.status = "disabled"
            row.health = health("failing", self._now(), row.grant_expires_at, problem)
            self.channels.repository.set_status(row.workspace_id, row.channel_id, "disabled", self._now(),
                                                health=row.health)
            flagged = self.flag_deliveries(row, last_error=problem)
            log.warning("Channel %s (%s) disabled: the user removed Herald; %d posts at risk", row.channel_id,
                        row.network, flagged)
        return len(rows)

    def deauthorize_account(self, network: str, account_id: str) -> int:
        """TikTok's authorization.removed names the account (open_id)."""
        rows = self.channels.repository.find_by_account(network, account_id)
        problem = (f"The {network_name(network)} account removed Herald's access: reconnect the channel to "
                   "publish there again.")
        return self.deauthorize(rows, problem)

    def meta_deauthorize_callback(self, raw_body: bytes) -> int:
        """Meta's signed_request, verified with the app secret in constant time (SignatureError if not)."""
        from chalicelib.networks.meta_deauth import deauthorized_user

        return self.deauthorize_meta_user(deauthorized_user(raw_body, self._meta_app_secret))

    def deauthorize_meta_user(self, user_id: str) -> int:
        """Meta's deauthorize callback names the person (an app-scoped user id) who granted the channels."""
        rows = {r.channel_id: r for r in self.channels.repository.find_by_grant(f"meta#{user_id}")}
        for network in ("facebook", "instagram"):
            rows.update({r.channel_id: r for r in self.channels.repository.find_by_account(network, user_id)})
        problem = ("The person who connected this channel removed Herald from their Facebook account: "
                   "reconnect the channel to publish there again.")
        return self.deauthorize(list(rows.values()), problem)

    def _now(self) -> str:
        return to_rfc3339(self.clock.now()) or ""
