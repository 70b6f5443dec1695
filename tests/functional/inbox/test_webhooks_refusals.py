"""What a refused webhook or handshake answers: the same for every reason, with the reason only in the log.

An unconfigured receiver (no secret, no verify token) answers exactly like a bad signature or a bad
handshake, so a caller cannot tell how Herald is set up; and no refusal repeats what the caller sent.
"""
from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from chalicelib.core.settings import get_settings
from chalicelib.inbox.webhooks import RECEIVERS
from chalicelib.wiring import Container, use_container
from tests.support.webhooks import (
    DOCUMENTED_HANDSHAKES,
    Webhooks,
    assert_nothing_stored,
    fixture,
    signed_headers,
)

EVENTS = {
    "meta": "feed_comment_add.json",
    "x": "tweet_create_reply.json",
    "linkedin": "comment_notification.json",
    "tiktok": "video_publish_completed.json",
}
WITH_HANDSHAKE = sorted(name for name, receiver in RECEIVERS.items() if receiver.handshake is not None)
MARKER = "<b>herald-marker</b>"


def without(setting: str, aws, clock) -> Container:
    """The app as deployed with `setting` left empty."""
    settings = replace(get_settings(), **{setting: ""})
    return use_container(Container(settings=settings, clock=clock, clients=aws, sleep=lambda _s: None))


def comparable(answer) -> tuple[int, bytes]:
    return answer.status_code, answer.body


def test_every_receiver_has_an_event_here():
    assert set(EVENTS) == set(RECEIVERS)


@pytest.mark.parametrize("name", sorted(RECEIVERS))
def test_a_receiver_without_its_secret_answers_like_a_bad_signature(client, aws, clock, deps, caplog, name):
    hooks, body = Webhooks(client, clock), fixture(name, EVENTS[name])
    secret = getattr(get_settings(), RECEIVERS[name].secret_setting)
    bad_signature = hooks.post(name, body, headers=signed_headers(name, body, clock.now(), "not-our-secret"))

    without(RECEIVERS[name].secret_setting, aws, clock)
    with caplog.at_level(logging.WARNING, logger="herald.webhooks"):
        unconfigured = [hooks.post(name, body, headers=signed_headers(name, body, clock.now(), key))
                        for key in (secret, "", "not-our-secret")]

    assert bad_signature.status_code == 401
    assert bad_signature.json["error"] == {"code": "invalid_signature",
                                           "message": "The webhook signature is not valid.", "details": []}
    assert [comparable(answer) for answer in unconfigured] == [comparable(bad_signature)] * 3
    assert_nothing_stored(deps)
    assert "no secret configured" in caplog.text
    assert secret not in caplog.text


@pytest.mark.parametrize("name", WITH_HANDSHAKE)
def test_a_handshake_without_its_key_answers_like_a_bad_handshake(client, aws, clock, deps, caplog, name):
    hooks, documented = Webhooks(client, clock), DOCUMENTED_HANDSHAKES[name]
    assert hooks.get(name, documented).status_code == 200
    bad = hooks.get(name, {key: "" for key in documented})

    without(RECEIVERS[name].handshake.key_setting, aws, clock)
    with caplog.at_level(logging.WARNING, logger="herald.webhooks"):
        unconfigured = hooks.get(name, documented)

    assert bad.status_code == 403
    assert bad.json["error"] == {"code": "handshake_refused", "message": "The handshake is not valid.",
                                 "details": []}
    assert comparable(unconfigured) == comparable(bad)
    assert "no secret configured" in caplog.text or "no verify token configured" in caplog.text


@pytest.mark.parametrize("name", WITH_HANDSHAKE)
def test_a_refused_handshake_does_not_repeat_what_it_was_sent(client, clock, deps, name):
    hooks, documented = Webhooks(client, clock), DOCUMENTED_HANDSHAKES[name]
    refusals = [hooks.get(name, {**documented, key: MARKER}) for key in documented]

    assert {answer.status_code for answer in refusals} == {403}
    for answer in refusals:
        assert b"herald-marker" not in answer.body
        assert answer.json["error"]["message"] == "The handshake is not valid."


@pytest.mark.parametrize("name", sorted(RECEIVERS))
def test_a_refused_signature_does_not_repeat_what_it_was_sent(client, clock, deps, name):
    hooks, body = Webhooks(client, clock), fixture(name, EVENTS[name])
    header = next(iter(signed_headers(name, body, clock.now(), "x")))
    answer = hooks.post(name, body, headers={header: MARKER, "Content-Type": "application/json"})

    assert answer.status_code == 401
    assert b"herald-marker" not in answer.body
