"""A post asked for by anything other than a person at `POST /posts` (a feed's item, an import's row), held to
exactly the same rules: the same request model (PostCreate), turned into the same PostDraft the route makes,
checked by the same PostService.

`request_problems` answers what `POST /posts` would have answered with 422, as `{field, message}` details.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chalicelib.core.errors import ValidationFailed
from chalicelib.publishing.schemas import PostCreate

if TYPE_CHECKING:
    from chalicelib.publishing.posts import PostDraft, PostService


def queue_fields() -> dict[str, Any]:
    """What a post "straight to the queue" adds to its request: the channel's next free slot (issue 16's
    queue time slots, `POST /posts {queue: true}`). The one place feeds and imports name it."""
    return {"queue": True}


def queue_available() -> bool:
    """Whether `POST /posts` takes `queue` on this build (the queue time slots are merged)."""
    return "queue" in PostCreate.model_fields


def draft_from_request(body: PostCreate) -> PostDraft:
    """The PostDraft `POST /posts` makes of its body."""
    from chalicelib.publishing.posts import PostDraft  # loads the table models: only when needed

    variants = {cid: v.model_dump(exclude_none=True) for cid, v in body.variants.items()}
    thread = [{"text": part.text, "media": [m.model_dump() for m in part.media]} for part in body.thread]
    return PostDraft(body.text, body.channel_ids, variants, [m.model_dump() for m in body.media], body.publish_at,
                     body.status, thread=thread, first_comment=body.first_comment,
                     queue=body.queue_position if body.queue else None, queue_slot=body.queue_slot,
                     recurrence=body.recurrence, recycle_after_days=body.recycle_after_days)


def parse_request(data: dict[str, Any]) -> tuple[PostDraft | None, list[dict[str, Any]]]:
    """The draft of a `POST /posts` body, or the details of its 422 (the route's own, from pydantic)."""
    from chalicelib.core.api import validation_details

    try:
        body = PostCreate.model_validate(data)
    except ValidationError as exc:
        return None, validation_details(exc)
    return draft_from_request(body), []


def request_problems(posts: PostService, workspace_id: str, data: dict[str, Any]
                     ) -> tuple[PostDraft | None, list[dict[str, Any]]]:
    """The draft, checked by every rule of `POST /posts` without saving it; or what is wrong with it."""
    draft, problems = parse_request(data)
    if draft is None:
        return None, problems
    try:
        posts.check(workspace_id, draft)
    except ValidationFailed as failed:
        return None, failed.details or [{"field": "body", "message": failed.message}]
    return draft, []
