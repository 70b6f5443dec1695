"""The brand routes' bodies and answers."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from chalicelib.core.fields import MultiLine, SingleLine
from chalicelib.core.schemas import RequestModel

Keyword = Annotated[str, SingleLine(100)]


class BrandPut(RequestModel):
    name: Annotated[str, SingleLine(100)]
    description: Annotated[str, MultiLine(500)] = ""
    keywords: Annotated[list[Keyword], Field(max_length=30)] = Field(
        default_factory=list, description="Words every channel's bio should carry (folded by the workspace's "
                                          "language, as listening terms are).")
    website: Annotated[str, SingleLine(500)] | None = Field(default=None, description="https://...")
    logo_media_id: str | None = Field(default=None, description="An image in the media library: the avatar "
                                                                "every channel should show.")


class Brand(BaseModel):
    name: str
    description: str
    keywords: list[str]
    website: str | None
    logo_media_id: str | None
    updated_at: datetime


FindingCode = Literal["name_mismatch", "link_missing", "link_mismatch", "bio_missing_keywords",
                      "avatar_missing", "avatar_not_logo", "avatar_unreadable", "logo_unreadable"]


class Finding(BaseModel):
    code: FindingCode
    message: str
    details: dict[str, object] = Field(default_factory=dict)


class ChannelProfile(BaseModel):
    display_name: str | None
    bio: str | None
    link: str | None
    avatar_url: str | None
    handle: str | None = Field(default=None, description="Shown, not compared (@name, customUrl, vanity name).")


FieldState = Literal["checked", "not_available", "failed"]


class ChannelFields(BaseModel):
    """How each compared field of the profile went: `not_available` when the network's API does not give it
    (a YouTube channel's link, a LinkedIn member's bio): never compared, so never a finding."""

    display_name: FieldState
    bio: FieldState
    link: FieldState
    avatar_url: FieldState


class ChannelFindings(BaseModel):
    channel_id: str
    network: str
    name: str
    status: Literal["checked", "not_available", "failed"]
    message: str | None
    profile: ChannelProfile | None
    fields: ChannelFields | None = Field(default=None, description="None in checks made before fields were "
                                                                    "reported one by one.")
    findings: list[Finding]


class AcrossChannels(BaseModel):
    code: Literal["names_differ", "links_differ", "avatars_differ"]
    message: str
    groups: list[list[str]] = Field(description="Channel ids that agree with each other, one list per variant.")


class Consistency(BaseModel):
    checked_at: datetime | None = Field(description="None: never checked yet (the daily job, or POST "
                                                    "/brand/consistency/check).")
    consistent: bool | None = Field(description="No finding anywhere; None before the first check.")
    channels: list[ChannelFindings]
    across_channels: list[AcrossChannels]
