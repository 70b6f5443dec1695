"""PynamoDB models: one class per item type, keys and indexes as in infra/resources.py."""
from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, Projection
from pynamodb.models import Model

from chalicelib.core.settings import MAX_POOL_CONNECTIONS, get_settings
from chalicelib.publishing.projections import DELIVERY_POST, DUE_WORK, POST_LISTING


def _meta(logical: str) -> type:
    settings = get_settings()

    class Meta:
        table_name = settings.table(logical)
        region = settings.region
        host = settings.aws_endpoint_url
        max_retry_attempts = 3
        max_pool_connections = MAX_POOL_CONNECTIONS

    return Meta


def _index_meta(name: str, attributes: tuple[str, ...] = ()) -> type:
    """An index that projects `attributes` besides its keys, or every attribute when none are named."""
    chosen: Projection = IncludeProjection(list(attributes)) if attributes else AllProjection()

    class Meta:
        index_name = name
        projection = chosen

    return Meta


class FeedTokenIndex(GlobalSecondaryIndex["WorkspaceRecord"]):
    Meta = _index_meta("by_feed_token")
    feed_token_id = UnicodeAttribute(hash_key=True)


class WorkspaceRecord(Model):
    Meta = _meta("workspaces")
    workspace_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    timezone = UnicodeAttribute()
    created_at = UnicodeAttribute()
    feed_token_id = UnicodeAttribute(null=True)
    feed_token_sealed = BinaryAttribute(null=True, legacy_encoding=False)
    by_feed_token = FeedTokenIndex()


class ApiKeysByWorkspace(GlobalSecondaryIndex["ApiKeyRecord"]):
    Meta = _index_meta("by_workspace")
    workspace_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ApiKeyRecord(Model):
    Meta = _meta("api_keys")
    key_id = UnicodeAttribute(hash_key=True)
    workspace_id = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    role = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    by_workspace = ApiKeysByWorkspace()


class ChannelsByAccount(GlobalSecondaryIndex["ChannelRecord"]):
    Meta = _index_meta("by_account")
    account_key = UnicodeAttribute(hash_key=True)


class PollableChannels(GlobalSecondaryIndex["ChannelRecord"]):
    Meta = _index_meta("pollable")
    poll_key = UnicodeAttribute(hash_key=True)
    channel_id = UnicodeAttribute(range_key=True)


class ChannelRecord(Model):
    Meta = _meta("channels")
    workspace_id = UnicodeAttribute(hash_key=True)
    channel_id = UnicodeAttribute(range_key=True)
    network = UnicodeAttribute()
    name = UnicodeAttribute()
    handle = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    settings = MapAttribute(default=dict)  # type: ignore[var-annotated]
    credentials_sealed = BinaryAttribute(null=True, legacy_encoding=False)
    # `<network>#<platform account id>`: webhooks find their channel by it.
    account_key = UnicodeAttribute(null=True)
    # `poll#<network>` on channels of networks without webhooks; absent elsewhere.
    poll_key = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    by_account = ChannelsByAccount()
    pollable = PollableChannels()


class PostsByWorkspace(GlobalSecondaryIndex["PostTableRecord"]):
    Meta = _index_meta("by_workspace", POST_LISTING)
    post_workspace_id = UnicodeAttribute(hash_key=True)
    publish_key = UnicodeAttribute(range_key=True)


class PostsByStatus(GlobalSecondaryIndex["PostTableRecord"]):
    Meta = _index_meta("by_status", POST_LISTING)
    post_workspace_status = UnicodeAttribute(hash_key=True)
    publish_key = UnicodeAttribute(range_key=True)


class DeliveriesByChannel(GlobalSecondaryIndex["PostTableRecord"]):
    Meta = _index_meta("by_channel", DELIVERY_POST)
    delivery_workspace_channel = UnicodeAttribute(hash_key=True)
    publish_key = UnicodeAttribute(range_key=True)


class DueDeliveries(GlobalSecondaryIndex["PostTableRecord"]):
    Meta = _index_meta("due", DUE_WORK)
    due_shard = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class PostTableRecord(Model):
    """A post and its deliveries share one item collection (`pk`), so one Query
    reads a post whole."""

    Meta = _meta("posts")
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


class PostRecord(PostTableRecord, discriminator="post"):
    text = UnicodeAttribute(default="")
    status = UnicodeAttribute()
    publish_at = UnicodeAttribute(null=True)
    channel_ids = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[var-annotated]
    variants = MapAttribute(default=dict)  # type: ignore[var-annotated]
    media = ListAttribute(default=list)  # type: ignore[var-annotated]
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
    delivery_workspace_channel = UnicodeAttribute()
    due_shard = UnicodeAttribute(null=True)
    due_key = UnicodeAttribute(null=True)


class MediaRecord(Model):
    Meta = _meta("media")
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

    Meta = _meta("sandbox_posts")
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
