"""Conversions and the pixel: request and answer shapes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from chalicelib.core.fields import Timestamp
from chalicelib.core.schemas import RequestModel
from chalicelib.links.settings import Currency

ConversionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,100}$")]
Amount = Annotated[float, Field(ge=0, le=1_000_000_000, allow_inf_nan=False)]


class ConversionCreate(RequestModel):
    """Exactly one of `click_id` (the `hcid` a short link added to the site's URL) and `link_code`."""

    click_id: Annotated[str, Field(max_length=100)] | None = None
    link_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{7,16}$")] | None = None
    value: Amount = 0
    currency: Currency | None = Field(default=None, description="The workspace's `links.currency` if left out")
    occurred_at: Timestamp | None = Field(default=None, description="When it happened; now if left out")
    id: ConversionId | None = Field(default=None, description="Your id: sending it again records nothing new")

    @model_validator(mode="after")
    def _one_reference(self) -> ConversionCreate:
        if (self.click_id is None) == (self.link_code is None):
            raise ValueError("give exactly one of click_id and link_code")
        return self


class Conversion(BaseModel):
    id: str
    link_code: str | None
    post_id: str | None
    channel_id: str | None
    attributed: bool = Field(description="Within the attribution window of its click (else counted for the "
                                         "workspace only, as unattributed)")
    value: float
    currency: str
    occurred_at: datetime
    day: str = Field(description="The local day it is counted on")


class PixelQuery(RequestModel):
    value: Annotated[str, Field(max_length=30)] | None = None
    currency: Annotated[str, Field(max_length=10)] | None = None
    cid: Annotated[str, Field(max_length=100)] | None = None
