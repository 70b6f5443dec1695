"""Entry rules, checked on the comments the inbox holds, as giveaway pickers check them.

Verified (Herald reads them in each comment): the comment is on one of the posts, inside the window, not
deleted; it holds every required term (a `#tag` as a whole hashtag, a word as a whole word, letter case
ignored); it mentions at least N distinct accounts (@handle; neither the author nor the brand counts); when
asked, it mentions the brand too; its author is not excluded and is not the brand; one entry per person (their
first comment that meets every rule). Rules the networks do not let Herald read (follows, story shares) are
listed as not verified, never assumed.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from chalicelib.giveaways.giveaway_repository import Entrant
from chalicelib.giveaways.rules import Rules

MENTION = re.compile(r"(?<![\w@])@([\w.]{1,60})", re.UNICODE)


@dataclass(frozen=True)
class Comment:
    network: str
    channel_id: str
    message_id: str
    author_id: str
    author_handle: str
    author_name: str
    text: str
    occurred_at: datetime
    deleted: bool = False
    from_brand: bool = False  # the channel's own comment (an answer, a "winners soon!")


def entrant_id(comment: Comment) -> str:
    if comment.author_id:
        return f"{comment.network}:{comment.author_id}"
    return f"{comment.network}:@{comment.author_handle.casefold()}"


def _handle(text: str) -> str:
    return text.strip().lstrip("@").casefold()


def _has_term(text: str, term: str) -> bool:
    folded, wanted = text.casefold(), term.casefold()
    return re.search(f"(?<![\\w#]){re.escape(wanted)}(?!\\w)", folded) is not None


def mentions(text: str) -> set[str]:
    return {m.rstrip(".").casefold() for m in MENTION.findall(text)}


def _refusal(comment: Comment, rules: Rules, brand: set[str], excluded: set[str]) -> str | None:
    """Why the comment does not enter, or None."""
    if comment.deleted:
        return "deleted"
    if not rules.starts_at <= comment.occurred_at <= rules.ends_at:
        return "outside_window"
    who = {comment.author_id, _handle(comment.author_handle)} - {""}
    if comment.from_brand or who & brand:
        return "brand_own"
    if who & excluded:
        return "excluded"
    return _text_refusal(comment.text, rules, brand, who)


def _text_refusal(text: str, rules: Rules, brand: set[str], who: set[str]) -> str | None:
    if not all(_has_term(text, term) for term in rules.required_terms):
        return "missing_terms"
    mentioned = mentions(text)
    if rules.mention_brand and not mentioned & brand:
        return "no_brand_mention"
    if len(mentioned - brand - who) < rules.min_mentions:
        return "too_few_mentions"
    return None


def entrants(comments: list[Comment], rules: Rules, brand: set[str]) -> tuple[list[Entrant], dict[str, int]]:
    """Who enters (sorted by entrant id) and, by reason, how many comments were left out."""
    excluded = {_handle(a) for a in rules.excluded_accounts}
    counts: Counter[str] = Counter()
    chosen: dict[str, Entrant] = {}
    for comment in sorted(comments, key=lambda c: (c.occurred_at, c.message_id)):
        counts["comments"] += 1
        reason = _refusal(comment, rules, brand, excluded)
        key = entrant_id(comment)
        if reason is None and key in chosen:
            reason = "duplicates"
        if reason is not None:
            counts[reason] += 1
            continue
        chosen[key] = Entrant(key, comment.author_handle, comment.author_name, comment.message_id,
                              comment.channel_id, comment.occurred_at)
    ordered = [chosen[k] for k in sorted(chosen, key=lambda e: e.encode())]
    return ordered, dict(counts)
