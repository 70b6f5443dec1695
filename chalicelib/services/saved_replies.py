"""Saved replies: texts with `{placeholders}` filled in when a reply is sent.

A placeholder is `{` + a name (letters, digits, underscores; not starting with
a digit) + `}`; other braces are plain text. Every placeholder needs a
non-blank value: a reply is never sent with a hole in it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from chalicelib.clock import Clock, to_rfc3339
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.repositories.inbox_config import InboxConfigRepository, SavedReplyRow

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(text: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def render(text: str, variables: Mapping[str, str]) -> str:
    missing = [name for name in placeholders(text) if not str(variables.get(name, "")).strip()]
    if missing:
        raise ValidationFailed(
            f"variables: this saved reply needs {', '.join(missing)}",
            details=[{"field": f"variables.{name}", "message": "required by the saved reply"}
                     for name in missing],
        )
    # A value is inserted as it is, even if it looks like a placeholder itself.
    return PLACEHOLDER.sub(lambda match: str(variables[match.group(1)]), text)


class SavedReplyService:
    def __init__(self, config: InboxConfigRepository, clock: Clock) -> None:
        self.config = config
        self.clock = clock

    def _now(self) -> str:
        return to_rfc3339(self.clock.now()) or ""

    def create(self, workspace_id: str, name: str, text: str) -> SavedReplyRow:
        now = self._now()
        row = SavedReplyRow(workspace_id, new_id("sr"), name, text, now, now)
        self.config.put_saved_reply(row)
        return row

    def get(self, workspace_id: str, saved_reply_id: str) -> SavedReplyRow:
        row = self.config.get_saved_reply(workspace_id, saved_reply_id)
        if row is None:
            raise NotFound(f"No saved reply {saved_reply_id} in this workspace.")
        return row

    def list(self, workspace_id: str, limit: int,
             cursor: str | None) -> tuple[list[SavedReplyRow], str | None]:
        return self.config.list_saved_replies(workspace_id, limit, cursor)

    def update(self, workspace_id: str, saved_reply_id: str, name: str | None,
               text: str | None) -> SavedReplyRow:
        row = self.get(workspace_id, saved_reply_id)
        row.name = name if name is not None else row.name
        row.text = text if text is not None else row.text
        row.updated_at = self._now()
        self.config.put_saved_reply(row)
        return row

    def delete(self, workspace_id: str, saved_reply_id: str) -> None:
        self.get(workspace_id, saved_reply_id)
        self.config.delete_saved_reply(workspace_id, saved_reply_id)

    def render(self, workspace_id: str, saved_reply_id: str, variables: Mapping[str, str]) -> str:
        row = self.config.get_saved_reply(workspace_id, saved_reply_id)
        if row is None:
            raise ValidationFailed.field("saved_reply_id",
                                         f"no saved reply {saved_reply_id} in this workspace")
        return render(row.text, variables)
