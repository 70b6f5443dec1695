"""`/ads/campaigns`: a workspace's ad campaigns, their budgets, and their results (read from Meta, or entered
and imported as CSV for the other networks)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.ads.results_csv import rows_from_csv
from chalicelib.ads.schemas import (
    CampaignCreate,
    CampaignOut,
    CampaignPage,
    CampaignPageQuery,
    CampaignPatch,
    ResultsEntry,
    ResultsOut,
    ResultsQuery,
    ResultsWritten,
)
from chalicelib.ads.views import campaign_view
from chalicelib.core.api import Call, parse_json_body, route, validation_details
from chalicelib.core.errors import ValidationFailed

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "ads"
CSV = "text/csv"


@route(bp, "/ads/campaigns", "GET", summary="The workspace's ad campaigns", tag=TAG, query=CampaignPageQuery,
       response=CampaignPage)
def list_campaigns(call: Call[Container]) -> dict[str, Any]:
    rows, cursor = call.deps.ad_campaigns.list(call.workspace_id, call.query.limit, call.query.cursor)
    return {"items": [campaign_view(r) for r in rows], "next_cursor": cursor}


@route(bp, "/ads/campaigns", "POST", summary="Follow an ad campaign: budget, flight, audience, promoted posts",
       tag=TAG, role="editor", body=CampaignCreate, response=CampaignOut, status=201)
def create_campaign(call: Call[Container]) -> dict[str, Any]:
    return campaign_view(call.deps.ad_campaigns.create(call.workspace_id, call.body))


@route(bp, "/ads/campaigns/{campaign_id}", "GET", summary="One ad campaign", tag=TAG, response=CampaignOut)
def get_campaign(call: Call[Container], campaign_id: str) -> dict[str, Any]:
    return campaign_view(call.deps.ad_campaigns.get(call.workspace_id, campaign_id))


@route(bp, "/ads/campaigns/{campaign_id}", "PATCH", summary="Change a campaign's budget, flight or posts",
       tag=TAG, role="editor", body=CampaignPatch, response=CampaignOut)
def update_campaign(call: Call[Container], campaign_id: str) -> dict[str, Any]:
    body: CampaignPatch = call.body
    changes = {name: getattr(body, name) for name in body.model_fields_set if getattr(body, name) is not None}
    return campaign_view(call.deps.ad_campaigns.update(call.workspace_id, campaign_id, changes))


@route(bp, "/ads/campaigns/{campaign_id}", "DELETE", summary="Stop following a campaign (its results go too)",
       tag=TAG, role="editor", status=204)
def delete_campaign(call: Call[Container], campaign_id: str) -> None:
    call.deps.ad_campaigns.delete(call.workspace_id, campaign_id)


@route(bp, "/ads/campaigns/{campaign_id}/results", "GET",
       summary="Daily results, totals (CTR, CPC, CPM, cost per conversion) and pacing", tag=TAG,
       query=ResultsQuery, response=ResultsOut)
def campaign_results(call: Call[Container], campaign_id: str) -> dict[str, Any]:
    q: ResultsQuery = call.query
    return call.deps.ad_campaigns.results(call.workspace_id, campaign_id, q.from_, q.to)


@route(bp, "/ads/campaigns/{campaign_id}/results", "POST",
       summary="Enter or import (text/csv) a manual campaign's daily results; a day sent again replaces it",
       tag=TAG, role="editor", body=None, response=ResultsWritten, errors=(409, 422),
       accepts=("application/json", CSV))
def enter_results(call: Call[Container], campaign_id: str) -> dict[str, Any]:
    media = call.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == CSV:
        rows, source = rows_from_csv(call.raw_body), "csv"
    else:
        try:
            rows, source = ResultsEntry.model_validate(parse_json_body(call.raw_body)).rows, "manual"
        except ValidationError as exc:
            details = validation_details(exc)
            raise ValidationFailed(f"The body is not valid: {details[0]['field']}: {details[0]['message']}",
                                   details=details) from None
    return call.deps.ad_campaigns.enter_results(call.workspace_id, campaign_id, rows, source)
