"""The content calendar, by month in the workspace's time zone, and its iCalendar feed."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.core.api import Call, route
from chalicelib.core.clock import to_rfc3339
from chalicelib.publishing.schemas import Calendar, CalendarFeed, CalendarQuery
from chalicelib.wiring import Container

FEED_PATH = "/calendar-feed/"
bp = Blueprint(__name__)
TAG = "workspace"


@route(bp, "/calendar", "GET", summary="A month of posts, by day in the workspace time zone", tag="calendar",
       query=CalendarQuery, response=Calendar)
def get_calendar(call: Call[Container]) -> dict[str, Any]:
    from chalicelib.publishing.calendar import preview

    deps = call.deps
    workspace = deps.access.get_workspace(call.workspace_id)
    days = deps.calendar.month(call.workspace_id, call.query.month, workspace.timezone)
    return {
        "month": call.query.month,
        "timezone": workspace.timezone,
        "days": [{"date": day.isoformat(), "posts": [
            {"id": p.post_id, "publish_at": to_rfc3339(p.publish_at), "status": p.status,
             "channel_ids": p.channel_ids, "text_preview": preview(p.text), "queued": bool(p.plan.get("queue")),
             "series_id": p.plan.get("series_id")} for p in posts]}
            for day, posts in days],
    }


NO_FEED = ("This workspace has no calendar feed (never made, or revoked). "
           "An admin makes one with POST /workspace/calendar-feed.")


def _feed_url(deps: Container, token: str) -> dict[str, str | None]:
    return {"url": f"{deps.settings.public_base_url}{FEED_PATH}{token}.ics", "message": None}


@route(bp, "/workspace/calendar-feed", "GET", tag=TAG, response=CalendarFeed,
       summary="The iCalendar feed address; url is null when there is none (reading never makes one)")
def calendar_feed(call: Call[Container]) -> dict[str, str | None]:
    token = call.deps.access.existing_feed_token(call.workspace_id)
    return _feed_url(call.deps, token) if token else {"url": None, "message": NO_FEED}


@route(bp, "/workspace/calendar-feed", "POST", tag=TAG, role="admin", response=CalendarFeed,
       summary="Make the feed address, or answer the one there is (subscriptions keep working)")
def make_calendar_feed(call: Call[Container]) -> dict[str, str | None]:
    return _feed_url(call.deps, call.deps.access.feed_token(call.workspace_id))


@route(bp, "/workspace/calendar-feed/rotate", "POST", summary="A new feed address; the old one stops working",
       tag=TAG, role="admin", response=CalendarFeed)
def rotate_calendar_feed(call: Call[Container]) -> dict[str, str | None]:
    return _feed_url(call.deps, call.deps.access.feed_token(call.workspace_id, rotate=True))


@route(bp, "/workspace/calendar-feed", "DELETE", summary="Revoke the feed address", tag=TAG, role="admin",
       status=204)
def revoke_calendar_feed(call: Call[Container]) -> Response:
    call.deps.access.revoke_feed(call.workspace_id)
    return Response(body="", status_code=204)


@route(bp, FEED_PATH + "{token}", "GET", summary="The calendar as iCalendar (the token is the key)",
       tag="calendar", role=None, content_type="text/calendar")
def calendar_feed_ics(call: Call[Container], token: str) -> Response:
    deps = call.deps
    workspace = deps.access.workspace_for_feed(token)
    body = deps.calendar.feed(workspace.workspace_id, workspace.name, workspace.timezone)
    return Response(body=body, status_code=200, headers={
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": 'inline; filename="herald.ics"',
        "Cache-Control": "private, max-age=300",
    })
