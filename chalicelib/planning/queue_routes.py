"""Each channel's queue: its weekly slots, pausing, and the order of the posts queued into it."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api import Call, route
from chalicelib.planning.schemas import (
    Queue,
    QueueMoveRequest,
    QueuePut,
    QueueShuffleRequest,
    QueueSwapRequest,
)
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "queues"
PATH = "/channels/{channel_id}/queue"


@route(bp, PATH, "GET", summary="The channel's queue: slots, queued posts, suggested slots", tag=TAG,
       response=Queue)
def get_queue(call: Call[Container], channel_id: str) -> dict[str, Any]:
    return call.deps.queues.get(call.workspace_id, channel_id)


@route(bp, PATH, "PUT", summary="Set the slots or pause; the queued posts move into the new slots", tag=TAG,
       role="editor", body=QueuePut, response=Queue)
def put_queue(call: Call[Container], channel_id: str) -> dict[str, Any]:
    from chalicelib.planning.slots import WEEKDAYS, Slot, parse_wall_clock

    body: QueuePut = call.body
    slots = None if body.slots is None else [Slot(WEEKDAYS.index(s.weekday), parse_wall_clock(s.time))
                                             for s in body.slots]
    return call.deps.queues.put(call.workspace_id, channel_id, slots, body.paused, body.version)


@route(bp, PATH + "/move", "POST", summary="Move a queued post to a position (0: first)", tag=TAG,
       role="editor", body=QueueMoveRequest, response=Queue)
def move_in_queue(call: Call[Container], channel_id: str) -> dict[str, Any]:
    return call.deps.queues.move(call.workspace_id, channel_id, call.body.post_id, call.body.position)


@route(bp, PATH + "/swap", "POST", summary="Swap two queued posts' slots", tag=TAG, role="editor",
       body=QueueSwapRequest, response=Queue)
def swap_in_queue(call: Call[Container], channel_id: str) -> dict[str, Any]:
    first, second = call.body.post_ids
    return call.deps.queues.swap(call.workspace_id, channel_id, first, second)


@route(bp, PATH + "/shuffle", "POST", summary="Shuffle the queued posts over their slots", tag=TAG,
       role="editor", body=QueueShuffleRequest, response=Queue)
def shuffle_queue(call: Call[Container], channel_id: str) -> dict[str, Any]:
    return call.deps.queues.shuffle(call.workspace_id, channel_id, call.body.seed)
