"""WhatsApp Business (Cloud API) in the inbox: messages in by Meta's webhook, replies out by the Graph API.

WhatsApp messages reach the same receiver as Pages and Instagram (`/webhooks/meta`, X-Hub-Signature-256 with
the Meta app secret): `object` is `whatsapp_business_account`, each change's `field` is `messages` and its
`value` names the business phone number (`metadata.phone_number_id`, the channel's account setting), the
contacts, the `messages` and their `statuses` (delivery receipts, ignored).

A reply is `POST /{phone_number_id}/messages`. WhatsApp allows free-form messages only inside the
customer-service window, 24 hours from the person's last message; after it only an approved template may be
sent (`type: template`). `reply_problem` says so before anything is sent, so the inbox can refuse the reply
in words; `reply` enforces the same rule. Herald does not publish to WhatsApp (there is no feed).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import Clock, parse_rfc3339
from chalicelib.networks.base import (
    ChannelContext,
    InboundEvent,
    NetworkLimits,
    PermanentError,
    PublicProfile,
    PublishResult,
    RateBudget,
    ReplyRequest,
)
from chalicelib.networks.http_failures import ErrorDetail, read_json, send
from chalicelib.networks.meta_errors import GRAPH_URL, explain_error
from chalicelib.networks.webhook import (
    InboxNetworkAdapter,
    Malformed,
    ParsedWebhook,
    items_of,
    moment_from_epoch,
    optional_text,
    text_field,
)

NETWORK = "whatsapp"
OBJECT = "whatsapp_business_account"
# The customer-service window (developers.facebook.com/docs/whatsapp/pricing: "customer service windows").
SERVICE_WINDOW = timedelta(hours=24)
MAX_TEXT = 4096  # a text message's body (Cloud API messages reference: text.body)
LIMITS = NetworkLimits(max_text=MAX_TEXT, max_media=0, media_types=())
# Cloud API throughput is 80 messages a second per business number by default; replies are one at a time.
BUDGET = RateBudget(per_account_concurrency=4, per_network_concurrency=50)

# What read_profile asks of the business profile (brand consistency).
PROFILE_FIELDS = "about,description,websites,profile_picture_url"


def window_closed_message(received_at: datetime, network: str = "WhatsApp") -> str:
    return (f"The 24-hour customer service window of this {network} conversation closed at "
            f"{(received_at + SERVICE_WINDOW).strftime('%Y-%m-%d %H:%M UTC')}: only an approved template can be "
            "sent now. Reply with a saved reply that names a template.")


def received_at(thread: Mapping[str, Any]) -> datetime | None:
    value = thread.get("received_at")
    try:
        return parse_rfc3339(str(value)) if value else None
    except ValueError:
        return None


# -- the webhook -----------------------------------------------------------------------------------------------

def parse_entries(payload: Mapping[str, Any], parsed: ParsedWebhook) -> ParsedWebhook:
    """The `whatsapp_business_account` object's entries: one event per inbound message."""
    try:
        entries = items_of(payload, "entry")
    except Malformed as exc:
        parsed.errors.append(str(exc))
        return parsed
    for index, entry in enumerate(entries):
        try:
            changes = items_of(entry, "changes")
        except Malformed as exc:
            parsed.errors.append(f"entry[{index}]: {exc}")
            continue
        for number, change in enumerate(changes):
            try:
                _change(change, parsed)
            except Malformed as exc:
                parsed.errors.append(f"entry[{index}].changes[{number}]: {exc}")
    return parsed


def _change(change: Any, parsed: ParsedWebhook) -> None:
    if not isinstance(change, Mapping) or not isinstance(change.get("value"), Mapping):
        raise Malformed("change has no value object")
    value = change["value"]
    if change.get("field") != "messages":
        parsed.ignored += 1
        return
    phone_number_id = text_field(value.get("metadata"), "phone_number_id", "metadata")
    names = {str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
             for c in value.get("contacts") or [] if isinstance(c, Mapping)}
    parsed.ignored += len(value.get("statuses") or [])  # sent / delivered / read receipts
    for message in items_of(value, "messages"):
        parsed.events.append(_message(phone_number_id, message, names))


def _message(phone_number_id: str, message: Any, names: Mapping[str, str]) -> InboundEvent:
    if not isinstance(message, Mapping):
        raise Malformed("message is not an object")
    wamid = text_field(message, "id", "message")
    sender = text_field(message, "from", "message")
    occurred = moment_from_epoch(message.get("timestamp"), "timestamp")
    context = message.get("context")
    return InboundEvent(
        network=NETWORK, account_id=phone_number_id, event_id=wamid, kind="message", action="created",
        thread_key=sender, message_id=wamid, direction="inbound", text=_text(message), occurred_at=occurred,
        author_id=sender, author_name=names.get(sender, ""), author_handle=f"+{sender}",
        parent_id=optional_text(context, "id") if isinstance(context, Mapping) else None,
        reply_context={"wa_id": sender, "phone_number_id": phone_number_id, "message_id": wamid,
                       "received_at": occurred.isoformat()},
    )


def _text(message: Mapping[str, Any]) -> str:
    kind = str(message.get("type") or "")
    if kind == "text":
        return optional_text(message.get("text"), "body") or ""
    body = message.get(kind) if kind else None
    caption = optional_text(body, "caption") if isinstance(body, Mapping) else None
    return f"[{kind}] {caption}" if caption else f"[{kind or 'message'}]"


# -- replies -----------------------------------------------------------------------------------------------------

