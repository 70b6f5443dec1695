"""Rate budgets: how many deliveries may be in flight at once against one account and one network.

A network adapter may declare a `RateBudget` (`budget` on the adapter, or `BUDGET` in its module). Before the
worker claims a delivery it takes a place in the account's budget and in the network's; when either is
full the message comes back after a short delay (not an attempt: the delivery stays `queued`), so a burst
waits its turn instead of meeting 429s. A place is given back when the attempt ends; a worker that dies
frees its places when their lease runs out. Networks without a budget (the sandbox, Bluesky, Mastodon) pay
nothing for this.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import Clock
from chalicelib.networks.base import RateBudget

if TYPE_CHECKING:
    from chalicelib.accounts.channel_repository import ChannelRow
    from chalicelib.publishing.budget_repository import BudgetRepository

log = logging.getLogger("herald.publishing")

# Longer than the worker function's timeout, as the claim's own lease.
PLACE_LEASE = timedelta(seconds=120)
# A message whose budget is full comes back after this many seconds (whole, as SQS delays are).
WAIT_S = (2, 6)


def budget_of(network: str, adapter: Any) -> RateBudget | None:
    budget = getattr(adapter, "budget", None)
    if isinstance(budget, RateBudget):
        return budget
    from chalicelib.networks.registry import NETWORKS, network_module

    if network not in NETWORKS:
        return None
    budget = getattr(network_module(network), "BUDGET", None)
    return budget if isinstance(budget, RateBudget) else None


class Budgets:
    def __init__(self, repository: BudgetRepository | None, adapters: Callable[[str], Any], clock: Clock,
                 jitter: Callable[[], float] = random.random) -> None:
        self.repository = repository
        self.adapters = adapters
        self.clock = clock
        self.jitter = jitter

    def take(self, channel: ChannelRow, token: str) -> list[str] | None:
        """The budget keys a place was taken in ([] for a network without a budget), or None when one is full."""
        from chalicelib.publishing.budget_repository import budget_pk

        if self.repository is None:
            return []
        budget = budget_of(channel.network, self.adapters(channel.network))
        if budget is None:
            return []
        account = channel.account_key or channel.channel_id
        wanted = [(budget_pk(channel.network, account), budget.per_account_concurrency),
                  (budget_pk(channel.network, None), budget.per_network_concurrency)]
        now = self.clock.now()
        taken: list[str] = []
        for key, limit in wanted:
            if not self.repository.take(key, limit, token, now + PLACE_LEASE, now):
                self.give_back(taken, token)
                return None
            taken.append(key)
        return taken

    def give_back(self, keys: list[str], token: str) -> None:
        for key in keys:
            try:
                self.repository.give_back(key, token)  # type: ignore[union-attr]
            except Exception:  # its lease frees it
                log.exception("Could not give back a place in %s; its lease frees it", key)

    def wait_s(self) -> int:
        low, high = WAIT_S
        return low + int(self.jitter() * (high - low + 1))
