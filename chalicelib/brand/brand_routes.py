"""The brand profile and how consistently the channels show it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.brand.schemas import Brand, BrandPut, Consistency
from chalicelib.core.api import Call, route

if TYPE_CHECKING:
    from chalicelib.brand.brand_repository import BrandProfile
    from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "brand"


def brand_view(profile: BrandProfile) -> dict[str, Any]:
    return {"name": profile.name, "description": profile.description, "keywords": profile.keywords,
            "website": profile.website, "logo_media_id": profile.logo_media_id, "updated_at": profile.updated_at}


@route(bp, "/brand", "GET", summary="Read the brand profile", tag=TAG, response=Brand)
def get_brand(call: Call[Container]) -> dict[str, Any]:
    return brand_view(call.deps.brand.get(call.workspace_id))


@route(bp, "/brand", "PUT", summary="Set the brand profile", tag=TAG, role="editor", body=BrandPut,
       response=Brand)
def put_brand(call: Call[Container]) -> dict[str, Any]:
    body: BrandPut = call.body
    return brand_view(call.deps.brand.put(call.workspace_id, name=body.name, description=body.description,
                                          keywords=body.keywords, website=body.website,
                                          logo_media_id=body.logo_media_id))


@route(bp, "/brand/consistency", "GET", summary="Where the channels differ from the brand and each other",
       tag=TAG, response=Consistency)
def get_consistency(call: Call[Container]) -> dict[str, Any]:
    return call.deps.brand_consistency.latest(call.workspace_id)


@route(bp, "/brand/consistency/check", "POST", summary="Check the channels' profiles now", tag=TAG,
       role="editor", response=Consistency)
def check_consistency(call: Call[Container]) -> dict[str, Any]:
    call.deps.brand.get(call.workspace_id)  # 404 without a profile
    return call.deps.brand_consistency.check(call.workspace_id)
