"""One CSV row as the body of `POST /posts`, and the API's answer about it as `{line, column, reason}`.

Columns (names in any case; unknown ones make the file unreadable, so a typo never drops a column):
- `text`: the post's text (quoted, it may hold newlines);
- `channels`: channel ids or names, separated by `|` or `,`;
- `publish_at`: empty for a draft; a time (RFC 3339 with an offset, or `YYYY-MM-DD HH:MM[:SS]` in the
  workspace's time zone) to schedule it; `queue` for the channel's next free queue slot;
- `media`: public https URLs of images or videos, separated by `|` or whitespace;
- `text:<network>` (`text:x`, `text:linkedin`...): the text for that network's channels instead of `text`.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.outbound import clean_reason
from chalicelib.imports.csv_file import CsvRow
from chalicelib.networks.registry import NETWORKS

BASE_COLUMNS = ("text", "channels", "publish_at", "media")
VARIANT_PREFIX = "text:"
QUEUE_WORD = "queue"
LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
SEPARATORS = re.compile(r"[|,\n]")


def known_column(name: str) -> bool:
    if name in BASE_COLUMNS:
        return True
    return name.startswith(VARIANT_PREFIX) and name[len(VARIANT_PREFIX):] in NETWORKS


def unknown_columns(columns: list[str]) -> list[str]:
    return [name for name in columns if not known_column(name)]


@dataclass(frozen=True)
class Channel:
    channel_id: str
    name: str
    network: str


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def view(self) -> dict[str, Any]:
        # Clipped: a thousand of them live in the import's one item (DynamoDB's 400 KB).
        return {"line": self.line, "column": self.column, "reason": clean_reason(self.reason, 300)}


class RowReader:
    """Turns rows into request bodies for one workspace (its channels, by id and by name; its time zone)."""

    def __init__(self, channels: list[Channel], timezone: str, queue_fields: Callable[[], dict[str, Any]],
                 queue_available: bool) -> None:
        self.by_id = {c.channel_id: c for c in channels}
        self.by_name: dict[str, list[Channel]] = {}
        for channel in channels:
            self.by_name.setdefault(channel.name.strip().lower(), []).append(channel)
        self.timezone = ZoneInfo(timezone)
        self.queue_fields = queue_fields
        self.queue_available = queue_available

    def body(self, row: CsvRow) -> tuple[dict[str, Any] | None, list[RowError]]:
        """The `POST /posts` body of a row, or what stops it from being one before the API is asked."""
        errors: list[RowError] = []
        if row.extra_cells:
            errors.append(RowError(row.line, "", f"the row has {row.extra_cells} cell(s) more than the header "
                                                 "names (a delimiter inside an unquoted cell?)"))
        channel_ids = self._channel_ids(row, errors)
        timing = self._timing(row, errors)
        if errors:
            return None, errors
        body: dict[str, Any] = {"text": row.cells.get("text", ""), "channel_ids": channel_ids,
                                "media": [{"url": url} for url in _media_urls(row.cells.get("media", ""))],
                                **timing}
        variants = self._variants(row, channel_ids)
        if variants:
            body["variants"] = variants
        return body, []

    def _channel_ids(self, row: CsvRow, errors: list[RowError]) -> list[str]:
        ids = []
        for token in (t.strip() for t in SEPARATORS.split(row.cells.get("channels", ""))):
            if not token:
                continue
            named = self.by_name.get(token.lower(), [])
            if token in self.by_id or not named:
                ids.append(token)  # an unknown one is the API's to refuse, in its words
            elif len(named) > 1:
                errors.append(RowError(row.line, "channels", f"{len(named)} channels are named {token!r}; "
                                                             "use their ids"))
            else:
                ids.append(named[0].channel_id)
        return ids

    def _timing(self, row: CsvRow, errors: list[RowError]) -> dict[str, Any]:
        cell = row.cells.get("publish_at", "").strip()
        if not cell:
            return {"status": "draft"}
        if cell.lower() == QUEUE_WORD:
            if not self.queue_available:
                errors.append(RowError(row.line, "publish_at", "the posting queue is not available yet; "
                                                               "give a time or leave it empty for a draft"))
            return self.queue_fields()
        if LOCAL_TIME.match(cell):
            try:
                local = datetime.fromisoformat(cell.replace(" ", "T")).replace(tzinfo=self.timezone)
            except ValueError as error:
                errors.append(RowError(row.line, "publish_at", f"{cell!r} is not a time: {error}"))
                return {}
            return {"publish_at": to_rfc3339(local), "status": "scheduled"}
        return {"publish_at": cell, "status": "scheduled"}  # RFC 3339, checked by the API's own field

    def _variants(self, row: CsvRow, channel_ids: list[str]) -> dict[str, dict[str, str]]:
        variants: dict[str, dict[str, str]] = {}
        for column, cell in row.cells.items():
            if not column.startswith(VARIANT_PREFIX) or not cell.strip():
                continue
            network = column[len(VARIANT_PREFIX):]
            for channel_id in channel_ids:
                channel = self.by_id.get(channel_id)
                if channel is not None and channel.network == network:
                    variants[channel_id] = {"text": cell}
        return variants

    def errors_of(self, row: CsvRow, problems: list[dict[str, Any]]) -> list[RowError]:
        """The API's 422 details for this row's body, each under the column it came from."""
        return [RowError(row.line, self.column_of(str(p.get("field") or "")), _reason(p)) for p in problems]

    def column_of(self, field: str) -> str:
        head, _, rest = field.partition(".")
        if head == "channel_ids":
            return "channels"
        if head in ("publish_at", "status", "queue"):
            return "publish_at"
        if head == "variants":
            channel = self.by_id.get(rest.split(".", 1)[0])
            return f"{VARIANT_PREFIX}{channel.network}" if channel else "channels"
        if head in BASE_COLUMNS:
            return head
        return field or "text"


def _media_urls(cell: str) -> list[str]:
    return [url for url in re.split(r"[|\s]+", cell.strip()) if url]


def _reason(problem: dict[str, Any]) -> str:
    message = str(problem.get("message") or "is not valid").removeprefix("Value error, ")
    field = str(problem.get("field") or "")
    if field == "publish_at" and problem.get("type") == "value_error":  # the API's time field refused it
        message += "; or YYYY-MM-DD HH:MM in the workspace's time zone, or queue, or empty for a draft"
    return f"{field}: {message}" if field and field not in ("text", "publish_at", "body") else message
