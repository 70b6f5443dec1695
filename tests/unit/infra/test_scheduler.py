from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice import Chalice, Cron, Rate
from chalice.app import CloudWatchEvent

from chalicelib.core.clock import FixedClock
from infra.local.lambda_runtime import LambdaEnvironment
from infra.local.scheduler import Scheduler, run_job, scheduled_event, scheduled_jobs
from tests.support.events import load_event


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run_inline(name: str, work: Callable[[], None]) -> None:
    work()


class RecordingApp:
    """A Chalice app with three schedules that write down every event and context they get."""

    def __init__(self) -> None:
        self.app = Chalice(app_name="herald", configure_logs=False)
        self.calls: list[tuple[str, dict[str, Any], Any]] = []
        app = self.app

        @app.schedule(Rate(1, unit=Rate.MINUTES))
        def tick(event: CloudWatchEvent) -> None:
            self.calls.append(("tick", event.to_dict(), event.context))

        @app.schedule(Cron(30, 2, "*", "*", "?", "*"), name="nightly_metrics")
        def nightly(event: CloudWatchEvent) -> None:
            self.calls.append(("nightly_metrics", event.to_dict(), event.context))

        @app.schedule("rate(5 minutes)")
        def broken(event: CloudWatchEvent) -> None:
            raise RuntimeError("the job broke")

        self.env = LambdaEnvironment(app=app, stage="local", region="eu-west-1")


def test_jobs_come_from_the_apps_registered_schedules() -> None:
    recording = RecordingApp()
    jobs = {job.name: job.schedule.expression for job in scheduled_jobs(recording.env)}
    assert jobs == {"tick": "rate(1 minute)", "nightly_metrics": "cron(30 2 * * ? *)",
                    "broken": "rate(5 minutes)"}


def test_the_event_has_the_shape_eventbridge_delivers() -> None:
    documented = load_event("aws", "eventbridge_scheduled_event.json")
    env = LambdaEnvironment(app=Chalice(app_name="my"), stage="scheduled", region="us-east-1")
    built = scheduled_event(env, "rule", utc("2015-10-08 16:53:06"), event_id=documented["id"])
    assert built == documented


def test_each_job_fires_at_its_time_with_its_scheduled_minute_in_the_event() -> None:
    recording = RecordingApp()
    clock = FixedClock(utc("2025-03-01 02:28:30"))
    scheduler = Scheduler(recording.env, scheduled_jobs(recording.env), clock=clock, launch=run_inline)

    clock.set(utc("2025-03-01 02:28:59"))
    assert scheduler.fire_due() == utc("2025-03-01 02:29:00")
    assert recording.calls == []

    clock.set(utc("2025-03-01 02:29:00.300"))
    scheduler.fire_due()
    clock.set(utc("2025-03-01 02:30:00.100"))
    scheduler.fire_due()

    fired = [(name, event["time"]) for name, event, _ in recording.calls]
    assert fired == [("tick", "2025-03-01T02:29:00Z"), ("tick", "2025-03-01T02:30:00Z"),
                     ("nightly_metrics", "2025-03-01T02:30:00Z")]
    _, event, context = recording.calls[-1]
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"] == ["arn:aws:events:eu-west-1:123456789012:rule/herald-local-nightly_metrics"]
    assert context.function_name == "herald-local-nightly_metrics"
    assert context.get_remaining_time_in_millis() > 0


def test_a_failing_job_is_logged_and_everything_keeps_firing(caplog: pytest.LogCaptureFixture) -> None:
    recording = RecordingApp()
    clock = FixedClock(utc("2025-03-01 10:00:00"))
    scheduler = Scheduler(recording.env, scheduled_jobs(recording.env), clock=clock, launch=run_inline)

    with caplog.at_level(logging.ERROR):
        for minute in range(5, 11):
            clock.set(utc(f"2025-03-01 10:{minute:02d}:00"))
            scheduler.fire_due()

    assert [record.getMessage() for record in caplog.records] == [
        "Scheduled function broken failed for 10:05; the schedule goes on",
        "Scheduled function broken failed for 10:10; the schedule goes on"]
    assert "the job broke" in caplog.text
    assert len([call for call in recording.calls if call[0] == "tick"]) == 6
    assert scheduler.next_fire_times()["broken"] == utc("2025-03-01 10:15:00")


def test_firings_missed_while_asleep_are_not_made_up() -> None:
    recording = RecordingApp()
    clock = FixedClock(utc("2025-03-01 10:00:00"))
    scheduler = Scheduler(recording.env, scheduled_jobs(recording.env), clock=clock, launch=run_inline)

    clock.set(utc("2025-03-01 10:42:10"))
    scheduler.fire_due()

    ticks = [event["time"] for name, event, _ in recording.calls if name == "tick"]
    assert ticks == ["2025-03-01T10:01:00Z"]
    assert scheduler.next_fire_times()["tick"] == utc("2025-03-01 10:43:00")


def test_run_job_fires_one_job_once_by_its_name_or_dashed_name() -> None:
    recording = RecordingApp()
    run_job(recording.env, "nightly-metrics", utc("2025-03-01 12:00:00"))
    run_job(recording.env, "tick")
    assert [name for name, _, _ in recording.calls] == ["nightly_metrics", "tick"]
    assert recording.calls[0][1]["time"] == "2025-03-01T12:00:00Z"


def test_run_job_names_the_jobs_there_are_when_asked_for_another() -> None:
    with pytest.raises(LookupError, match="the app schedules: broken, nightly_metrics, tick"):
        run_job(RecordingApp().env, "nightly")
