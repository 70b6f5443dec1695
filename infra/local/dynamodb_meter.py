"""Counts the DynamoDB writes the AWS emulation serves, and what each would cost on AWS.

The local stack turns it on when HERALD_LOCAL_DYNAMODB_METER names a file (`make bench` does); the
counts are written there when the stack stops.

moto answers ReturnConsumedCapacity with a constant (and nothing for transactions), so write capacity
units are worked out from the items the way DynamoDB bills them: per item written, 1 WCU per started KB
of the larger of the item before and after (at least 1), twice that inside a transaction; a write whose
condition fails still costs the units of the item as it stands. Each global secondary index the write
changes costs one more write of the index entry (key attributes, projected attributes and 100 bytes), two
when the index key changed (the old entry deleted, the new one put), at the standard rate.
"""
from __future__ import annotations

import functools
import json
import math
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infra.local.state_files import write_atomically

WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
KB = 1024
INDEX_ENTRY_OVERHEAD = 100

Image = dict[str, dict[str, Any]]  # attribute name -> typed value, as in the DynamoDB API


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one typed value (its name is counted by the caller)."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "B":
        return len(inner)
    if kind == "N":
        return _number_size(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(attribute_size(part) + 1 for part in inner)
    if kind == "M":
        return 3 + sum(len(name.encode("utf-8")) + attribute_size(part) + 1 for name, part in inner.items())
    if kind == "SS":
        return sum(len(part.encode("utf-8")) for part in inner)
    if kind == "NS":
        return sum(_number_size(str(part)) for part in inner)
    if kind == "BS":
        return sum(len(part) for part in inner)
    raise ValueError(f"unknown DynamoDB type {kind}")


def _number_size(text: str) -> int:
    digits = text.lstrip("-").lower().split("e")[0].replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def item_size(image: Image | None) -> int:
    if not image:
        return 0
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in image.items())


def units(size: int) -> int:
    return max(1, math.ceil(size / KB))


@dataclass(frozen=True)
class IndexShape:
    key_attributes: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...] = ()

    def entry(self, image: Image | None, table_keys: tuple[str, ...]) -> Image | None:
        """The index entry for an item, or None when the item is not in this (sparse) index."""
        if not image or any(name not in image for name in self.key_attributes):
            return None
        if self.projection == "ALL":
            return image
        kept = set(table_keys) | set(self.key_attributes) | set(self.included)
        return {name: value for name, value in image.items() if name in kept}

    def write_units(self, before: Image | None, after: Image | None, table_keys: tuple[str, ...]) -> int:
        old, new = self.entry(before, table_keys), self.entry(after, table_keys)
        if old == new:
            return 0
        old_units = units(item_size(old) + INDEX_ENTRY_OVERHEAD) if old is not None else 0
        new_units = units(item_size(new) + INDEX_ENTRY_OVERHEAD) if new is not None else 0
        if old is not None and new is not None:
            same_key = all(old[name] == new[name] for name in self.key_attributes)
            return new_units if same_key else old_units + new_units
        return old_units + new_units


@dataclass
class Tally:
    requests: int = 0
    items: int = 0
    failed_requests: int = 0
    wcu: int = 0  # the table's own write units
    index_wcu: int = 0  # what the global secondary indexes add


@dataclass(frozen=True)
class _Write:
    table: str
    kind: str  # Put, Update, Delete or ConditionCheck
    key: dict[str, Any]


_active: DynamoDBWriteMeter | None = None


def _install_once() -> None:
    """Wrap moto's DynamoDB request handler once; it reports to whichever meter is active."""
    from moto.dynamodb.responses import DynamoHandler

    from infra.moto_atomic import LOCK

    original = DynamoHandler.call_action
    if getattr(original, "_herald_metered", False):
        return

    @functools.wraps(original)
    def call_action(handler: Any) -> Any:
        meter, operation = _active, handler._get_action()
        if meter is None or operation not in WRITE_OPERATIONS:
            return original(handler)
        with LOCK:  # the item before, the write and the item after, seen as one
            backend = handler.dynamodb_backend
            try:
                writes = _writes(operation, handler.params, backend)
            except Exception:  # no such table, a malformed request: moto answers the error, writes nothing
                return original(handler)
            before = [_image(backend, write) for write in writes]
            answer = original(handler)
            after = [_image(backend, write) for write in writes]
        meter.record(operation, writes, before, after, backend, failed=int(answer[0]) >= 400)
        return answer

    call_action._herald_metered = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


