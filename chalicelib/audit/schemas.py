"""Request and answer shapes of the audit log route."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from chalicelib.core.fields import SingleLineText, Timestamp
from chalicelib.core.schemas import Limit, RequestModel


class AuditQuery(RequestModel):
    from_: Timestamp | None = Field(default=None, alias="from", description="Default: 30 days ago.")
    to: Timestamp | None = Field(default=None, description="Default: now.")
    actor: SingleLineText(100) | None = Field(default=None, description="`key:<key id>`.")
    object: Annotated[SingleLineText(100) | None, Field(description="An object's id: `pst_…`, `ch_…`…")] = None
    limit: Limit = 50
    cursor: str | None = None
    format: Literal["json", "csv"] = "json"


class AuditEntryOut(BaseModel):
    id: str
    at: datetime
    actor: str
    actor_role: str
    action: str = Field(description="The method and route: `PATCH /posts/{post_id}`.")
    object_type: str
    object_id: str | None
    status: int
    source_ip: str
    user_agent: str
    changes: dict[str, Any] = Field(description="The fields the request set, secrets shown as [redacted].")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
    retention_days: int = Field(description="How long each entry is kept (PATCH /workspace audit_retention_days).")
