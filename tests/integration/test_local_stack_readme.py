"""The README's "Try it with curl" block, run with bash exactly as written against a fresh local stack.

Two substitutions keep it bounded, and nothing else is changed: the post to watch is scheduled 5 s ahead
instead of 90 (`from_now 90` -> `from_now 5`), and `sleep 95` becomes a poll that waits (at most 60 s) until
that post is published. `curl` is wrapped so each call also reports its status on stderr; every one must be 2xx.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from infra.local.ports import free_ports
from tests.support.local_stack import REPO, local_stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WATCH_SCHEDULED = "$(from_now 90)"
WATCH_WAIT = "sleep 95"
WAIT_UNTIL_PUBLISHED = ('for _ in $(seq 60); do [ "$(api $API/posts/$POST | field status)" = published ] && break; '
                        'sleep 1; done; [ "$(api $API/posts/$POST | field status)" = published ]')
# Records each call's status without touching what it prints (the block pipes answers into `field`).
CURL_REPORTING_STATUS = "curl() { command curl --write-out '%{stderr}HTTP %{http_code} %{url_effective}\\n' \"$@\"; }"


def readme_curl_block() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Try it with curl"):]
    return re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)  # type: ignore[union-attr]


def bounded(block: str) -> str:
    assert block.count(WATCH_SCHEDULED) == 1 and block.count(WATCH_WAIT) == 1, "the README's watch step changed"
    return block.replace(WATCH_SCHEDULED, "$(from_now 5)").replace(WATCH_WAIT, WAIT_UNTIL_PUBLISHED)


def test_every_step_of_the_readme_curl_walk_through_answers_2xx_in_order(tmp_path: Path) -> None:
    state_dir, log_path = tmp_path / ".local", tmp_path / "stack.log"
    block = readme_curl_block()
    calls_written = len(re.findall(r"^[^#\n]*\bapi (?:-X \w+ )?\"?\$API", block, re.MULTILINE))
    script = "\n".join(["set -euo pipefail", CURL_REPORTING_STATUS, bounded(block), "echo WALK-THROUGH-DONE"])
    ports = free_ports(2)
    with local_stack(state_dir, log_path, ports, app="app:app", ready_path="/health"):
        # As a user's shell on a fresh clone: at its top (for .local/api-key), with HERALD_PORT set.
        env = {**{name: value for name, value in os.environ.items() if not name.startswith("HERALD_")},
               "HERALD_PORT": str(ports[0])}
        run = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=180)

    said = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    statuses = re.findall(r"^HTTP (\d{3}) (\S+)$", run.stderr, re.MULTILINE)
    assert run.returncode == 0, said
    assert run.stdout.rstrip().endswith("WALK-THROUGH-DONE"), said
    assert [call for call in statuses if not call[0].startswith("2")] == [], said
    assert len(statuses) >= calls_written >= 14, said
    assert all(url.startswith(f"http://127.0.0.1:{ports[0]}/") for _, url in statuses), said
