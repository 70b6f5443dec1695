"""Request and answer shapes of the giveaway routes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from chalicelib.core.fields import SingleLine, Timestamp
from chalicelib.core.schemas import Limit, RequestModel

PostId = Annotated[str, Field(pattern=r"^pst_[0-9a-z]{1,40}$")]


class EntryRules(RequestModel):
    required_terms: Annotated[list[Annotated[str, SingleLine(60)]], Field(max_length=5)] = Field(
        default_factory=list, description="Each must be in the comment: `#tag` as a hashtag, a word as a word.")
    min_mentions: Annotated[int, Field(ge=0, le=10)] = Field(
        default=0, description="At least this many distinct @accounts (not the author, not the brand).")
    mention_brand: bool = Field(default=False, description="The comment must also mention the brand's account.")
    excluded_accounts: Annotated[list[Annotated[str, SingleLine(100)]], Field(max_length=500)] = Field(
        default_factory=list, description="Handles (with or without @) or account ids that cannot enter.")
    not_verified: Annotated[list[Annotated[str, SingleLine(200)]], Field(max_length=10)] = Field(
        default_factory=list, description="Rules of the giveaway Herald cannot check (follow us, share to your "
                                          "story): listed on the certificate as not verified.")


class GiveawayCreate(RequestModel):
    name: Annotated[str, SingleLine(200)]
    post_ids: Annotated[list[PostId], Field(min_length=1, max_length=10)] = Field(
        description="Published posts whose comments are the entries.")
    starts_at: Timestamp
    ends_at: Timestamp
    winners: Annotated[int, Field(ge=1, le=100)] = 1
    alternates: Annotated[int, Field(ge=0, le=100)] = 0
    rules: EntryRules = Field(default_factory=EntryRules)

    @model_validator(mode="after")
    def _window(self) -> GiveawayCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class GiveawayPageQuery(RequestModel):
    limit: Limit = 50
    cursor: str | None = None


class CertificateQuery(RequestModel):
    format: Literal["json", "html"] = "json"


class Commitment(BaseModel):
    entrant_count: int
    entrants_sha256: str
    seed_sha256: str
    committed_at: datetime


class Pick(BaseModel):
    position: int
    entrant_id: str
    handle: str


class GiveawayOut(BaseModel):
    id: str
    name: str
    status: Literal["open", "frozen", "drawn"]
    posts: list[dict[str, Any]]
    starts_at: datetime
    ends_at: datetime
    winners_count: int
    alternates_count: int
    rules: list[dict[str, Any]] = Field(description="Each rule and whether Herald verifies it.")
    entrant_count: int = Field(description="Before the freeze: who would enter now.")
    left_out: dict[str, int] = Field(description="Comments that did not enter, by reason.")
    commitment: Commitment | None
    seed: str | None = Field(description="Shown only after the draw.")
    winners: list[Pick]
    alternates: list[Pick]
    drawn_at: datetime | None
    created_at: datetime


class GiveawayPage(BaseModel):
    items: list[GiveawayOut]
    next_cursor: str | None


class Certificate(BaseModel):
    giveaway_id: str
    name: str
    status: str
    posts: list[dict[str, Any]]
    window: dict[str, datetime]
    rules: list[dict[str, Any]]
    entrant_count: int | None
    commitment: Commitment | None
    seed: str | None
    algorithm: str
    winners: list[Pick]
    alternates: list[Pick]
    drawn_at: datetime | None
    verify: str
