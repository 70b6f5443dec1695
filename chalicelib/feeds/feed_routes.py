"""RSS and Atom feeds that make posts (drafts, or the queue), and the items each feed took."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.core.api import Call, route
from chalicelib.core.schemas import PageQuery
from chalicelib.feeds.schemas import FeedCreate, FeedItemPage, FeedOut, FeedPage, FeedPatch
from chalicelib.feeds.views import feed_view, item_view

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "feeds"


@route(bp, "/feeds", "GET", summary="List the workspace's feeds", tag=TAG, query=PageQuery, response=FeedPage)
def list_feeds(call: Call[Container]) -> dict[str, Any]:
    rows, cursor = call.deps.feeds.list(call.workspace_id, call.query.limit, call.query.cursor)
    return {"items": [feed_view(r) for r in rows], "next_cursor": cursor}


@route(bp, "/feeds", "POST", summary="Subscribe a feed: its new items become posts", tag=TAG, role="editor",
       body=FeedCreate, response=FeedOut, status=201)
def create_feed(call: Call[Container]) -> dict[str, Any]:
    return feed_view(call.deps.feeds.create(call.workspace_id, call.body.model_dump()))


@route(bp, "/feeds/{feed_id}", "GET", summary="One feed and how its last read went", tag=TAG, response=FeedOut)
def get_feed(call: Call[Container], feed_id: str) -> dict[str, Any]:
    return feed_view(call.deps.feeds.get(call.workspace_id, feed_id))


@route(bp, "/feeds/{feed_id}", "PATCH", summary="Change a feed, pause or resume it", tag=TAG, role="editor",
       body=FeedPatch, response=FeedOut)
def update_feed(call: Call[Container], feed_id: str) -> dict[str, Any]:
    body: FeedPatch = call.body
    changes = {name: getattr(body, name) for name in body.model_fields_set if getattr(body, name) is not None}
    return feed_view(call.deps.feeds.update(call.workspace_id, feed_id, changes))


@route(bp, "/feeds/{feed_id}", "DELETE", summary="Unsubscribe a feed (its posts stay)", tag=TAG, role="editor",
       status=204)
def delete_feed(call: Call[Container], feed_id: str) -> Response:
    call.deps.feeds.delete(call.workspace_id, feed_id)
    return Response(body="", status_code=204)


@route(bp, "/feeds/{feed_id}/items", "GET", summary="The items a feed took, and what became of each", tag=TAG,
       query=PageQuery, response=FeedItemPage)
def list_feed_items(call: Call[Container], feed_id: str) -> dict[str, Any]:
    rows, cursor = call.deps.feeds.items(call.workspace_id, feed_id, call.query.limit, call.query.cursor)
    return {"items": [item_view(r) for r in rows], "next_cursor": cursor}
