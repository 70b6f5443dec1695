"""Outbound webhook endpoints and the deliveries of each message to them (tables.py has the keys)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.core.pages import decode_cursor, encode_cursor
from chalicelib.outbound_webhooks.tables import WebhookDeliveryRecord, WebhookEndpointRecord

PENDING_SHARDS = 4
DELIVERY_KEYS = ("endpoint_key", "message_id")


@dataclass
class Endpoint:
    workspace_id: str
    endpoint_id: str
    url: str
    events: list[str]
    description: str
    status: str
    secret_sealed: bytes
    created_at: str
    updated_at: str
    disabled_reason: str | None = None
    failing_since: str | None = None
    previous_secret_sealed: bytes | None = None
    previous_expires_at: str | None = None

    @property
    def key(self) -> str:
        return endpoint_key(self.workspace_id, self.endpoint_id)


@dataclass
class Delivery:
    endpoint_key: str
    message_id: str
    event_type: str
    payload: str
    status: str
    attempts: int
    created_at: str
    next_attempt_at: str | None = None
    last_attempt_at: str | None = None
    response_status: int | None = None
    last_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def endpoint_id(self) -> str:
        return self.endpoint_key.split("#", 1)[1]


def endpoint_key(workspace_id: str, endpoint_id: str) -> str:
    return f"{workspace_id}#{endpoint_id}"


def pending_shard(message_id: str) -> str:
    return f"pending#{sum(message_id.encode()) % PENDING_SHARDS}"


def _lost_the_condition(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


def _endpoint(r: WebhookEndpointRecord) -> Endpoint:
    return Endpoint(r.workspace_id, r.endpoint_id, r.url, list(r.events or []), r.description, r.status,
                    r.secret_sealed, r.created_at, r.updated_at, r.disabled_reason, r.failing_since,
                    r.previous_secret_sealed, r.previous_expires_at)


def _delivery(r: WebhookDeliveryRecord) -> Delivery:
    return Delivery(r.endpoint_key, r.message_id, r.event_type, r.payload, r.status, int(r.attempts or 0),
                    r.created_at, r.next_attempt_at, r.last_attempt_at,
                    int(r.response_status) if r.response_status is not None else None, r.last_error)


class EndpointRepository:
    # -- endpoints ----------------------------------------------------------------------------------------

    def put(self, row: Endpoint) -> None:
        WebhookEndpointRecord(
            row.workspace_id, row.endpoint_id, url=row.url, events=row.events, description=row.description,
            status=row.status, disabled_reason=row.disabled_reason, failing_since=row.failing_since,
            secret_sealed=row.secret_sealed, previous_secret_sealed=row.previous_secret_sealed,
            previous_expires_at=row.previous_expires_at, created_at=row.created_at,
            updated_at=row.updated_at).save()

    def get(self, workspace_id: str, endpoint_id: str) -> Endpoint | None:
        try:
            return _endpoint(WebhookEndpointRecord.get(workspace_id, endpoint_id, consistent_read=True))
        except DoesNotExist:
            return None

    def list(self, workspace_id: str, limit: int = 100,
             cursor: str | None = None) -> tuple[list[Endpoint], str | None]:
        start = decode_cursor(cursor, {"workspace_id": workspace_id}, ("workspace_id", "endpoint_id"))
        found = WebhookEndpointRecord.query(workspace_id, limit=limit, last_evaluated_key=start)
        rows = [_endpoint(r) for r in found]
        return rows, encode_cursor(found.last_evaluated_key)

    def all_of(self, workspace_id: str) -> list[Endpoint]:
        """Every endpoint of a workspace (a handful): what an event fans out to."""
        return [_endpoint(r) for r in WebhookEndpointRecord.query(workspace_id)]

    def set_failing_since(self, workspace_id: str, endpoint_id: str, since: str | None) -> None:
        """Only this field: an admin's edit at the same moment is kept."""
        record = WebhookEndpointRecord(workspace_id, endpoint_id)
        action = (WebhookEndpointRecord.failing_since.set(since) if since is not None
                  else WebhookEndpointRecord.failing_since.remove())
        try:
            record.update(actions=[action], condition=WebhookEndpointRecord.endpoint_id.exists())
        except UpdateError as exc:
            if not _lost_the_condition(exc):  # deleted meanwhile: nothing to record
                raise

    def disable(self, workspace_id: str, endpoint_id: str, reason: str, now: str) -> None:
        record = WebhookEndpointRecord(workspace_id, endpoint_id)
        try:
            record.update(actions=[WebhookEndpointRecord.status.set("disabled"),
                                   WebhookEndpointRecord.disabled_reason.set(reason),
                                   WebhookEndpointRecord.updated_at.set(now)],
                          condition=WebhookEndpointRecord.endpoint_id.exists())
        except UpdateError as exc:
            if not _lost_the_condition(exc):
                raise

    def delete(self, workspace_id: str, endpoint_id: str) -> None:
        WebhookEndpointRecord(workspace_id, endpoint_id).delete()

    # -- events, once -------------------------------------------------------------------------------------

    def mark_event_once(self, workspace_id: str, event_key: str, expires_at: datetime) -> bool:
        """False when an event with this key was emitted already (an emitter that retried)."""
        marker = WebhookDeliveryRecord(f"{workspace_id}#event", event_key, expires_at_epoch=expires_at)
        try:
            marker.save(condition=WebhookDeliveryRecord.message_id.does_not_exist())
        except PutError as exc:
            if _lost_the_condition(exc):
                return False
            raise
        return True

    # -- deliveries ---------------------------------------------------------------------------------------

    def create_delivery(self, row: Delivery, expires_at: datetime) -> None:
        WebhookDeliveryRecord(
            row.endpoint_key, row.message_id, event_type=row.event_type, payload=row.payload, status="pending",
            attempts=0, pending_shard=pending_shard(row.message_id), next_attempt_at=row.next_attempt_at,
            created_at=row.created_at, expires_at_epoch=expires_at).save()

    def get_delivery(self, key: str, message_id: str) -> Delivery | None:
        try:
            return _delivery(WebhookDeliveryRecord.get(key, message_id, consistent_read=True))
        except DoesNotExist:
            return None

    def list_deliveries(self, key: str, limit: int,
                        cursor: str | None = None) -> tuple[list[Delivery], str | None]:
        start = decode_cursor(cursor, {"endpoint_key": key}, DELIVERY_KEYS)
        found = WebhookDeliveryRecord.query(key, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        rows = [_delivery(r) for r in found]
        return rows, encode_cursor(found.last_evaluated_key)

    def deliveries_since(self, key: str, first_message_id: str, limit: int) -> list[Delivery]:
        found = WebhookDeliveryRecord.query(key, WebhookDeliveryRecord.message_id >= first_message_id,
                                            limit=limit)
        return [_delivery(r) for r in found]

    def due(self, shard: str, until: str, limit: int) -> list[tuple[str, str, int]]:
        """(endpoint key, message id, attempts) of pending deliveries whose next attempt is at or before `until`."""
        found = WebhookDeliveryRecord.pending.query(
            shard, WebhookDeliveryRecord.next_attempt_at <= until, limit=limit)
        return [(r.endpoint_key, r.message_id, int(r.attempts or 0)) for r in found]

    def claim(self, key: str, message_id: str, attempt: int, now: str, lease_until: str) -> Delivery | None:
        """Takes attempt number `attempt + 1` if nobody has (a duplicate message finds it taken): None then."""
        record = WebhookDeliveryRecord(key, message_id)
        condition = ((WebhookDeliveryRecord.status == "pending") & (WebhookDeliveryRecord.attempts == attempt)
                     & (WebhookDeliveryRecord.next_attempt_at <= now))
        try:
            record.update(actions=[WebhookDeliveryRecord.attempts.set(attempt + 1),
                                   WebhookDeliveryRecord.next_attempt_at.set(lease_until),
                                   WebhookDeliveryRecord.last_attempt_at.set(now)], condition=condition)
        except UpdateError as exc:
            if _lost_the_condition(exc):
                return None
            raise
        return _delivery(record)

    def settle(self, key: str, message_id: str, status: str, response_status: int | None,
               error: str | None) -> None:
        """Final: succeeded, or failed for good. Leaves the pending index."""
        record = WebhookDeliveryRecord(key, message_id)
        record.update(actions=[WebhookDeliveryRecord.status.set(status),
                               WebhookDeliveryRecord.response_status.set(response_status),
                               WebhookDeliveryRecord.last_error.set(error),
                               WebhookDeliveryRecord.pending_shard.remove(),
                               WebhookDeliveryRecord.next_attempt_at.remove()])

    def retry_at(self, key: str, message_id: str, next_attempt_at: str, response_status: int | None,
                 error: str) -> None:
        record = WebhookDeliveryRecord(key, message_id)
        record.update(actions=[WebhookDeliveryRecord.next_attempt_at.set(next_attempt_at),
                               WebhookDeliveryRecord.response_status.set(response_status),
                               WebhookDeliveryRecord.last_error.set(error)])

    def reset(self, key: str, message_id: str, now: str) -> None:
        """A replay: the delivery starts again from its first attempt."""
        record = WebhookDeliveryRecord(key, message_id)
        record.update(actions=[WebhookDeliveryRecord.status.set("pending"),
                               WebhookDeliveryRecord.attempts.set(0),
                               WebhookDeliveryRecord.pending_shard.set(pending_shard(message_id)),
                               WebhookDeliveryRecord.next_attempt_at.set(now)],
                      condition=WebhookDeliveryRecord.message_id.exists())

