"""CSV imports: request and answer shapes."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from chalicelib.core.fields import SingleLine
from chalicelib.core.schemas import RequestModel

ImportStatus = Literal["awaiting_upload", "queued", "validating", "importing", "done", "rejected", "failed"]


class ImportCreate(RequestModel):
    filename: Annotated[str, SingleLine(255)] = "posts.csv"
    size: Annotated[int, Field(gt=0, description="The file's length in bytes: the upload URL is signed for it.")]
    mode: Literal["valid_rows", "all_or_nothing"] = Field(default="valid_rows", description=(
        "valid_rows: make the valid rows, report the others; all_or_nothing: make nothing if any row is bad."))


class RowError(BaseModel):
    line: int = Field(description="The file's line the row starts on (the header is line 1).")
    column: str = Field(description="The column the problem is in (empty: the row as a whole).")
    reason: str


class PostImport(BaseModel):
    id: str
    status: ImportStatus = Field(description=(
        "awaiting_upload → (start) queued → validating (all_or_nothing) → importing → done; rejected: "
        "all_or_nothing found bad rows and made nothing; failed: the file could not be read (see problem)."))
    mode: Literal["valid_rows", "all_or_nothing"]
    filename: str
    total_rows: int | None = Field(description="Rows in the file (null until the job has read it).")
    rows_read: int
    valid: int
    invalid: int
    created: int = Field(description="Posts this import made.")
    existing: int = Field(description="Rows whose post an earlier import of the same file already made.")
    errors: list[RowError]
    errors_left_out: int = Field(description="Errors past the first 1,000, counted but not listed.")
    problem: str | None = Field(description="Why the file as a whole could not be imported.")
    created_at: str
    updated_at: str
    finished_at: str | None


class ImportUpload(PostImport):
    upload_url: str
    upload_method: Literal["PUT"]
    upload_headers: dict[str, str] = Field(description="Send exactly these with the PUT.")
    upload_expires_at: str
