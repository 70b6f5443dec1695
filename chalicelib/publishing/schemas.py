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

PostStatus = Literal["draft", "pending_approval", "scheduled", "publishing", "published", "partially_published",
                     "failed", "canceled"]
DeliveryStatus = Literal["scheduled", "queued", "publishing", "published", "failed", "unknown", "canceled"]
PostText = Annotated[str, MultiLine()]


class MediaRef(RequestModel):
    media_id: Annotated[str, Field(max_length=64)] | None = None
    url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)] | None = None
    alt: Annotated[str, MultiLine(2000)] = ""


NetworkOptions = Annotated[dict[str, Any], Field(max_length=20, description=(
    "The network's own options for this channel's post (X `reply_settings`, LinkedIn `visibility`, "
    "`document_title`, Threads `reply_control`, `topic_tag`...): checked by the network's rules when saved."))]


class ThreadPartIn(RequestModel):
    """A part after the first of a thread (X, Threads): published as a reply to the part before."""

    text: PostText = ""
    media: Annotated[list[MediaRef], Field(max_length=10)] = Field(default_factory=list)


Thread = Annotated[list[ThreadPartIn], Field(max_length=25, description=(
    "The parts after the first, for networks that thread (X, Threads); refused on the others."))]
FirstComment = Annotated[str, MultiLine(10_000), Field(description=(
    "A comment the account adds under its own post once it is out (Instagram, Facebook, LinkedIn); "
    "refused on networks without one."))]


class Variant(RequestModel):
    text: PostText | None = None
    # What this channel publishes instead of the post's (None: the post's): a carousel on Instagram and a PDF on
    # LinkedIn in one post, or a thread on X only.
    media: Annotated[list[MediaRef], Field(max_length=10)] | None = Field(default=None, description=(
        "This channel's media instead of the post's (an Instagram carousel, a LinkedIn PDF); [] for none."))
    thread: Thread | None = Field(default=None, description=(
        "This channel's thread parts instead of the post's (a thread on X only); [] for none."))
    # `variants[channel_id].<network>`: options of the network of that channel only.
    facebook: NetworkOptions | None = None
    instagram: NetworkOptions | None = None
    threads: NetworkOptions | None = None
    linkedin: NetworkOptions | None = None
    x: NetworkOptions | None = None
    bluesky: NetworkOptions | None = None
    mastodon: NetworkOptions | None = None
    tiktok: NetworkOptions | None = None
    youtube: NetworkOptions | None = None
    pinterest: NetworkOptions | None = None
    google_business: NetworkOptions | None = None
    telegram: NetworkOptions | None = None
    discord: NetworkOptions | None = None
    reddit: NetworkOptions | None = None


class PostCreate(RequestModel):
    text: PostText = ""
    channel_ids: Annotated[list[str], Field(min_length=1, max_length=50)]
    variants: dict[str, Variant] = Field(default_factory=dict)
    media: Annotated[list[MediaRef], Field(max_length=10)] = Field(default_factory=list)
    thread: Thread = Field(default_factory=list)
    first_comment: FirstComment | None = None
    publish_at: Timestamp | None = None
    status: Literal["draft", "scheduled", "pending_approval"] | None = None
    # Planning (chalicelib/planning/; README "Queues and recurring posts").
    queue: bool = Field(default=False, description="Take the next free slot of each channel's queue "
                                                   "instead of publish_at")
    queue_position: Literal["next", "front"] = Field(default="next", description=(
        "next: the next free slot; front: the first slot, the queued posts move one slot back"))
    queue_slot: Literal["each", "common"] = Field(default="each", description=(
        "each: every channel its own next free slot; common: the first slot free on all of them"))
    recurrence: Annotated[str, Field(min_length=6, max_length=500)] | None = Field(default=None, description=(
        "An RFC 5545 RRULE (FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0) from publish_at, in the workspace's "
        "time zone: a series of ordinary posts (GET /series/{series_id})"))
    recycle_after_days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = Field(
        default=None, description="Evergreen: a copy goes into the queue this many days after it is out")