class DynamoDBWriteMeter:
    def __init__(self) -> None:
        self._tallies: dict[tuple[str, str], Tally] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Count every write moto serves in this process from now on (after infra.moto_atomic is in place)."""
        global _active
        _install_once()
        _active = self

    def stop(self) -> None:
        global _active
        if _active is self:
            _active = None

    def record(self, operation: str, writes: list[_Write], before: list[Image | None],
               after: list[Image | None], backend: Any, failed: bool) -> None:
        in_transaction = operation == "TransactWriteItems"
        multiplier = 2 if in_transaction else 1
        by_table: dict[tuple[str, str], list[int]] = {}
        for write, old, new in zip(writes, before, after, strict=True):
            if failed or write.kind == "ConditionCheck":
                table_units, index_units = units(item_size(old)) * multiplier, 0
            else:
                table_units = units(max(item_size(old), item_size(new))) * multiplier
                index_units = _index_units(backend, write.table, old, new)
            label = operation if operation in ("PutItem", "UpdateItem", "DeleteItem") else (
                f"{operation}({'+'.join(sorted({w.kind for w in writes if w.table == write.table}))})")
            totals = by_table.setdefault((write.table, label), [0, 0, 0])
            totals[0] += 1
            totals[1] += table_units
            totals[2] += index_units
        with self._lock:
            for key, (items, table_units, index_units) in by_table.items():
                tally = self._tallies.setdefault(key, Tally())
                tally.requests += 1
                tally.items += items
                tally.failed_requests += int(failed)
                tally.wcu += table_units
                tally.index_wcu += index_units

    def rows(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"table": table, "operation": operation, **asdict(tally)}
                    for (table, operation), tally in sorted(self._tallies.items())]

    def save(self, path: Path) -> None:
        write_atomically(path, json.dumps({"writes": self.rows()}, indent=1).encode("utf-8"))


def _table_keys(backend: Any, table_name: str) -> tuple[str, ...]:
    table = backend.get_table(table_name)
    return tuple(name for name in (table.hash_key_attr, table.range_key_attr) if name)


def _writes(operation: str, params: dict[str, Any], backend: Any) -> list[_Write]:
    if operation in ("UpdateItem", "DeleteItem"):
        return [_Write(params["TableName"], operation.removesuffix("Item"), params["Key"])]
    if operation == "PutItem":
        return [_put(backend, params["TableName"], params["Item"])]
    if operation == "BatchWriteItem":
        return [_put(backend, table, request["PutRequest"]["Item"]) if "PutRequest" in request
                else _Write(table, "Delete", request["DeleteRequest"]["Key"])
                for table, requests in params["RequestItems"].items() for request in requests]
    writes = []
    for entry in params["TransactItems"]:
        (kind, op), = entry.items()
        writes.append(_put(backend, op["TableName"], op["Item"]) if kind == "Put"
                      else _Write(op["TableName"], kind, op["Key"]))
    return writes


def _put(backend: Any, table_name: str, item: Image) -> _Write:
    return _Write(table_name, "Put", {name: item[name] for name in _table_keys(backend, table_name)})


def _image(backend: Any, write: _Write) -> Image | None:
    try:
        item = backend.get_item(write.table, write.key)
    except Exception:  # no such table, a malformed key: the write itself answers the error
        return None
    return item.to_json()["Attributes"] if item is not None else None


def _index_units(backend: Any, table_name: str, before: Image | None, after: Image | None) -> int:
    table = backend.get_table(table_name)
    table_keys = _table_keys(backend, table_name)
    total = 0
    for index in table.global_indexes:
        projection = index.projection or {}
        shape = IndexShape(tuple(part["AttributeName"] for part in index.schema),
                           projection.get("ProjectionType", "ALL"), tuple(projection.get("NonKeyAttributes", [])))
        total += shape.write_units(before, after, table_keys)
    return total
