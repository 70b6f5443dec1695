"""The import bench (bench/imports.py) at a tiny size: it imports every row once and reports its figures."""
from __future__ import annotations

from bench.imports import measure


def test_the_import_bench_imports_every_row_and_counts_one_transaction_a_post() -> None:
    figures = measure(12)

    assert (figures["import_status"], figures["import_created"], figures["import_invalid"]) == ("done", 12, 0)
    assert figures["import_rows"] == 12
    assert figures["import_10k_rows_s"] > 0
    # One transaction per post (its deliveries inside), the import row's creation, start and progress.
    assert figures["import_ddb_writes"]["TransactWriteItems None"] == 12
    assert 1.0 < figures["import_ddb_writes_per_row"] < 1.5
