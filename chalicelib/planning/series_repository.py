"""Recurring series, the index of their occurrences, and evergreen posts waiting to be recycled, in the
planning table. The active series and waiting posts are in the sparse `job_items` index (`job_shard`,
`job_key`): the daily job's way to them."""
from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.core.errors import Conflict
from chalicelib.planning.tables import OccurrenceRecord, PlanningRecord, RecycleRecord, SeriesRecord

JOB_SHARDS = 4
SERIES_SK = "series#"
RECYCLE_SK = "recycle#"
OCCURRENCE_SK = "occ#"


def _key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def job_shard(workspace_id: str, item_id: str) -> str:
    return str(zlib.crc32(f"{workspace_id}#{item_id}".encode()) % JOB_SHARDS)


@dataclass
class SeriesRow:
    workspace_id: str
    series_id: str
    recurrence: str
    dtstart: datetime  # local wall clock, naive
    timezone: str
    template: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    status: str = "active"
    version: int = 0  # 0: never saved
    planned_until: datetime | None = None


@dataclass(frozen=True)
class Occurrence:
    key: str
    post_id: str
    publish_at: datetime


@dataclass(frozen=True)
class JobItem:
    kind: str  # series | recycle
    workspace_id: str
    item_id: str


@dataclass
class Recycling:
    workspace_id: str
    post_id: str
    after_days: int
    copy_id: str | None = None
    waiting: bool = field(default=True)


class SeriesRepository:
    # -- series ---------------------------------------------------------------

    def get(self, workspace_id: str, series_id: str) -> SeriesRow | None:
        try:
            record = SeriesRecord.get(workspace_id, SERIES_SK + series_id, consistent_read=True)
        except SeriesRecord.DoesNotExist:
            return None
        return _series_row(record)

    def list_series(self, workspace_id: str) -> list[SeriesRow]:
        records = SeriesRecord.query(workspace_id, SeriesRecord.sk.startswith(SERIES_SK))
        return [_series_row(r) for r in records if isinstance(r, SeriesRecord)]

    def save(self, row: SeriesRow) -> SeriesRow:
        """At the next version, only if nobody saved it since it was read."""
        active = row.status == "active"
        record = SeriesRecord(
            row.workspace_id, SERIES_SK + row.series_id, workspace_id=row.workspace_id, series_id=row.series_id,
            recurrence=row.recurrence, dtstart=row.dtstart.isoformat(), timezone=row.timezone,
            template=json.dumps(row.template, sort_keys=True), status=row.status, version=row.version + 1,
            created_at=_key(row.created_at), updated_at=_key(row.updated_at),
            planned_until=_key(row.planned_until) if row.planned_until else None,
            job_shard=job_shard(row.workspace_id, row.series_id) if active else None,
            job_key=f"series#{row.workspace_id}#{row.series_id}" if active else None)
        condition = (SeriesRecord.pk.does_not_exist() if row.version == 0 else SeriesRecord.version == row.version)
        try:
            record.save(condition=condition)
        except PutError as exc:
            raise Conflict("The series changed meanwhile; read it again and retry.", code="version_conflict") from exc
        row.version += 1
        return row

    # -- occurrences ------------------------------------------------------------

    def occurrences(self, workspace_id: str, series_id: str) -> list[Occurrence]:
        records = OccurrenceRecord.query(f"{workspace_id}#series#{series_id}",
                                         OccurrenceRecord.sk.startswith(OCCURRENCE_SK), consistent_read=True)
        return [Occurrence(r.occurrence_key, r.post_id, _parse(r.publish_at))  # type: ignore[arg-type]
                for r in records if isinstance(r, OccurrenceRecord)]

    def put_occurrence(self, workspace_id: str, series_id: str, occurrence: Occurrence) -> None:
        OccurrenceRecord(f"{workspace_id}#series#{series_id}", OCCURRENCE_SK + occurrence.key,
                         workspace_id=workspace_id, series_id=series_id, occurrence_key=occurrence.key,
                         post_id=occurrence.post_id, publish_at=_key(occurrence.publish_at)).save()

    # -- recycling -----------------------------------------------------------------

    def get_recycling(self, workspace_id: str, post_id: str) -> Recycling | None:
        try:
            r = RecycleRecord.get(workspace_id, RECYCLE_SK + post_id, consistent_read=True)
        except RecycleRecord.DoesNotExist:
            return None
        return Recycling(r.workspace_id, r.post_id, int(r.after_days), r.copy_id, r.job_key is not None)

    def save_recycling(self, row: Recycling) -> None:
        RecycleRecord(row.workspace_id, RECYCLE_SK + row.post_id, workspace_id=row.workspace_id,
                      post_id=row.post_id, after_days=row.after_days, copy_id=row.copy_id,
                      job_shard=job_shard(row.workspace_id, row.post_id) if row.waiting else None,
                      job_key=f"recycle#{row.workspace_id}#{row.post_id}" if row.waiting else None).save()

    def delete_recycling(self, workspace_id: str, post_id: str) -> None:
        RecycleRecord(workspace_id, RECYCLE_SK + post_id).delete()

    # -- the daily job's way in --------------------------------------------------

    def job_items(self) -> Iterator[JobItem]:
        """Every active series and waiting evergreen post: one Query per shard of the sparse index."""
        for shard in range(JOB_SHARDS):
            for record in PlanningRecord.job_items.query(str(shard)):
                kind, workspace_id, item_id = str(record.job_key).split("#", 2)
                yield JobItem(kind, workspace_id, item_id)


def _series_row(r: SeriesRecord) -> SeriesRow:
    return SeriesRow(r.workspace_id, r.series_id, r.recurrence, datetime.fromisoformat(r.dtstart), r.timezone,
                     json.loads(r.template), _parse(r.created_at), _parse(r.updated_at),  # type: ignore[arg-type]
                     r.status, int(r.version), _parse(r.planned_until))
