"""Scheduled functions and queue consumers: parse the event, call one service."""
from __future__ import annotations

from typing import Any


def run_job_by_name(name: str, date: str | None = None) -> Any:
    """Runs one scheduled function once, through the handler Lambda would call."""
    from chalice.app import ScheduledEventConfig

    from app import app

    wanted = name.replace("-", "_")
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig) and source.name == wanted:
            handler = getattr(__import__(source.handler_string.rsplit(".", 1)[0], fromlist=["_"]),
                              source.handler_string.rsplit(".", 1)[1])
            event = {"version": "0", "id": "run-job", "detail-type": "Scheduled Event", "source": "aws.events",
                     "account": "000000000000", "time": "", "region": "", "resources": [],
                     "detail": {"date": date} if date else {}}
            return handler(event, None)
    names = sorted(s.name.replace("_", "-") for s in app.event_sources if isinstance(s, ScheduledEventConfig))
    raise SystemExit(f"No scheduled job '{name}'; there are: {', '.join(names)}")
