"""The Bluesky adapter against a real PDS (the reference @atproto/pds, on 127.0.0.1).

The local PDS has no AppView, so notifications and insights are covered by the unit tests' fake.
"""
from __future__ import annotations

import itertools
from typing import Any

import pytest

from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.networks.base import AuthError, ChannelContext, MediaItem, PublishRequest, ReplyRequest
from chalicelib.networks.bluesky import POST_COLLECTION, make_adapter, record_key
from tests.support.pds import LocalPds

# The PDS runs on 127.0.0.1: a local peer, reached only with the allowing policy.
LOCAL = ALLOW_LOCAL_PEERS

pytestmark = pytest.mark.integration

# A valid 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005"
    "0001ff89993d1d0000000049454e44ae426082"
)
_accounts = itertools.count(1)


def new_account(pds: LocalPds, name: str) -> dict[str, Any]:
    handle = f"{name}{next(_accounts)}.test"
    account = pds.create_account(handle, f"{name}-password")
    return {**account, "password": f"{name}-password"}


def channel_for(pds: LocalPds, account: dict[str, Any], saved: list[dict[str, Any]] | None = None) -> ChannelContext:
    credentials = {"service_url": pds.url, "handle": account["handle"], "app_password": account["password"]}
    return ChannelContext("ws_1", "ch_1", "bluesky", {}, credentials,
                          saved.append if saved is not None else lambda _creds: None)


def rkey_of(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def test_a_post_with_facets_and_an_image_reads_back_from_the_pds(local_pds: LocalPds) -> None:
    alice, bob = new_account(local_pds, "alice"), new_account(local_pds, "bob")
    adapter = make_adapter(policy=LOCAL)
    text = f"Café ☕ hi @{bob['handle']} and @ghost.test, see https://example.com/ü?q=1. #Herald 🎉"

    result = adapter.publish(channel_for(local_pds, alice), PublishRequest(
        "dl_facets", text, media=(MediaItem("image/png", alt="One red pixel", load=lambda: PNG),)))

    assert result.remote_id == f"at://{alice['did']}/{POST_COLLECTION}/{record_key('delivery:dl_facets')}"
    assert result.remote_url == f"https://bsky.app/profile/{alice['handle']}/post/{rkey_of(result.remote_id)}"
    stored = local_pds.get_record(alice["did"], POST_COLLECTION, rkey_of(result.remote_id))
    record = stored["value"]
    assert record["text"] == text
    raw = text.encode("utf-8")
    assert [(raw[f["index"]["byteStart"]: f["index"]["byteEnd"]].decode(), f["features"])
            for f in record["facets"]] == [
        (f"@{bob['handle']}", [{"$type": "app.bsky.richtext.facet#mention", "did": bob["did"]}]),
        ("https://example.com/ü?q=1", [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/ü?q=1"}]),
        ("#Herald", [{"$type": "app.bsky.richtext.facet#tag", "tag": "Herald"}]),
    ]
    [image] = record["embed"]["images"]
    assert record["embed"]["$type"] == "app.bsky.embed.images"
    assert image["alt"] == "One red pixel"
    assert (image["image"]["mimeType"], image["image"]["size"]) == ("image/png", len(PNG))
    assert local_pds.get_blob(alice["did"], image["image"]["ref"]["$link"]) == PNG


def test_publishing_the_same_delivery_twice_makes_one_post(local_pds: LocalPds) -> None:
    alice = new_account(local_pds, "alice")
    channel = channel_for(local_pds, alice)
    adapter = make_adapter(policy=LOCAL)

    first = adapter.publish(channel, PublishRequest("dl_twice", "Only once, please"))
    second = adapter.publish(channel, PublishRequest("dl_twice", "Only once, please"))

    assert second.remote_id == first.remote_id
    assert second.published_at == first.published_at
    assert [r["uri"] for r in local_pds.list_records(alice["did"], POST_COLLECTION)] == [first.remote_id]


def test_a_reply_carries_its_root_and_parent(local_pds: LocalPds) -> None:
    alice, bob = new_account(local_pds, "alice"), new_account(local_pds, "bob")
    root = local_pds.create_record(bob["accessJwt"], bob["did"], POST_COLLECTION, {
        "$type": POST_COLLECTION, "text": "Is the bakery open on Sunday?", "createdAt": "2026-03-01T10:00:00.000Z"})
    middle = local_pds.create_record(bob["accessJwt"], bob["did"], POST_COLLECTION, {
        "$type": POST_COLLECTION, "text": "And on Monday?", "createdAt": "2026-03-01T10:01:00.000Z",
        "reply": {"root": {"uri": root["uri"], "cid": root["cid"]},
                  "parent": {"uri": root["uri"], "cid": root["cid"]}}})
    adapter = make_adapter(policy=LOCAL)
    channel = channel_for(local_pds, alice)
    thread = {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": {"uri": middle["uri"], "cid": middle["cid"]}}

    answered = adapter.reply(channel, ReplyRequest("rp_1", "Yes, 8 to 13!", middle["uri"], thread=thread))
    looked_up = adapter.reply(channel, ReplyRequest("rp_2", "Monday too.", middle["uri"]))

    for result, text in ((answered, "Yes, 8 to 13!"), (looked_up, "Monday too.")):
        record = local_pds.get_record(alice["did"], POST_COLLECTION, rkey_of(result.remote_id))["value"]
        assert record["text"] == text
        assert record["reply"] == thread


def test_a_stale_token_is_replaced_and_saved(local_pds: LocalPds) -> None:
    alice = new_account(local_pds, "alice")
    saved: list[dict[str, Any]] = []
    channel = channel_for(local_pds, alice, saved)
    channel.credentials.update(access_jwt="not-a-token", refresh_jwt="not-a-token-either", did=alice["did"])

    result = make_adapter(policy=LOCAL).publish(channel, PublishRequest("dl_stale", "Back online"))

    stored = local_pds.get_record(alice["did"], POST_COLLECTION, rkey_of(result.remote_id))
    assert stored["value"]["text"] == "Back online"
    assert saved[-1]["access_jwt"] not in ("", "not-a-token")
    assert saved[-1]["did"] == alice["did"]


def test_a_wrong_app_password_is_an_auth_error(local_pds: LocalPds) -> None:
    alice = new_account(local_pds, "alice")
    channel = channel_for(local_pds, {**alice, "password": "wrong-password"})

    with pytest.raises(AuthError):
        make_adapter(policy=LOCAL).describe_account(channel)
    assert make_adapter(policy=LOCAL).describe_account(channel_for(local_pds, alice)) == {
        "handle": alice["handle"], "account_id": alice["did"]}
