"""Every inbound event, once per channel: the webhook's dedupe and its durable copy.

`event_key = <workspace_id>#<channel_id>#<network event id>`. The item is put
with `attribute_not_exists`, so a retried delivery finds it and stores nothing.
Nothing marks it applied (that was a third write per event): a retry that finds
the item looks at its message in the inbox, and queues the event again when the
message does not have it yet, which closes the gap between the put and the queue
send. Items expire (TTL) well after the longest retry window of any network.
"""
from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.models import Model

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.tables import table_meta
from chalicelib.inbox.stored_events import StoredEvent

# Meta retries for 36 h, TikTok 72 h; a dead-lettered message is kept 14 days.
KEEP_FOR = timedelta(days=15)
STORED = "stored"  # items made before issue 14 may say `applied`; nothing reads it


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


def _conditional_failure(exc: PutError) -> bool:
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
