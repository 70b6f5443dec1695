"""Listening: rules that watch every inbound text for terms.

Text and terms are compared after `fold_text`: case and diacritics do not
matter, and the four Turkish i's (I, ı, İ, i) are one letter, so `İstanbul`,
`ISTANBUL`, `istanbul` and `ıstanbul` all match each other (Python's own
lower() turns `İ` into `i` + a combining dot and `I` into a dotted `i`, which
is wrong for Turkish). A term matches whole words: `art` does not match
`party`, except in scripts written without spaces (Chinese, Japanese, Thai...),
where it matches anywhere.

A workspace whose `language` is `tr` folds and matches the Turkish way instead (chalicelib/inbox/turkish.py):
the two i's stay apart, ç ğ ı ö ş ü are kept, and a term also matches the word with the endings Turkish
attaches (`İstanbul'da`, `markamızdan`). Every other language (or none) keeps the folding above.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.inbox import turkish
from chalicelib.inbox.config_repository import InboxConfigRepository, MentionRow, RuleRow
from chalicelib.inbox.stored_events import StoredEvent
from chalicelib.networks.base import InboundEvent

# Letters that are not a base letter plus a combining mark, so NFKD leaves them alone.
_LETTER_FOLDS = str.maketrans(
    {
        "İ": "i",
        "I": "i",
        "ı": "i",
        "Ł": "l",
        "ł": "l",
        "Đ": "d",
        "đ": "d",
        "Ð": "d",
        "ð": "d",
        "Ø": "o",
        "ø": "o",
        "Ħ": "h",
        "ħ": "h",
        "Ŧ": "t",
        "ŧ": "t",
        "Æ": "ae",
        "æ": "ae",
        "Œ": "oe",
        "œ": "oe",
        "Þ": "th",
        "þ": "th",
        "ẞ": "ss",
        "ß": "ss",
    }
)
# Marks that are diacritics. Other combining marks (Indic vowel signs, kana
# voicing marks) are part of the letter and are kept.
_DIACRITIC_RANGES = (
    (0x0300, 0x036F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
    (0x0591, 0x05C7),  # Hebrew points
    (0x064B, 0x065F),
    (0x0670, 0x0670),  # Arabic harakat
)
_SPACELESS_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN")


def _is_diacritic(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _DIACRITIC_RANGES)


def fold_text(text: str, language: str | None = None) -> str:
    """The form in which text and terms are compared."""
    if language == "tr":
        return turkish.fold(text)
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTER_FOLDS))
    stripped = "".join(char for char in decomposed if not _is_diacritic(char))
    folded = unicodedata.normalize("NFC", stripped.translate(_LETTER_FOLDS).casefold())
    return " ".join(folded.split())


def _word_edge(char: str) -> bool:
    return char.isalnum() and not unicodedata.name(char, "").startswith(_SPACELESS_SCRIPTS)


@lru_cache(maxsize=4096)
def _term_pattern(folded_term: str) -> re.Pattern[str]:
    left = r"(?<!\w)" if _word_edge(folded_term[0]) else ""
    right = r"(?!\w)" if _word_edge(folded_term[-1]) else ""
    return re.compile(left + re.escape(folded_term) + right)


@lru_cache(maxsize=4096)
def _stem_pattern(folded_term: str) -> re.Pattern[str]:
    left = r"(?<!\w)" if _word_edge(folded_term[0]) else ""
    return re.compile(left + re.escape(folded_term) + r"('?\w*)")


def _contains_stem(folded_text: str, folded_term: str) -> bool:
    """Turkish: the term, then nothing, an apostrophe ending or a chain of suffixes to the word's end."""
    if not _word_edge(folded_term[-1]):
        return _term_pattern(folded_term).search(folded_text) is not None
    stem = folded_term.rsplit(" ", 1)[-1]
    return any(
        turkish.is_inflection(stem, found.group(1)) for found in _stem_pattern(folded_term).finditer(folded_text)
    )


