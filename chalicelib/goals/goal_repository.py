"""Goals, by workspace (chalicelib/goals/tables.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pynamodb.exceptions import DoesNotExist

from chalicelib.goals.tables import GoalRecord

MAX_GOALS = 100


@dataclass
class GoalRow:
    workspace_id: str
    goal_id: str
    metric: str
    target: float
    period: str
    label: str
    first_day: date
    last_day: date
    channel_ids: list[str] | None
    created_at: str
    updated_at: str
    currency: str | None = None  # ad spend efficiency: the target's currency, the campaigns followed
    campaign_ids: list[str] | None = None  # ad spend efficiency: None, every campaign in the currency


def _row(record: GoalRecord) -> GoalRow:
    target = float(record.target)
    return GoalRow(record.workspace_id, record.goal_id, record.metric, int(target) if target.is_integer() else target,
                   record.period, record.label, date.fromisoformat(record.first_day),
                   date.fromisoformat(record.last_day),
                   None if record.channel_ids is None else list(record.channel_ids), record.created_at,
                   record.updated_at, record.currency,
                   None if record.campaign_ids is None else list(record.campaign_ids))


class GoalRepository:
    def put(self, row: GoalRow) -> None:
        GoalRecord(row.workspace_id, row.goal_id, metric=row.metric, target=row.target, period=row.period,
                   label=row.label, first_day=row.first_day.isoformat(), last_day=row.last_day.isoformat(),
                   channel_ids=row.channel_ids, created_at=row.created_at, updated_at=row.updated_at,
                   currency=row.currency, campaign_ids=row.campaign_ids).save()

    def get(self, workspace_id: str, goal_id: str) -> GoalRow | None:
        try:
            return _row(GoalRecord.get(workspace_id, goal_id))
        except DoesNotExist:
            return None

    def list(self, workspace_id: str) -> list[GoalRow]:
        return [_row(r) for r in GoalRecord.query(workspace_id, limit=MAX_GOALS)]

    def delete(self, workspace_id: str, goal_id: str) -> None:
        GoalRecord(workspace_id, goal_id).delete()
