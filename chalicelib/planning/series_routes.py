"""Recurring series: made by POST /posts with `recurrence`; read, edited and ended here."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.api import Call, route
from chalicelib.planning.schemas import Series, SeriesPage, SeriesPatch
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "series"


@route(bp, "/series", "GET", summary="The workspace's recurring series", tag=TAG, response=SeriesPage)
def list_series(call: Call[Container]) -> dict[str, Any]:
    return {"items": call.deps.series.list_series(call.workspace_id), "next_cursor": None}


@route(bp, "/series/{series_id}", "GET", summary="A series with its occurrences", tag=TAG, response=Series)
def get_series(call: Call[Container], series_id: str) -> dict[str, Any]:
    return call.deps.series.get(call.workspace_id, series_id)


@route(bp, "/series/{series_id}", "PATCH", summary="Edit the series: every occurrence not yet out and not "
       "edited alone changes", tag=TAG, role="editor", body=SeriesPatch, response=Series)
def update_series(call: Call[Container], series_id: str) -> dict[str, Any]:
    body: SeriesPatch = call.body
    changes = {name: getattr(body, name) for name in body.model_fields_set
               if name != "version" and getattr(body, name) is not None}
    if "variants" in changes:
        changes["variants"] = {cid: v.model_dump(exclude_none=True) for cid, v in changes["variants"].items()}
    if "media" in changes:
        changes["media"] = [m.model_dump() for m in changes["media"]]
    if "thread" in changes:
        changes["thread"] = [{"text": p.text, "media": [m.model_dump() for m in p.media]} for p in changes["thread"]]
    return call.deps.series.update(call.workspace_id, series_id, changes, body.version)


@route(bp, "/series/{series_id}", "DELETE", summary="End the series: the occurrences not yet out are canceled",
       tag=TAG, role="editor", response=Series)
def end_series(call: Call[Container], series_id: str) -> dict[str, Any]:
    return call.deps.series.end(call.workspace_id, series_id)
