"""Counts the DynamoDB requests PynamoDB sends, by operation and table, through
PynamoDB's own pre-send signal."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.signals import pre_dynamodb_send

READS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


class DynamoDBCalls:
    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str | None]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, _sender: object, operation_name: str, table_name: str | None,
                 req_uuid: object) -> None:
        with self._lock:
            self.calls[(operation_name, table_name)] += 1

    def count(self, *operations: str, table: str | None = None) -> int:
        return sum(n for (op, name), n in self.calls.items()
                   if op in operations and (table is None or (name or "").endswith(table.replace("_", "-"))))

    @property
    def operations(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (op, _table), n in self.calls.items():
            out[op] += n
        return out


@contextmanager
def dynamodb_calls() -> Iterator[DynamoDBCalls]:
    recorder = DynamoDBCalls()
    pre_dynamodb_send.connect(recorder)
    try:
        yield recorder
    finally:
        pre_dynamodb_send.disconnect(recorder)
