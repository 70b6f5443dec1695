from __future__ import annotations

import os

import chalicelib.publishing.tables  # noqa: F401  (bound here to this process's endpoint)
from bench.isolation import in_own_process
from tests.unit.bench import isolated_bench


def test_each_self_contained_bench_runs_in_a_new_interpreter_without_the_tables_an_earlier_one_bound() -> None:
    """Table models bind their endpoint at import: the nightly bench failed after the CPU bench's emulator
    stopped, talking to it still."""
    seen = in_own_process(isolated_bench)
    assert seen["pid"] != os.getpid() and seen["tables_imported"] is False
