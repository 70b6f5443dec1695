"""A multipart/form-data body that is streamed, never built whole in memory (Telegram and Discord uploads).

`requests` builds `files=` bodies in memory; a video must not be. `MultipartBody` is an iterable of bytes that
reads each file from its `MediaItem.stream` as it is sent. When every file's size is known it also has `len`,
so requests sends a Content-Length; otherwise the body goes out with chunked transfer encoding.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from chalicelib.networks.base import MediaItem, PermanentError

CHUNK_BYTES = 256 * 1024
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm", "application/pdf": "pdf",
              "text/plain": "txt", "application/zip": "zip"}


@dataclass(frozen=True)
class FilePart:
    name: str
    filename: str
    mime: str
    chunks: Callable[[], Iterable[bytes]]
    size: int | None = None


def media_part(name: str, item: MediaItem, index: int, network: str) -> FilePart:
    """One media item as a file part, read from its stream (or its bytes) only while the body is sent."""
    filename = f"media{index}.{EXTENSIONS.get(item.mime, 'bin')}"
    if item.stream is not None:
        stream = item.stream
        return FilePart(name, filename, item.mime, lambda: stream(CHUNK_BYTES), item.size)
    if item.load is not None:
        load = item.load
        return FilePart(name, filename, item.mime, lambda: [load()], item.size)
    raise PermanentError(f"{network} needs the media's bytes, and this media has none")


class MultipartBody:
    """Iterate it to get the body; `content_type` names the boundary."""

    def __init__(self, fields: list[tuple[str, str]], files: list[FilePart]) -> None:
        self.boundary = f"herald{secrets.token_hex(16)}"
        self.fields = fields
        self.files = files
        sizes = [part.size for part in files]
        if all(size is not None for size in sizes):
            # requests reads `len` (super_len) and sends a Content-Length.
            self.len = self._framing_length() + sum(size or 0 for size in sizes)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _field_head(self, name: str) -> bytes:
        return f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()

    def _file_head(self, part: FilePart) -> bytes:
        return (f'--{self.boundary}\r\nContent-Disposition: form-data; name="{part.name}"; '
                f'filename="{part.filename}"\r\nContent-Type: {part.mime}\r\n\r\n').encode()

    def _closing(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    def _framing_length(self) -> int:
        total = sum(len(self._field_head(name)) + len(value.encode()) + 2 for name, value in self.fields)
        total += sum(len(self._file_head(part)) + 2 for part in self.files)
        return total + len(self._closing())

    def __iter__(self) -> Iterator[bytes]:
        for name, value in self.fields:
            yield self._field_head(name) + value.encode() + b"\r\n"
        for part in self.files:
            yield self._file_head(part)
            sent = 0
            for chunk in part.chunks():
                sent += len(chunk)
                yield chunk
            if part.size is not None and sent != part.size:
                raise PermanentError(f"{part.filename} was {sent} bytes, not the {part.size} announced")
            yield b"\r\n"
        yield self._closing()
