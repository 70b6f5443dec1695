"""Short links, visitor markers and conversions in the `links` table (chalicelib/links/tables.py)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.links.tables import ConversionRecord, LinkRecord, VisitorRecord


@dataclass(frozen=True)
class LinkRow:
    code: str
    workspace_id: str
    post_id: str
    channel_id: str
    network: str
    target: str
    campaign: str
    starts_at: str
    created_at: str


def _conditional_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", "") == "ConditionalCheckFailedException"


class LinkRepository:
    """A link never changes once made, so the links read by clicks are remembered (`cache_size` of them)."""

    def __init__(self, cache_size: int = 2048) -> None:
        self._cache: OrderedDict[str, LinkRow] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def create(self, row: LinkRow) -> bool:
        """False when the code is taken (the caller draws another)."""
        record = LinkRecord(f"l#{row.code}", workspace_id=row.workspace_id, post_id=row.post_id,
                            channel_id=row.channel_id, network=row.network, target=row.target,
                            campaign=row.campaign, starts_at=row.starts_at, created_at=row.created_at)
        try:
            record.save(condition=LinkRecord.link_key.does_not_exist())
        except PutError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def get(self, code: str) -> LinkRow | None:
        with self._lock:
            found = self._cache.get(code)
            if found is not None:
                self._cache.move_to_end(code)
                return found
        try:
            record = LinkRecord.get(f"l#{code}")
        except DoesNotExist:
            return None
        row = LinkRow(code, record.workspace_id, record.post_id, record.channel_id, record.network,
                      record.target, record.campaign, record.starts_at, record.created_at)
        with self._lock:
            self._cache[code] = row
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return row

    def first_visit(self, visitor: str, expires_at: datetime) -> bool:
        """One conditional put: True the first time this visitor is seen (on this link and day)."""
        try:
            VisitorRecord(f"v#{visitor}", expires_at_epoch=expires_at).save(
                condition=VisitorRecord.link_key.does_not_exist())
        except PutError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def record_conversion(self, record: ConversionRecord, count: Callable[[TransactWrite], None]) -> bool:
        """The conversion and its count in one transaction; False (nothing written) when its id was
        recorded before."""
        try:
            with TransactWrite(connection=ConversionRecord._get_connection().connection) as transaction:
                transaction.save(record, condition=ConversionRecord.link_key.does_not_exist())
                count(transaction)
        except TransactWriteError as error:
            reasons = getattr(error, "cancellation_reasons", None) or []
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                return False
            raise
        return True

    def conversion(self, workspace_id: str, conversion_id: str) -> ConversionRecord | None:
        try:
            return ConversionRecord.get(conversion_key(workspace_id, conversion_id))
        except DoesNotExist:
            return None


def conversion_key(workspace_id: str, conversion_id: str) -> str:
    return f"c#{workspace_id}#{conversion_id}"
