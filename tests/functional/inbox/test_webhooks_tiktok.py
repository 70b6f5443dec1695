"""/webhooks/tiktok: signed with a timestamp; no documented event is a conversation."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.support.factories import connect_verified
from tests.support.fixtures import START
from tests.support.http import Api
from tests.support.webhooks import (
    TIKTOK_SECRET,
    Webhooks,
    assert_nothing_stored,
    common_bad_deliveries,
    fixture,
    outcomes,
    tiktok_headers,
)

OPEN_ID = "act.example12345Example12345Example"


@pytest.fixture
def hooks(client, clock):
    return Webhooks(client, clock)


@pytest.fixture
def account(client, workspace, network_apis):
    return connect_verified(Api(client, workspace.headers()), network_apis, "tiktok", OPEN_ID,
                            name="Herald on TikTok")["id"]


@pytest.mark.parametrize("name", ["video_publish_completed.json", "authorization_removed.json"])
def test_documented_events_are_answered_and_counted_not_stored(hooks, deps, clock, account, name):
    answer = hooks.post("tiktok", fixture("tiktok", name))

    assert answer.status_code == 200, answer.body
    assert answer.json["ignored"] == 1
    assert_nothing_stored(deps)
    assert outcomes(deps, "tiktok", clock)["ignored"] == 1


def _sign(body, secret=TIKTOK_SECRET):
    return tiktok_headers(body, START, secret)


BODY = fixture("tiktok", "video_publish_completed.json")
BAD = {
    **common_bad_deliveries(BODY, _sign, b'{"event": "x"}'),
    "stale timestamp (a replay)": (BODY, tiktok_headers(BODY, START - timedelta(minutes=6)), 401),
    "timestamp from the future": (BODY, tiktok_headers(BODY, START + timedelta(minutes=6)), 401),
    "content that is not serialized JSON": (fixture("tiktok", "malformed_content.json"),
                                            _sign(fixture("tiktok", "malformed_content.json")), 400),
}


def test_bad_input_is_refused_and_nothing_is_stored(hooks, deps, account):
    for case, (body, headers, status) in BAD.items():
        answer = hooks.post("tiktok", body, headers={"Content-Type": "application/json", **headers})

        assert answer.status_code == status, (case, answer.body)
        assert json.loads(answer.body)["error"]["code"], case
        assert_nothing_stored(deps)
