"""Fires the app's `@app.schedule` functions at the times EventBridge would.

The schedules are read from the app's registered event sources, never repeated
here. Each firing calls the registered handler with the event EventBridge sends
("Scheduled Event") on its own thread, as Lambda would run overlapping
invocations side by side; a failing handler is logged and the clock goes on.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalice.app import ScheduledEventConfig

from chalicelib.core.clock import Clock, SystemClock
from infra.local.lambda_runtime import LambdaEnvironment
from infra.local.schedule_expressions import CronSchedule, RateSchedule, parse_schedule

log = logging.getLogger(__name__)

Launcher = Callable[[str, Callable[[], None]], None]
# Re-read the clock at least this often, so a suspended laptop or a changed clock is noticed.
_LONGEST_WAIT_S = 30.0


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    schedule: RateSchedule | CronSchedule


def scheduled_jobs(env: LambdaEnvironment) -> list[ScheduledJob]:
    return [
        ScheduledJob(name=source.name, schedule=parse_schedule(source.schedule_expression))
        for source in env.app.event_sources
        if isinstance(source, ScheduledEventConfig)
    ]


def find_job_name(env: LambdaEnvironment, name: str) -> str:
    """Accept `nightly-metrics` for the function `nightly_metrics`."""
    names = [source.name for source in env.app.event_sources if isinstance(source, ScheduledEventConfig)]
    for candidate in (name, name.replace("-", "_")):
        if candidate in names:
            return candidate
    raise LookupError(f"no scheduled function {name!r}; the app schedules: {', '.join(sorted(names))}")


def scheduled_event(env: LambdaEnvironment, name: str, moment: datetime,
                    event_id: str | None = None) -> dict[str, Any]:
    """The payload an EventBridge schedule rule delivers to its Lambda target."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": env.account_id,
        "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": env.region,
        "resources": [f"arn:aws:events:{env.region}:{env.account_id}:rule/{env.function_name(name)}"],
        "detail": {},
    }


def run_job(env: LambdaEnvironment, name: str, moment: datetime | None = None) -> Any:
    """Fire one scheduled function once, now, and return what it returns (for `run-job`)."""
    name = find_job_name(env, name)
    moment = moment or datetime.now(UTC)
    return env.handler(name)(scheduled_event(env, name, moment), env.context(name))


def _launch_on_thread(name: str, work: Callable[[], None]) -> None:
    threading.Thread(target=work, name=f"schedule-{name}", daemon=True).start()


class Scheduler:
    def __init__(self, env: LambdaEnvironment, jobs: list[ScheduledJob], clock: Clock | None = None,
                 launch: Launcher = _launch_on_thread) -> None:
        self._env = env
        self._clock = clock or SystemClock()
        self._launch = launch
        self._started = self._clock.now()
        self._jobs = jobs
        self._next: dict[str, datetime | None] = {
            job.name: job.schedule.next_fire(self._started, self._started) for job in jobs}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = 0
        self._running_changed = threading.Condition()

    def next_fire_times(self) -> dict[str, datetime | None]:
        return dict(self._next)

    def fire_due(self) -> datetime | None:
        """Fire every job whose time has come; return the next time anything is due."""
        now = self._clock.now()
        for job in self._jobs:
            due = self._next[job.name]
            if due is None or due > now:
                continue
            with self._running_changed:
                self._running += 1
            self._launch(job.name, lambda job=job, due=due: self._invoke(job, due))
            # Like EventBridge, a firing missed while the machine slept is not made up for.
            self._next[job.name] = job.schedule.next_fire(max(due, now), self._started)
        upcoming = [moment for moment in self._next.values() if moment is not None]
        return min(upcoming) if upcoming else None

    def _invoke(self, job: ScheduledJob, due: datetime) -> None:
        started = time.monotonic()
        try:
            event = scheduled_event(self._env, job.name, due)
            result = self._env.handler(job.name)(event, self._env.context(job.name))
            # With what it answered (the tick: how many it queued), which the bench reads from the log.
            log.info("Scheduled function %s ran for %s in %.0f ms: %s", job.name,
                     due.strftime("%H:%M"), (time.monotonic() - started) * 1000, _answer(result))
        except Exception:
            log.exception("Scheduled function %s failed for %s; the schedule goes on",
                          job.name, due.strftime("%H:%M"))
        finally:
            with self._running_changed:
                self._running -= 1
                self._running_changed.notify_all()

    def _loop(self) -> None:
        while not self._stop.is_set():
            upcoming = self.fire_due()
            wait_s = _LONGEST_WAIT_S
            if upcoming is not None:
                wait_s = min(wait_s, max(0.0, (upcoming - self._clock.now()).total_seconds()))
            self._stop.wait(wait_s)

    def start(self) -> None:
        for job in self._jobs:
            log.info("Scheduling %s on %s; first at %s", job.name, job.schedule.expression,
                     _describe(self._next[job.name]))
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop firing; give functions already running `grace_s` to finish."""
        self._stop.set()
        if self._thread:
            self._thread.join()
        with self._running_changed:
            if not self._running_changed.wait_for(lambda: self._running == 0, timeout=grace_s):
                log.warning("%d scheduled function(s) still running at shutdown", self._running)


def _answer(result: Any) -> str:
    try:
        return json.dumps(result, default=str, separators=(",", ":"))[:500]
    except (TypeError, ValueError):
        return repr(result)[:500]


def _describe(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never (no future time matches)"
