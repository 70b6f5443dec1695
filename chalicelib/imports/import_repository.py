"""CSV imports and their progress (tables.py has the keys)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.imports.tables import PostImportRecord


@dataclass
class ImportRow:
    workspace_id: str
    import_id: str
    filename: str
    size: int
    mode: str
    status: str
    object_key: str
    created_at: str
    updated_at: str
    content_sha256: str | None = None
    phase: str = ""
    next_row: int = 0
    total_rows: int | None = None
    rows_read: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    existing: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_left_out: int = 0
    problem: str | None = None
    created_by: str = ""
    finished_at: str | None = None


def _row(r: PostImportRecord) -> ImportRow:
    values = {name: getattr(r, name) for name in ImportRow.__dataclass_fields__ if name != "errors"}
    for name in ("size", "next_row", "rows_read", "valid", "invalid", "created", "existing", "errors_left_out"):
        values[name] = int(values[name] or 0)
    if values["total_rows"] is not None:
        values["total_rows"] = int(values["total_rows"])
    return ImportRow(**values, errors=json.loads(r.errors or "[]"))


def _record(row: ImportRow) -> PostImportRecord:
    values = asdict(row)
    values["errors"] = json.dumps(row.errors, ensure_ascii=False, separators=(",", ":"))
    return PostImportRecord(**values)


class ImportRepository:
    def create(self, row: ImportRow) -> None:
        _record(row).save(condition=PostImportRecord.import_id.does_not_exist())

    def get(self, workspace_id: str, import_id: str) -> ImportRow | None:
        try:
            return _row(PostImportRecord.get(workspace_id, import_id, consistent_read=True))
        except DoesNotExist:
            return None

    def save_progress(self, row: ImportRow, expected: tuple[str, str, int]) -> bool:
        """Writes the import only if no other run moved it on since it was read (`expected`: the status, phase
        and next row it was read with; a message SQS delivered twice counts its rows once); False when one did."""
        status, phase, next_row = expected
        condition = ((PostImportRecord.status == status) & (PostImportRecord.phase == phase)
                     & (PostImportRecord.next_row == next_row))
        try:
            _record(row).save(condition=condition)
        except PutError as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                return False
            raise
        return True
