"""Media: a presigned upload straight to S3, then referenced by posts.

The worker reads the bytes back (S3 for uploads, HTTP GET for public URLs) and
hands them to the network adapter, which uploads them the way its network wants.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.clock import Clock, to_rfc3339
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.ids import new_id
from chalicelib.networks.base import MediaItem, PermanentError, RetryableError
from chalicelib.repositories.media import MediaRepository, MediaRow

UPLOAD_TTL = timedelta(minutes=15)
MAX_BYTES = 512 * 1024 * 1024
MAX_URL_BYTES = 100 * 1024 * 1024
ACCEPTED = {"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/quicktime"}
EXTENSIONS = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
              "webp": "image/webp", "mp4": "video/mp4", "mov": "video/quicktime"}


def guess_mime(url: str) -> str:
    extension = url.split("?")[0].rsplit(".", 1)[-1].lower()
    return EXTENSIONS.get(extension, "")


class MediaService:
    def __init__(self, media: MediaRepository, s3: Any, bucket: str, clock: Clock, http: Any = None) -> None:
        self.media = media
        self.s3 = s3
        self.bucket = bucket
        self.clock = clock
        self._http = http

    def create_upload(self, workspace_id: str, filename: str, mime: str, size: int) -> dict[str, Any]:
        if mime not in ACCEPTED:
            raise ValidationFailed.field("mime", f"{mime} is not accepted; use one of {', '.join(sorted(ACCEPTED))}")
        if size > MAX_BYTES:
            raise ValidationFailed.field("size", f"{size} bytes is over the {MAX_BYTES} byte limit")
        now = self.clock.now()
        media_id = new_id("med")
        key = f"{workspace_id}/{media_id}"
        expires = now + UPLOAD_TTL
        url = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key, "ContentType": mime},
            ExpiresIn=int(UPLOAD_TTL.total_seconds()))
        row = MediaRow(workspace_id, media_id, filename, mime, size, key, to_rfc3339(now) or "",
                       to_rfc3339(expires) or "")
        self.media.create(row)
        return {**self.view(row), "upload_url": url, "upload_headers": {"Content-Type": mime}}

    def view(self, row: MediaRow) -> dict[str, Any]:
        return {"id": row.media_id, "filename": row.filename, "mime": row.mime, "size": row.size,
                "status": self._status(row), "created_at": row.created_at, "expires_at": row.expires_at}

    def _status(self, row: MediaRow) -> str:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=row.object_key)
        except Exception:
            return "pending"
        return "uploaded"

    def get(self, workspace_id: str, media_id: str) -> dict[str, Any]:
        row = self.media.get(workspace_id, media_id)
        if row is None:
            raise NotFound(f"No media {media_id} in this workspace.")
        return self.view(row)

    def describe(self, workspace_id: str, media_id: str) -> dict[str, Any] | None:
        row = self.media.get(workspace_id, media_id)
        return None if row is None else {"mime": row.mime, "size": row.size}

    def item_for(self, workspace_id: str, item: dict[str, Any]) -> MediaItem:
        """What an adapter gets: the description, and a way to read the bytes."""
        alt = str(item.get("alt") or "")
        if item.get("media_id"):
            row = self.media.get(workspace_id, item["media_id"])
            if row is None:
                raise PermanentError(f"media {item['media_id']} no longer exists")
            return MediaItem(mime=row.mime, alt=alt, media_id=row.media_id, size=row.size,
                             load=lambda: self._read_object(row))
        url = str(item["url"])
        return MediaItem(mime=str(item.get("mime") or guess_mime(url)), alt=alt, url=url,
                         load=lambda: self._download(url))

    def _read_object(self, row: MediaRow) -> bytes:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=row.object_key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            raise PermanentError(f"{row.filename} was never uploaded (media {row.media_id})") from None

    def _download(self, url: str) -> bytes:
        import requests

        http = self._http or requests
        try:
            response = http.get(url, timeout=(5, 30), stream=True)
        except requests.RequestException as exc:
            raise RetryableError(f"could not fetch {url}: {exc}") from None
        if response.status_code >= 400:
            error = RetryableError if response.status_code >= 500 else PermanentError
            raise error(f"fetching {url} answered {response.status_code}")
        body = response.raw.read(MAX_URL_BYTES + 1, decode_content=True)
        if len(body) > MAX_URL_BYTES:
            raise PermanentError(f"{url} is larger than {MAX_URL_BYTES} bytes")
        return body
