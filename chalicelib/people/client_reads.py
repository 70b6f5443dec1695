"""What an agency reads of each client workspace, through each feature's own service (the same keyed
queries its routes make)."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from chalicelib.accounts.workspace_repository import WorkspaceRow

if TYPE_CHECKING:
    from chalicelib.inbox.conversations import InboxService
    from chalicelib.metrics.reports import ReportService
    from chalicelib.publishing.calendar import CalendarService
    from chalicelib.publishing.posts import PostService


class ServiceClientReads:
    def __init__(self, calendar: CalendarService, posts: PostService, inbox: InboxService,
                 reports: ReportService) -> None:
        self._calendar = calendar
        self._posts = posts
        self._inbox = inbox
        self._reports = reports

    def calendar(self, workspace: WorkspaceRow, month: str) -> list[tuple[date, list[Any]]]:
        return [(day, posts) for day, posts in self._calendar.month(workspace.workspace_id, month,
                                                                    workspace.timezone)]

    def open_conversations(self, workspace_id: str, limit: int) -> list[Any]:
        from chalicelib.inbox.conversation_filter import ConversationFilter

        rows, _ = self._inbox.list(workspace_id, ConversationFilter(status="open"), limit, None)
        return list(rows)

    def at_risk(self, workspace_id: str, limit: int) -> list[tuple[Any, list[Any]]]:
        rows, _ = self._posts.list_at_risk(workspace_id, limit=limit, cursor=None)
        return [(post, list(deliveries)) for post, deliveries in rows]

    def failed(self, workspace_id: str, limit: int) -> list[tuple[Any, list[Any]]]:
        rows, _ = self._posts.list(workspace_id, status="failed", channel_id=None, start=None, end=None,
                                   limit=limit, cursor=None)
        return [(post, list(deliveries)) for post, deliveries in rows]

    def month_report(self, workspace_id: str, month: str) -> dict[str, Any]:
        from chalicelib.metrics.reports import month_period

        report = self._reports.report(workspace_id, month_period(month))
        return {"complete": report["complete"], "figures": report["figures"], "period": report["period"]}
