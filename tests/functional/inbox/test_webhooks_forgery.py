"""No handshake is a signing oracle: whatever a GET handshake answers, it cannot sign a POST.

X's CRC and LinkedIn's challengeCode sign what they are sent with the same key the POST signatures use, and
Meta's echoes its challenge. For every receiver with a handshake (the table must name each one), an attacker
asks the handshake to sign a real event (as it is, compacted, behind whitespace or a BOM, behind LinkedIn's
`hmacsha256=` prefix...), takes the answer as the signature of a POST of that event, and is refused with 401;
nothing is stored. The same event signed with the real secret is then stored, so the refusal is the
signature's and not a routing accident.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.inbox.webhooks import RECEIVERS
from tests.support.factories import connect_verified
from tests.support.http import Api
from tests.support.webhooks import META_VERIFY_TOKEN, Webhooks, assert_nothing_stored, fixture, stored_event_keys


def _answer_field(name: str) -> Callable[[Any], str]:
    """The handshake's answer as an attacker would use it: the signing field, else the raw body."""

    def read(answer: Any) -> str:
        text = answer.body.decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        value = parsed.get(name) if isinstance(parsed, dict) else None
        return value if isinstance(value, str) else text

    return read


@dataclass(frozen=True)
class Forgery:
    """How to ask one receiver's handshake to sign `text`, and make its answer a POST signature."""

    event: str
    # The channel the event is for, connected through the fake network API: (network, account id).
    channel: tuple[str, str]
    query: Callable[[str], dict[str, str]]
    signature_header: str
    signature_from: Callable[[Any], str]
    # What the network puts before the body in the string it signs; "" is always tried.
    signed_prefixes: tuple[str, ...] = ("",)


FORGERIES: dict[str, Forgery] = {
    "x": Forgery(
        event="tweet_create_reply.json",
        channel=("x", "2975699229"),
        query=lambda text: {"crc_token": text},
        signature_header="x-twitter-webhooks-signature",
        signature_from=_answer_field("response_token"),
    ),
    "linkedin": Forgery(
        event="comment_notification.json",
        channel=("linkedin", "urn:li:organization:96072893"),
        query=lambda text: {"challengeCode": text},
        signature_header="X-LI-Signature",
        signature_from=_answer_field("challengeResponse"),
        signed_prefixes=("", "hmacsha256=", "HMACSHA256="),
    ),
    "meta": Forgery(
        event="feed_comment_add.json",
        channel=("facebook", "448242228374517"),
        # The worst case: the attacker knows the verify token.
        query=lambda text: {"hub.mode": "subscribe", "hub.verify_token": META_VERIFY_TOKEN, "hub.challenge": text},
        signature_header="X-Hub-Signature-256",
        signature_from=lambda answer: "sha256=" + answer.body.decode("utf-8", "replace"),
    ),
}


def body_variants(event: bytes) -> dict[str, str]:
    """Bodies a POST receiver would parse as this event (or as some JSON object)."""
    plain = event.decode()
    compact = json.dumps(json.loads(event), separators=(",", ":"))
    return {
        "the event as it is": plain,
        "compacted": compact,
        "behind a space": " " + compact,
        "behind a newline": "\n" + compact,
        "behind a tab": "\t" + compact,
        "behind a carriage return": "\r" + compact,
        "behind a byte order mark": "\ufeff" + compact,
        "with a trailing newline": compact + "\n",
        "an empty object": "{}",
        "a tiny object": '{"a":1}',
    }


def forgery_cases(name: str) -> list[tuple[str, str, str]]:
    """(case, the text the handshake is asked to sign, the body posted with its answer)."""
    forgery = FORGERIES[name]
    return [(f"{variant}{' behind ' + prefix if prefix else ''}", prefix + body, body)
            for variant, body in body_variants(fixture(name, forgery.event)).items()
            for prefix in forgery.signed_prefixes]


def test_every_receiver_with_a_handshake_has_a_forgery_row():
    with_handshake = {name for name, receiver in RECEIVERS.items() if receiver.handshake is not None}
    assert with_handshake == set(FORGERIES), "a receiver with a handshake needs a row in FORGERIES"


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_no_handshake_answer_signs_a_post(client, clock, deps, workspace, network_apis, name):
    forgery = FORGERIES[name]
    api, hooks = Api(client, workspace.headers()), Webhooks(client, clock)
    connect_verified(api, network_apis, *forgery.channel)
    cases = forgery_cases(name)
    for case, challenge, body in cases:
        handshake = hooks.get(name, forgery.query(challenge))
        signature = {forgery.signature_header: forgery.signature_from(handshake),
                     "Content-Type": "application/json"}
        answer = hooks.post(name, body.encode(), headers=signature)

        assert answer.status_code == 401, (case, handshake.status_code, answer.body)
        assert answer.json["error"]["code"] == "invalid_signature", case
        assert_nothing_stored(deps)

    assert len(cases) >= 10
    genuine = hooks.post(name, fixture(name, forgery.event))
    assert genuine.status_code == 200 and genuine.json["stored"] == 1, genuine.body
    assert len(stored_event_keys(deps)) == 1
