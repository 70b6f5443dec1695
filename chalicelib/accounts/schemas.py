"""Workspaces and channels: request and answer shapes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from chalicelib.core.fields import (
    SingleLine,
    TimeZoneName,
)
from chalicelib.core.schemas import RequestModel
from chalicelib.links.settings import LinkSettings, LinkSettingsPatch

ChannelStatus = Literal["active", "needs_reauth", "disabled"]
Role = Literal["owner", "admin", "editor", "viewer"]


WorkspaceName = Annotated[str, SingleLine(100)]



class Workspace(BaseModel):
    id: str
    name: str
    timezone: str
    created_at: datetime
    links: LinkSettings = Field(default_factory=LinkSettings, description="Short links and conversions")
    language: str | None = Field(default=None, description=(
        "The language the workspace's audience writes in (BCP 47). `tr`: listening folds and matches the "
        "Turkish way; unset: language-neutral folding."))


class WorkspaceCreate(RequestModel):
    """What the command line's create-workspace takes (there is no HTTP route for it)."""

    name: WorkspaceName
    timezone: TimeZoneName = "UTC"


class WorkspacePatch(RequestModel):
    name: WorkspaceName | None = None
    timezone: TimeZoneName | None = None
    audit_retention_days: Annotated[int, Field(strict=True, ge=30, le=3650, description=(
        "How long the audit log keeps each entry, in days (365 unless set); GET /audit says it."))] | None = None
    links: LinkSettingsPatch | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description=(
        "BCP 47 language tag, e.g. tr or tr-TR."))] | None = None


# 1..100 characters once the spaces around it are gone; no control characters.
ChannelName = Annotated[str, SingleLine(100)]
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


class ChannelHealth(BaseModel):
    """The channel's last check (daily, or `POST /channels/{id}/check`)."""

    status: Literal["ok", "warning", "failing"]
    checked_at: datetime | None
    expires_at: datetime | None = Field(description="When the authorization lapses unless a person reconnects "
                                                    "the channel; null when Herald keeps it alive by refreshing.")
    problem: str | None = Field(description="What is wrong and what to do, for a person; null when ok.")


class Channel(BaseModel):
    id: str
    network: str
    name: str
    handle: str | None
    status: ChannelStatus
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    health: ChannelHealth | None = None


class ChannelPage(BaseModel):
    items: list[Channel]
    next_cursor: str | None
