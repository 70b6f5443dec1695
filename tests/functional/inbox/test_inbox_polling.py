"""Pollers for networks without webhooks: cursors kept, reruns idempotent.

Bluesky through a fake adapter (the real one is tested against a PDS
elsewhere); Mastodon through the real adapter and the local Mastodon fake.
"""
from __future__ import annotations

import pytest

from chalicelib.core.settings import get_settings
from chalicelib.networks.base import AuthError, PollResult
from chalicelib.wiring import Container, use_container
from tests.fakes.mastodon_server import MastodonFake
from tests.support.factories import connect_verified
from tests.support.fake_network import FakeNetwork, inbound
from tests.support.outbound import allow_local_peers
from tests.support.webhooks import settle_inbox

ROOT = "at://did:plc:heraldcoffee/app.bsky.feed.post/3kroot"


@pytest.fixture
def bluesky():
    return FakeNetwork()


@pytest.fixture
def deps(aws, clock, bluesky, network_apis):
    # The Mastodon fake is a local peer on 127.0.0.1.
    return use_container(allow_local_peers(Container(network_apis.settings(get_settings()), clock=clock,
                                                     clients=aws, sleep=lambda _s: None,
                                                     adapter_overrides={"bluesky": bluesky})))



def connect_bluesky(api, name="Herald on Bluesky"):
    created = api.post("/channels", {"network": "bluesky", "name": name, "credentials": {
        "service_url": "https://pds.example", "handle": "heraldcoffee.example", "app_password": "x"}})
    assert created.status_code == 201, created.body
    return created.json["id"]


def all_messages(api):
    texts = []
    for conversation in api.get("/inbox/conversations").json["items"]:
        texts += [m["text"] for m in api.get(f"/inbox/conversations/{conversation['id']}").json["messages"]]
    return sorted(texts)


NOTIFICATIONS = {
    None: PollResult([inbound("at://ada/1", thread=ROOT, text="one"),
                      inbound("at://bob/2", thread=ROOT, text="two")], "cursor-2"),
    "cursor-2": PollResult([inbound("at://cy/3", thread=ROOT, text="three")], "cursor-3"),
    "cursor-3": PollResult([], "cursor-3"),
}


def test_each_run_asks_from_the_cursor_the_last_one_kept(deps, api, bluesky):
    connect_bluesky(api)
    bluesky.poll = NOTIFICATIONS.__getitem__

    reports = [deps.inbox_poller.poll_all() for _run in range(3)]
    settle_inbox(deps)

    assert bluesky.polled_with == [None, "cursor-2", "cursor-3"]
    assert [r.stored for r in reports] == [2, 1, 0]
    assert all_messages(api) == ["one", "three", "two"]


def test_a_rerun_that_gets_the_same_notifications_again_stores_nothing_new(deps, api, bluesky):
    connect_bluesky(api)
    # A network that ignores the cursor, or a run that died before it saved it.
    bluesky.poll = lambda cursor: NOTIFICATIONS[None]

    first, second = deps.inbox_poller.poll_all(), deps.inbox_poller.poll_all()
    settle_inbox(deps)
    third = deps.inbox_poller.poll_all()

    assert (first.stored, second.stored, second.requeued) == (2, 0, 2)  # not applied yet: queued again
    assert (third.stored, third.requeued, third.duplicates) == (0, 0, 2)
    settle_inbox(deps)
    assert all_messages(api) == ["one", "two"]


def test_the_scheduled_job_polls_every_pollable_channel_and_nothing_else(deps, api, bluesky, network_apis):
    connect_bluesky(api, "First")
    connect_bluesky(api, "Second")
    api.post("/channels", {"network": "sandbox", "name": "Sandbox"})
    connect_verified(api, network_apis, "facebook", "1")

    from chalicelib.core.jobs import run_job_by_name

    answer = run_job_by_name("poll-inbox")

    assert answer["channels"] == 2 and answer["failed"] == []
    assert bluesky.polled_with == [None, None]


def test_disabled_channels_are_not_polled_and_revoked_ones_are_flagged(deps, api, bluesky):
    disabled = connect_bluesky(api, "Disabled")
    revoked = connect_bluesky(api, "Revoked")
    api.patch(f"/channels/{disabled}", {"status": "disabled"})

    def poll(cursor):
        raise AuthError("session expired", status=401)

    bluesky.poll = poll
    report = deps.inbox_poller.poll_all()

    assert report.skipped == 1 and len(report.failed) == 1 and revoked in report.failed[0]
    assert api.get(f"/channels/{revoked}").json["status"] == "needs_reauth"
    assert len(bluesky.polled_with) == 1


def test_an_overlapping_run_cannot_move_the_cursor_back(deps):
    config = deps.inbox_config_repository
    now = deps.clock.now()
    assert config.save_poll_cursor("ws", "ch", "c5", known=False, previous=None, at=now)
    assert config.save_poll_cursor("ws", "ch", "c9", known=True, previous="c5", at=now)
    # A slower run that started from c5 finishes later with c7.
    assert not config.save_poll_cursor("ws", "ch", "c7", known=True, previous="c5", at=now)
    assert config.poll_cursor("ws", "ch") == (True, "c9")


# -- Mastodon, end to end through its real adapter ------------------------------------------------


@pytest.fixture
def mastodon(clock):
    with MastodonFake(clock=clock) as fake:
        yield fake


def test_mastodon_mentions_are_polled_answered_and_a_reply_to_the_answer_joins_the_thread(
        deps, api, mastodon, clock):
    created = api.post("/channels", {"network": "mastodon", "name": "Herald on Mastodon", "credentials": {
        "instance_url": mastodon.url, "access_token": mastodon.access_token}})
    assert created.status_code == 201, created.body
    ours = mastodon.add_status("New opening hours: 8 to 6")
    mastodon.receive_mention("bob@remote.example", "@herald open on Sunday?", in_reply_to_id=ours["id"])

    deps.inbox_poller.poll_all()
    settle_inbox(deps)
    [conversation] = api.get("/inbox/conversations").json["items"]
    assert conversation["kind"] == "comment"

    clock.advance(minutes=2)
    answer = api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "Yes, 10 to 4."})
    assert answer.status_code == 201 and answer.json["message"]["delivery_status"] == "sent", answer.body
    [sent] = [s for s in mastodon.created if "10 to 4" in s.text]
    assert sent.text == "@bob@remote.example Yes, 10 to 4."
    assert answer.json["conversation"]["first_response_s"] == 120

    clock.advance(minutes=1)
    our_answer = answer.json["message"]["id"]
    mastodon.receive_mention("bob@remote.example", "@herald thanks!", in_reply_to_id=our_answer)
    report = deps.inbox_poller.poll_all()
    settle_inbox(deps)

    assert report.stored == 1
    [same] = api.get("/inbox/conversations").json["items"]
    assert same["id"] == conversation["id"]
    messages = api.get(f"/inbox/conversations/{conversation['id']}").json["messages"]
    assert [(m["direction"], m["text"]) for m in messages] == [
        ("inbound", "@herald open on Sunday?"), ("outbound", "Yes, 10 to 4."), ("inbound", "@herald thanks!")]
    assert deps.inbox_poller.poll_all().stored == 0
