"""A reply from Herald's inbox reaches a real Bluesky PDS as a threaded reply (root and parent).

The local PDS has no AppView, so there are no notifications to poll: the fan's reply is turned into
the event the poller would make from its notification, by the adapter's own conversion."""
from __future__ import annotations

import pytest

from chalicelib.networks.bluesky import POST_COLLECTION, _inbound_event
from tests.integration.test_bluesky_pds import new_account
from tests.support.http import Api
from tests.support.webhooks import settle_inbox

pytestmark = pytest.mark.integration


def test_a_reply_from_the_inbox_threads_under_the_fans_comment(local_pds, client, workspace, deps, local_peers):
    api = Api(client, workspace.headers())
    brand, fan = new_account(local_pds, "brand"), new_account(local_pds, "fan")
    channel = api.post("/channels", {"network": "bluesky", "name": "Brand", "credentials": {
        "service_url": local_pds.url, "handle": brand["handle"], "app_password": brand["password"]}}).json

    brand_session = local_pds.create_session(brand["handle"], brand["password"])
    post = local_pds.create_record(brand_session["accessJwt"], brand["did"], POST_COLLECTION, {
        "$type": POST_COLLECTION, "text": "New season", "createdAt": "2026-03-02T09:00:00.000Z"})
    fan_session = local_pds.create_session(fan["handle"], fan["password"])
    root = {"uri": post["uri"], "cid": post["cid"]}
    comment_text = "Love it! When does it ship?"
    comment = local_pds.create_record(fan_session["accessJwt"], fan["did"], POST_COLLECTION, {
        "$type": POST_COLLECTION, "text": comment_text, "createdAt": "2026-03-02T09:01:00.000Z",
        "reply": {"root": root, "parent": root}})
    notification = {"uri": comment["uri"], "cid": comment["cid"], "reason": "reply",
                    "indexedAt": "2026-03-02T09:01:00.000Z",
                    "author": {"did": fan["did"], "handle": fan["handle"]},
                    "record": {"$type": POST_COLLECTION, "text": comment_text,
                               "reply": {"root": root, "parent": root}}}
    event = _inbound_event(brand["did"], notification)
    deps.ingest.ingest([event], channel=deps.channel_repository.get(workspace.id, channel["id"]))
    settle_inbox(deps)

    [conversation] = api.get("/inbox/conversations").json["items"]
    answer = api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "Next Friday!"})
    assert answer.status_code in (200, 201), answer.body

    replies = [r for r in local_pds.list_records(brand["did"], POST_COLLECTION) if r["value"]["text"] == "Next Friday!"]
    assert len(replies) == 1
    reply = replies[0]["value"]["reply"]
    assert reply["root"]["uri"] == post["uri"]
    assert reply["parent"]["uri"] == comment["uri"]
    messages = api.get(f"/inbox/conversations/{conversation['id']}").json["messages"]
    outbound = [m for m in messages if m["direction"] == "outbound"]
    assert [m["text"] for m in outbound] == ["Next Friday!"]
