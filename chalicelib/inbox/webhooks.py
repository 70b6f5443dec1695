"""Webhook receivers: the checks every delivery passes before anything is kept.

Order matters: size, then the signature over the raw bytes (constant time, in
the network module), then JSON, then the network's parser, then the ingest
path. Anything refused before the ingest path stores nothing.
"""
from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core.clock import Clock
from chalicelib.core.errors import ApiError, BadRequest, Forbidden, PayloadTooLarge, Unauthorized
from chalicelib.core.settings import Settings
from chalicelib.inbox.ingest import IngestReport, IngestService
from chalicelib.networks.base import SignatureError

log = logging.getLogger("herald.webhooks")


@dataclass(frozen=True)
class Handshake:
    """A receiver's GET handshake: answered by the module's `answer_handshake(query, key)`
    with the key held in `key_setting`, in `content_type`."""

    key_setting: str
    content_type: str


@dataclass(frozen=True)
class Receiver:
    """One `/webhooks/<name>` endpoint: the network module, the setting holding its secret,
    and its GET handshake if the network has one."""

    name: str
    module: str
    secret_setting: str
    handshake: Handshake | None = None


RECEIVERS: dict[str, Receiver] = {
    receiver.name: receiver for receiver in (
        Receiver("meta", "chalicelib.networks.meta", "meta_app_secret",
                 Handshake("meta_verify_token", "text/plain")),
        Receiver("x", "chalicelib.networks.x", "x_consumer_secret",
                 Handshake("x_consumer_secret", "application/json")),
        Receiver("linkedin", "chalicelib.networks.linkedin", "linkedin_client_secret",
                 Handshake("linkedin_client_secret", "application/json")),
        Receiver("tiktok", "chalicelib.networks.tiktok", "tiktok_client_secret"),
    )
}


# One answer for every refusal of a kind; the reason is in the log line, never in the answer.
SIGNATURE_REFUSED = "The webhook signature is not valid."
HANDSHAKE_REFUSED = "The handshake is not valid."


class SignatureRefused(Unauthorized):
    code = "invalid_signature"


@dataclass(frozen=True)
class HandshakeAnswer:
    body: str | dict[str, str]
    content_type: str


class WebhookService:
    def __init__(self, settings: Settings, ingest: IngestService, config: Any, clock: Clock,
                 on_revoked: Callable[[str, str], object] | None = None) -> None:
        self.settings = settings
        self.ingest = ingest
        self.config = config
        self.clock = clock
        # Told of each account whose user removed Herald's access (the channel is disabled there).
        self.on_revoked = on_revoked

    def _secret(self, receiver: Receiver) -> str:
        return str(getattr(self.settings, receiver.secret_setting))

    def receive(self, name: str, raw_body: bytes, headers: Mapping[str, str]) -> IngestReport:
        receiver = RECEIVERS[name]
        if len(raw_body) > self.settings.max_webhook_body_bytes:
            limit = self.settings.max_webhook_body_bytes
            raise PayloadTooLarge(f"The body is {len(raw_body)} bytes; the limit is {limit}.")
        module = importlib.import_module(receiver.module)
        try:
            module.verify_signature(raw_body, headers, self._secret(receiver), now=self.clock.now())
        except SignatureError as exc:
            # Why (no secret configured, a missing header, a digest that does not match) goes to the log only:
            # every refusal answers alike, so a caller learns neither how a receiver is set up nor what it saw.
            log.warning("Refused a %s webhook: %s", name, exc)
            raise SignatureRefused(SIGNATURE_REFUSED) from None
        try:
            # UTF-8 only, as every network sends: bytes alone would let UTF-16, UTF-32 and a BOM in.
            payload = json.loads(raw_body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadRequest("The body is not valid JSON.", code="malformed_json") from None
        if not isinstance(payload, dict):
            raise BadRequest("The body must be a JSON object.", code="malformed_json")
        parsed = module.parse_webhook(payload)
        if parsed.errors and not parsed.events and not parsed.ignored:
            raise BadRequest("Nothing in this delivery has the documented shape: "
                             + "; ".join(parsed.errors[:3]), code="malformed_event")
        self._revoked(parsed.revoked)
        report = self.ingest.ingest(parsed.events)
        report.ignored, report.rejected = parsed.ignored, len(parsed.errors)
        if parsed.errors:
            log.warning("A %s webhook had %d malformed entries: %s", name, len(parsed.errors),
                        parsed.errors[:3])
        self._count(name, report)
        log.info("Webhook %s: %s", name, report.as_dict())
        return report

    def _revoked(self, accounts: list[tuple[str, str]]) -> None:
        for network, account_id in accounts:
            log.warning("%s says the user of account %s removed Herald's access", network, account_id)
            if self.on_revoked is not None:
                self.on_revoked(network, account_id)

    def _count(self, name: str, report: IngestReport) -> None:
        """What was answered 200 without being stored is counted per network and day."""
        if not (report.ignored or report.unrouted or report.rejected):
            return
        day = self.clock.now().strftime("%Y-%m-%d")
        try:
            self.config.count_webhook_outcomes(name, day, ignored=report.ignored, unrouted=report.unrouted,
                                               rejected=report.rejected)
        except Exception:  # a counter must never turn a stored delivery into a retry
            log.exception("Could not count %s webhook outcomes", name)

    def handshake(self, name: str, query: Mapping[str, str]) -> HandshakeAnswer:
        """The GET a network sends to prove the endpoint is ours."""
        receiver = RECEIVERS[name]
        if receiver.handshake is None:
            raise ApiError(f"{name} has no handshake.")
        module = importlib.import_module(receiver.module)
        key = str(getattr(self.settings, receiver.handshake.key_setting))
        try:
            answer = module.answer_handshake(query, key)
        except SignatureError as exc:
            log.warning("Refused a %s webhook handshake: %s", name, exc)
            raise Forbidden(HANDSHAKE_REFUSED, code="handshake_refused") from None
        return HandshakeAnswer(answer, receiver.handshake.content_type)
