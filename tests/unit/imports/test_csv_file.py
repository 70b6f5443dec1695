"""Reading CSVs as people make them (chalicelib/imports/csv_file.py): encodings, delimiters, line numbers."""
from __future__ import annotations

import pytest

from chalicelib.imports.csv_file import UnreadableFile, read_csv

KNOWN = ("text", "channels", "publish_at", "media")


def test_a_row_is_numbered_by_the_line_it_starts_on_after_a_cell_holding_newlines() -> None:
    data = b'text,channels\r\n"one\r\ntwo\r\nthree",A\r\nnext,B\r\n'

    rows = read_csv(data, KNOWN, 10).rows

    assert [(r.line, r.cells["text"]) for r in rows] == [(2, "one\r\ntwo\r\nthree"), (5, "next")]


def test_the_delimiter_is_the_one_that_makes_known_columns_even_when_the_text_holds_commas() -> None:
    data = "text;channels\nMerhaba, dünya;A\n".encode()

    parsed = read_csv(data, KNOWN, 10)

    assert (parsed.delimiter, parsed.rows[0].cells) == (";", {"text": "Merhaba, dünya", "channels": "A"})


def test_text_that_is_not_utf8_is_read_as_windows_1254_and_one_with_its_undefined_bytes_is_refused() -> None:
    assert read_csv("text;channels\nŞişli;A\n".encode("cp1254"), KNOWN, 10).encoding == "cp1254"
    with pytest.raises(UnreadableFile, match="neither UTF-8, UTF-16 nor Windows-1254"):
        read_csv(b"text;channels\n\x81;A\n", KNOWN, 10)


def test_more_rows_than_the_limit_are_refused_and_bare_delimiter_rows_are_not_rows() -> None:
    assert len(read_csv(b"text;channels\na;A\n;\n;\n", KNOWN, 1).rows) == 1
    with pytest.raises(UnreadableFile, match="more than 2 rows"):
        read_csv(b"text,channels\na,A\nb,B\nc,C\n", KNOWN, 2)


def test_a_cell_past_the_header_is_counted_for_the_row_to_report() -> None:
    [row] = read_csv(b"text,channels\nHello, world,A\n", KNOWN, 10).rows

    assert row.extra_cells == 1
