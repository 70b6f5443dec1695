"""A workspace's short-link settings (`links` of PATCH /workspace): whether links in posts are shortened, per
channel too, the UTM campaign, the conversions' attribution window and currency. Stored on the workspace."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from chalicelib.core.fields import SingleLine
from chalicelib.core.schemas import RequestModel

DEFAULT_WINDOW_DAYS = 7
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CampaignName = Annotated[str, SingleLine(100)]


class LinkSettings(BaseModel):
    shorten: bool = Field(default=False, description="Links in a post's text are shortened when it is saved")
    channels: dict[str, bool] = Field(default_factory=dict, description=(
        "Per channel id: shorten (true) or not (false), whatever `shorten` says"))
    utm_campaign: str | None = Field(default=None, description="utm_campaign of every short link; null: the "
                                                                "post's id")
    attribution_window_days: int = Field(default=DEFAULT_WINDOW_DAYS, description=(
        "A conversion within this many days after its click counts for the click's post and channel"))
    currency: str = Field(default="EUR", description="ISO 4217 code every conversion's value is in")


class LinkSettingsPatch(RequestModel):
    """Only the fields given change."""

    shorten: bool | None = None
    channels: dict[Annotated[str, Field(max_length=64)], bool] | None = Field(default=None, max_length=200)
    utm_campaign: CampaignName | None = None
    attribution_window_days: Annotated[int, Field(strict=True, ge=1, le=90)] | None = None
    currency: Currency | None = None


def link_settings(stored: dict[str, Any] | None) -> LinkSettings:
    return LinkSettings.model_validate(stored or {})


def merged(stored: dict[str, Any] | None, patch: LinkSettingsPatch) -> dict[str, Any]:
    changes = patch.model_dump(exclude_unset=True)
    settings = link_settings(stored).model_dump()
    if "channels" in changes:
        changes["channels"] = {**settings["channels"], **(changes["channels"] or {})}
    return {**settings, **{k: v for k, v in changes.items() if v is not None or k == "utm_campaign"}}


def shortens(settings: LinkSettings, channel_id: str) -> bool:
    return settings.channels.get(channel_id, settings.shorten)
