"""`report.ready`: a workspace's month or quarter is rolled up, so its report is final."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.outbound_webhooks.sending import WebhookEmitter


class ReportNotifications:
    def __init__(self, emitter: WebhookEmitter, public_base_url: str) -> None:
        self.emitter = emitter
        self.public_base_url = public_base_url.rstrip("/")

    def period_closed(self, workspace_id: str, period: str) -> None:
        kind, query = ("quarterly", "quarter") if "-Q" in period else ("monthly", "month")
        self.emitter.emit(workspace_id, "report.ready", {
            "report": kind, query: period,
            "url": f"{self.public_base_url}/reports/{kind}?{query}={period}&format=html"},
            event_key=f"{kind}:{period}")
