"""Uploaded media: what was announced; the bytes live in S3."""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from chalicelib.publishing.tables import MediaRecord


@dataclass
class MediaRow:
    workspace_id: str
    media_id: str
    filename: str
    mime: str
    size: int
    object_key: str
    created_at: str
    expires_at: str


class MediaRepository:
    def create(self, row: MediaRow) -> None:
        MediaRecord(row.workspace_id, row.media_id, filename=row.filename, mime=row.mime, size=row.size,
                    object_key=row.object_key, created_at=row.created_at, expires_at=row.expires_at,
                    ).save(condition=MediaRecord.media_id.does_not_exist())

    def get(self, workspace_id: str, media_id: str) -> MediaRow | None:
        try:
            r = MediaRecord.get(workspace_id, media_id)
        except DoesNotExist:
            return None
        return MediaRow(r.workspace_id, r.media_id, r.filename, r.mime, int(r.size), r.object_key,
                        r.created_at, r.expires_at)
