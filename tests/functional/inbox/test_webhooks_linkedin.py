"""/webhooks/linkedin: challengeCode validation, signed notifications → store → queue → inbox."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tests.support.factories import connect_verified
from tests.support.webhooks import (
    LINKEDIN_SECRET,
    Webhooks,
    assert_nothing_stored,
    common_bad_deliveries,
    fixture,
    linkedin_headers,
    outcomes,
    settle_inbox,
)

ORGANIZATION = "urn:li:organization:96072893"



@pytest.fixture
def hooks(client, clock):
    return Webhooks(client, clock)


@pytest.fixture
def organization(api, network_apis):
    return connect_verified(api, network_apis, "linkedin", ORGANIZATION, name="Herald on LinkedIn")["id"]


def conversations(api, query=""):
    return api.get(f"/inbox/conversations?{query}").json["items"]


def messages(api, conversation_id):
    return api.get(f"/inbox/conversations/{conversation_id}").json["messages"]


@pytest.mark.parametrize("code", ["890e4a8b-1234", "890e4665-4dfe-4ab1-b689-ed553bceeed0"])
def test_the_challenge_is_answered_with_the_hmac_of_the_code(hooks, deps, code):
    answer = hooks.get("linkedin", {"challengeCode": code})

    expected = hmac.new(LINKEDIN_SECRET.encode(), code.encode(), hashlib.sha256).hexdigest()
    assert answer.status_code == 200
    assert json.loads(answer.body) == {"challengeCode": code, "challengeResponse": expected}


@pytest.mark.parametrize("query", ["challenge=1", "challengeCode=", {"challengeCode": "hmacsha256={}"},
                                   {"challengeCode": "a" * 257}, {"challengeCode": "<b>"}])
def test_a_challenge_without_a_code_of_the_documented_shape_is_refused(hooks, deps, query):
    answer = hooks.get("linkedin", query)
    assert answer.status_code == 403
    assert answer.json["error"] == {"code": "handshake_refused", "message": "The handshake is not valid.",
                                    "details": []}


def test_comments_and_mentions_become_conversations(hooks, api, deps, organization):
    assert hooks.post("linkedin", fixture("linkedin", "comment_notification.json")).status_code == 200
    assert hooks.post("linkedin", fixture("linkedin", "mention_notification.json")).status_code == 200
    settle_inbox(deps)

    by_kind = {c["kind"]: c for c in conversations(api)}
    assert set(by_kind) == {"comment", "mention"}
    [comment] = messages(api, by_kind["comment"]["id"])
    assert comment["text"] == "Congratulations to the whole team!"
    assert comment["author"]["id"] == "urn:li:person:Ab3dE5fG7h"


def test_a_batch_keeps_its_good_entries_and_applies_the_later_delete(hooks, api, deps, organization):
    answer = hooks.post("linkedin", fixture("linkedin", "batch_with_bad_entry.json"))

    assert answer.status_code == 200, answer.body
    assert (answer.json["stored"], answer.json["rejected"], answer.json["ignored"]) == (2, 1, 1)
    settle_inbox(deps)
    [conversation] = conversations(api)
    [message] = messages(api, conversation["id"])
    assert message["deleted"] is True and message["text"] == ""


def test_the_same_delivery_twice_stores_one_message(hooks, api, deps, organization):
    body = fixture("linkedin", "comment_notification.json")
    hooks.post("linkedin", body)
    hooks.post("linkedin", body)
    settle_inbox(deps)
    [conversation] = conversations(api)
    assert len(messages(api, conversation["id"])) == 1


def test_a_notification_for_another_organization_is_answered_not_stored(hooks, deps):
    answer = hooks.post("linkedin", fixture("linkedin", "comment_notification.json"))
    assert answer.status_code == 200 and answer.json["unrouted"] == 1
    assert_nothing_stored(deps)


BODY = fixture("linkedin", "comment_notification.json")


def _sign(body, secret=LINKEDIN_SECRET):
    return linkedin_headers(body, secret)


BAD = {
    **common_bad_deliveries(BODY, _sign, b'{"notifications": "none"}'),
    "signature without the prefix in what was signed": (
        BODY, {"X-LI-Signature": hmac.new(LINKEDIN_SECRET.encode(), BODY, hashlib.sha256).hexdigest()}, 401),
}


def test_bad_input_is_refused_and_nothing_is_stored(hooks, deps, organization):
    for case, (body, headers, status) in BAD.items():
        answer = hooks.post("linkedin", body, headers={"Content-Type": "application/json", **headers})

        assert answer.status_code == status, (case, answer.body)
        assert json.loads(answer.body)["error"]["code"], case
        assert_nothing_stored(deps)


def test_another_notification_family_is_answered_and_counted(hooks, deps, clock, organization):
    body = b'{"type": "LEAD_ACTION_NOTIFICATIONS", "notifications": [{"leadId": 1}]}'
    answer = hooks.post("linkedin", body)

    assert answer.status_code == 200 and answer.json["ignored"] == 1
    assert_nothing_stored(deps)
    assert outcomes(deps, "linkedin", clock)["ignored"] == 1
