"""Media uploads: announce a file, then PUT it to the presigned URL with the given headers."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib.core.api import Call, route
from chalicelib.core.fields import SingleLine
from chalicelib.core.schemas import RequestModel
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "media"


class MediaCreate(RequestModel):
    filename: Annotated[str, SingleLine(255)]
    mime: Annotated[str, Field(max_length=255)]
    size: Annotated[int, Field(gt=0)]


class Media(BaseModel):
    id: str
    filename: str
    mime: str
    size: int
    status: Literal["pending", "uploaded", "rejected"] = Field(
        description="rejected: the uploaded file's length or type is not what was declared")
    problem: str | None = Field(default=None, description="Why a rejected upload was rejected")
    created_at: str
    expires_at: str


class MediaUpload(Media):
    upload_url: str
    upload_method: Literal["PUT"]
    upload_headers: dict[str, str] = Field(
        description="Send exactly these with the PUT: the URL is signed for this Content-Type and Content-Length")


@route(bp, "/media", "POST", summary="Start an upload: PUT the bytes to upload_url", tag=TAG, role="editor",
       body=MediaCreate, response=MediaUpload, status=201)
def create_media(call: Call[Container]) -> dict[str, Any]:
    body: MediaCreate = call.body
    return call.deps.media.create_upload(call.workspace_id, body.filename, body.mime, body.size)


@route(bp, "/media/{media_id}", "GET", summary="Read a media item and whether it was uploaded", tag=TAG,
       response=Media)
def get_media(call: Call[Container], media_id: str) -> dict[str, Any]:
    return call.deps.media.get(call.workspace_id, media_id)
