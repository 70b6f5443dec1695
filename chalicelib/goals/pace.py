"""How a goal is doing: pure maths from the figure's value, the target and how much of the period is over.

- A count that adds up over the period (audience growth, reach, word of mouth, traffic, conversions) is
  expected to grow with time: after 40 % of the period, 40 % of the target. Within PACE_TOLERANCE of that is
  `on_track`, above it `ahead`, below `behind` (by how much below the expected value). Reaching the target is
  `met`; a period that ended short of it is `behind` by what was missing.
- A rate or a time (engagement rate, response rate, response time) does not add up: it is compared with the
  target as it stands; `met` once the period ended at or beyond the target, `on_track` while it is, `behind`
  by the difference otherwise. For response time and ad spend efficiency (cost per conversion), lower is
  better.
"""
from __future__ import annotations

from typing import Any, Literal

from chalicelib.metrics.figures import clean

Kind = Literal["cumulative", "level", "lower_is_better"]
PACE_TOLERANCE = 0.10


def _rounded(value: float | None) -> float | None:
    return None if value is None else clean(value)


def progress(kind: Kind, value: float | None, target: float, elapsed: float) -> dict[str, Any]:
    """`elapsed`: the share of the period over, from 0 to 1."""
    elapsed = min(1.0, max(0.0, elapsed))
    base: dict[str, Any] = {"value": value, "target": target, "elapsed_pct": round(100 * elapsed, 1),
                            "expected": None, "percent_of_target": None, "behind_by": None, "ahead_by": None}
    if elapsed <= 0:
        return {**base, "pace": "not_started"}
    if value is None:
        return {**base, "pace": "unknown"}
    if kind == "cumulative":
        return {**base, **_cumulative(value, target, elapsed)}
    return {**base, **_level(value, target, elapsed >= 1.0, kind == "lower_is_better")}


def _cumulative(value: float, target: float, elapsed: float) -> dict[str, Any]:
    expected = target * elapsed
    out: dict[str, Any] = {"expected": _rounded(expected), "percent_of_target": round(100 * value / target, 1)}
    if value >= target:
        return {**out, "pace": "met"}
    if elapsed >= 1.0:
        return {**out, "pace": "behind", "behind_by": _rounded(target - value)}
    if value > expected * (1 + PACE_TOLERANCE):
        return {**out, "pace": "ahead", "ahead_by": _rounded(value - expected)}
    if value >= expected * (1 - PACE_TOLERANCE):
        return {**out, "pace": "on_track"}
    return {**out, "pace": "behind", "behind_by": _rounded(expected - value)}


def _level(value: float, target: float, ended: bool, lower_is_better: bool) -> dict[str, Any]:
    reached = value <= target if lower_is_better else value >= target
    share = (target / value if value else 1.0) if lower_is_better else value / target
    out: dict[str, Any] = {"expected": target, "percent_of_target": round(100 * share, 1)}
    if reached:
        return {**out, "pace": "met" if ended else "on_track"}
    return {**out, "pace": "behind", "behind_by": _rounded(abs(value - target))}
