"""Posts: drafts, scheduling, edits, cancelation, publish-now."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api import Call, route
from chalicelib.publishing.schemas import (
    Post,
    PostCheck,
    PostCreate,
    PostListQuery,
    PostPage,
    PostPatch,
    ScheduleRequest,
)
from chalicelib.publishing.views import post_view
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "posts"


def _dump_variants(variants: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cid: v.model_dump(exclude_none=True) for cid, v in variants.items()}


def _dump_thread(thread: list[Any]) -> list[dict[str, Any]]:
    return [{"text": part.text, "media": [m.model_dump() for m in part.media]} for part in thread]


@route(bp, "/posts", "POST", summary="Write a draft or schedule a post", tag=TAG, role="editor", body=PostCreate,
       response=Post, status=201)
def create_post(call: Call[Container]) -> dict[str, Any]:
    from chalicelib.publishing.post_requests import draft_from_request  # feeds and imports make theirs the same way

    return post_view(*call.deps.posts.create(call.workspace_id, draft_from_request(call.body)))


@route(bp, "/posts/validate", "POST", summary="Check a post without saving it", tag=TAG, role="editor",
       body=PostCreate, response=PostCheck)
def validate_post(call: Call[Container]) -> dict[str, Any]:
    """The checks of `POST /posts` (each target network's length, media and thread rules), as a dry run, and
    how each channel's network will show the post."""
    from chalicelib.publishing.post_requests import draft_from_request

    draft = draft_from_request(call.body)
    problems = call.deps.posts.problems_of(call.workspace_id, draft)
    return {"valid": not problems, "problems": problems,
            "networks": call.deps.posts.previews_of(call.workspace_id, draft)}


@route(bp, "/posts", "GET", summary="List posts", tag=TAG, query=PostListQuery, response=PostPage)
def list_posts(call: Call[Container]) -> dict[str, Any]:
    q: PostListQuery = call.query
    if q.at_risk:
        rows, cursor = call.deps.posts.list_at_risk(call.workspace_id, limit=q.limit, cursor=q.cursor)
    else:
        rows, cursor = call.deps.posts.list(call.workspace_id, status=q.status, channel_id=q.channel_id,
                                            start=q.from_, end=q.to, limit=q.limit, cursor=q.cursor)
    return {"items": [post_view(p, d) for p, d in rows], "next_cursor": cursor}


@route(bp, "/posts/{post_id}", "GET", summary="Read a post with its deliveries", tag=TAG, response=Post)
def get_post(call: Call[Container], post_id: str) -> dict[str, Any]:
    return post_view(*call.deps.posts.get(call.workspace_id, post_id))


@route(bp, "/posts/{post_id}", "PATCH", summary="Edit a draft or scheduled post", tag=TAG, role="editor",
       body=PostPatch, response=Post)
def update_post(call: Call[Container], post_id: str) -> dict[str, Any]:
    body: PostPatch = call.body
    changes = {name: getattr(body, name) for name in body.model_fields_set if name != "version"}
    if "variants" in changes and changes["variants"] is not None:
        changes["variants"] = _dump_variants(changes["variants"])
    if "media" in changes and changes["media"] is not None:
        changes["media"] = [m.model_dump() for m in changes["media"]]
    if "thread" in changes and changes["thread"] is not None:
        changes["thread"] = _dump_thread(changes["thread"])
    if changes.get("first_comment") == "":
        changes["first_comment"] = None  # an empty string removes it
    for name in ("text", "channel_ids", "variants", "media", "status", "thread"):
        if name in changes and changes[name] is None:
            del changes[name]
    return post_view(*call.deps.posts.update(call.workspace_id, post_id, changes, body.version))


@route(bp, "/posts/{post_id}", "DELETE", summary="Cancel what is not out yet", tag=TAG, role="editor",
       response=Post)
def delete_post(call: Call[Container], post_id: str) -> dict[str, Any]:
    return post_view(*call.deps.posts.cancel(call.workspace_id, post_id))


@route(bp, "/posts/{post_id}/schedule", "POST", summary="Schedule or reschedule", tag=TAG, role="editor",
       body=ScheduleRequest, response=Post)
def schedule_post(call: Call[Container], post_id: str) -> dict[str, Any]:
    return post_view(*call.deps.posts.schedule(call.workspace_id, post_id, call.body.publish_at))


@route(bp, "/posts/{post_id}/cancel", "POST", summary="Cancel what is not out yet", tag=TAG, role="editor",
       response=Post)
def cancel_post(call: Call[Container], post_id: str) -> dict[str, Any]:
    return post_view(*call.deps.posts.cancel(call.workspace_id, post_id))


@route(bp, "/posts/{post_id}/publish-now", "POST", summary="Publish at once", tag=TAG, role="editor",
       response=Post)
def publish_now(call: Call[Container], post_id: str) -> dict[str, Any]:
    return post_view(*call.deps.posts.publish_now(call.workspace_id, post_id))