def contains_term(folded_text: str, term: str, language: str | None = None) -> bool:
    folded_term = fold_text(term, language)
    if not folded_term:
        return False
    if language == "tr":
        return _contains_stem(folded_text, folded_term)
    return _term_pattern(folded_term).search(folded_text) is not None


@dataclass(frozen=True)
class Rule:
    rule_id: str
    name: str
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    channel_ids: tuple[str, ...] = ()
    enabled: bool = True
    language: str | None = None  # the workspace's: `tr` folds and matches the Turkish way
    kind: str = "brand"

    @classmethod
    def from_row(cls, row: RuleRow, language: str | None = None) -> Rule:
        # A competitor's name and handles are terms of its rule: they are how people mention it.
        competitor_terms = tuple(
            t for t in (row.competitor_name or "", *row.competitor_handles) if t and t not in row.any_of
        )
        return cls(
            row.rule_id,
            row.name,
            (*row.any_of, *competitor_terms),
            tuple(row.all_of),
            tuple(row.exclude),
            tuple(row.channel_ids),
            row.enabled,
            matching_language(language),
            row.kind,
        )

    def match(self, text: str, channel_id: str) -> list[str] | None:
        """The terms that matched, or None when the rule does not match this text."""
        if not self.enabled or (self.channel_ids and channel_id not in self.channel_ids):
            return None
        if not self.any_of and not self.all_of:
            return None
        language = self.language
        folded = fold_text(text, language)
        if any(contains_term(folded, term, language) for term in self.exclude):
            return None
        any_hits = [term for term in self.any_of if contains_term(folded, term, language)]
        if self.any_of and not any_hits:
            return None
        if not all(contains_term(folded, term, language) for term in self.all_of):
            return None
        return any_hits + list(self.all_of)

    def search_terms(self) -> list[str]:
        """What a network search asks for: any of the terms (or, without any_of, the first required one);
        every post found is matched with `match` before it becomes a mention."""
        return list(self.any_of) or list(self.all_of[:1])


def matching_language(language: str | None) -> str | None:
    """The folding a workspace language selects: `tr` for Turkish (tr, tr-TR, ...), else the neutral one."""
    return "tr" if language and language.lower().split("-")[0] == "tr" else None


def _clean_terms(terms: Iterable[str], field: str) -> list[str]:
    cleaned: list[str] = []
    for term in terms:
        term = " ".join(term.split())
        if not fold_text(term):
            raise ValidationFailed.field(field, "a term cannot be empty or only marks")
        if term not in cleaned:
            cleaned.append(term)
    return cleaned


