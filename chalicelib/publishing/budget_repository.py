"""The rate budgets' places: how many deliveries are in flight against a network, or one account on it.

One item per budget in the posts table (`pk = budget#<network>[#<account>]`, `sk = slots`): `holders` maps
each worker's token to the end of its lease and `seq` counts the changes. Taking a place reads the item,
leaves out the holders whose lease ran out (a worker that died), and writes the map back on condition that
`seq` is still the one read; giving it back removes the token and bumps `seq`, so a taker that read the map
before is refused and reads it again. The items carry no index attribute: they cost the indexes nothing.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime

from pynamodb.exceptions import UpdateError

from chalicelib.publishing.post_repository import key_time
from chalicelib.publishing.tables import RateSlotRecord

SLOTS_SK = "slots"
# Takers that keep colliding on one item (a burst on one account) read it again this often, then give up
# (the caller then treats the budget as full: the message waits a little and comes back).
TAKE_ATTEMPTS = 6


def budget_pk(network: str, account: str | None) -> str:
    return f"budget#{network}" + (f"#{account}" if account else "")


class BudgetRepository:
    def __init__(self, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random) -> None:
        self.sleep = sleep
        self.jitter = jitter

    def take(self, key: str, limit: int, token: str, lease_until: datetime, now: datetime) -> bool:
        """A place for `token` until `lease_until` if fewer than `limit` live holders have one."""
        for attempt in range(TAKE_ATTEMPTS):
            holders, seq = self._read(key)
            live = {holder: until for holder, until in holders.items() if until > key_time(now)}
            if token in live:
                return True
            if len(live) >= limit:
                return False
            live[token] = key_time(lease_until)
            condition = RateSlotRecord.seq == seq if seq else RateSlotRecord.seq.does_not_exist()
            try:
                RateSlotRecord(key, SLOTS_SK).update(
                    actions=[RateSlotRecord.holders.set(live), RateSlotRecord.seq.set(seq + 1)],
                    condition=condition)
                return True
            except UpdateError as exc:
                if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                    raise
            self.sleep(self.jitter() * min(0.2, 0.01 * 2 ** attempt))
        return False

    def give_back(self, key: str, token: str) -> None:
        RateSlotRecord(key, SLOTS_SK).update(actions=[RateSlotRecord.holders[token].remove(),  # type: ignore[index]
                                                      RateSlotRecord.seq.add(1)])

    def holders(self, key: str) -> dict[str, str]:
        return self._read(key)[0]

    @staticmethod
    def _read(key: str) -> tuple[dict[str, str], int]:
        try:
            record = RateSlotRecord.get(key, SLOTS_SK, consistent_read=True)
        except RateSlotRecord.DoesNotExist:
            return {}, 0
        holders = record.holders.as_dict() if hasattr(record.holders, "as_dict") else dict(record.holders or {})
        return {str(k): str(v) for k, v in holders.items()}, int(record.seq or 0)
