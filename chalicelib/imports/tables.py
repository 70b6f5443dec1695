"""The CSV imports table (`post_imports`): `workspace_id` / `import_id`, one item per import holding its
progress (counters, the next row to work on, the rows' errors as JSON). No index: an import is read by its id."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.tables import table_meta


class PostImportRecord(Model):
    Meta = table_meta("post_imports")
    workspace_id = UnicodeAttribute(hash_key=True)
    import_id = UnicodeAttribute(range_key=True)
    filename = UnicodeAttribute(default="")
    size = NumberAttribute(default=0)
    mode = UnicodeAttribute(default="valid_rows")  # valid_rows | all_or_nothing
    # awaiting_upload | queued | validating | importing | done | rejected | failed
    status = UnicodeAttribute(default="awaiting_upload")
    object_key = UnicodeAttribute(default="")
    content_sha256 = UnicodeAttribute(null=True)
    phase = UnicodeAttribute(default="")  # validate | create: what next_row counts through
    next_row = NumberAttribute(default=0)
    total_rows = NumberAttribute(null=True)
    rows_read = NumberAttribute(default=0)
    valid = NumberAttribute(default=0)
    invalid = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    existing = NumberAttribute(default=0)
    errors = UnicodeAttribute(default="[]")  # JSON [{line, column, reason}], the first MAX_ERRORS
    errors_left_out = NumberAttribute(default=0)
    problem = UnicodeAttribute(null=True)  # why the whole file failed
    created_by = UnicodeAttribute(default="")
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
