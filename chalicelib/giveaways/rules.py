"""A giveaway's entry rules: what was asked (Rules) and how the certificate lists them, each verified or not.
entries.py checks them on the comments."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import parse_rfc3339

if TYPE_CHECKING:
    from chalicelib.giveaways.giveaway_repository import Giveaway


@dataclass(frozen=True)
class Rules:
    starts_at: datetime
    ends_at: datetime
    required_terms: tuple[str, ...] = ()
    min_mentions: int = 0
    mention_brand: bool = False
    excluded_accounts: tuple[str, ...] = ()
    not_verified: tuple[str, ...] = ()


def described(rules: Rules) -> list[dict[str, Any]]:
    """The rules as the certificate lists them, each verified or not."""
    listed: list[dict[str, Any]] = [
        {"rule": "A comment on the giveaway's post(s) between "
                 f"{rules.starts_at.isoformat()} and {rules.ends_at.isoformat()}", "verified": True},
        {"rule": "One entry per person (their first comment that meets every rule)", "verified": True},
        {"rule": "The brand's own accounts cannot enter", "verified": True}]
    listed += [{"rule": f"The comment contains {term}", "verified": True} for term in rules.required_terms]
    if rules.min_mentions:
        listed.append({"rule": f"The comment mentions at least {rules.min_mentions} other account(s)",
                       "verified": True})
    if rules.mention_brand:
        listed.append({"rule": "The comment mentions the brand", "verified": True})
    if rules.excluded_accounts:
        listed.append({"rule": f"Excluded: {', '.join(rules.excluded_accounts)}", "verified": True})
    listed += [{"rule": text, "verified": False} for text in rules.not_verified]
    return listed


def rules_of(giveaway: Giveaway) -> Rules:
    r = giveaway.rules
    return Rules(parse_rfc3339(giveaway.starts_at), parse_rfc3339(giveaway.ends_at),
                 tuple(r.get("required_terms") or ()), int(r.get("min_mentions") or 0),
                 bool(r.get("mention_brand")), tuple(r.get("excluded_accounts") or ()),
                 tuple(r.get("not_verified") or ()))