class ListeningService:
    def __init__(self, config: InboxConfigRepository, channels: Any, clock: Clock, workspaces: Any = None) -> None:
        self.config = config
        self.channels = channels
        self.clock = clock
        self.workspaces = workspaces

    # -- rules ---------------------------------------------------------------------

    def create_rule(
        self,
        workspace_id: str,
        name: str,
        any_of: list[str],
        all_of: list[str],
        exclude: list[str],
        channel_ids: list[str],
        enabled: bool = True,
        **more: Any,
    ) -> RuleRow:
        """`more`: kind, competitor ({name, handles}), search."""
        now = to_rfc3339(self.clock.now()) or ""
        row = RuleRow(workspace_id, new_id("lr"), name, now, now)
        self._fill(row, any_of=any_of, all_of=all_of, exclude=exclude, channel_ids=channel_ids, enabled=enabled, **more)
        self.config.put_rule(row)
        return row

    def get_rule(self, workspace_id: str, rule_id: str) -> RuleRow:
        row = self.config.get_rule(workspace_id, rule_id)
        if row is None:
            raise NotFound(f"No listening rule {rule_id} in this workspace.")
        return row

    def list_rules(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[RuleRow], str | None]:
        return self.config.list_rules(workspace_id, limit, cursor)

    def update_rule(self, workspace_id: str, rule_id: str, changes: dict[str, Any]) -> RuleRow:
        row = self.get_rule(workspace_id, rule_id)
        if changes.get("name") is not None:
            row.name = changes["name"]
        self._fill(row, **{k: v for k, v in changes.items() if k != "name" and v is not None})
        row.updated_at = to_rfc3339(self.clock.now()) or ""
        self.config.put_rule(row)
        return row

    def delete_rule(self, workspace_id: str, rule_id: str) -> None:
        self.get_rule(workspace_id, rule_id)
        self.config.delete_rule(workspace_id, rule_id)

    def _fill(self, row: RuleRow, **values: Any) -> None:
        for field in ("any_of", "all_of", "exclude"):
            if field in values:
                setattr(row, field, _clean_terms(values[field], field))
        if "channel_ids" in values:
            wanted = list(dict.fromkeys(values["channel_ids"]))
            known = self.channels.get_many(row.workspace_id, wanted) if wanted else {}
            unknown = [cid for cid in wanted if cid not in known]
            if unknown:
                raise ValidationFailed.field("channel_ids", f"no channel {', '.join(unknown)} in this workspace")
            row.channel_ids = wanted
        if "enabled" in values:
            row.enabled = bool(values["enabled"])
        self._fill_kind(row, values)
        if not row.any_of and not row.all_of and not row.competitor_name:
            raise ValidationFailed.field("any_of", "a rule needs at least one term in any_of or all_of")

    @staticmethod
    def _fill_kind(row: RuleRow, values: dict[str, Any]) -> None:
        if "search" in values:
            row.search = bool(values["search"])
        if "kind" in values:
            row.kind = values["kind"]
        if values.get("competitor") is not None:
            competitor = values["competitor"]
            row.competitor_name = " ".join(competitor["name"].split())
            row.competitor_handles = _clean_terms(competitor.get("handles") or [], "competitor.handles")
        if row.kind == "competitor" and not row.competitor_name:
            raise ValidationFailed.field("competitor", "a competitor rule needs the competitor's name")
        if row.kind == "brand":
            row.competitor_name, row.competitor_handles = None, []

    # -- matching ------------------------------------------------------------------

    def language_of(self, workspace_id: str) -> str | None:
        workspace = self.workspaces.get(workspace_id) if self.workspaces is not None else None
        return getattr(workspace, "language", None)

    def rules_for(self, workspace_id: str) -> list[Rule]:
        language = self.language_of(workspace_id)
        return [Rule.from_row(row, language) for row in self.config.all_rules(workspace_id)]

    @staticmethod
    def listens_to(event: InboundEvent) -> bool:
        """Rules watch what others write: inbound text that is still there."""
        return event.direction == "inbound" and event.action != "deleted" and bool(event.text.strip())

    def match(self, stored: StoredEvent, conversation_id: str, rules: list[Rule]) -> list[MentionRow]:
        """Records a mention for every rule the event's text matches (idempotently; one per rule and post, with
        a network search's: config_repository.put_mention)."""
        event = stored.event
        if not self.listens_to(event):
            return []
        mentions = []
        for rule in rules:
            terms = rule.match(event.text, stored.channel_id)
            if terms is None:
                continue
            digest = hashlib.sha256(f"{stored.key}\n{rule.rule_id}".encode()).hexdigest()[:20]
            mention = MentionRow(
                stored.workspace_id,
                f"mn_{digest}",
                rule.rule_id,
                rule.name,
                conversation_id,
                stored.channel_id,
                event.network,
                event.message_id,
                event.kind,
                event.text,
                event.occurred_at,
                stored.received_at,
                event.author_id,
                event.author_name,
                event.author_handle,
                terms,
            )
            self.config.put_mention(mention, stored.received_at)
            mentions.append(mention)
        return mentions

    def list_mentions(
        self, workspace_id: str, rule_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[MentionRow], str | None]:
        return self.config.list_mentions(workspace_id, rule_id, limit, cursor)
