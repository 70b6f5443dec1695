"""Feeds: request and answer shapes."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from chalicelib.core.fields import MultiLine
from chalicelib.core.schemas import RequestModel

FeedUrl = Annotated[str, Field(pattern=r"^https?://", max_length=2048, description=(
    "The feed's address (RSS 2.0 or Atom); https, and a public address (the outbound policy)."))]
Template = Annotated[str, MultiLine(2000), Field(description=(
    "The post's text: {title}, {link} and {summary} are the item's; too long for a network, the title "
    "and summary are shortened (never the link)."))]
Hashtags = Annotated[list[Annotated[str, Field(pattern=r"^#?[^\s#]{1,100}$")]], Field(max_length=30)]
ChannelIds = Annotated[list[str], Field(min_length=1, max_length=50)]
Mode = Literal["draft", "queue"]


class FeedCreate(RequestModel):
    url: FeedUrl
    template: Template = "{title} {link}"
    hashtags: Hashtags = Field(default_factory=list)
    channel_ids: ChannelIds
    mode: Mode = Field(default="draft", description="draft: for review; queue: the channel's next free slot.")
    take_existing: bool = Field(default=False, description=(
        "Make posts of the items already in the feed when it is first read too (by default only later ones)."))


class FeedPatch(RequestModel):
    url: FeedUrl | None = None
    template: Template | None = None
    hashtags: Hashtags | None = None
    channel_ids: ChannelIds | None = None
    mode: Mode | None = None
    status: Literal["active", "paused"] | None = None


class FeedOut(BaseModel):
    id: str
    url: str
    template: str
    hashtags: list[str]
    channel_ids: list[str]
    mode: Mode
    status: Literal["active", "paused"]
    take_existing: bool
    last_fetched_at: str | None
    next_fetch_at: str | None
    last_error: str | None = Field(description="Why the last read failed; null once a read succeeds.")
    failing_since: str | None = Field(description="When the reads began failing; null while they succeed.")
    items_taken: int
    created_at: str
    updated_at: str


class FeedPage(BaseModel):
    items: list[FeedOut]
    next_cursor: str | None


class FeedItemOut(BaseModel):
    key: str
    guid: str | None
    link: str | None
    title: str = Field(description="The item's title as text (its first 500 characters).")
    published_at: str | None
    seen_at: str
    status: Literal["new", "posted", "invalid", "skipped"] = Field(description=(
        "posted: its post was made (post_id); invalid: the API refused its post (reason); skipped: it was in "
        "the feed when the feed was added; new: taken, its post not made yet (the next read makes it)."))
    post_id: str | None
    reason: str | None


class FeedItemPage(BaseModel):
    items: list[FeedItemOut]
    next_cursor: str | None
