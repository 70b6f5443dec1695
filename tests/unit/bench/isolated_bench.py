"""A bench for test_bench_runner: what a bench sees of the process it runs in."""
from __future__ import annotations

import os
import sys
from typing import Any


def run() -> dict[str, Any]:
    return {"pid": os.getpid(), "tables_imported": "chalicelib.publishing.tables" in sys.modules}
