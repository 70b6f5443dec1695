"""console/time.js, the console's time-zone arithmetic (Intl only), run by Node as the browser runs it: a wall
time in the workspace's zone becomes the right UTC instant, DST changes included, and back."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.support.local_stack import REPO

CASES = [
    # (date, time, zone, expected UTC)
    ("2026-07-01", "10:00", "Europe/Paris", "2026-07-01T08:00:00Z"),
    ("2026-12-01", "10:00", "Europe/Paris", "2026-12-01T09:00:00Z"),
    ("2026-03-29", "03:30", "Europe/Paris", "2026-03-29T01:30:00Z"),  # the day summer time starts
    ("2026-10-25", "12:00:30", "Europe/Paris", "2026-10-25T11:00:30Z"),  # the day it ends, with seconds
    ("2026-03-08", "12:00", "America/New_York", "2026-03-08T16:00:00Z"),
    ("2026-12-31", "23:30", "Pacific/Auckland", "2026-12-31T10:30:00Z"),
    ("2026-06-15", "09:15", "UTC", "2026-06-15T09:15:00Z"),
]


def run_module(script: str) -> object:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (make test needs it for the Bluesky PDS too)")
    answer = subprocess.run([node, "--input-type=module", "-e", script], cwd=REPO, capture_output=True, text=True,
                            timeout=30, check=True)
    return json.loads(answer.stdout)


def test_a_wall_time_in_the_workspaces_zone_is_the_right_instant_and_reads_back_the_same():
    script = f"""
        import {{ zonedToUtc, localDate, localTime }} from "./console/time.js";
        const out = {json.dumps(CASES)}.map(([date, time, zone]) => {{
          const utc = zonedToUtc(date, time, zone);
          return [utc, localDate(utc, zone), localTime(utc, zone, time.length > 5)];
        }});
        console.log(JSON.stringify(out));
    """
    results = run_module(script)

    assert results == [[utc, date, time] for date, time, _zone, utc in CASES]


def test_month_grids_and_steps_cross_years():
    script = """
        import { addDays, shiftMonth, weekday } from "./console/time.js";
        console.log(JSON.stringify([addDays("2026-12-31", 1), addDays("2024-02-28", 1), shiftMonth("2026-12", 1),
                                    shiftMonth("2026-01", -1), weekday("2026-12-07"), weekday("2026-12-06")]));
    """
    assert run_module(script) == ["2027-01-01", "2024-02-29", "2027-01", "2025-12", 0, 6]
