"""Queues and recurring series: request and answer shapes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from chalicelib.core.schemas import RequestModel
from chalicelib.publishing.schemas import FirstComment, MediaRef, PostText, Thread, Variant

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WallClock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                 description="HH:MM, 24-hour, in the workspace's time zone")]
Recurrence = Annotated[str, Field(min_length=6, max_length=500, description=(
    "An RFC 5545 RRULE (`FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0`); DTSTART is publish_at, in the "
    "workspace's time zone. FREQ is YEARLY, MONTHLY, WEEKLY or DAILY."))]


class QueueSlot(RequestModel):
    weekday: Weekday
    time: WallClock


class QueuePut(RequestModel):
    slots: Annotated[list[QueueSlot], Field(max_length=200)] | None = Field(
        default=None, description="The weekly slots; left out: kept. Changing them moves the queued posts.")
    paused: bool | None = Field(default=None, description="A paused queue publishes nothing; its posts wait.")
    version: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        default=None, description="The version you read; a stale one answers 409.")

    @field_validator("slots")
    @classmethod
    def _no_duplicates(cls, slots: list[QueueSlot] | None) -> list[QueueSlot] | None:
        seen: set[tuple[str, str]] = set()
        for slot in slots or []:
            if (slot.weekday, slot.time) in seen:
                raise ValueError(f"{slot.weekday} {slot.time} is given twice")
            seen.add((slot.weekday, slot.time))
        return slots


class QueueMoveRequest(RequestModel):
    post_id: Annotated[str, Field(max_length=80)]
    position: Annotated[int, Field(strict=True, ge=0)] = Field(description="0 is the first slot")


class QueueSwapRequest(RequestModel):
    post_ids: Annotated[list[Annotated[str, Field(max_length=80)]], Field(min_length=2, max_length=2)]


class QueueShuffleRequest(RequestModel):
    seed: int | None = Field(default=None, description="The same seed gives the same order.")


class SlotOut(BaseModel):
    weekday: Weekday
    time: str


class SuggestedSlot(SlotOut):
    posts: int
    average_engagements: float | int | None
    in_schedule: bool


class QueuedPost(BaseModel):
    post_id: str
    position: int
    slot_at: datetime
    local_time: str


class MovedPost(BaseModel):
    post_id: str
    channel_id: str
    old: datetime | None
    new: datetime


class Queue(BaseModel):
    channel_id: str
    timezone: str
    slots: list[SlotOut]
    paused: bool
    version: int
    posts: list[QueuedPost]
    next_free_slots: list[datetime]
    suggested_slots: list[SuggestedSlot] = Field(description=(
        "The channel's best posting times (GET /channels/{id}/best-times), as slots, beside the current ones"))
    moved: list[MovedPost] = Field(default_factory=list, description="The queued posts this change moved")


class SeriesPatch(RequestModel):
    text: PostText | None = None
    channel_ids: Annotated[list[str], Field(min_length=1, max_length=50)] | None = None
    variants: dict[str, Variant] | None = None
    media: Annotated[list[MediaRef], Field(max_length=10)] | None = None
    thread: Thread | None = None
    first_comment: FirstComment | None = None
    recurrence: Recurrence | None = Field(default=None, description=(
        "A new rule: occurrences it no longer has are canceled (an UNTIL or COUNT ends the series there)."))
    version: Annotated[int, Field(strict=True, ge=1)] | None = None


class SeriesOccurrence(BaseModel):
    key: str
    post_id: str
    publish_at: datetime
    status: str
    detached: bool = Field(description="Edited alone: series edits pass it by")


class Series(BaseModel):
    id: str
    status: Literal["active", "ended"]
    recurrence: str
    dtstart: str
    timezone: str
    text: str
    channel_ids: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    occurrences: list[SeriesOccurrence] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list, description="Occurrences this edit changed")
    canceled: list[str] = Field(default_factory=list, description="Occurrences this edit or end canceled")


class SeriesPage(BaseModel):
    items: list[Series]
    next_cursor: str | None = None
