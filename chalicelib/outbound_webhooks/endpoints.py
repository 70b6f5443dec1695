"""Outbound webhook endpoints: made, changed, rotated and replayed by a workspace's admins."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from chalicelib.core.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.core.crypto import SecretBox
from chalicelib.core.errors import NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.outbound import OutboundPolicy, OutboundRefused
from chalicelib.outbound_webhooks.delivery_queue import AttemptMessage, DeliveryQueue
from chalicelib.outbound_webhooks.endpoint_repository import Delivery, Endpoint, EndpointRepository, endpoint_key
from chalicelib.outbound_webhooks.signatures import new_secret

# How long the secret before a rotation keeps signing beside the new one, so receivers can switch over.
ROTATION_OVERLAP = timedelta(hours=24)
REPLAY_LIMIT = 1000


def secret_context(workspace_id: str, endpoint_id: str) -> dict[str, str]:
    return {"workspace_id": workspace_id, "purpose": "webhook-endpoint", "endpoint_id": endpoint_id}


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: Endpoint
    secret: str  # shown once, when made or rotated


class EndpointService:
    def __init__(self, repository: EndpointRepository, secrets: SecretBox, outbound: OutboundPolicy,
                 queue: DeliveryQueue, clock: Clock) -> None:
        self.repository = repository
        self.secrets = secrets
        self.outbound = outbound
        self.queue = queue
        self.clock = clock

    def _now(self) -> str:
        return to_rfc3339(self.clock.now()) or ""

    def _checked_url(self, url: str) -> str:
        try:
            self.outbound.check_url(url)
        except OutboundRefused as refused:
            raise ValidationFailed(f"url: {refused}", details=[{"field": "url", "message": str(refused)}]) \
                from None
        return url

    def create(self, workspace_id: str, url: str, events: list[str], description: str) -> EndpointWithSecret:
        endpoint_id = new_id("we")
        secret = new_secret()
        now = self._now()
        row = Endpoint(workspace_id, endpoint_id, self._checked_url(url), list(dict.fromkeys(events)),
                       description, "active",
                       self.secrets.seal({"secret": secret}, secret_context(workspace_id, endpoint_id)), now, now)
        self.repository.put(row)
        return EndpointWithSecret(row, secret)

    def get(self, workspace_id: str, endpoint_id: str) -> Endpoint:
        row = self.repository.get(workspace_id, endpoint_id)
        if row is None:
            raise NotFound(f"No webhook endpoint {endpoint_id} in this workspace.")
        return row

    def list(self, workspace_id: str, limit: int, cursor: str | None) -> tuple[list[Endpoint], str | None]:
        return self.repository.list(workspace_id, limit, cursor)

    def update(self, workspace_id: str, endpoint_id: str, changes: dict[str, Any]) -> Endpoint:
        row = self.get(workspace_id, endpoint_id)
        if "url" in changes:
            row = replace(row, url=self._checked_url(changes["url"]))
        if "events" in changes:
            row = replace(row, events=list(dict.fromkeys(changes["events"])))
        if "description" in changes:
            row = replace(row, description=changes["description"])
        if changes.get("status") == "active":  # enabling again starts a fresh failure count
            row = replace(row, status="active", disabled_reason=None, failing_since=None)
        elif changes.get("status") == "disabled":
            row = replace(row, status="disabled", disabled_reason="disabled by a person")
        row = replace(row, updated_at=self._now())
        self.repository.put(row)
        return row

    def delete(self, workspace_id: str, endpoint_id: str) -> None:
        self.get(workspace_id, endpoint_id)
        self.repository.delete(workspace_id, endpoint_id)

    def rotate_secret(self, workspace_id: str, endpoint_id: str) -> EndpointWithSecret:
        row = self.get(workspace_id, endpoint_id)
        secret = new_secret()
        row = replace(row, previous_secret_sealed=row.secret_sealed,
                      previous_expires_at=to_rfc3339(self.clock.now() + ROTATION_OVERLAP),
                      secret_sealed=self.secrets.seal({"secret": secret}, secret_context(workspace_id, endpoint_id)),
                      updated_at=self._now())
        self.repository.put(row)
        return EndpointWithSecret(row, secret)

    # -- the delivery log and replays ---------------------------------------------------------------------

    def deliveries(self, workspace_id: str, endpoint_id: str, limit: int,
                   cursor: str | None) -> tuple[list[Delivery], str | None]:
        self.get(workspace_id, endpoint_id)
        return self.repository.list_deliveries(endpoint_key(workspace_id, endpoint_id), limit, cursor)

    def replay(self, workspace_id: str, endpoint_id: str, message_id: str) -> Delivery:
        self.get(workspace_id, endpoint_id)
        key = endpoint_key(workspace_id, endpoint_id)
        found = self.repository.get_delivery(key, message_id)
        if found is None:
            raise NotFound(f"No delivery {message_id} to this endpoint.")
        self._restart([found])
        return found

    def replay_since(self, workspace_id: str, endpoint_id: str, since: str, *, failed_only: bool = True) -> int:
        self.get(workspace_id, endpoint_id)
        key = endpoint_key(workspace_id, endpoint_id)
        first = new_id("msg", parse_rfc3339(since))[:14]  # the prefix and the time part: the first id since
        found = self.repository.deliveries_since(key, first, REPLAY_LIMIT)
        chosen = [d for d in found if d.status == "failed" or (not failed_only and d.status != "pending")]
        self._restart(chosen)
        return len(chosen)

    def _restart(self, deliveries: list[Delivery]) -> None:
        now = self._now()
        for delivery in deliveries:
            self.repository.reset(delivery.endpoint_key, delivery.message_id, now)
        # A message SQS refuses is sent by the sweeper within a minute: the rows are pending and due.
        self.queue.send([(AttemptMessage(d.endpoint_key, d.message_id, 0), 0) for d in deliveries])
