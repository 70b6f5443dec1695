"""The brand profile of a workspace: what its channels should all show."""
from __future__ import annotations

from collections.abc import Callable

from chalicelib.brand.brand_repository import BrandProfile, BrandRepository
from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.outbound import OutboundPolicy, OutboundRefused


class BrandService:
    def __init__(self, brand: BrandRepository, media_exists: Callable[[str, str], bool],
                 policy: OutboundPolicy, clock: Clock) -> None:
        self.brand = brand
        self.media_exists = media_exists
        self.policy = policy
        self.clock = clock

    def get(self, workspace_id: str) -> BrandProfile:
        profile = self.brand.get_profile(workspace_id)
        if profile is None:
            raise NotFound("This workspace has no brand profile yet: PUT /brand makes one.")
        return profile

    def put(self, workspace_id: str, *, name: str, description: str, keywords: list[str], website: str | None,
            logo_media_id: str | None) -> BrandProfile:
        if website:
            try:
                self.policy.check_url(website)
            except OutboundRefused as refused:
                raise ValidationFailed.field("website", refused.reason) from None
        if logo_media_id and not self.media_exists(workspace_id, logo_media_id):
            raise ValidationFailed.field("logo_media_id", f"no media {logo_media_id} in this workspace")
        cleaned = list(dict.fromkeys(" ".join(k.split()) for k in keywords if k.strip()))
        profile = BrandProfile(workspace_id, " ".join(name.split()), to_rfc3339(self.clock.now()) or "",
                               description, cleaned, website or None, logo_media_id or None)
        self.brand.put_profile(profile)
        return profile
