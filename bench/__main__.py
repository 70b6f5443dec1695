"""`python -m bench` (what `make bench` runs): every bench below, then ONE line of JSON on stdout with
all their figures. Progress goes to stderr. See bench/README.md.

`python -m bench webhooks links` runs only the benches named (the last part of the module's name)."""
from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import imports, links, nightly, package, publishing, webhooks
from bench.isolation import configure_logging, in_own_process
from bench.stack import LocalStackProcess

# Modules whose `run() -> dict` starts whatever it needs itself.
SELF_CONTAINED: list[ModuleType] = [publishing, nightly, package, imports]
# Modules whose `run(api_url, aws_endpoint_url, network_apis=...) -> dict` measure a local stack; they share one.
ON_LOCAL_STACK: list[ModuleType] = [webhooks, links]
# The shared stack's Meta app secret: the webhook bench signs its events with it.
BENCH_META_SECRET = "bench-meta-app-secret"

log = logging.getLogger("bench")


def merge(figures: dict[str, Any], more: dict[str, Any], source: str) -> None:
    clashing = sorted(set(figures) & set(more))
    if clashing:
        raise ValueError(f"{source} reports figures another bench already reported: {', '.join(clashing)}")
    figures.update(more)


def _named(modules: list[ModuleType], only: list[str] | None) -> list[ModuleType]:
    return [module for module in modules if only is None or module.__name__.rsplit(".", 1)[1] in only]


def run_all(only: list[str] | None = None) -> dict[str, Any]:
    started = time.monotonic()
    figures: dict[str, Any] = {}
    for module in _named(SELF_CONTAINED, only):
        log.info("Running %s", module.__name__)
        merge(figures, in_own_process(module), module.__name__)
    on_local_stack = _named(ON_LOCAL_STACK, only)
    if on_local_stack:
        state_dir = Path(tempfile.mkdtemp(prefix="herald-bench-stack-"))
        os.environ["HERALD_META_APP_SECRET"] = BENCH_META_SECRET
        # Channels are verified with the network when they connect: the stack asks a local fake of the APIs.
        from tests.fakes.network_apis import NetworkApis

        with NetworkApis() as apis, LocalStackProcess(state_dir, extra_env={
                "HERALD_SAVE_EVERY_S": "0", "HERALD_META_APP_SECRET": BENCH_META_SECRET,
                "HERALD_META_GRAPH_URL": f"{apis.url}/v25.0"}) as stack:
            os.environ["HERALD_API_KEY"] = stack.api_key
            for module in on_local_stack:
                log.info("Running %s on %s", module.__name__, stack.api_url)
                merge(figures, module.run(stack.api_url, stack.aws_endpoint_url, network_apis=apis),
                      module.__name__)
        shutil.rmtree(state_dir, ignore_errors=True)  # kept, with the stack's log, when a bench fails
    figures["bench_s"] = round(time.monotonic() - started, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    only = list(sys.argv[1:] if argv is None else argv) or None
    known = {module.__name__.rsplit(".", 1)[1] for module in SELF_CONTAINED + ON_LOCAL_STACK}
    if only and set(only) - known:
        raise SystemExit(f"python -m bench: no bench named {', '.join(sorted(set(only) - known))} "
                         f"(there are {', '.join(sorted(known))})")
    configure_logging()
    figures = run_all(only)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
