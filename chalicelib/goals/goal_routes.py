"""Goals: a report figure, a target, a period, the channels; each answer says how it is doing."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.core.api import Call, route
from chalicelib.goals.schemas import Goal, GoalCreate, GoalList, GoalPatch, period_fields
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "goals"


@route(bp, "/goals", "GET", summary="The workspace's goals, each with its progress and pace", tag=TAG,
       response=GoalList)
def list_goals(call: Call[Container]) -> dict[str, Any]:
    return {"items": call.deps.goals.list_all(call.workspace_id), "next_cursor": None}


@route(bp, "/goals", "POST", summary="Set a goal on a report figure for a month, a quarter or custom days",
       tag=TAG, role="editor", body=GoalCreate, response=Goal, status=201)
def create_goal(call: Call[Container]) -> dict[str, Any]:
    body: GoalCreate = call.body
    return call.deps.goals.create(call.workspace_id, body.metric, body.target, period_fields(body),
                                  body.channel_ids, body.currency, body.campaign_ids)


@route(bp, "/goals/{goal_id}", "PATCH", tag=TAG,
       summary="Change a goal's target, period, channels, or an ad goal's currency and campaigns",
       role="editor", body=GoalPatch, response=Goal, errors=(404,))
def update_goal(call: Call[Container], goal_id: str) -> dict[str, Any]:
    body: GoalPatch = call.body
    changes = body.model_dump(exclude_unset=True)
    return call.deps.goals.update(call.workspace_id, goal_id, changes)


@route(bp, "/goals/{goal_id}", "DELETE", summary="Delete a goal", tag=TAG, role="editor", status=204,
       errors=(404,))
def delete_goal(call: Call[Container], goal_id: str) -> Response:
    call.deps.goals.delete(call.workspace_id, goal_id)
    return Response(body="", status_code=204)
