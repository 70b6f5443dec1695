"""A post's status follows from its deliveries."""
from __future__ import annotations

from collections.abc import Iterable

TERMINAL = frozenset({"published", "failed", "unknown", "canceled"})


def derive_post_status(stored: str, delivery_statuses: Iterable[str]) -> str:
    statuses = list(delivery_statuses)
    if stored in ("draft", "pending_approval") or not statuses:  # nothing of it is due yet
        return stored
    if all(s in TERMINAL for s in statuses):
        published = statuses.count("published")
        if published == len(statuses):
            return "published"
        if published:
            return "partially_published"
        if all(s == "canceled" for s in statuses):
            return "canceled"
        return "failed"
    # Queued deliveries have not gone out: until one is being published the
    # post is still scheduled (and can still be edited or canceled).
    if any(s not in ("scheduled", "queued") for s in statuses):
        return "publishing"
    return "scheduled"


def final_post_status(stored: str, delivery_statuses: Iterable[str]) -> str | None:
    """The status a post takes once its deliveries are settled, or None while it is still going out."""
    derived = derive_post_status(stored, delivery_statuses)
    return derived if derived in TERMINAL or derived == "partially_published" else None