class WhatsAppAdapter(InboxNetworkAdapter):
    """Credentials: `access_token` (a system user token with whatsapp_business_messaging). Settings:
    `phone_number_id`, the business number that receives and sends."""

    network = NETWORK
    limits = LIMITS

    def __init__(self, http: Any = None, clock: Clock | None = None, *, graph_url: str | None = None) -> None:
        super().__init__(http, clock)
        self.graph_url = (graph_url or GRAPH_URL).rstrip("/")

    def describe_account(self, channel: ChannelContext) -> dict[str, str]:
        """GET /{phone_number_id}: the number exists and the token reaches it."""
        phone_number_id = _phone_number_id(channel, {})
        body = self._call(channel, "GET", f"{self.graph_url}/{phone_number_id}",
                          params={"fields": "display_phone_number,verified_name"})
        number = str(body.get("display_phone_number") or "")
        if str(body.get("id") or phone_number_id) != phone_number_id:
            raise PermanentError("WhatsApp answered for another phone number than the one named.")
        return {"handle": number or phone_number_id, "account_id": phone_number_id,
                "display_name": str(body.get("verified_name") or "")}

    def read_profile(self, channel: ChannelContext) -> PublicProfile:
        """The number's verified_name (`GET /{phone_number_id}`) and its business profile
        (`GET /{phone_number_id}/whatsapp_business_profile`): description (else about), the first of its
        websites, profile_picture_url; the display phone number as the handle."""
        phone_number_id = _phone_number_id(channel, {})
        number = self._call(channel, "GET", f"{self.graph_url}/{phone_number_id}",
                            params={"fields": "display_phone_number,verified_name"})
        body = self._call(channel, "GET", f"{self.graph_url}/{phone_number_id}/whatsapp_business_profile",
                          params={"fields": PROFILE_FIELDS})
        data = body.get("data")
        profile = data[0] if isinstance(data, list) and data and isinstance(data[0], Mapping) else {}
        websites = [str(site) for site in profile.get("websites") or [] if isinstance(site, str) and site]
        return PublicProfile(display_name=optional_text(number, "verified_name"),
                             bio=optional_text(profile, "description") or optional_text(profile, "about"),
                             link=websites[0] if websites else None,
                             avatar_url=optional_text(profile, "profile_picture_url"),
                             handle=optional_text(number, "display_phone_number"))

    def reply_problem(self, request: ReplyRequest) -> str | None:
        """Why this reply cannot be sent now (the window closed and no template is named), or None."""
        last = received_at(request.thread)
        if last is None or request.template_name or self._clock.now() - last <= SERVICE_WINDOW:
            return None
        return window_closed_message(last)

    def reply(self, channel: ChannelContext, request: ReplyRequest) -> PublishResult:
        problem = self.reply_problem(request)
        if problem:
            raise PermanentError(problem)
        recipient = str(request.thread.get("wa_id") or "")
        if not recipient:
            raise PermanentError("This WhatsApp conversation has no recipient to answer.")
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient}
        last = received_at(request.thread)
        if request.template_name and (last is None or self._clock.now() - last > SERVICE_WINDOW):
            body |= {"type": "template", "template": {"name": request.template_name,
                                                      "language": {"code": request.template_language}}}
        else:
            body |= {"type": "text", "text": {"body": request.text}}
            if request.in_reply_to:
                body["context"] = {"message_id": request.in_reply_to}
        answer = self._call(channel, "POST", f"{self.graph_url}/{_phone_number_id(channel, request.thread)}/messages",
                            json=body)
        messages = answer.get("messages") or [{}]
        remote_id = str(messages[0].get("id") or "") if isinstance(messages[0], Mapping) else ""
        if not remote_id:
            raise PermanentError("WhatsApp accepted the reply but returned no message id.")
        return PublishResult(remote_id=remote_id, published_at=self._clock.now())

    def _call(self, channel: ChannelContext, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        token = channel.credentials.get("access_token")
        if not token:
            raise PermanentError("The WhatsApp channel has no access token.")
        response = send(self.http, method, url, network="WhatsApp",
                        explain=explain_whatsapp_error,
                        headers={"Authorization": f"Bearer {token}"}, now=self._clock.now, **kwargs)
        body = read_json(response)
        return body if isinstance(body, dict) else {}


# The Cloud API's own codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes), in words.
ERROR_SENTENCES = {
    131047: "WhatsApp refused the message: more than 24 hours have passed since the customer last wrote, so only "
            "an approved template can be sent",
    131026: "WhatsApp could not deliver the message to this number (not on WhatsApp, or an old app version)",
    132000: "WhatsApp refused the template: its parameters do not match the approved template",
    132001: "WhatsApp refused the template: no approved template has that name in that language",
    131051: "WhatsApp does not support this kind of message",
}


def explain_whatsapp_error(response: Any) -> ErrorDetail:
    detail = explain_error(response, network="WhatsApp")
    body = read_json(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    if code in ERROR_SENTENCES:
        return ErrorDetail(text=detail.text, not_auth=True, sentence=ERROR_SENTENCES[code])
    return detail


def _phone_number_id(channel: ChannelContext, thread: Mapping[str, Any]) -> str:
    value = str(channel.settings.get("phone_number_id") or thread.get("phone_number_id") or "")
    if not value.isdigit():
        raise PermanentError("This WhatsApp channel has no phone number id; reconnect it.")
    return value


def make_adapter(http: Any = None, clock: Clock | None = None, *, base_url: str | None = None) -> WhatsAppAdapter:
    """`base_url` is HERALD_META_GRAPH_URL (WhatsApp's Cloud API is part of the Graph API)."""
    return WhatsAppAdapter(http, clock, graph_url=base_url)
