"""Posts, deliveries, the calendar and the sandbox network's received posts: request and answer shapes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from chalicelib.core.fields import (
    Month,
    MultiLine,
    Timestamp,
)
from chalicelib.core.schemas import Limit, RequestModel

PostStatus = Literal["draft", "scheduled", "publishing", "published", "partially_published", "failed", "canceled"]
DeliveryStatus = Literal["scheduled", "queued", "publishing", "published", "failed", "unknown", "canceled"]
PostText = Annotated[str, MultiLine()]


class MediaRef(RequestModel):
    media_id: Annotated[str, Field(max_length=64)] | None = None
    url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)] | None = None
    alt: Annotated[str, MultiLine(2000)] = ""


class Variant(RequestModel):
    text: PostText | None = None


class PostCreate(RequestModel):
    text: PostText = ""
    channel_ids: Annotated[list[str], Field(min_length=1, max_length=50)]
    variants: dict[str, Variant] = Field(default_factory=dict)
    media: Annotated[list[MediaRef], Field(max_length=10)] = Field(default_factory=list)
    publish_at: Timestamp | None = None
    status: Literal["draft", "scheduled"] | None = None


class PostPatch(RequestModel):
    text: PostText | None = None
    channel_ids: Annotated[list[str], Field(min_length=1, max_length=50)] | None = None
    variants: dict[str, Variant] | None = None
    media: Annotated[list[MediaRef], Field(max_length=10)] | None = None
    publish_at: Timestamp | None = None
    status: Literal["draft", "scheduled"] | None = None
    version: Annotated[int, Field(strict=True, ge=1)] = Field(
        description="The version you read (required); a stale one answers 409.")


class ScheduleRequest(RequestModel):
    publish_at: Timestamp


class Delivery(BaseModel):
    channel_id: str
    network: str
    status: DeliveryStatus
    remote_id: str | None
    remote_url: str | None
    attempts: int
    last_error: str | None
    published_at: datetime | None
    due_at: datetime | None
    at_risk: bool = Field(default=False, description="The channel is not healthy: this may not go out.")
    risk: str | None = Field(default=None, description="Why it is at risk, for a person (reconnect first).")


class Post(BaseModel):
    id: str
    status: PostStatus
    text: str
    publish_at: datetime | None
    channel_ids: list[str]
    variants: dict[str, Variant]
    media: list[dict[str, Any]]
    deliveries: list[Delivery]
    created_at: datetime
    updated_at: datetime
    version: int
    at_risk: bool = Field(default=False, description="A delivery not yet out is on a channel that is not "
                                                     "healthy (each delivery says why).")


class PostListQuery(RequestModel):
    status: PostStatus | None = None
    at_risk: bool | None = Field(default=None, description="Only posts with a delivery at risk (by time).")
    channel_id: str | None = None
    from_: Timestamp | None = Field(default=None, alias="from")
    to: Timestamp | None = None
    limit: Limit = 50
    cursor: str | None = None


class PostPage(BaseModel):
    items: list[Post]
    next_cursor: str | None


class SandboxReceived(BaseModel):
    delivery_id: str
    text: str
    received_at: datetime
    remote_id: str
    kind: str = "post"
    media: list[dict[str, Any]] = Field(default_factory=list)


class SandboxPage(BaseModel):
    items: list[SandboxReceived]
    next_cursor: str | None


class CalendarQuery(RequestModel):
    month: Month


class CalendarPost(BaseModel):
    id: str
    publish_at: datetime | None
    status: PostStatus
    channel_ids: list[str]
    text_preview: str


class CalendarDay(BaseModel):
    date: str
    posts: list[CalendarPost]


class Calendar(BaseModel):
    month: str
    timezone: str
    days: list[CalendarDay]


class CalendarFeed(BaseModel):
    url: str | None = Field(description="null: the workspace has no feed (an admin makes one).")
    message: str | None = None
