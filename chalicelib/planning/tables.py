"""The planning table: each channel's queue (its posting schedule and the slots its posts hold), recurring
series with an index of their occurrences, and evergreen posts waiting to be recycled.
Keys and indexes as in infra/resources.py; layouts in docs/data-model.md."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.tables import index_meta, table_meta


class PlanningJobItems(GlobalSecondaryIndex["PlanningRecord"]):
    """Sparse: the active series and the posts waiting to be recycled, spread over a few shards:
    the daily plan_ahead job's way to each of them (Query per shard, never a Scan)."""

    Meta = index_meta("job_items")
    job_shard = UnicodeAttribute(hash_key=True)
    job_key = UnicodeAttribute(range_key=True)


class PlanningRecord(Model):
    Meta = table_meta("planning")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    workspace_id = UnicodeAttribute()
    job_shard = UnicodeAttribute(null=True)
    job_key = UnicodeAttribute(null=True)
    job_items = PlanningJobItems()


class QueueScheduleRecord(PlanningRecord, discriminator="queue"):
    """pk `<workspace>#<channel>`, sk `queue`: the slots (JSON `[{weekday, time}]`) and whether it is paused."""

    channel_id = UnicodeAttribute()
    slots = UnicodeAttribute(default="[]")
    paused = BooleanAttribute(default=False)
    version = NumberAttribute(default=1)
    updated_at = UnicodeAttribute()


class SlotClaimRecord(PlanningRecord, discriminator="slot"):
    """pk `<workspace>#<channel>`, sk `slot#<UTC time>`: the post holding that slot. Put only if absent, so
    two posts queued at once never take the same slot; the queue's order is the order of these keys."""

    channel_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    slot_at = UnicodeAttribute()
    # Gone some days after the slot went by.
    expires_at_epoch = TTLAttribute(null=True)


class SeriesRecord(PlanningRecord, discriminator="series"):
    """pk `<workspace>`, sk `series#<series_id>`: a recurring post's rule and the post it repeats."""

    series_id = UnicodeAttribute()
    recurrence = UnicodeAttribute()
    dtstart = UnicodeAttribute()  # the local wall-clock start, ISO without offset, in `timezone`
    timezone = UnicodeAttribute()
    template = UnicodeAttribute()  # JSON: text, channel_ids, variants, media, thread, first_comment
    status = UnicodeAttribute(default="active")
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    planned_until = UnicodeAttribute(null=True)


class OccurrenceRecord(PlanningRecord, discriminator="occurrence"):
    """pk `<workspace>#series#<series_id>`, sk `occ#<occurrence key>`: the post made for that occurrence."""

    series_id = UnicodeAttribute()
    occurrence_key = UnicodeAttribute()
    post_id = UnicodeAttribute()
    publish_at = UnicodeAttribute()


class RecycleRecord(PlanningRecord, discriminator="recycle"):
    """pk `<workspace>`, sk `recycle#<post_id>`: an evergreen post, copied into the queue N days after it
    went out (job keys while it waits; the copy's id once made)."""

    post_id = UnicodeAttribute()
    after_days = NumberAttribute()
    copy_id = UnicodeAttribute(null=True)
