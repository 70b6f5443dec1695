"""The publishing tables: posts and their deliveries, media, the sandbox network's received posts.
Keys and indexes as in infra/resources.py."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.tables import index_meta, string_list, table_meta
from chalicelib.publishing.projections import DELIVERY_POST, DUE_WORK, POST_LISTING


class PostsByWorkspace(GlobalSecondaryIndex["PostTableRecord"]):
    Meta = index_meta("by_workspace", POST_LISTING)
    post_workspace_id = UnicodeAttribute(hash_key=True)
    publish_key = UnicodeAttribute(range_key=True)


class PostsByStatus(GlobalSecondaryIndex["PostTableRecord"]):
    Meta = index_meta("by_status", POST_LISTING)
    post_workspace_status = UnicodeAttribute(hash_key=True)
    publish_key = UnicodeAttribute(range_key=True)


class DeliveriesByChannel(GlobalSecondaryIndex["PostTableRecord"]):
    Meta = index_meta("by_channel", DELIVERY_POST)
    delivery_workspace_channel = UnicodeAttribute(hash_key=True)
    publish_key = UnicodeAttribute(range_key=True)


class DeliveriesAtRisk(GlobalSecondaryIndex["PostTableRecord"]):
    Meta = index_meta("at_risk", DELIVERY_POST)
    risk_workspace = UnicodeAttribute(hash_key=True)
    publish_key = UnicodeAttribute(range_key=True)


class DueDeliveries(GlobalSecondaryIndex["PostTableRecord"]):
    Meta = index_meta("due", DUE_WORK)
    due_shard = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class PostTableRecord(Model):
    """A post and its deliveries share one item collection (`pk`), so one Query
    reads a post whole."""

    Meta = table_meta("posts")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    workspace_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    publish_key = UnicodeAttribute()
    by_workspace = PostsByWorkspace()
    by_status = PostsByStatus()
    by_channel = DeliveriesByChannel()
    due = DueDeliveries()
    by_risk = DeliveriesAtRisk()  # index `at_risk`; DeliveryRecord.at_risk is the attribute


class PostRecord(PostTableRecord, discriminator="post"):
    text = UnicodeAttribute(default="")
    status = UnicodeAttribute()
    publish_at = UnicodeAttribute(null=True)
    channel_ids = string_list(default=list)
    variants = MapAttribute(default=dict)  # type: ignore[var-annotated]
    media = ListAttribute(default=list)  # type: ignore[var-annotated]
    # The parts after the first (`[{text, media}]`) and the comment added under the post once it is out.
    thread = ListAttribute(null=True)  # type: ignore[var-annotated]
    first_comment = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    post_workspace_id = UnicodeAttribute()
    post_workspace_status = UnicodeAttribute()
    # Bumped by every final delivery outcome; serialises the post's status update.
    outcome_seq = NumberAttribute(null=True)
    # Deliveries not yet published, failed, unknown or canceled: each final outcome takes one off,
    # and the one that takes the last sets the post's status (deliveries/_finish).
    open_deliveries = NumberAttribute(null=True)
    # The workspace's time zone when the post was last written: outcomes are
    # counted on the local day without reading the workspace.
    timezone = UnicodeAttribute(null=True)
    # Queue slots, series and recycling (JSON; PostRow.plan says what it holds).
    plan = UnicodeAttribute(null=True)
    # The approval round (chalicelib/approval/steps.py), kept with the post so a decision and the status it
    # sets are one conditional write.
    approval = MapAttribute(null=True)  # type: ignore[var-annotated]


class DeliveryRecord(PostTableRecord, discriminator="delivery"):
    channel_id = UnicodeAttribute()
    network = UnicodeAttribute()
    status = UnicodeAttribute()
    post_version = NumberAttribute(default=1)
    remote_id = UnicodeAttribute(null=True)
    remote_url = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    published_at = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    lease_until = UnicodeAttribute(null=True)
    claim_token = UnicodeAttribute(null=True)
    # While queued: the token of the one message that may claim it (docs/publishing.md), and when that
    # message is due (a claim before then is refused). Not projected: only the claim reads them.
    send_token = UnicodeAttribute(null=True)
    next_due = UnicodeAttribute(null=True)
    # What the adapter recorded of a multi-step publish (JSON): a later attempt continues from it.
    progress = UnicodeAttribute(null=True)
    first_attempt_at = UnicodeAttribute(null=True)
    # When it reached its final status (published, failed, unknown): the day the counter consumer counts it on.
    finished_at = UnicodeAttribute(null=True)
    # The last attempt was ambiguous: the next claim asks the network whether it published before publishing.
    look_first = BooleanAttribute(null=True)
    # What went wrong after the post was out (a refused first comment), shown while published.
    warnings = string_list(null=True)
    delivery_workspace_channel = UnicodeAttribute()
    due_shard = UnicodeAttribute(null=True)
    due_key = UnicodeAttribute(null=True)
    # Why this unsent delivery may not go out (its channel's health: accounts/health_rules.py), and the
    # workspace id while it is at risk (sparse index `at_risk`, GET /posts?at_risk=true).
    at_risk = UnicodeAttribute(null=True)
    # {url: short url} of the channel's text (JSON), set when the post is saved.
    short_links = UnicodeAttribute(null=True)
    risk_workspace = UnicodeAttribute(null=True)


class MediaRecord(Model):
    Meta = table_meta("media")
    workspace_id = UnicodeAttribute(hash_key=True)
    media_id = UnicodeAttribute(range_key=True)
    filename = UnicodeAttribute()
    mime = UnicodeAttribute()
    size = NumberAttribute()
    object_key = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()


class SandboxPostRecord(Model):
    """What the built-in sandbox network received, duplicates included."""

    Meta = table_meta("sandbox_posts")
    channel_key = UnicodeAttribute(hash_key=True)
    received_key = UnicodeAttribute(range_key=True)
    delivery_id = UnicodeAttribute(null=True)
    text = UnicodeAttribute(default="")
    received_at = UnicodeAttribute(null=True)
    remote_id = UnicodeAttribute(null=True)
    media = ListAttribute(default=list)  # type: ignore[var-annotated]
    kind = UnicodeAttribute(default="post")
    in_reply_to = UnicodeAttribute(null=True)
    # Only on the per-channel `~attempts` counter item.
    attempts = NumberAttribute(null=True)


class RateSlotRecord(PostTableRecord, discriminator="rate_slots"):
    """The deliveries in flight against one rate budget (a network, or one account on it): `holders` maps a
    worker's claim token to the end of its lease, so a worker that dies frees its place when the lease ends.
    Kept in the posts table (pk `budget#...`): no index attribute, so it costs no index write."""

    holders = MapAttribute(default=dict)  # type: ignore[var-annotated]
    seq = NumberAttribute(default=0)
