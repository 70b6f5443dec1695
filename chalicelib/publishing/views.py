"""Rows turned into the contract's shapes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.publishing.post_status import derive_post_status
from chalicelib.publishing.short_text import with_short_links

if TYPE_CHECKING:  # the rows' modules load PynamoDB: only when a handler reads a table
    from chalicelib.publishing.post_repository import DeliveryRow, PostRow


def delivery_view(row: DeliveryRow, thread_parts: int = 0) -> dict[str, Any]:
    parts = part_ids(row.progress)
    return {"channel_id": row.channel_id, "network": row.network, "status": row.status,
            "remote_id": row.remote_id, "remote_url": row.remote_url, "attempts": row.attempts,
            "last_error": row.last_error, "published_at": to_rfc3339(row.published_at),
            "due_at": to_rfc3339(row.due_at) if row.status == "scheduled" else None,
            "thread": [{"remote_id": parts[i] if i < len(parts) else None} for i in range(thread_parts)],
            "first_comment_id": first_comment_id(row.progress), "warnings": row.warnings,
            "at_risk": _at_risk(row), "risk": row.at_risk if _at_risk(row) else None}


def part_ids(progress: dict[str, Any]) -> list[str | None]:
    """The remote ids of the thread's parts after the first, as the adapters record them in their progress
    (X `tweets`: every part's id in order; Threads `posts`: one step per part, its published `id`)."""
    tweets = progress.get("tweets")
    if isinstance(tweets, list):
        return [str(tweet) for tweet in tweets[1:]]
    posts = progress.get("posts")
    if isinstance(posts, list):
        return [str(step["id"]) if isinstance(step, dict) and step.get("id") else None for step in posts[1:]]
    return []


def first_comment_id(progress: dict[str, Any]) -> str | None:
    """Meta records `first_comment_id`, LinkedIn `comment_urn`."""
    found = progress.get("first_comment_id") or progress.get("comment_urn")
    return str(found) if found and found != "unknown" else None


def _at_risk(row: DeliveryRow) -> bool:
    return bool(row.at_risk) and row.status in ("scheduled", "queued")


def post_view(post: PostRow, deliveries: list[DeliveryRow]) -> dict[str, Any]:
    return {
        "id": post.post_id,
        "status": derive_post_status(post.status, [d.status for d in deliveries]),
        "text": post.text,
        "publish_at": to_rfc3339(post.publish_at),
        "channel_ids": post.channel_ids,
        "variants": post.variants,
        "media": post.media,
        "thread": post.thread,
        "first_comment": post.first_comment,
        "deliveries": [{**delivery_view(d, len(post.thread_for(d.channel_id))),
                        "text": with_short_links(post.text_for(d.channel_id), d.short_links),
                        "short_links": [{"url": url, "short_url": short} for url, short in d.short_links.items()]}
                       for d in deliveries],
        "created_at": to_rfc3339(post.created_at),
        "updated_at": to_rfc3339(post.updated_at),
        "version": post.version,
        "at_risk": any(_at_risk(d) for d in deliveries),
        **plan_view(post),
        "approval": {k: v for k, v in post.approval.items() if k != "seq"} if post.approval else None,
        "waiting_for": "approval" if post.status == "pending_approval" else None,
    }


def plan_view(post: PostRow) -> dict[str, Any]:
    """What planning made of the post (PostRow.plan)."""
    plan = post.plan
    return {"queued": bool(plan.get("queue")), "queue_slots": plan.get("queue") or {},
            "queue_paused": plan.get("held") or [], "series_id": plan.get("series_id"),
            "occurrence_key": plan.get("occurrence_key"), "recurrence": plan.get("recurrence"),
            "detached": bool(plan.get("detached")), "recycle_after_days": plan.get("recycle_after_days"),
            "recycled_from": plan.get("recycled_from")}
