"""Saved replies: texts with `{placeholders}` filled in when a reply is sent.

A placeholder is `{` + a name + `}`; other braces are plain text. Names are
Unicode, as the people who write them: letters of any script, then letters,
combining marks (the vowel signs of Devanagari, say), digits and underscores,
up to 64 characters: `{first_name}`, `{İsim}`, `{şehir}`, `{adı_soyadı}`,
`{नाम}`. A name does not start with a digit (`{1}` stays text) and is compared
in NFC, so a decomposed `İ` (I + U+0307) is the same name as a composed one.
Every placeholder needs a non-blank value: a reply is never sent with a hole in it.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.inbox.config_repository import InboxConfigRepository, SavedReplyRow

NAME_MAX = 64
CANDIDATE = re.compile(rf"\{{([^{{}}\s]{{1,{NAME_MAX}}})\}}")


def _is_name(candidate: str) -> bool:
    first, rest = candidate[0], candidate[1:]
    if not (first == "_" or unicodedata.category(first).startswith("L")):
        return False
    return all(char == "_" or unicodedata.category(char)[0] in "LMN" for char in rest)


def _name(candidate: str) -> str | None:
    name = unicodedata.normalize("NFC", candidate)
    return name if _is_name(name) else None


def placeholders(text: str) -> list[str]:
    found = (_name(match.group(1)) for match in CANDIDATE.finditer(text))
    return list(dict.fromkeys(name for name in found if name is not None))


def render(text: str, variables: Mapping[str, str]) -> str:
    variables = {unicodedata.normalize("NFC", key): value for key, value in variables.items()}
    missing = [name for name in placeholders(text) if not str(variables.get(name, "")).strip()]
    if missing:
        raise ValidationFailed(
            f"variables: this saved reply needs {', '.join(missing)}",
            details=[{"field": f"variables.{name}", "message": "required by the saved reply"}
                     for name in missing],
        )
    def fill(match: re.Match[str]) -> str:
        name = _name(match.group(1))
        return match.group(0) if name is None else str(variables[name])

    # A value is inserted as it is, even if it looks like a placeholder itself.
    return CANDIDATE.sub(fill, text)


class SavedReplyService:
    def __init__(self, config: InboxConfigRepository, clock: Clock) -> None:
        self.config = config
        self.clock = clock

    def _now(self) -> str:
        return to_rfc3339(self.clock.now()) or ""

    def create(self, workspace_id: str, name: str, text: str,
               outside_window: Mapping[str, str | None] | None = None) -> SavedReplyRow:
        now = self._now()
        row = SavedReplyRow(workspace_id, new_id("sr"), name, text, now, now, **(outside_window or {}))
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
               text: str | None, outside_window: Mapping[str, str | None] | None = None) -> SavedReplyRow:
        row = self.get(workspace_id, saved_reply_id)
        row.name = name if name is not None else row.name
        row.text = text if text is not None else row.text
        for field, value in (outside_window or {}).items():  # template_name, template_language, message_tag
            setattr(row, field, value)
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
