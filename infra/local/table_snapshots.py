"""DynamoDB tables saved to JSON files in the state directory and loaded back at start.

An export tool, outside every request path, so a full Scan is fine here.

Each table is saved on its own: one that cannot be read or written is reported (an ERROR line naming
it and why) while the others are still saved, and its previous file stays as it was, since a file is
only ever replaced whole by a new one that was written completely (infra/local/state_files.py).
At start, an item the emulation refuses does not stop the others; the file it came from is kept aside.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.local.state_files import SaveReport, Writer, write_atomically

log = logging.getLogger(__name__)

Item = dict[str, dict[str, Any]]
_BATCH_WRITE_LIMIT = 25
_REASON_LIMIT = 300


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


def encode_item(item: Item) -> bytes:
    # ASCII with \u escapes: any text DynamoDB holds, lone surrogates included, can be written.
    return json.dumps(item_to_json(item), sort_keys=True, ensure_ascii=True).encode("ascii")


def describe_error(error: BaseException) -> str:
    reason = f"{type(error).__name__}: {error}"
    return reason if len(reason) <= _REASON_LIMIT else reason[:_REASON_LIMIT] + "..."


class TableSnapshots:
    def __init__(self, dynamodb: Any, directory: Path, table_names: list[str],
                 write: Writer = write_atomically, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._dynamodb = dynamodb
        self._directory = directory
        self._table_names = table_names
        self._write = write
        self._now = now
        self._written: dict[str, str] = {}

    @property
    def names(self) -> list[str]:
        return list(self._table_names)

    def path(self, table: str) -> Path:
        return self._directory / f"{table}.json"

    def last_good(self, table: str) -> str:
        """Where the last snapshot that was written whole is, and when it was written."""
        path = self.path(table)
        if not path.is_file():
            return f"no snapshot of {table} was ever saved"
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"the last good snapshot of {table} is {path} (written {written})"

    def save(self) -> SaveReport:
        """Write every table whose content changed since the last write."""
        report = SaveReport()
        for table in self._table_names:
            try:
                if self._save_table(table):
                    report.changed.append(table)
            except Exception as error:
                report.failed[table] = describe_error(error)
                log.error("Could not save table %s: %s; %s", table, report.failed[table], self.last_good(table))
        return report

    def _save_table(self, table: str) -> bool:
        encoded = [encode_item(item) for item in self._scan(table)]
        digest = hashlib.sha256(b"\n".join(encoded)).hexdigest()
        if self._written.get(table) == digest:
            return False
        self._write(self.path(table), self._snapshot_chunks(table, encoded))
        self._written[table] = digest
        return True

    @staticmethod
    def _snapshot_chunks(table: str, encoded: list[bytes]) -> Iterator[bytes]:
        yield b'{"table": ' + json.dumps(table).encode("ascii") + b', "items": ['
        for index, item in enumerate(encoded):
            yield (b",\n" if index else b"\n") + item
        yield b"\n]}\n"

    def _scan(self, table: str) -> list[Item]:
        items: list[Item] = []
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        return items

    def restore(self) -> dict[str, int]:
        """Put back every saved item; return how many items each table got."""
        restored = {}
        for table in self._table_names:
            try:
                count = self._restore_table(table)
            except Exception as error:
                kept = self._set_aside(table)
                log.error("Could not restore table %s: %s; its snapshot is kept as %s", table,
                          describe_error(error), kept)
                continue
            if count is not None:
                restored[table] = count
        return restored

    def _restore_table(self, table: str) -> int | None:
        path = self.path(table)
        if not path.is_file():
            return None
        snapshot = json.loads(path.read_bytes())
        items = [item_from_json(item) for item in snapshot["items"]]
        refused: list[str] = []
        for start in range(0, len(items), _BATCH_WRITE_LIMIT):
            refused += self._write_batch(table, items[start:start + _BATCH_WRITE_LIMIT])
        if refused:
            kept = self._set_aside(table)
            log.error("%d of the %d saved items of table %s were refused (%s); the snapshot is kept as %s",
                      len(refused), len(items), table, refused[0], kept)
        return len(items) - len(refused)

    def _write_batch(self, table: str, items: list[Item]) -> list[str]:
        """Write the items, one at a time if the batch is refused; answer why each refused one was."""
        try:
            requests: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
            while requests:
                requests = self._dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            return []
        except Exception:
            pass
        refused = []
        for item in items:
            try:
                self._dynamodb.put_item(TableName=table, Item=item)
            except Exception as error:
                refused.append(describe_error(error))
        return refused

    def _set_aside(self, table: str) -> Path:
        """A copy the next save cannot overwrite, so nothing that was saved is lost for good."""
        stamp = self._now().strftime("%Y%m%dT%H%M%SZ")
        kept = self._directory / f"{table}.unrestored-{stamp}.json"
        shutil.copy2(self.path(table), kept)
        return kept
