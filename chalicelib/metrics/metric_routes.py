"""Daily metrics, monthly and quarterly reports, and the best time to post."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.core.api import Call, json_response, route
from chalicelib.metrics.schemas import (
    BestTimes,
    DailyMetrics,
    DailyQuery,
    MonthlyReportQuery,
    QuarterlyReportQuery,
    Report,
)
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "metrics"
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
                 "html": "text/html; charset=utf-8"}


@route(bp, "/metrics/daily", "GET", summary="Figures per local day, for the workspace or one channel",
       tag=TAG, query=DailyQuery, response=DailyMetrics)
def daily_metrics(call: Call[Container]) -> dict[str, Any]:
    q: DailyQuery = call.query
    return call.deps.reports.daily(call.workspace_id, q.from_, q.to, q.channel_id)


def _answer(report: dict[str, Any], fmt: str) -> Response:
    if fmt == "json":
        return json_response(report)
    from chalicelib.metrics.report_csv import render_csv
    from chalicelib.metrics.report_html import render_html

    body = render_csv(report) if fmt == "csv" else render_html(report)
    period = report["period"]
    filename = f"herald-{period['kind']}-{period['label']}.{fmt}"
    disposition = "attachment" if fmt == "csv" else "inline"
    return Response(body=body, status_code=200, headers={
        "Content-Type": CONTENT_TYPES[fmt], "Content-Disposition": f'{disposition}; filename="{filename}"',
        "Cache-Control": "private, no-store"})


@route(bp, "/reports/monthly", "GET", summary="The monthly report: JSON, CSV or one HTML page", tag=TAG,
       query=MonthlyReportQuery, response=Report, also_serves=("text/csv", "text/html"))
def monthly_report(call: Call[Container]) -> Response:
    from chalicelib.metrics.reports import month_period

    q: MonthlyReportQuery = call.query
    return _answer(call.deps.reports.report(call.workspace_id, month_period(q.month)), q.format)


@route(bp, "/reports/quarterly", "GET", summary="The quarterly report: JSON, CSV or one HTML page", tag=TAG,
       query=QuarterlyReportQuery, response=Report, also_serves=("text/csv", "text/html"))
def quarterly_report(call: Call[Container]) -> Response:
    from chalicelib.metrics.reports import quarter_period

    q: QuarterlyReportQuery = call.query
    return _answer(call.deps.reports.report(call.workspace_id, quarter_period(q.quarter)), q.format)


@route(bp, "/channels/{channel_id}/best-times", "GET", tag=TAG, response=BestTimes,
       summary="When this channel's posts get the most engagement")
def best_times(call: Call[Container], channel_id: str) -> dict[str, Any]:
    return call.deps.reports.best_times(call.workspace_id, channel_id)
