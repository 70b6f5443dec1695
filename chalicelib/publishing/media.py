"""Media: a presigned upload straight to S3, then referenced by posts.

The worker reads the bytes back (S3 for uploads, HTTP GET for public URLs) and
hands them to the network adapter, which uploads them the way its network wants.

What was declared (`size`, `mime`) is what the rest of Herald validates against,
so it is held to: the presigned PUT signs Content-Length and Content-Type (S3
refuses another length or type), and the stored object's length and type are
checked again whenever it is used (a post that names it, the publish that reads it).
A public URL is fetched only through the outbound policy (chalicelib/core/outbound.py).
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.outbound import OutboundPolicy, OutboundRefused
from chalicelib.networks.base import MediaItem, PermanentError, RetryableError
from chalicelib.publishing.media_repository import MediaRepository, MediaRow

UPLOAD_TTL = timedelta(minutes=15)
MAX_BYTES = 512 * 1024 * 1024
MAX_URL_BYTES = 100 * 1024 * 1024
# A presigned GET lives at most this long (a network fetching a video late still finds it; no longer).
MAX_PUBLIC_URL_S = 6 * 3600
# PDF: LinkedIn publishes a document as a swipeable carousel; the other networks refuse it when a post is saved.
ACCEPTED = {"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/quicktime", "application/pdf"}
EXTENSIONS = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
              "webp": "image/webp", "mp4": "video/mp4", "pdf": "application/pdf", "mov": "video/quicktime"}


def guess_mime(url: str) -> str:
    extension = url.split("?")[0].rsplit(".", 1)[-1].lower()
    return EXTENSIONS.get(extension, "")


class MediaService:
    def __init__(self, media: MediaRepository, s3: Any, bucket: str, clock: Clock, http: Any = None, *,
                 policy: OutboundPolicy | None = None) -> None:
        self.media = media
        self.s3 = s3
        self.bucket = bucket
        self.clock = clock
        self.policy = policy or OutboundPolicy()
        self._http = http

    @property
    def http(self) -> Any:
        if self._http is None:
            self._http = self.policy.session()
        return self._http

    def create_upload(self, workspace_id: str, filename: str, mime: str, size: int) -> dict[str, Any]:
        if mime not in ACCEPTED:
            raise ValidationFailed.field("mime", f"{mime} is not accepted; use one of {', '.join(sorted(ACCEPTED))}")
        if size > MAX_BYTES:
            raise ValidationFailed.field("size", f"{size} bytes is over the {MAX_BYTES} byte limit")
        now = self.clock.now()
        media_id = new_id("med")
        key = f"{workspace_id}/{media_id}"
        expires = now + UPLOAD_TTL
        # Both headers are signed: S3 refuses a PUT of another length or type.
        url = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key, "ContentType": mime, "ContentLength": size},
            ExpiresIn=int(UPLOAD_TTL.total_seconds()))
        row = MediaRow(workspace_id, media_id, filename, mime, size, key, to_rfc3339(now) or "",
                       to_rfc3339(expires) or "")
        self.media.create(row)
        return {**self.view(row), "upload_url": url, "upload_method": "PUT",
                "upload_headers": {"Content-Type": mime, "Content-Length": str(size)}}

    def view(self, row: MediaRow) -> dict[str, Any]:
        status, problem = self._status(row)
        view = {"id": row.media_id, "filename": row.filename, "mime": row.mime, "size": row.size,
                "status": status, "created_at": row.created_at, "expires_at": row.expires_at}
        return {**view, "problem": problem} if problem else view

    def _status(self, row: MediaRow) -> tuple[str, str | None]:
        """pending (nothing uploaded yet), uploaded, or rejected (what was uploaded is not what was declared)."""
        try:
            stored = self.s3.head_object(Bucket=self.bucket, Key=row.object_key)
        except Exception:
            return "pending", None
        problem = mismatch(row, stored)
        return ("rejected", problem) if problem else ("uploaded", None)

    def get(self, workspace_id: str, media_id: str) -> dict[str, Any]:
        row = self.media.get(workspace_id, media_id)
        if row is None:
            raise NotFound(f"No media {media_id} in this workspace.")
        return self.view(row)

    def describe(self, workspace_id: str, media_id: str) -> dict[str, Any] | None:
        row = self.media.get(workspace_id, media_id)
        return None if row is None else {"mime": row.mime, "size": row.size}

    def reference_problem(self, workspace_id: str, item: dict[str, Any]) -> tuple[str, str] | None:
        """Why a post may not use `item` (the field under `media.N` and a message), or None.

        An upload that has not arrived yet is allowed (the publish checks again); one that did arrive
        must be what was declared. A URL must pass the outbound policy as written; what it resolves to
        is checked when it is fetched.
        """
        if item.get("media_id"):
            row = self.media.get(workspace_id, str(item["media_id"]))
            if row is None:
                return "media_id", "no such media in this workspace"
            status, problem = self._status(row)
            return ("media_id", str(problem)) if status == "rejected" else None
        if item.get("url"):
            try:
                self.policy.check_url(str(item["url"]))
            except OutboundRefused as refused:
                return "url", f"refused: {refused.reason}"
        return None

    def item_for(self, workspace_id: str, item: dict[str, Any]) -> MediaItem:
        """What an adapter gets: the description, and a way to read the bytes."""
        alt = str(item.get("alt") or "")
        if item.get("media_id"):
            row = self.media.get(workspace_id, item["media_id"])
            if row is None:
                raise PermanentError(f"media {item['media_id']} no longer exists")
            return MediaItem(mime=row.mime, alt=alt, media_id=row.media_id, size=row.size,
                             load=lambda: self._read_object(row),
                             stream=lambda chunk_bytes: self._stream_object(row, chunk_bytes),
                             public_url=lambda lifetime_s: self._public_url(row, lifetime_s))
        url = str(item["url"])
        return MediaItem(mime=str(item.get("mime") or guess_mime(url)), alt=alt, url=url,
                         load=lambda: self._download(url))

    def _read_object(self, row: MediaRow) -> bytes:
        stored = self._open_object(row)
        body = stored["Body"].read(row.size + 1)
        if len(body) != row.size:
            raise PermanentError(f"{row.filename} (media {row.media_id}) was not sent: it is not "
                                 f"{row.size} bytes long as declared")
        return body

    def _open_object(self, row: MediaRow) -> Any:
        """The stored object's GetObject answer, once it is known to be what was declared."""
        try:
            stored = self.s3.get_object(Bucket=self.bucket, Key=row.object_key)
        except self.s3.exceptions.NoSuchKey:
            raise PermanentError(f"{row.filename} was never uploaded (media {row.media_id})") from None
        problem = mismatch(row, stored)
        if problem:
            stored["Body"].close()
            raise PermanentError(f"{row.filename} (media {row.media_id}) was not sent: {problem}")
        return stored

    def _stream_object(self, row: MediaRow, chunk_bytes: int) -> Iterator[bytes]:
        """The bytes in chunks straight from S3: a video is never held whole in the Lambda's memory."""
        stored = self._open_object(row)
        sent = 0
        try:
            for chunk in stored["Body"].iter_chunks(chunk_size=max(1, chunk_bytes)):
                sent += len(chunk)
                if sent > row.size:
                    break
                yield chunk
        finally:
            stored["Body"].close()
        if sent != row.size:
            raise PermanentError(f"{row.filename} (media {row.media_id}) was not sent: it is not "
                                 f"{row.size} bytes long as declared")

    def _public_url(self, row: MediaRow, lifetime_s: int) -> str:
        """A presigned GET for networks that fetch the media themselves (Meta, Threads), checked first:
        a network would otherwise fetch something else than what the post was validated against."""
        try:
            stored = self.s3.head_object(Bucket=self.bucket, Key=row.object_key)
        except Exception:
            raise PermanentError(f"{row.filename} was never uploaded (media {row.media_id})") from None
        problem = mismatch(row, stored)
        if problem:
            raise PermanentError(f"{row.filename} (media {row.media_id}) was not sent: {problem}")
        lifetime = max(60, min(int(lifetime_s), MAX_PUBLIC_URL_S))
        return str(self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": row.object_key}, ExpiresIn=lifetime))

    def _download(self, url: str) -> bytes:
        import requests

        host = urlsplit(url).netloc
        try:
            self.policy.check_url(url)
            response = self.http.request("GET", url, timeout=(5, 30), max_bytes=MAX_URL_BYTES)
        except OutboundRefused as refused:
            raise PermanentError(f"the media file at {host} was not fetched: {refused.reason}") from None
        except requests.RequestException:
            raise RetryableError(f"could not fetch the media file at {host}") from None
        if response.status_code >= 400:
            error = RetryableError if response.status_code >= 500 else PermanentError
            raise error(f"fetching the media file at {host} answered {response.status_code}")
        if 300 <= response.status_code < 400:
            raise PermanentError(f"fetching the media file at {host} answered {response.status_code}")
        return bytes(response.content)


def mismatch(row: MediaRow, stored: dict[str, Any]) -> str | None:
    """How the stored object (a HeadObject or GetObject answer) differs from what was declared, or None."""
    length = stored.get("ContentLength")
    stored_type = str(stored.get("ContentType") or "").split(";", 1)[0].strip().lower()
    if length != row.size:
        return f"the uploaded file is {length} bytes, not the {row.size} declared"
    if stored_type != row.mime:
        return f"the uploaded file is of type {stored_type or 'unknown'}, not the {row.mime} declared"
    return None
