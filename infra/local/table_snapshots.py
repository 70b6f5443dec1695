"""DynamoDB tables saved to JSON files in the state directory and loaded back at start.

An export tool, outside every request path, so a full Scan is fine here.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from infra.local.state_files import read_json, write_atomically

log = logging.getLogger(__name__)

Item = dict[str, dict[str, Any]]
_BATCH_WRITE_LIMIT = 25


def _attribute_to_json(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {kind: base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {kind: [base64.b64encode(part).decode("ascii") for part in inner]}
    if kind == "M":
        return {kind: {name: _attribute_to_json(part) for name, part in inner.items()}}
    if kind == "L":
        return {kind: [_attribute_to_json(part) for part in inner]}
    return {kind: inner}


def _attribute_from_json(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {kind: base64.b64decode(inner)}
    if kind == "BS":
        return {kind: [base64.b64decode(part) for part in inner]}
    if kind == "M":
        return {kind: {name: _attribute_from_json(part) for name, part in inner.items()}}
    if kind == "L":
        return {kind: [_attribute_from_json(part) for part in inner]}
    return {kind: inner}


def item_to_json(item: Item) -> Item:
    return {name: _attribute_to_json(value) for name, value in item.items()}


def item_from_json(item: Item) -> Item:
    return {name: _attribute_from_json(value) for name, value in item.items()}


class TableSnapshots:
    def __init__(self, dynamodb: Any, directory: Path, table_names: list[str]) -> None:
        self._dynamodb = dynamodb
        self._directory = directory
        self._table_names = table_names
        self._written: dict[str, str] = {}

    def _path(self, table: str) -> Path:
        return self._directory / f"{table}.json"

    def save(self) -> list[str]:
        """Write every table whose content changed since the last write; return their names."""
        changed = []
        for table in self._table_names:
            items = [item_to_json(item) for item in self._scan(table)]
            data = json.dumps({"table": table, "items": items}, sort_keys=True).encode("utf-8")
            digest = hashlib.sha256(data).hexdigest()
            if self._written.get(table) == digest:
                continue
            write_atomically(self._path(table), data)
            self._written[table] = digest
            changed.append(table)
        return changed

    def _scan(self, table: str) -> list[Item]:
        items: list[Item] = []
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        return items

    def restore(self) -> dict[str, int]:
        """Put back every saved item; return how many items each table got."""
        restored = {}
        for table in self._table_names:
            snapshot = read_json(self._path(table))
            if not snapshot:
                continue
            items = [item_from_json(item) for item in snapshot["items"]]
            for start in range(0, len(items), _BATCH_WRITE_LIMIT):
                self._write_batch(table, items[start:start + _BATCH_WRITE_LIMIT])
            restored[table] = len(items)
        return restored

    def _write_batch(self, table: str, items: list[Item]) -> None:
        requests: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
        while requests:
            requests = self._dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
