"""Connected social accounts."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.accounts.schemas import Channel, ChannelCreate, ChannelPage, ChannelPatch
from chalicelib.accounts.views import channel_view
from chalicelib.core.api import Call, route
from chalicelib.core.errors import NotFound
from chalicelib.core.schemas import PageQuery
from chalicelib.publishing.schemas import SandboxPage
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "channels"


@route(bp, "/channels", "POST", summary="Connect a channel", tag=TAG, role="admin", body=ChannelCreate,
       response=Channel, status=201)
def create_channel(call: Call[Container]) -> dict[str, Any]:
    body: ChannelCreate = call.body
    row = call.deps.channels.create(call.workspace_id, body.network, body.name, body.credentials, body.settings)
    return channel_view(row)


@route(bp, "/channels", "GET", summary="List channels", tag=TAG, query=PageQuery, response=ChannelPage)
def list_channels(call: Call[Container]) -> dict[str, Any]:
    rows, cursor = call.deps.channels.list(call.workspace_id, call.query.limit, call.query.cursor)
    return {"items": [channel_view(r) for r in rows], "next_cursor": cursor}


@route(bp, "/channels/{channel_id}", "GET", summary="Read a channel", tag=TAG, response=Channel)
def get_channel(call: Call[Container], channel_id: str) -> dict[str, Any]:
    return channel_view(call.deps.channels.get(call.workspace_id, channel_id))


@route(bp, "/channels/{channel_id}", "PATCH", summary="Rename, reconnect or disable a channel", tag=TAG,
       role="admin", body=ChannelPatch, response=Channel)
def update_channel(call: Call[Container], channel_id: str) -> dict[str, Any]:
    body: ChannelPatch = call.body
    row = call.deps.channels.update(call.workspace_id, channel_id, name=body.name, credentials=body.credentials,
                                      settings=body.settings, status=body.status)
    return channel_view(row)


@route(bp, "/channels/{channel_id}", "DELETE", summary="Disconnect a channel", tag=TAG, role="admin",
       status=204)
def delete_channel(call: Call[Container], channel_id: str) -> Any:
    from chalice import Response

    call.deps.channels.delete(call.workspace_id, channel_id)
    return Response(body="", status_code=204)


@route(bp, "/channels/{channel_id}/sandbox/posts", "GET", summary="What a sandbox channel received", tag=TAG,
       query=PageQuery, response=SandboxPage)
def sandbox_posts(call: Call[Container], channel_id: str) -> dict[str, Any]:
    deps = call.deps
    channel = deps.channels.get(call.workspace_id, channel_id)
    if channel.network != "sandbox":
        raise NotFound("Only sandbox channels keep what they received.")
    items, cursor = deps.sandbox_store.list(call.workspace_id, channel_id, call.query.limit, call.query.cursor)
    return {"items": [vars(item) for item in items], "next_cursor": cursor}
