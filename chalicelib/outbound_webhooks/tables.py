"""The outbound webhooks tables: endpoints per workspace, and every message's delivery to each endpoint.

- `webhook_endpoints`: `workspace_id` / `endpoint_id`.
- `webhook_deliveries`: `endpoint_key` (`<workspace_id>#<endpoint_id>`) / `message_id` (time-ordered, so the
  delivery log is a Query, newest first, and "replay since" is a range). Sparse index `pending`
  (`pending_shard`, `next_attempt_at`): only deliveries waiting for an attempt carry it; the sweeper reads the
  ones due. Event dedupe markers share the table (`endpoint_key` `<workspace_id>#event`, `message_id` the
  emitter's key), gone after a week.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.tables import index_meta, table_meta


class WebhookEndpointRecord(Model):
    Meta = table_meta("webhook_endpoints")
    workspace_id = UnicodeAttribute(hash_key=True)
    endpoint_id = UnicodeAttribute(range_key=True)
    url = UnicodeAttribute()
    events = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[var-annotated]
    description = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="active")  # active | disabled
    disabled_reason = UnicodeAttribute(null=True)
    failing_since = UnicodeAttribute(null=True)
    secret_sealed = BinaryAttribute(legacy_encoding=False)
    # The secret before the last rotation, still signing beside the new one until `previous_expires_at`.
    previous_secret_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    previous_expires_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class PendingDeliveries(GlobalSecondaryIndex["WebhookDeliveryRecord"]):
    Meta = index_meta("pending", ("attempts",))
    pending_shard = UnicodeAttribute(hash_key=True)
    next_attempt_at = UnicodeAttribute(range_key=True)


class WebhookDeliveryRecord(Model):
    Meta = table_meta("webhook_deliveries")
    endpoint_key = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute(range_key=True)
    event_type = UnicodeAttribute(default="")
    payload = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="pending")  # pending | succeeded | failed
    attempts = NumberAttribute(default=0)
    pending_shard = UnicodeAttribute(null=True)
    next_attempt_at = UnicodeAttribute(null=True)
    last_attempt_at = UnicodeAttribute(null=True)
    response_status = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(default="")
    expires_at_epoch = TTLAttribute(null=True)
    pending = PendingDeliveries()
