"""Outbound webhook messages: made when something happens (emit), sent to each endpoint, retried as Svix
retries, at least once. Nothing here raises into the code that emitted: an event whose queue message is lost
is still a pending row, and the sweeper sends it."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.core.clock import Clock, parse_rfc3339, to_rfc3339
from chalicelib.core.crypto import SecretBox
from chalicelib.core.ids import new_id
from chalicelib.core.outbound import OutboundPolicy, OutboundRefused
from chalicelib.outbound_webhooks.delivery_queue import MAX_DELAY_S, AttemptMessage, DeliveryQueue
from chalicelib.outbound_webhooks.endpoint_repository import (
    PENDING_SHARDS,
    Delivery,
    Endpoint,
    EndpointRepository,
)
from chalicelib.outbound_webhooks.endpoints import secret_context
from chalicelib.outbound_webhooks.events import DISABLE_AFTER_S, RETRY_DELAYS_S, payload
from chalicelib.outbound_webhooks.signatures import signed_headers

log = logging.getLogger("herald.outbound_webhooks")

KEPT_FOR = timedelta(days=30)  # the delivery log's retention
EVENT_KEY_KEPT_FOR = timedelta(days=7)
LEASE = timedelta(seconds=60)  # an attempt's claim: a worker that dies mid-attempt is retried after it
SWEEP_GRACE = timedelta(seconds=30)  # a queued message normally arrives first; the sweeper is the safety net
SWEEP_LIMIT = 500
TIMEOUT_S = (5.0, 15.0)
ANSWER_BYTES = 64 * 1024
USER_AGENT = "Herald-Webhooks/1.0"


class WebhookEmitter:
    def __init__(self, repository: EndpointRepository, queue: DeliveryQueue, clock: Clock) -> None:
        self.repository = repository
        self.queue = queue
        self.clock = clock

    def emit(self, workspace_id: str, event_type: str, data: dict[str, Any],
             event_key: str | None = None) -> str | None:
        """The message id sent to the workspace's subscribed endpoints; None when there are none, or when
        `event_key` was emitted before (an emitter that retried does not send twice)."""
        try:
            return self._emit(workspace_id, event_type, data, event_key)
        except Exception:  # the caller's work (a publish, an inbox event) must not fail for a notification
            log.exception("Emitting %s for workspace %s failed", event_type, workspace_id)
            return None

    def _emit(self, workspace_id: str, event_type: str, data: dict[str, Any], event_key: str | None) -> str | None:
        endpoints = [e for e in self.repository.all_of(workspace_id)
                     if e.status == "active" and event_type in e.events]
        if not endpoints:
            return None
        now = self.clock.now()
        if event_key is not None and not self.repository.mark_event_once(
                workspace_id, f"{event_type}:{event_key}", now + EVENT_KEY_KEPT_FOR):
            return None
        message_id = new_id("msg", now)
        body = payload(event_type, data, now)
        at = to_rfc3339(now) or ""
        for endpoint in endpoints:
            self.repository.create_delivery(
                Delivery(endpoint.key, message_id, event_type, body, "pending", 0, at, next_attempt_at=at),
                now + KEPT_FOR)
        try:
            self.queue.send([(AttemptMessage(e.key, message_id, 0), 0) for e in endpoints])
        except Exception:
            log.exception("Queueing message %s failed; the sweeper sends it", message_id)
        return message_id


@dataclass(frozen=True)
class AttemptOutcome:
    status: str  # succeeded | retrying | failed | skipped
    response_status: int | None = None
    error: str | None = None


class WebhookSender:
    def __init__(self, repository: EndpointRepository, secrets: SecretBox, outbound: OutboundPolicy,
                 queue: DeliveryQueue, clock: Clock) -> None:
        self.repository = repository
        self.secrets = secrets
        self.outbound = outbound
        self.queue = queue
        self.clock = clock

    def attempt(self, message: AttemptMessage) -> AttemptOutcome:
        now = self.clock.now()
        delivery = self.repository.claim(message.endpoint_key, message.message_id, message.attempt,
                                         to_rfc3339(now) or "", to_rfc3339(now + LEASE) or "")
        if delivery is None:  # a duplicate, a late message, or not due yet: someone else has it
            return AttemptOutcome("skipped")
        workspace_id, endpoint_id = message.endpoint_key.split("#", 1)
        endpoint = self.repository.get(workspace_id, endpoint_id)
        if endpoint is None or endpoint.status != "active":
            reason = "the endpoint was deleted" if endpoint is None else f"the endpoint is disabled " \
                f"({endpoint.disabled_reason or 'by a person'})"
            self.repository.settle(message.endpoint_key, message.message_id, "failed", None, reason)
            return AttemptOutcome("failed", error=reason)
        response_status, error = self._post(endpoint, delivery)
        if error is None:
            self.repository.settle(message.endpoint_key, message.message_id, "succeeded", response_status, None)
            if endpoint.failing_since is not None:
                self.repository.set_failing_since(endpoint.workspace_id, endpoint.endpoint_id, None)
            return AttemptOutcome("succeeded", response_status)
        return self._failed(endpoint, delivery, response_status, error)

    def _post(self, endpoint: Endpoint, delivery: Delivery) -> tuple[int | None, str | None]:
        body = delivery.payload.encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   **signed_headers(self._secrets(endpoint), delivery.message_id, self.clock.now(), body)}
        session = self.outbound.session()
        try:
            answer = session.request("POST", endpoint.url, data=body, headers=headers, timeout=TIMEOUT_S,
                                     max_bytes=ANSWER_BYTES)
        except OutboundRefused as refused:
            return None, f"refused by Herald's outbound policy: {refused}"
        except Exception as exc:  # timeouts, resets, DNS: the endpoint did not answer
            return None, f"no answer from the endpoint ({type(exc).__name__})"
        finally:
            session.close()
        if 200 <= answer.status_code < 300:
            return answer.status_code, None
        return answer.status_code, f"the endpoint answered HTTP {answer.status_code}"

    def _secrets(self, endpoint: Endpoint) -> list[str]:
        context = secret_context(endpoint.workspace_id, endpoint.endpoint_id)
        found = [str(self.secrets.open(endpoint.secret_sealed, context)["secret"])]
        if endpoint.previous_secret_sealed is not None and endpoint.previous_expires_at is not None \
                and parse_rfc3339(endpoint.previous_expires_at) > self.clock.now():
            found.append(str(self.secrets.open(endpoint.previous_secret_sealed, context)["secret"]))
        return found

    def _failed(self, endpoint: Endpoint, delivery: Delivery, response_status: int | None,
                error: str) -> AttemptOutcome:
        now = self.clock.now()
        self._count_failure(endpoint, error)
        made = delivery.attempts  # the claim counted this attempt
        if made > len(RETRY_DELAYS_S):
            self.repository.settle(delivery.endpoint_key, delivery.message_id, "failed", response_status, error)
            return AttemptOutcome("failed", response_status, error)
        delay = RETRY_DELAYS_S[made - 1]
        self.repository.retry_at(delivery.endpoint_key, delivery.message_id,
                                 to_rfc3339(now + timedelta(seconds=delay)) or "", response_status, error)
        if delay <= MAX_DELAY_S:
            self.queue.send([(AttemptMessage(delivery.endpoint_key, delivery.message_id, made), delay)])
        return AttemptOutcome("retrying", response_status, error)

    def _count_failure(self, endpoint: Endpoint, error: str) -> None:
        now = self.clock.now()
        if endpoint.failing_since is None:
            self.repository.set_failing_since(endpoint.workspace_id, endpoint.endpoint_id, to_rfc3339(now))
            return
        if (now - parse_rfc3339(endpoint.failing_since)).total_seconds() >= DISABLE_AFTER_S:
            reason = f"every delivery failed for 5 days (the last: {error})"
            self.repository.disable(endpoint.workspace_id, endpoint.endpoint_id, reason, to_rfc3339(now) or "")
            log.warning("Disabled webhook endpoint %s of workspace %s: %s", endpoint.endpoint_id,
                        endpoint.workspace_id, reason)

    def sweep(self) -> int:
        """Sends the deliveries whose next attempt is due and that no message carries (waits longer than SQS
        delays, a message lost, a worker that died mid-attempt). Returns how many were sent."""
        until = to_rfc3339(self.clock.now() - SWEEP_GRACE) or ""
        due = [AttemptMessage(key, message_id, attempts)
               for shard in range(PENDING_SHARDS)
               for key, message_id, attempts in self.repository.due(f"pending#{shard}", until, SWEEP_LIMIT)]
        if due:
            self.queue.send([(message, 0) for message in due])
        return len(due)

