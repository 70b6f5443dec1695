"""`/giveaways`: giveaways on published posts, entries from their comments, a draw anyone can check."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.core.api import Call, json_response, route
from chalicelib.giveaways.certificate import certificate, certificate_html, giveaway_view
from chalicelib.giveaways.schemas import (
    Certificate,
    CertificateQuery,
    GiveawayCreate,
    GiveawayOut,
    GiveawayPage,
    GiveawayPageQuery,
)

if TYPE_CHECKING:
    from chalicelib.giveaways.giveaway_repository import Giveaway
    from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "giveaways"


def _view(call: Call[Container], row: Giveaway) -> dict[str, Any]:
    count, left_out = call.deps.giveaways.preview(row)
    return giveaway_view(row, count, left_out)


@route(bp, "/giveaways", "GET", summary="The workspace's giveaways, newest first", tag=TAG,
       query=GiveawayPageQuery, response=GiveawayPage)
def list_giveaways(call: Call[Container]) -> dict[str, Any]:
    rows, cursor = call.deps.giveaways.list(call.workspace_id, call.query.limit, call.query.cursor)
    return {"items": [_view(call, r) for r in rows], "next_cursor": cursor}


@route(bp, "/giveaways", "POST", summary="A giveaway on published posts: window, entry rules, winners",
       tag=TAG, role="editor", body=GiveawayCreate, response=GiveawayOut, status=201)
def create_giveaway(call: Call[Container]) -> dict[str, Any]:
    return _view(call, call.deps.giveaways.create(call.workspace_id, call.body))


@route(bp, "/giveaways/{giveaway_id}", "GET", summary="One giveaway: rules, entrants, commitment, winners",
       tag=TAG, response=GiveawayOut)
def get_giveaway(call: Call[Container], giveaway_id: str) -> dict[str, Any]:
    return _view(call, call.deps.giveaways.get(call.workspace_id, giveaway_id))


@route(bp, "/giveaways/{giveaway_id}/freeze", "POST",
       summary="Freeze the entrant list after the window and publish the commitment", tag=TAG, role="editor",
       response=GiveawayOut, errors=(409,))
def freeze_giveaway(call: Call[Container], giveaway_id: str) -> dict[str, Any]:
    return _view(call, call.deps.giveaways.freeze(call.workspace_id, giveaway_id))


@route(bp, "/giveaways/{giveaway_id}/draw", "POST",
       summary="Draw the winners and alternates from the committed seed, and reveal it", tag=TAG, role="editor",
       response=GiveawayOut, errors=(409,))
def draw_giveaway(call: Call[Container], giveaway_id: str) -> dict[str, Any]:
    return _view(call, call.deps.giveaways.draw(call.workspace_id, giveaway_id))


@route(bp, "/giveaways/{giveaway_id}/certificate", "GET",
       summary="The certificate: rules, entrant count, commitment, seed and winners (JSON or HTML)", tag=TAG,
       query=CertificateQuery, response=Certificate, also_serves=("text/html",))
def giveaway_certificate(call: Call[Container], giveaway_id: str) -> Response:
    made = certificate(call.deps.giveaways.get(call.workspace_id, giveaway_id))
    if call.query.format == "html":
        return Response(body=certificate_html(made), status_code=200,
                        headers={"Content-Type": "text/html; charset=utf-8"})
    return json_response(made)


@route(bp, "/giveaways/{giveaway_id}/entries.csv", "GET", summary="The frozen entrant list, in canonical order",
       tag=TAG, content_type="text/csv", errors=(409,))
def giveaway_entries(call: Call[Container], giveaway_id: str) -> Response:
    body = call.deps.giveaways.entries_csv(call.workspace_id, giveaway_id)
    return Response(body=body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="giveaway-{giveaway_id}-entries.csv"'})
