"""Request and answer shapes of the outbound webhook routes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from chalicelib.core.fields import SingleLine, Timestamp
from chalicelib.core.schemas import RequestModel

EventType = Literal[
    "post.published", "post.failed", "delivery.unknown",
    "post.approval_requested", "post.approved", "post.rejected", "comment.mentioned",
    "conversation.created", "message.received", "mention.matched",
    "channel.needs_reauth", "report.ready",
    "ads.pacing_alert",
]
EndpointUrl = Annotated[str, SingleLine(2048), Field(description=(
    "Where Herald POSTs the events: https, a public address (checked again after DNS on every delivery)."))]
Events = Annotated[list[EventType], Field(min_length=1, max_length=20)]
Description = Annotated[str, SingleLine(200)]


class EndpointCreate(RequestModel):
    url: EndpointUrl
    events: Events
    description: Description | None = None


class EndpointPatch(RequestModel):
    url: EndpointUrl | None = None
    events: Events | None = None
    description: Description | None = None
    status: Literal["active", "disabled"] | None = Field(
        default=None, description="`active` enables an endpoint again (after it was disabled for failing).")


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="`whsec_...`: shown this once. Verify signatures with it (Standard Webhooks).")


class SecretRotated(BaseModel):
    secret: str = Field(description="The new `whsec_...`, shown this once.")
    previous_expires_at: datetime = Field(description="Until then, messages are signed with both secrets.")


class EndpointPage(BaseModel):
    items: list[EndpointOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    id: str = Field(description="The message id (`webhook-id`), the same on every attempt.")
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    response_status: int | None
    last_error: str | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class ReplaySince(RequestModel):
    since: Timestamp
    failed_only: bool = Field(default=True, description="False replays the succeeded deliveries too.")


class Replayed(BaseModel):
    replayed: int
