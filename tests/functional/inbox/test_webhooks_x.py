"""/webhooks/x: CRC, signed Account Activity deliveries → store → queue → inbox."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from tests.support.factories import connect_verified
from tests.support.webhooks import (
    X_SECRET,
    Webhooks,
    assert_nothing_stored,
    common_bad_deliveries,
    fixture,
    settle_inbox,
    x_headers,
)

USER_ID = "2975699229"



@pytest.fixture
def hooks(client, clock):
    return Webhooks(client, clock)


@pytest.fixture
def account(api, network_apis):
    return connect_verified(api, network_apis, "x", USER_ID, name="Scruffy", handle="scruffy")["id"]


def conversations(api, query=""):
    return api.get(f"/inbox/conversations?{query}").json["items"]


def messages(api, conversation_id):
    return api.get(f"/inbox/conversations/{conversation_id}").json["messages"]


@pytest.mark.parametrize("token", ["challenge-123", "9b4507b3-9040-4669-9ca3-6b94edb50553",
                                   "MTU5NDk0NDQwNjk2OTIzMDk3Ng==", "a+b/c="])
def test_the_crc_check_answers_with_the_hmac_of_the_token(hooks, deps, token):
    answer = hooks.get("x", {"crc_token": token})

    expected = hmac.new(X_SECRET.encode(), token.encode(), hashlib.sha256).digest()
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert json.loads(answer.body) == {"response_token": "sha256=" + base64.b64encode(expected).decode()}


@pytest.mark.parametrize("query", ["other=1", "crc_token=", {"crc_token": '{"for_user_id":"2975699229"}'},
                                   {"crc_token": "A" * 257}, {"crc_token": "two words"}])
def test_a_crc_check_without_a_token_of_the_documented_shape_is_refused(hooks, deps, query):
    answer = hooks.get("x", query)
    assert answer.status_code == 403
    assert answer.json["error"] == {"code": "handshake_refused", "message": "The handshake is not valid.",
                                    "details": []}


def test_replies_mentions_and_dms_land_in_their_conversations(hooks, api, deps, clock, account):
    for name in ("tweet_create_reply.json", "tweet_create_mention.json", "direct_message_incoming.json"):
        assert hooks.post("x", fixture("x", name)).status_code == 200
    settle_inbox(deps)
    clock.advance(seconds=42)
    hooks.post("x", fixture("x", "direct_message_outgoing.json"))
    settle_inbox(deps)

    by_kind = {c["kind"]: c for c in conversations(api)}
    assert set(by_kind) == {"comment", "mention", "message"}
    assert by_kind["comment"]["participant"]["handle"] == "pennbrooke1"
    dm = by_kind["message"]
    assert [m["direction"] for m in messages(api, dm["id"])] == ["inbound", "outbound"]
    assert dm["first_response_s"] == 42
    assert conversations(api, "kind=mention")[0]["last_message_preview"].startswith("Best coffee in town")


def test_the_same_delivery_twice_stores_one_message(hooks, api, deps, account):
    body = fixture("x", "tweet_create_reply.json")
    hooks.post("x", body)
    settle_inbox(deps)
    again = hooks.post("x", body)

    assert again.status_code == 200 and again.json["duplicates"] == 1
    settle_inbox(deps)
    [conversation] = conversations(api)
    assert len(messages(api, conversation["id"])) == 1


def test_a_batch_with_a_bad_entry_keeps_the_good_one(hooks, api, deps, account):
    answer = hooks.post("x", fixture("x", "batch_with_bad_entry.json"))

    assert answer.status_code == 200, answer.body
    assert (answer.json["stored"], answer.json["rejected"], answer.json["ignored"]) == (1, 1, 2)
    settle_inbox(deps)
    [conversation] = conversations(api)
    assert [m["text"] for m in messages(api, conversation["id"])] == ["@ScruffyMcG what time do you open?"]


def test_an_event_for_no_connected_account_is_answered_not_stored(hooks, deps):
    answer = hooks.post("x", fixture("x", "tweet_create_reply.json"))
    assert answer.status_code == 200 and answer.json["unrouted"] == 1
    assert_nothing_stored(deps)


def _sign(body, secret=X_SECRET):
    return x_headers(body, secret)


BAD = {
    **common_bad_deliveries(fixture("x", "tweet_create_reply.json"), _sign, b'{"something": "else"}'),
    "signature that is not base64": (fixture("x", "tweet_create_reply.json"),
                                     {"x-twitter-webhooks-signature": "sha256=***"}, 401),
    "hex instead of base64": (fixture("x", "tweet_create_reply.json"),
                              {"x-twitter-webhooks-signature": "sha256=" + "ab" * 32}, 401),
}


def test_bad_input_is_refused_and_nothing_is_stored(hooks, deps, account):
    for case, (body, headers, status) in BAD.items():
        answer = hooks.post("x", body, headers={"Content-Type": "application/json", **headers})

        assert answer.status_code == status, (case, answer.body)
        assert json.loads(answer.body)["error"]["code"], case
        assert_nothing_stored(deps)
