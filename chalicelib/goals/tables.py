"""The `goals` table: `workspace_id` / `goal_id`; a workspace's goals are one Query."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.core.tables import string_list, table_meta


class GoalRecord(Model):
    Meta = table_meta("goals")
    workspace_id = UnicodeAttribute(hash_key=True)
    goal_id = UnicodeAttribute(range_key=True)
    metric = UnicodeAttribute()
    target = NumberAttribute()
    period = UnicodeAttribute()  # month | quarter | custom
    label = UnicodeAttribute()  # 2026-03, 2026-Q1, or 2026-03-01..2026-05-29
    first_day = UnicodeAttribute()
    last_day = UnicodeAttribute()
    channel_ids = string_list(null=True)  # None: every channel
    currency = UnicodeAttribute(null=True)  # ad spend efficiency only
    campaign_ids = string_list(null=True)  # ad spend efficiency only; None: every campaign in the currency
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
