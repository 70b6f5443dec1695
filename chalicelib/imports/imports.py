"""CSV bulk import of posts: announce the file, PUT it to a presigned URL, start the import; a job reads it.

Every row becomes the body of `POST /posts` and is held to its rules through the same request model and the
same PostService (chalicelib/publishing/post_requests.py); a bad row's answer is reported as
`{line, column, reason}`.

- `all_or_nothing`: every row is checked first (phase `validate`, nothing saved); any bad row rejects the
  whole import. Otherwise phase `create` makes the posts.
- `valid_rows`: one phase, `create`: each valid row is made, each bad one reported.

The job works through CHUNK_ROWS rows a message (a Lambda run stays well inside its timeout) and sends itself
the next message; progress is saved conditioned on the row it started from, so a message SQS delivers twice
counts nothing twice. A post's id is derived from the file's SHA-256 and the row's line: uploading the same
file again (in a new import, or the same one re-run) makes no second post; the import counts it `existing`.
"""
from __future__ import annotations

import base64
import copy
import functools
import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.accounts.channel_repository import ChannelRepository, ChannelRow
from chalicelib.core.clock import Clock, to_rfc3339
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.imports.csv_file import CsvFile, CsvRow, UnreadableFile, read_csv
from chalicelib.imports.import_repository import ImportRepository, ImportRow
from chalicelib.imports.row_posts import BASE_COLUMNS, Channel, RowError, RowReader, unknown_columns
from chalicelib.networks.registry import NETWORKS
from chalicelib.publishing.post_requests import parse_request, queue_available, queue_fields, request_problems

if TYPE_CHECKING:
    from chalicelib.publishing.posts import PostService

log = logging.getLogger("herald.imports")

MAX_ROWS = 10_000
MAX_BYTES = 20 * 1024 * 1024
CHUNK_ROWS = 1_000
MAX_ERRORS = 1_000  # reported in full; past that, counted (`errors_left_out`)
UPLOAD_TTL = timedelta(minutes=15)
CSV_MIME = "text/csv"
MODES = ("valid_rows", "all_or_nothing")
WORKING = ("queued", "validating", "importing")
KNOWN_COLUMNS = (*BASE_COLUMNS, *(f"text:{network}" for network in NETWORKS))


def derived_post_id(workspace_id: str, content_sha256: str, line: int) -> str:
    """The id of the post made from `line` of the file with that hash: the same file makes the same ids."""
    digest = hashlib.sha256(f"{workspace_id}\n{content_sha256}\n{line}".encode()).digest()
    return "pst_" + base64.b32encode(digest).decode("ascii").lower()[:22]


class RunChannels(ChannelRepository):
    """The channel table as one job run sees it: each channel read once (a 1,000-row chunk would otherwise
    read the same few channels 2,000 times)."""

    def __init__(self, repository: ChannelRepository) -> None:
        self.repository = repository
        self.seen: dict[tuple[str, str], ChannelRow | None] = {}

    def get_many(self, workspace_id: str, channel_ids: list[str]) -> dict[str, ChannelRow]:
        missing = [cid for cid in dict.fromkeys(channel_ids) if (workspace_id, cid) not in self.seen]
        if missing:
            found = self.repository.get_many(workspace_id, missing)
            self.seen.update({(workspace_id, cid): found.get(cid) for cid in missing})
        return {cid: row for cid in channel_ids if (row := self.seen.get((workspace_id, cid))) is not None}

    def get(self, workspace_id: str, channel_id: str, *, consistent: bool = False) -> ChannelRow | None:
        return self.get_many(workspace_id, [channel_id]).get(channel_id)

    def list_all(self, workspace_id: str) -> list[ChannelRow]:
        return self.repository.list_all(workspace_id)


