"""WhatsApp Business (Cloud API) in the inbox, end to end in-process: signed Meta webhook deliveries of
`whatsapp_business_account` messages → conversations; replies through the reply route → POST
/{phone_number_id}/messages on the Graph fake (tests/fakes/meta_graph.py), inside the 24-hour customer-service
window as text, outside it only as the approved template a saved reply names (else a 409 that says why)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.core.settings import get_settings
from chalicelib.networks import whatsapp
from chalicelib.wiring import Container, use_container
from tests.fakes.meta_graph import MetaGraphFake
from tests.support.webhooks import Webhooks, fixture, settle_inbox

PHONE_NUMBER_ID = "106540352242922"
CUSTOMER = "16505551234"
TOKEN = "wa-system-user-token"
WROTE_AT = datetime.fromtimestamp(1749416383, UTC)  # text_message.json's timestamp


@pytest.fixture
def graph(clock: Any) -> Iterator[MetaGraphFake]:
    with MetaGraphFake(clock.now) as fake:
        fake.phone_number(PHONE_NUMBER_ID, "+1 555-078-3881", "Herald Coffee", TOKEN)
        yield fake


@pytest.fixture
def deps(aws: dict[str, Any], clock: Any, network_apis: Any, graph: MetaGraphFake) -> Container:
    # The WhatsApp adapter at the Graph fake (wiring gives it HERALD_META_GRAPH_URL; see the report).
    adapter = whatsapp.make_adapter(clock=clock, base_url=graph.url)
    return use_container(Container(network_apis.settings(get_settings()), clock=clock, clients=aws,
                                   sleep=lambda _s: None, adapter_overrides={"whatsapp": adapter}))


@pytest.fixture
def hooks(client: Any, clock: Any) -> Webhooks:
    return Webhooks(client, clock)


@pytest.fixture
def number(api: Any, graph: MetaGraphFake) -> str:
    answer = api.post("/channels", {"network": "whatsapp", "name": "Herald WhatsApp",
                                    "credentials": {"access_token": TOKEN},
                                    "settings": {"phone_number_id": PHONE_NUMBER_ID}})
    assert answer.status_code == 201, answer.body
    return str(answer.json["id"])


def a_conversation(api: Any, hooks: Webhooks, deps: Container, clock: Any, name: str = "text_message.json") -> str:
    clock.set(WROTE_AT + timedelta(minutes=5))
    assert hooks.post("meta", fixture("whatsapp", name)).status_code == 200
    settle_inbox(deps)
    [conversation] = api.get("/inbox/conversations").json["items"]
    return str(conversation["id"])


def test_connecting_checks_the_number_with_the_graph_api(api, number, graph):
    channel = api.get(f"/channels/{number}").json
    assert channel["network"] == "whatsapp"
    [seen] = [r for r in graph.requests if r.path == f"/{PHONE_NUMBER_ID}"]
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen.query == {"fields": "display_phone_number,verified_name"}


def test_a_whatsapp_message_becomes_a_conversation(api, hooks, deps, clock, number):
    conversation_id = a_conversation(api, hooks, deps, clock)

    thread = api.get(f"/inbox/conversations/{conversation_id}").json
    conversation = thread.get("conversation", thread)
    assert (conversation["network"], conversation["kind"], conversation["channel_id"]) == (
        "whatsapp", "message", number)
    [message] = thread["messages"]
    assert (message["direction"], message["text"]) == ("inbound", "Does it come in another color?")
    assert message["author"]["name"] == "Sheena Nelson"


def test_a_delivery_receipt_is_not_a_message(api, hooks, deps, number):
    assert hooks.post("meta", fixture("whatsapp", "status_delivered.json")).status_code == 200
    settle_inbox(deps)
    assert api.get("/inbox/conversations").json["items"] == []


def test_a_reply_inside_the_window_is_a_text_message_in_context(api, hooks, deps, clock, number, graph):
    conversation_id = a_conversation(api, hooks, deps, clock)
    clock.advance(hours=2)

    answer = api.post(f"/inbox/conversations/{conversation_id}/reply", {"text": "Yes: green and blue."})

    assert answer.status_code == 201, answer.body
    assert answer.json["message"]["delivery_status"] == "sent"
    [sent] = graph.whatsapp_messages(PHONE_NUMBER_ID)
    assert sent["to"] == CUSTOMER and sent["type"] == "text" and sent["text"] == {"body": "Yes: green and blue."}
    assert sent["context"]["message_id"].startswith("wamid.")
    assert answer.json["message"]["id"] == sent["id"]
    assert graph.state.violations == []


def test_after_the_window_a_free_text_reply_is_refused_and_nothing_is_sent(api, hooks, deps, clock, number, graph):
    conversation_id = a_conversation(api, hooks, deps, clock)
    clock.advance(hours=25)

    answer = api.post(f"/inbox/conversations/{conversation_id}/reply", {"text": "Still there?"})

    assert answer.status_code == 409, answer.body
    error = answer.json["error"]
    assert error["code"] == "reply_window_closed"
    assert "24-hour customer service window" in error["message"] and "template" in error["message"]
    assert graph.whatsapp_messages(PHONE_NUMBER_ID) == []
    thread = api.get(f"/inbox/conversations/{conversation_id}").json
    assert [m["direction"] for m in thread["messages"]] == ["inbound"]  # no failed reply recorded


def test_after_the_window_a_saved_reply_with_a_template_sends_the_template(api, hooks, deps, clock, number,
                                                                          graph):
    saved = api.post("/saved-replies", {"name": "Follow up", "text": "We have news about your order.",
                                        "template_name": "order_follow_up", "template_language": "en_US"})
    assert saved.status_code == 201, saved.body
    assert saved.json["template_name"] == "order_follow_up"
    conversation_id = a_conversation(api, hooks, deps, clock)
    clock.advance(days=2)

    answer = api.post(f"/inbox/conversations/{conversation_id}/reply", {"saved_reply_id": saved.json["id"]})

    assert answer.status_code == 201, answer.body
    [sent] = graph.whatsapp_messages(PHONE_NUMBER_ID)
    assert sent["type"] == "template"
    assert sent["template"] == {"name": "order_follow_up", "language": {"code": "en_US"}}


def test_a_saved_reply_without_a_template_does_not_open_a_closed_window(api, hooks, deps, clock, number, graph):
    saved = api.post("/saved-replies", {"name": "Thanks", "text": "Thanks for writing!"})
    conversation_id = a_conversation(api, hooks, deps, clock)
    clock.advance(days=2)

    answer = api.post(f"/inbox/conversations/{conversation_id}/reply", {"saved_reply_id": saved.json["id"]})

    assert answer.status_code == 409 and answer.json["error"]["code"] == "reply_window_closed"
    assert graph.whatsapp_messages(PHONE_NUMBER_ID) == []
