"""Where brand profiles and consistency findings are kept: the interface and its DynamoDB implementation."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist

from chalicelib.brand.tables import BrandFindingsRecord, BrandListingRecord, BrandProfileRecord

LISTING_PK = "brand#profiles"


@dataclass
class BrandProfile:
    workspace_id: str
    name: str
    updated_at: str
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    website: str | None = None
    logo_media_id: str | None = None


class BrandRepository(Protocol):
    def get_profile(self, workspace_id: str) -> BrandProfile | None: ...

    def put_profile(self, profile: BrandProfile) -> None: ...

    def workspaces_with_profiles(self) -> list[str]: ...

    def get_findings(self, workspace_id: str) -> dict[str, Any] | None: ...

    def put_findings(self, workspace_id: str, findings: dict[str, Any], checked_at: str) -> None: ...


class DynamoBrandRepository:
    def get_profile(self, workspace_id: str) -> BrandProfile | None:
        try:
            r = BrandProfileRecord.get(workspace_id, "profile", consistent_read=True)
        except DoesNotExist:
            return None
        return BrandProfile(workspace_id, r.name, r.updated_at, r.description or "", list(r.keywords or []),
                            r.website, r.logo_media_id)

    def put_profile(self, profile: BrandProfile) -> None:
        BrandProfileRecord(profile.workspace_id, "profile", name=profile.name, description=profile.description,
                           keywords=profile.keywords, website=profile.website,
                           logo_media_id=profile.logo_media_id, updated_at=profile.updated_at).save()
        BrandListingRecord(LISTING_PK, profile.workspace_id).save()

    def workspaces_with_profiles(self) -> list[str]:
        return [record.sk for record in BrandListingRecord.query(LISTING_PK)]

    def get_findings(self, workspace_id: str) -> dict[str, Any] | None:
        try:
            record = BrandFindingsRecord.get(workspace_id, "consistency", consistent_read=True)
        except DoesNotExist:
            return None
        found: dict[str, Any] = json.loads(record.findings)
        return found

    def put_findings(self, workspace_id: str, findings: dict[str, Any], checked_at: str) -> None:
        BrandFindingsRecord(workspace_id, "consistency", findings=json.dumps(findings),
                            checked_at=checked_at).save()