class ImportService:
    def __init__(self, imports: ImportRepository, posts: PostService, s3: Any, bucket: str,
                 send_step: Callable[[str, str], None], clock: Clock, *, chunk_rows: int = CHUNK_ROWS) -> None:
        self.chunk_rows = chunk_rows
        self.imports = imports
        self.posts = posts
        self.s3 = s3
        self.bucket = bucket
        self.send_step = send_step  # (workspace_id, import_id): the job's next message
        self.clock = clock

    # -- the routes ----------------------------------------------------------------

    def create(self, workspace_id: str, filename: str, size: int, mode: str, actor: str = "") -> dict[str, Any]:
        if size > MAX_BYTES:
            raise ValidationFailed.field("size", f"{size} bytes is over the {MAX_BYTES} byte limit of an import")
        now = to_rfc3339(self.clock.now())
        import_id = new_id("imp")
        row = ImportRow(workspace_id, import_id, filename, size, mode, "awaiting_upload",
                        f"imports/{workspace_id}/{import_id}.csv", now, now, created_by=actor)
        url = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": row.object_key, "ContentType": CSV_MIME,
                                  "ContentLength": size},
            ExpiresIn=int(UPLOAD_TTL.total_seconds()))
        self.imports.create(row)
        return {**view(row), "upload_url": url, "upload_method": "PUT",
                "upload_headers": {"Content-Type": CSV_MIME, "Content-Length": str(size)},
                "upload_expires_at": to_rfc3339(self.clock.now() + UPLOAD_TTL)}

    def get(self, workspace_id: str, import_id: str) -> ImportRow:
        row = self.imports.get(workspace_id, import_id)
        if row is None:
            raise NotFound(f"No import {import_id} in this workspace.")
        return row

    def start(self, workspace_id: str, import_id: str) -> ImportRow:
        row = self.get(workspace_id, import_id)
        if row.status != "awaiting_upload":
            raise Conflict(f"The import is {row.status}; it was started already.", code="already_started")
        try:
            self.s3.head_object(Bucket=self.bucket, Key=row.object_key)
        except Exception:
            raise Conflict("Nothing was uploaded yet: PUT the file to upload_url first.",
                           code="not_uploaded") from None
        before = (row.status, row.phase, row.next_row)
        row.status, row.phase, row.next_row = "queued", _first_phase(row.mode), 0
        row.updated_at = to_rfc3339(self.clock.now())
        if not self.imports.save_progress(row, before):
            raise Conflict("The import was started meanwhile.", code="already_started")
        self.send_step(workspace_id, import_id)
        return row

    # -- the job -------------------------------------------------------------------

    def run_step(self, workspace_id: str, import_id: str) -> ImportRow | None:
        """One chunk of one import; sends the next message when there is more. None: nothing to do."""
        row = self.imports.get(workspace_id, import_id)
        if row is None or row.status not in WORKING:
            return None
        expected = (row.status, row.phase, row.next_row)
        try:
            data, sha = self._read_object(row)
            parsed = read_csv(data, KNOWN_COLUMNS, MAX_ROWS)
            self._check_file(row, parsed, sha)
        except UnreadableFile as unreadable:
            self._finish(row, "failed", problem=str(unreadable))
            self.imports.save_progress(row, expected)
            return row
        self._work_chunk(row, parsed, sha)
        if self.imports.save_progress(row, expected) and row.status in WORKING:
            self.send_step(workspace_id, import_id)
        return row

    def _read_object(self, row: ImportRow) -> tuple[bytes, str]:
        try:
            stored = self.s3.get_object(Bucket=self.bucket, Key=row.object_key)
        except Exception:
            raise UnreadableFile("the uploaded file is gone") from None
        data: bytes = stored["Body"].read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UnreadableFile(f"the file is larger than {MAX_BYTES} bytes")
        return data, hashlib.sha256(data).hexdigest()

    def _check_file(self, row: ImportRow, parsed: CsvFile, sha: str) -> None:
        if row.content_sha256 not in (None, sha):
            raise UnreadableFile("the file was replaced while it was being imported; start a new import")
        unknown = unknown_columns(parsed.columns)
        if unknown:
            raise UnreadableFile(f"unknown column(s) {', '.join(repr(c) for c in unknown)}; the columns are "
                                 "text, channels, publish_at, media and text:<network>")
        if "channels" not in parsed.columns:
            raise UnreadableFile("the file has no channels column")

    def _work_chunk(self, row: ImportRow, parsed: CsvFile, sha: str) -> None:
        if row.content_sha256 is None:
            row.content_sha256, row.total_rows = sha, len(parsed.rows)
        chunk = parsed.rows[row.next_row:row.next_row + self.chunk_rows]
        reader = self._reader(row.workspace_id)
        posts = self._posts_for_run()
        row.status = "validating" if row.phase == "validate" else "importing"
        for csv_row in chunk:
            if row.phase == "validate":
                self._validate_row(row, reader, posts, csv_row)
            else:
                self._create_row(row, reader, posts, csv_row, sha)
        row.next_row += len(chunk)
        row.updated_at = to_rfc3339(self.clock.now())
        if row.next_row >= len(parsed.rows):
            self._phase_done(row)

    def _phase_done(self, row: ImportRow) -> None:
        if row.phase == "validate" and row.invalid:
            self._finish(row, "rejected")
        elif row.phase == "validate":
            row.phase, row.next_row, row.status = "create", 0, "importing"
        else:
            self._finish(row, "done")

    def _finish(self, row: ImportRow, status: str, problem: str | None = None) -> None:
        row.status, row.problem = status, problem
        row.finished_at = row.updated_at = to_rfc3339(self.clock.now())

    def _reader(self, workspace_id: str) -> RowReader:
        channels = [Channel(c.channel_id, c.name, c.network) for c in self.posts.channels.list_all(workspace_id)]
        return RowReader(channels, self.posts.workspace_timezone(workspace_id), queue_fields, queue_available())

    def _posts_for_run(self) -> PostService:
        """The same PostService, its channel and time zone reads kept for this run."""
        posts = copy.copy(self.posts)
        posts.channels = RunChannels(self.posts.channels)
        posts.workspace_timezone = functools.cache(self.posts.workspace_timezone)
        return posts

    def _validate_row(self, row: ImportRow, reader: RowReader, posts: PostService, csv_row: CsvRow) -> None:
        row.rows_read += 1
        body, errors = reader.body(csv_row)
        if body is not None:
            _draft, problems = request_problems(posts, row.workspace_id, body)
            errors = reader.errors_of(csv_row, problems)
        self._count(row, errors)

    def _create_row(self, row: ImportRow, reader: RowReader, posts: PostService, csv_row: CsvRow,
                    sha: str) -> None:
        first_pass = row.mode == "valid_rows"
        if first_pass:
            row.rows_read += 1
        body, errors = reader.body(csv_row)
        draft, problems = parse_request(body) if body is not None else (None, [])
        errors = errors or reader.errors_of(csv_row, problems)
        if draft is not None:
            try:
                posts.create(row.workspace_id, draft, derived_post_id(row.workspace_id, sha, csv_row.line))
                row.created += 1
            except Conflict as conflict:
                if conflict.code != "post_exists":
                    raise
                row.existing += 1
            except ValidationFailed as failed:
                errors = reader.errors_of(csv_row, failed.details)
        if first_pass:
            self._count(row, errors)
        elif errors:  # valid when checked, no longer (a channel removed meanwhile)
            row.valid, row.invalid = row.valid - 1, row.invalid + 1
            self._add_errors(row, errors)

    def _count(self, row: ImportRow, errors: list[RowError]) -> None:
        if errors:
            row.invalid += 1
            self._add_errors(row, errors)
        else:
            row.valid += 1

    @staticmethod
    def _add_errors(row: ImportRow, errors: list[RowError]) -> None:
        room = max(0, MAX_ERRORS - len(row.errors))
        row.errors.extend(error.view() for error in errors[:room])
        row.errors_left_out += max(0, len(errors) - room)


def _first_phase(mode: str) -> str:
    return "validate" if mode == "all_or_nothing" else "create"


def view(row: ImportRow) -> dict[str, Any]:
    return {"id": row.import_id, "status": row.status, "mode": row.mode, "filename": row.filename,
            "total_rows": row.total_rows, "rows_read": row.rows_read, "valid": row.valid, "invalid": row.invalid,
            "created": row.created, "existing": row.existing, "errors": row.errors,
            "errors_left_out": row.errors_left_out, "problem": row.problem, "created_at": row.created_at,
            "updated_at": row.updated_at, "finished_at": row.finished_at}
