"""A fan writing to a sandbox channel (POST /channels/{id}/sandbox/messages): the way to try the inbox, and the
way the console's browser tests seed a conversation, through the same ingest path and queue as a webhook."""
from __future__ import annotations

from tests.support.webhooks import settle_inbox


def sandbox(api, name="Try-out"):
    created = api.post("/channels", {"network": "sandbox", "name": name})
    assert created.status_code == 201, created.body
    return created.json["id"]


def test_a_fans_comment_becomes_a_conversation_that_can_be_answered(api, deps):
    channel = sandbox(api)

    sent = api.post(f"/channels/{channel}/sandbox/messages", {"text": "Open on Sunday?", "author_name": "Ada"})
    settle_inbox(deps)

    assert (sent.status_code, sent.json) == (202, {"stored": 1})
    [conversation] = api.get("/inbox/conversations").json["items"]
    assert (conversation["channel_id"], conversation["kind"], conversation["participant"]["name"]) == (
        channel, "comment", "Ada")
    reply = api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "From 9!"})
    assert reply.json["message"]["delivery_status"] == "sent"
    received = api.get(f"/channels/{channel}/sandbox/posts").json["items"]
    assert [(r["kind"], r["text"]) for r in received] == [("reply", "From 9!")]


def test_comments_share_a_conversation_and_each_fans_messages_have_their_own(api, deps):
    channel = sandbox(api)
    for text, kind, handle in [("One", "comment", "a"), ("Two", "comment", "b"),
                               ("Hi", "message", "a"), ("Hey", "message", "b")]:
        api.post(f"/channels/{channel}/sandbox/messages", {"text": text, "kind": kind, "author_handle": handle})
    settle_inbox(deps)

    kinds = sorted(c["kind"] for c in api.get("/inbox/conversations").json["items"])
    assert kinds == ["comment", "message", "message"]


def test_only_a_sandbox_channel_of_this_workspace_takes_them(api, other_workspace, client, deps):
    from tests.support.http import Api

    theirs = sandbox(Api(client, other_workspace.headers()), "Theirs")
    assert api.post(f"/channels/{theirs}/sandbox/messages", {"text": "x"}).status_code == 404
    assert api.post(f"/channels/{sandbox(api)}/sandbox/messages", {"text": ""}).status_code == 422
    settle_inbox(deps)
    assert api.get("/inbox/conversations").json["items"] == []


def test_a_comment_goes_under_the_channels_newest_post_and_enters_a_giveaway_on_it(api, deps, clock):
    from datetime import timedelta

    from tests.functional.publishing.test_publishing import run_messages, schedule
    from tests.support.factories import iso
    from tests.support.queues import RecordingQueue

    deps.publish_queue = queue = RecordingQueue()
    channel = sandbox(api)
    api.post(f"/channels/{channel}/sandbox/messages", {"text": "Before any post", "author_handle": "a"})
    opens = clock.now()
    post_id, _at = schedule(api, clock, [channel], text="Win a cake! #HeraldGiveaway")
    clock.advance(seconds=90)
    deps.engine.publish_due_deliveries()
    run_messages(deps, queue, clock)
    for handle in ("ada", "bob"):
        api.post(f"/channels/{channel}/sandbox/messages", {"text": "#HeraldGiveaway", "author_handle": handle})
    settle_inbox(deps)

    # Two conversations: the comment before the post, and those under it (as a network's comments on a post).
    assert len(api.get("/inbox/conversations").json["items"]) == 2
    made = api.post("/giveaways", {"name": "Cake", "post_ids": [post_id], "starts_at": iso(opens),
                                   "ends_at": iso(clock.now() + timedelta(hours=1)),
                                   "rules": {"required_terms": ["#HeraldGiveaway"]}})
    assert made.status_code == 201, made.body
    assert made.json["entrant_count"] == 2
