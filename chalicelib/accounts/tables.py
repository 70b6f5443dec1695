"""The accounts tables: workspaces, API keys, channels, OAuth connections in progress. Keys and indexes as in
infra/resources.py."""
from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, MapAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.tables import index_meta, table_meta


class FeedTokenIndex(GlobalSecondaryIndex["WorkspaceRecord"]):
    Meta = index_meta("by_feed_token")
    feed_token_id = UnicodeAttribute(hash_key=True)


class WorkspacesByAgency(GlobalSecondaryIndex["WorkspaceRecord"]):
    Meta = index_meta("by_agency")
    agency_id = UnicodeAttribute(hash_key=True)
    workspace_id = UnicodeAttribute(range_key=True)


class WorkspaceRecord(Model):
    Meta = table_meta("workspaces")
    workspace_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    timezone = UnicodeAttribute()
    created_at = UnicodeAttribute()
    feed_token_id = UnicodeAttribute(null=True)
    feed_token_sealed = BinaryAttribute(null=True, legacy_encoding=False)
    audit_retention_days = NumberAttribute(null=True)
    # The agency that owns this client workspace (chalicelib/people/agencies.py), if any.
    agency_id = UnicodeAttribute(null=True)
    links = UnicodeAttribute(null=True)  # JSON: the short-link settings (chalicelib/links/settings.py)
    language = UnicodeAttribute(null=True)  # BCP 47; `tr` makes listening fold and match the Turkish way
    by_feed_token = FeedTokenIndex()
    by_agency = WorkspacesByAgency()


class ApiKeysByWorkspace(GlobalSecondaryIndex["ApiKeyRecord"]):
    Meta = index_meta("by_workspace")
    workspace_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ApiKeyRecord(Model):
    Meta = table_meta("api_keys")
    key_id = UnicodeAttribute(hash_key=True)
    workspace_id = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    role = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    by_workspace = ApiKeysByWorkspace()


class ChannelsByAccount(GlobalSecondaryIndex["ChannelRecord"]):
    Meta = index_meta("by_account")
    account_key = UnicodeAttribute(hash_key=True)


class PollableChannels(GlobalSecondaryIndex["ChannelRecord"]):
    Meta = index_meta("pollable")
    poll_key = UnicodeAttribute(hash_key=True)
    channel_id = UnicodeAttribute(range_key=True)


class ChannelsByHealthShard(GlobalSecondaryIndex["ChannelRecord"]):
    Meta = index_meta("by_health")
    health_key = UnicodeAttribute(hash_key=True)
    channel_id = UnicodeAttribute(range_key=True)


class ChannelsByGrant(GlobalSecondaryIndex["ChannelRecord"]):
    Meta = index_meta("by_grant")
    grant_key = UnicodeAttribute(hash_key=True)


class ChannelRecord(Model):
    Meta = table_meta("channels")
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
    # Token facts kept in the clear (never the tokens): when the access token lapses, when the grant itself
    # lapses beyond any refresh, and a version every refresh bumps with a conditional write (accounts/tokens.py).
    token_expires_at = UnicodeAttribute(null=True)
    grant_expires_at = UnicodeAttribute(null=True)
    token_version = NumberAttribute(default=0)
    # A worker refreshing the token holds this claim until `refresh_lease_until` (others wait for its result).
    refresh_claim = UnicodeAttribute(null=True)
    refresh_lease_until = UnicodeAttribute(null=True)
    # The last check: {status, checked_at, expires_at, problem} (accounts/health.py).
    health = MapAttribute(null=True)  # type: ignore[var-annotated]
    # `health#<shard>` on every channel: the daily health job finds them all through `by_health`.
    health_key = UnicodeAttribute(null=True)
    # `<grantor network>#<user id>` where the network deauthorizes by the user who granted (Meta).
    grant_key = UnicodeAttribute(null=True)
    by_account = ChannelsByAccount()
    pollable = PollableChannels()
    by_health = ChannelsByHealthShard()
    by_grant = ChannelsByGrant()


class ConnectStateRecord(Model):
    """One OAuth connection in progress, keyed by the SHA-256 of its `state` (the state itself is a bearer
    secret: it is never stored). Everything secret in it (the PKCE verifier, the granted tokens) is sealed."""

    Meta = table_meta("connect_states")
    state_hash = UnicodeAttribute(hash_key=True)
    workspace_id = UnicodeAttribute()
    # The API key that began it: only that key may choose the accounts.
    started_by = UnicodeAttribute()
    network = UnicodeAttribute()
    redirect_uri = UnicodeAttribute()
    # started -> exchanging -> granted -> used; or denied / failed. Each step is a conditional write.
    status = UnicodeAttribute()
    verifier_sealed = BinaryAttribute(null=True, legacy_encoding=False)
    accounts_sealed = BinaryAttribute(null=True, legacy_encoding=False)
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    # DynamoDB deletes the item some time after this (the service checks `expires_at` itself).
    expires_at_epoch = TTLAttribute()
