"""The brand table (keys as in infra/resources.py):

- `<workspace_id>` / `profile`: the brand profile (name, description, keywords, website, logo media id).
- `<workspace_id>` / `consistency`: the latest consistency check's findings, as JSON.
- `brand#profiles` / `<workspace_id>`: the workspaces that have a profile, which the daily check queries.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.tables import string_list, table_meta


class BrandProfileRecord(Model):
    Meta = table_meta("brand")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    keywords = string_list(default=list)
    website = UnicodeAttribute(null=True)
    logo_media_id = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()


class BrandFindingsRecord(Model):
    Meta = table_meta("brand")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    findings = UnicodeAttribute()  # JSON: what GET /brand/consistency answers
    checked_at = UnicodeAttribute()


class BrandListingRecord(Model):
    Meta = table_meta("brand")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
