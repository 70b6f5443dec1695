"""Every inbound event, once per channel: the webhook's dedupe and its durable copy.

`event_key = <workspace_id>#<channel_id>#<network event id>`. The item is put
with `attribute_not_exists`, so a retried delivery finds it and stores nothing.
`state` is `stored` until the queue consumer has applied it to the inbox, then
`applied`: a retry that finds a `stored` item queues it again, which closes the
gap between the put and the queue send. Items expire (TTL) well after the
longest retry window of any network.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.tables import table_meta
from chalicelib.inbox.stored_events import StoredEvent

# Meta retries for 36 h, TikTok 72 h; a dead-lettered message is kept 14 days.
KEEP_FOR = timedelta(days=15)
STORED, APPLIED = "stored", "applied"


class WebhookEventRecord(Model):
    Meta = table_meta("webhook_events")
    event_key = UnicodeAttribute(hash_key=True)
    workspace_id = UnicodeAttribute()
    channel_id = UnicodeAttribute()
    network = UnicodeAttribute()
    event = UnicodeAttribute()  # StoredEvent JSON
    received_at = UnicodeAttribute()
    state = UnicodeAttribute(default=STORED)
    applied_at = UnicodeAttribute(null=True)
    expires_at_epoch = NumberAttribute()


def _conditional_failure(exc: PutError | UpdateError) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


class WebhookEventRepository:
    def put_once(self, stored: StoredEvent) -> bool:
        """True when this call stored the event; False when it was already there."""
        record = WebhookEventRecord(
            stored.key, workspace_id=stored.workspace_id, channel_id=stored.channel_id,
            network=stored.event.network, event=stored.to_json(), received_at=to_rfc3339(stored.received_at),
            state=STORED, expires_at_epoch=int((stored.received_at + KEEP_FOR).timestamp()),
        )
        try:
            record.save(condition=WebhookEventRecord.event_key.does_not_exist())
        except PutError as exc:
            if _conditional_failure(exc):
                return False
            raise
        return True

    def find(self, key: str) -> tuple[str, StoredEvent] | None:
        """The stored event and its state, read consistently."""
        try:
            record = WebhookEventRecord.get(key, consistent_read=True)
        except DoesNotExist:
            return None
        return record.state, StoredEvent.from_json(record.event)

    def mark_applied(self, key: str, at: datetime) -> bool:
        """True for the one call that moved the event to `applied`."""
        try:
            WebhookEventRecord(key).update(
                actions=[WebhookEventRecord.state.set(APPLIED),
                         WebhookEventRecord.applied_at.set(to_rfc3339(at))],
                condition=WebhookEventRecord.event_key.exists() & (WebhookEventRecord.state != APPLIED),
            )
        except UpdateError as exc:
            if _conditional_failure(exc):
                return False
            raise
        return True
