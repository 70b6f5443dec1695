"""Request and answer shapes. The same models validate requests and produce
the OpenAPI document, so the two cannot disagree."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.core.fields import (
    Month,
    MultiLineText,
    QueryLimit,
    SingleLineText,
    Timestamp,
    TimeZoneName,
    check_timezone,
    check_unicode,
)

PostStatus = Literal["draft", "scheduled", "publishing", "published", "partially_published", "failed", "canceled"]
DeliveryStatus = Literal["scheduled", "queued", "publishing", "published", "failed", "unknown", "canceled"]
ChannelStatus = Literal["active", "needs_reauth", "disabled"]
Role = Literal["owner", "admin", "editor", "viewer"]
Limit = QueryLimit


WorkspaceName = SingleLineText(100)
PostText = MultiLineText()


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    # Every field of every request (bodies, queries, free-form settings) is valid Unicode.
    _unicode = field_validator("*", mode="before")(lambda cls, value: check_unicode(value))


def _check_timezone(value: str) -> str:
    """For callers outside a model (creating a workspace): the one time-zone rule."""
    return check_timezone(value)


class Workspace(BaseModel):
    id: str
    name: str
    timezone: str
    created_at: datetime


class WorkspaceCreate(RequestModel):
    """What the command line's create-workspace takes (there is no HTTP route for it)."""

    name: WorkspaceName
    timezone: TimeZoneName = "UTC"


class WorkspacePatch(RequestModel):
    name: WorkspaceName | None = None
    timezone: TimeZoneName | None = None


# 1..100 characters once the spaces around it are gone; no control characters.
ChannelName = SingleLineText(100)
CHANNEL_CREDENTIALS = ("Write-only; never returned. The fields the network takes (README: What each "
                       "network's channel takes); anything else is refused.")
CHANNEL_SETTINGS = "The keys the network takes, within their bounds; anything else is refused."


class ChannelCreate(RequestModel):
    network: Annotated[str, Field(max_length=40)]
    name: ChannelName
    credentials: dict[str, Any] = Field(default_factory=dict, description=CHANNEL_CREDENTIALS)
    settings: dict[str, Any] = Field(default_factory=dict, description=CHANNEL_SETTINGS)


class ChannelPatch(RequestModel):
    name: ChannelName | None = None
    credentials: dict[str, Any] | None = Field(default=None, description="Write-only; replaces the stored ones. "
                                               + CHANNEL_CREDENTIALS)
    settings: dict[str, Any] | None = Field(default=None, description=CHANNEL_SETTINGS)
    status: Literal["active", "disabled"] | None = None


class Channel(BaseModel):
    id: str
    network: str
    name: str
    handle: str | None
    status: ChannelStatus
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class MediaRef(RequestModel):
    media_id: Annotated[str, Field(max_length=64)] | None = None
    url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)] | None = None
    alt: MultiLineText(2000) = ""


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


class PostListQuery(RequestModel):
    status: PostStatus | None = None
    channel_id: str | None = None
    from_: Timestamp | None = Field(default=None, alias="from")
    to: Timestamp | None = None
    limit: Limit = 50
    cursor: str | None = None


class PageQuery(RequestModel):
    limit: Limit = 50
    cursor: str | None = None


class PostPage(BaseModel):
    items: list[Post]
    next_cursor: str | None


class ChannelPage(BaseModel):
    items: list[Channel]
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


class Health(BaseModel):
    status: Literal["ok"]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]]


class Error(BaseModel):
    error: ErrorBody
