"""Results imported as CSV: `date,impressions,clicks,spend[,conversions][,reach]`, a header row first."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from chalicelib.ads.schemas import ResultRow
from chalicelib.core.api import validation_details
from chalicelib.core.errors import ValidationFailed

CSV_COLUMNS = ("date", "impressions", "clicks", "spend", "conversions", "reach")
MAX_CSV_BYTES = 256 * 1024


def rows_from_csv(raw: bytes) -> list[ResultRow]:
    """`date,impressions,clicks,spend[,conversions][,reach]` with a header row (any order, any case); a 422
    names the line and column of the first bad cell."""
    reader = csv.DictReader(io.StringIO(_text(raw)))
    _check_header(reader.fieldnames or [])
    rows = [_csv_row(line, {k.strip().lower(): (v or "").strip() for k, v in record.items() if k})
            for line, record in enumerate(reader, start=2)]
    if not rows:
        raise ValidationFailed.field("body", "has a header and no rows")
    return rows


def _check_header(names: Sequence[str]) -> None:
    header = [h.strip().lower() for h in names]
    missing = [c for c in ("date", "impressions", "clicks", "spend") if c not in header]
    if missing:
        raise ValidationFailed.field("body", f"the header row lacks {', '.join(missing)} (columns: "
                                             f"{', '.join(CSV_COLUMNS)})")


def _text(raw: bytes) -> str:
    if len(raw) > MAX_CSV_BYTES:
        raise ValidationFailed.field("body", f"is more than {MAX_CSV_BYTES} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.field("body", "is not UTF-8 text") from None


def _csv_row(line: int, cells: dict[str, str]) -> ResultRow:
    data: dict[str, Any] = {k: v for k, v in cells.items() if k in CSV_COLUMNS and v != ""}
    try:
        if "spend" in data:
            data["spend"] = Decimal(data["spend"])
        return ResultRow.model_validate(data)
    except InvalidOperation:
        raise ValidationFailed.field(f"line {line}: spend", "is not a number") from None
    except ValidationError as exc:
        detail = validation_details(exc)[0]
        raise ValidationFailed.field(f"line {line}: {detail['field']}", detail["message"]) from None