class NetworkPreview(BaseModel):
    """One channel's post as its network will show it (chalicelib/networks/appearance.py)."""

    channel_id: str
    network: str
    channel_name: str
    handle: str | None
    text: str
    shown_text: str = Field(description="The text cut where the network's limit ends (all of it when it fits).")
    length: int = Field(description="In the network's own units (`unit`).")
    limit: int
    unit: str
    fits: bool
    media: list[dict[str, Any]]
    media_left_out: int
    link_card: dict[str, str] | None = Field(
        description="`{url, host}` of the link the network draws a card for (none with media, or on networks "
                    "that draw none).")
    thread: list[dict[str, Any]]
    first_comment: str | None
    options: dict[str, Any]


class PostCheck(BaseModel):
    valid: bool
    problems: list[dict[str, Any]] = Field(
        description="What a save would refuse, as a 422's details: `{field, message}` and, for length, "
                    "`network`, `limit`.")
    networks: list[NetworkPreview] = Field(default_factory=list, description=(
        "How each of the post's channels (those in this workspace) will show it, as GET /posts/{id}/preview "
        "does: the composer's preview"))


class PostPatch(RequestModel):
    text: PostText | None = None
    channel_ids: Annotated[list[str], Field(min_length=1, max_length=50)] | None = None
    variants: dict[str, Variant] | None = None
    media: Annotated[list[MediaRef], Field(max_length=10)] | None = None
    thread: Thread | None = None
    first_comment: FirstComment | None = Field(default=None, description="An empty string removes it.")
    publish_at: Timestamp | None = None
    status: Literal["draft", "scheduled", "pending_approval"] | None = None
    recycle_after_days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = Field(
        default=None, description="Evergreen recycling; null stops it.")
    version: Annotated[int, Field(strict=True, ge=1)] = Field(
        description="The version you read (required); a stale one answers 409.")


class ScheduleRequest(RequestModel):
    publish_at: Timestamp


class DeliveredPart(BaseModel):
    remote_id: str | None = Field(description="The part's id on the network; null while it is not out.")


class ShortLink(BaseModel):
    url: str
    short_url: str


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
    thread: list[DeliveredPart] = Field(default_factory=list, description="One per part of the post's thread.")
    first_comment_id: str | None = None
    warnings: list[str] = Field(default_factory=list, description=(
        "What went wrong after the post was out and cannot be undone (a refused first comment)."))
    at_risk: bool = Field(default=False, description="The channel is not healthy: this may not go out.")
    risk: str | None = Field(default=None, description="Why it is at risk, for a person (reconnect first).")
    text: str | None = Field(default=None, description="What the channel publishes: its text with its short links.")
    short_links: list[ShortLink] = Field(default_factory=list, description=(
        "Each link of the channel's text and the short link it publishes instead (the workspace's `links` "
        "settings say whether links are shortened)."))


class Post(BaseModel):
    id: str
    status: PostStatus
    text: str
    publish_at: datetime | None
    channel_ids: list[str]
    variants: dict[str, Variant]
    media: list[dict[str, Any]]
    thread: list[dict[str, Any]] = Field(default_factory=list)
    first_comment: str | None = None
    deliveries: list[Delivery]
    created_at: datetime
    updated_at: datetime
    version: int
    at_risk: bool = Field(default=False, description="A delivery not yet out is on a channel that is not "
                                                     "healthy (each delivery says why).")
    queued: bool = Field(default=False, description="It holds slots in its channels' queues")
    queue_slots: dict[str, datetime] = Field(default_factory=dict, description="Each queued channel's slot")
    queue_paused: list[str] = Field(default_factory=list, description="Channels whose queue is paused: waiting")
    series_id: str | None = None
    occurrence_key: str | None = None
    recurrence: str | None = None
    detached: bool = Field(default=False, description="An occurrence edited alone: series edits pass it by")
    recycle_after_days: int | None = None
    recycled_from: str | None = None
    approval: dict[str, Any] | None = Field(default=None, description=(
        "The post's approval round (chalicelib/approval): status, current_step, steps, decisions."))
    waiting_for: str | None = Field(default=None, description=(
        "`approval`: not published before its approval is complete, even past publish_at."))


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
    queued: bool = False
    series_id: str | None = None


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
