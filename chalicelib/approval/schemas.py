"""Approval, review and comment routes: request and answer shapes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from chalicelib.approval.steps import MAX_STEPS
from chalicelib.core.fields import MultiLine, SingleLine
from chalicelib.core.schemas import RequestModel
from chalicelib.publishing.schemas import NetworkPreview

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Version = Annotated[int, Field(strict=True, ge=1, description="The post version you read; a stale one is a 409.")]


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


class StepIn(RequestModel):
    name: Annotated[str, SingleLine(80)]
    role: Literal["viewer", "editor", "admin", "owner"] | None = Field(
        default=None, description="A member with at least this role approves the step (internal review).")
    reviewers: Annotated[list[Email], Field(min_length=1, max_length=10)] | None = Field(
        default=None, description="Or: one of these client reviewers approves, from the link emailed to them.")

    @model_validator(mode="after")
    def _one_kind(self) -> StepIn:
        if (self.role is None) == (self.reviewers is None):
            raise ValueError("give either role or reviewers")
        return self


class ApprovalSettingsIn(RequestModel):
    steps: Annotated[list[StepIn], Field(max_length=MAX_STEPS, description="In order; [] turns approval off.")]


class StepOut(BaseModel):
    name: str
    role: str | None = None
    reviewers: list[str] = Field(default_factory=list)


class ApprovalSettings(BaseModel):
    steps: list[StepOut]


class SubmitRequest(RequestModel):
    version: Version | None = None


class ApproveRequest(RequestModel):
    version: Version
    comment: Annotated[str, MultiLine(2000)] | None = None


class RejectRequest(RequestModel):
    version: Version
    comment: Annotated[str, MultiLine(2000, min_length=1), Field(description="Why: what to change.")]

    _comment = field_validator("comment")(lambda cls, value: _not_blank(value))


class CommentCreate(RequestModel):
    text: Annotated[str, MultiLine(5000, min_length=1)]
    visibility: Literal["internal", "reviewers"] = Field(
        default="internal", description="internal: members only; reviewers: shown to the client reviewers too.")

    _text = field_validator("text")(lambda cls, value: _not_blank(value))


class CommentOut(BaseModel):
    id: str
    post_id: str
    text: str
    visibility: Literal["internal", "reviewers"]
    created_at: datetime
    author: dict[str, Any]
    mentions: list[dict[str, Any]] = Field(description="The members the @mentions named: {id, name, email?}.")
    unresolved_mentions: list[str] = Field(default_factory=list, description="@mentions that named nobody.")


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


class ReviewSessionOut(BaseModel):
    credential: str = Field(description="Send as `Authorization: Bearer <credential>`; shown once.")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: datetime
    post_id: str
    reviewer: str
    links: dict[str, str] = Field(description="What the credential reaches: this post's preview, comments, "
                                              "approve and reject.")


class PostPreview(BaseModel):
    post_id: str
    version: int
    status: str
    publish_at: datetime | None
    approval: dict[str, Any] | None
    networks: list[NetworkPreview]
