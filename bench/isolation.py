"""Running a bench in a new interpreter (see in_own_process). In a module of its own, not bench/__main__.py:
the spawned interpreter finds what it runs by module name, and `python -m bench`'s __main__ is not one."""
from __future__ import annotations

import logging
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from types import ModuleType
from typing import Any


def in_own_process(module: ModuleType) -> dict[str, Any]:
    """`module.run()` in a new interpreter: the table models bind their endpoint when first imported, so a
    bench that ran before on an emulator of its own (since stopped) would otherwise leave the next one
    talking to it."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=configure_logging) as pool:
        figures: dict[str, Any] = pool.submit(module.run).result()
    return figures


def configure_logging() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        datefmt="%H:%M:%S")
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
