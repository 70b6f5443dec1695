"""Agencies: make one, make its client workspaces, invite its members, and read across its clients without a
call per client (`GET /agency/calendar?month=`, the inbox, posts that need attention, the month's figures).
A person picks the agency with `X-Herald-Agency` (optional when they belong to one). API keys belong to one
workspace and do not reach these routes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.core.api import Call, route
from chalicelib.core.clock import to_rfc3339
from chalicelib.people.schemas import (
    AgencyCalendar,
    AgencyCreate,
    AgencyInvitationCreate,
    AgencyItems,
    AgencyMonthQuery,
    AgencyOut,
    AgencyReport,
    ClientWorkspace,
    ClientWorkspaceCreate,
    ClientWorkspacePage,
    InvitationOut,
    MemberPage,
)
from chalicelib.people.views import client_view, invitation_view, named

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "agency"
AGENCY_HEADER = {"X-Herald-Agency": {"type": "string", "description": (
    "The agency to act in (GET /me lists yours); optional when you belong to one.")}}


@route(bp, "/agencies", "POST", summary="Make an agency (you become its owner)", tag=TAG, role=None, own_auth=True,
       body=AgencyCreate, response=AgencyOut, status=201, errors=())
def create_agency(call: Call[Container]) -> dict[str, Any]:
    user = call.deps.people.signed_in(call.deps.people.bearer(call.headers)).user
    row = call.deps.agencies.create(user, call.body.name)
    return {"id": row.agency_id, "name": row.name, "created_at": row.created_at, "role": "owner"}


@route(bp, "/agency", "GET", summary="The agency and my role in it", tag=TAG, role=None, own_auth=True,
       response=AgencyOut,
       errors=(404,), request_headers=AGENCY_HEADER)
def get_agency(call: Call[Container]) -> dict[str, Any]:
    caller = call.deps.agencies.caller(call.headers)
    agency = caller.agency
    return {"id": agency.agency_id, "name": agency.name, "created_at": agency.created_at, "role": caller.role}


@route(bp, "/agency/workspaces", "GET", summary="The agency's client workspaces", tag=TAG, role=None, own_auth=True,
       response=ClientWorkspacePage, errors=(404,), request_headers=AGENCY_HEADER)
def list_clients(call: Call[Container]) -> dict[str, Any]:
    caller = call.deps.agencies.caller(call.headers)
    return {"items": [client_view(ws) for ws in call.deps.agencies.clients(caller.agency.agency_id)],
            "next_cursor": None}


@route(bp, "/agency/workspaces", "POST", summary="Make a client workspace of the agency (agency admin+)",
       tag=TAG, role=None, own_auth=True, body=ClientWorkspaceCreate, response=ClientWorkspace, status=201,
       errors=(403, 404), request_headers=AGENCY_HEADER)
def create_client(call: Call[Container]) -> dict[str, Any]:
    from chalicelib.people.audit import record_as

    caller = call.deps.agencies.caller(call.headers, role="admin")
    row = call.deps.agencies.create_client(caller, call.body.name, call.body.timezone)
    record_as(call, row.workspace_id, caller.actor, caller.role, "POST /agency/workspaces",
              call.body.model_dump(mode="json"), row.workspace_id)
    return client_view(row)


@route(bp, "/agency/invitations", "POST", summary="Invite someone by email to the agency (agency admin+)",
       tag=TAG, role=None, own_auth=True, body=AgencyInvitationCreate, response=InvitationOut, status=201,
       errors=(403, 404), request_headers=AGENCY_HEADER)
def invite_to_agency(call: Call[Container]) -> dict[str, Any]:
    caller = call.deps.agencies.caller(call.headers, role="admin")
    invited = call.deps.people.invite(caller.principal(), caller.agency.agency_id, "agency", call.body.email,
                                      call.body.role, caller.role, caller.agency.name)
    return invitation_view(invited.invitation)


@route(bp, "/agency/members", "GET", summary="The agency's members", tag=TAG, role=None, own_auth=True,
       response=MemberPage,
       errors=(404,), request_headers=AGENCY_HEADER)
def agency_members(call: Call[Container]) -> dict[str, Any]:
    caller = call.deps.agencies.caller(call.headers)
    rows = call.deps.people.memberships.of_scope(caller.agency.agency_id)
    return {"items": [{"user_id": m.user_id, "email": m.email, "role": m.role, "through": "agency",
                       "created_at": m.created_at} for m in rows], "next_cursor": None}


# -- across clients ------------------------------------------------------------------------------

@route(bp, "/agency/calendar", "GET", summary="A month of posts of every client, by day in each one's time zone",
       tag=TAG, role=None, own_auth=True, query=AgencyMonthQuery, response=AgencyCalendar, errors=(404,),
       request_headers=AGENCY_HEADER)
def agency_calendar(call: Call[Container]) -> dict[str, Any]:
    from chalicelib.publishing.calendar import preview

    caller = call.deps.agencies.caller(call.headers)
    month = call.query.month
    return {"month": month, "workspaces": [
        {**named(ws), "timezone": ws.timezone, "days": [
            {"date": day.isoformat(), "posts": [
                {"id": p.post_id, "publish_at": to_rfc3339(p.publish_at), "status": p.status,
                 "channel_ids": p.channel_ids, "text_preview": preview(p.text)} for p in posts]}
            for day, posts in days]}
        for ws, days in call.deps.agencies.calendar(caller.agency.agency_id, month)]}


@route(bp, "/agency/inbox", "GET", summary="Open conversations across the agency's clients, newest first",
       tag=TAG, role=None, own_auth=True, response=AgencyItems, errors=(404,), request_headers=AGENCY_HEADER)
def agency_inbox(call: Call[Container]) -> dict[str, Any]:
    caller = call.deps.agencies.caller(call.headers)
    return {"items": [
        {"workspace": named(ws), "id": c.conversation_id, "channel_id": c.channel_id, "network": c.network,
         "kind": c.kind, "status": c.status, "assignee": c.assignee, "priority": c.priority,
         "last_message_at": to_rfc3339(c.last_message_at), "last_message_preview": c.last_message_preview}
        for ws, c in call.deps.agencies.inbox(caller.agency.agency_id)]}


@route(bp, "/agency/posts/attention", "GET", summary="Posts at risk or failed across the agency's clients",
       tag=TAG, role=None, own_auth=True, response=AgencyItems, errors=(404,), request_headers=AGENCY_HEADER)
def agency_attention(call: Call[Container]) -> dict[str, Any]:
    from chalicelib.publishing.views import post_view

    caller = call.deps.agencies.caller(call.headers)
    return {"items": [{"workspace": named(ws), "reason": reason, "post": post_view(post, deliveries)}
                      for ws, reason, (post, deliveries) in call.deps.agencies.attention(caller.agency.agency_id)]}


@route(bp, "/agency/reports/monthly", "GET", summary="The month's figures of each client (as /reports/monthly)",
       tag=TAG, role=None, own_auth=True, query=AgencyMonthQuery, response=AgencyReport, errors=(404,),
       request_headers=AGENCY_HEADER)
def agency_monthly(call: Call[Container]) -> dict[str, Any]:
    caller = call.deps.agencies.caller(call.headers)
    month = call.query.month
    return {"month": month, "clients": [{"workspace": named(ws), **report}
                                        for ws, report in call.deps.agencies.monthly(caller.agency.agency_id, month)]}
