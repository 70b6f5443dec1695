"""Reading a multipart/form-data body the way a network's server does (Telegram and Discord fakes)."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class UploadedFile:
    name: str
    filename: str
    content_type: str
    data: bytes


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """(fields, files) of a multipart/form-data body; ValueError when it is not one."""
    match = re.match(r'multipart/form-data;\s*boundary="?([^";]+)"?', content_type or "")
    if not match:
        raise ValueError(f"not multipart/form-data: {content_type!r}")
    delimiter = b"--" + match.group(1).encode()
    if not body.startswith(delimiter) or not body.rstrip(b"\r\n").endswith(delimiter + b"--"):
        raise ValueError("the body does not open and close with the boundary")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(delimiter)[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise ValueError("a part is not framed by CRLF")
        head, separator, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("a part has no header block")
        headers = dict(_header(line) for line in head.decode().split("\r\n"))
        disposition = headers.get("content-disposition", "")
        name = _param(disposition, "name")
        if name is None or not disposition.startswith("form-data"):
            raise ValueError("a part has no form-data name")
        filename = _param(disposition, "filename")
        if filename is None:
            fields[name] = data.decode()
        else:
            files[name] = UploadedFile(name, filename, headers.get("content-type", ""), data)
    return fields, files


def _header(line: str) -> tuple[str, str]:
    key, _, value = line.partition(":")
    return key.strip().lower(), value.strip()


def _param(header: str, name: str) -> str | None:
    match = re.search(rf';\s*{name}="([^"]*)"', header)
    return match.group(1) if match else None
