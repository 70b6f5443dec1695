"""Reading an uploaded CSV the way a person made it, most often with Excel.

Encoding, decided from the bytes alone, in this order:
- a UTF-8 byte order mark (Excel's "CSV UTF-8"): UTF-8;
- a UTF-16 byte order mark, either order (Excel's "Unicode Text"): UTF-16;
- bytes that decode as UTF-8 without error: UTF-8 (a cp1254 file with any letter beyond ASCII almost never
  does: its ğüşıöç are single bytes 0x80-0xFF, which UTF-8 only allows in multi-byte sequences);
- otherwise Windows-1254 (what Excel's plain "CSV" writes on a Turkish Windows), whose undefined bytes make
  the file unreadable rather than silently wrong.

Delimiter: the one of `,` `;` TAB that splits the header line into the most columns Herald knows (Excel
writes `;` where the decimal separator is a comma, as in Turkish and most of Europe). Quoted fields may hold
the delimiter and newlines; Windows (CRLF), Unix and old Mac line ends are all read. A row's line is the
physical line it starts on (the header is line 1), as a spreadsheet or an editor numbers it.
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DELIMITERS = (",", ";", "\t")
FALLBACK_ENCODING = "cp1254"


class UnreadableFile(ValueError):
    """The file is not a CSV Herald can read; the message says why, for a person."""


@dataclass(frozen=True)
class CsvRow:
    line: int  # the physical line the row starts on; the header is line 1
    cells: dict[str, str]  # column name (lower case, trimmed) -> cell
    extra_cells: int = 0  # non-empty cells past the last column the header names


@dataclass(frozen=True)
class CsvFile:
    encoding: str
    delimiter: str
    columns: list[str]
    rows: list[CsvRow]


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of the encoding it was read with."""
    if data.startswith(codecs.BOM_UTF8):
        return _decoded(data[len(codecs.BOM_UTF8):], "utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decoded(data, "utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(FALLBACK_ENCODING), FALLBACK_ENCODING
    except UnicodeDecodeError:
        raise UnreadableFile("the file is neither UTF-8, UTF-16 nor Windows-1254 text; "
                             "save it from Excel as \"CSV UTF-8\"") from None


def _decoded(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise UnreadableFile(f"the file starts as {encoding} but is not valid {encoding}") from None


def normal_column(name: str) -> str:
    return name.strip().lower()


def sniff_delimiter(header_line: str, known: Iterable[str]) -> str:
    """The delimiter that makes the most known column names of the header (ties: the most columns)."""
    wanted = set(known)

    def score(delimiter: str) -> tuple[int, int]:
        names = [normal_column(name) for name in next(csv.reader([header_line], delimiter=delimiter))]
        return sum(1 for name in names if name in wanted or name.split(":", 1)[0] in wanted), len(names)

    return max(DELIMITERS, key=score)


def read_csv(data: bytes, known_columns: Iterable[str], max_rows: int) -> CsvFile:
    """Every non-empty row under the header. Raises UnreadableFile."""
    text, encoding = decode(data)
    if "\x00" in text:
        raise UnreadableFile("the file holds NUL characters: it is not a text CSV")
    header_line = text.splitlines()[0] if text.strip() else ""
    if not header_line.strip():
        raise UnreadableFile("the file is empty: the first line names the columns")
    delimiter = sniff_delimiter(header_line, known_columns)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        columns = [normal_column(name) for name in next(reader)]
        rows = _rows(reader, columns, max_rows)
    except csv.Error as error:
        raise UnreadableFile(f"line {reader.line_num}: {error}") from None
    return CsvFile(encoding, delimiter, columns, rows)


def _rows(reader: Any, columns: list[str], max_rows: int) -> list[CsvRow]:  # csv's reader type is private
    rows: list[CsvRow] = []
    start = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):  # Excel leaves lines of bare delimiters under the data
            if len(rows) == max_rows:
                raise UnreadableFile(f"the file has more than {max_rows:,} rows; split it")
            padded = cells + [""] * (len(columns) - len(cells))
            extra = sum(1 for cell in cells[len(columns):] if cell.strip())
            rows.append(CsvRow(start, dict(zip(columns, padded, strict=False)), extra))
        start = reader.line_num + 1
    return rows
