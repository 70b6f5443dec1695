"""The WhatsApp Cloud API side: parsing Meta's webhook payloads and the reply's rules and errors."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks import meta, whatsapp
from chalicelib.networks.base import AuthError, ChannelContext, PermanentError, ReplyRequest
from tests.support.network_fakes import FakeResponse, FakeSession, load_event

PHONE_NUMBER_ID = "106540352242922"


def channel() -> ChannelContext:
    return ChannelContext("ws_1", "ch_wa", "whatsapp", {"phone_number_id": PHONE_NUMBER_ID},
                          {"access_token": "wa-token"})


def only_event(name: str):
    parsed = meta.parse_webhook(load_event("whatsapp", name))
    assert parsed.errors == []
    [event] = parsed.events
    return event


def test_a_text_message_is_an_inbound_message_keyed_by_the_customer():
    event = only_event("text_message.json")
    assert (event.network, event.account_id, event.kind, event.thread_key) == (
        "whatsapp", PHONE_NUMBER_ID, "message", "16505551234")
    assert (event.text, event.author_name, event.author_handle) == (
        "Does it come in another color?", "Sheena Nelson", "+16505551234")
    assert event.reply_context["received_at"] == event.occurred_at.isoformat()


def test_an_image_keeps_its_caption():
    assert only_event("image_message.json").text == "[image] This one?"


def test_a_delivery_receipt_is_ignored_not_an_error():
    parsed = meta.parse_webhook(load_event("whatsapp", "status_delivered.json"))
    assert (parsed.events, parsed.errors, parsed.ignored) == ([], [], 1)


def test_a_change_without_a_phone_number_is_malformed():
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"messages": []}}]}]}
    assert meta.parse_webhook(payload).errors


def reply_to(event, **fields) -> ReplyRequest:
    return ReplyRequest(reply_id="r1", text="Yes!", in_reply_to=event.message_id, thread=event.reply_context,
                        kind="message", **fields)


def test_outside_the_window_a_re_engagement_refusal_is_in_words():
    event = only_event("text_message.json")
    http = FakeSession([FakeResponse(400, {"error": {"message": "(#131047) Re-engagement message", "code": 131047,
                                                     "type": "OAuthException"}})])
    adapter = whatsapp.make_adapter(http, FixedClock(event.occurred_at + timedelta(hours=1)))
    with pytest.raises(PermanentError, match="only an approved template can be sent"):
        adapter.reply(channel(), reply_to(event))


def test_a_revoked_token_needs_reconnecting():
    event = only_event("text_message.json")
    http = FakeSession([FakeResponse(401, {"error": {"message": "Error validating access token", "code": 190,
                                                     "type": "OAuthException"}})])
    with pytest.raises(AuthError):
        whatsapp.make_adapter(http, FixedClock(event.occurred_at)).reply(channel(), reply_to(event))


def test_the_window_is_24_hours_from_the_customers_message():
    event = only_event("text_message.json")
    inside = whatsapp.make_adapter(FakeSession([]), FixedClock(event.occurred_at + timedelta(hours=24)))
    outside = whatsapp.make_adapter(FakeSession([]), FixedClock(event.occurred_at + timedelta(hours=24, seconds=1)))
    assert inside.reply_problem(reply_to(event)) is None
    assert "closed" in (outside.reply_problem(reply_to(event)) or "")
    assert outside.reply_problem(reply_to(event, template_name="order_follow_up")) is None
