"""Comments on posts with @mentions, a post approved before its time going out at its time, and the engine's
approval guard."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.core.clock import parse_rfc3339, to_rfc3339
from chalicelib.publishing.publish_queue import PublishMessage
from chalicelib.wiring import Container
from tests.functional.approval.conftest import run_tick_and_worker, schedule, set_steps
from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.webhook_receiver import WebhookReceiver, drain_webhooks

INTERNAL = [{"name": "Internal review", "role": "admin"}]


def test_a_mention_names_the_member_and_tells_them(api: Api, editor: Api, client: Any, deps: Container,
                                                   workspace: Any, clock: Any, channel: str,
                                                   receiver: WebhookReceiver) -> None:
    dana = deps.access.issue_key(workspace.id, "admin", name="Dana Reyes")
    api.post("/webhook-endpoints", {"url": receiver.hook(), "events": ["comment.mentioned"]})
    post = schedule(editor, clock, channel).json
    said = editor.post(f"/posts/{post['id']}/comments", {"text": "@dana-reyes can you check the price? @nobody"})
    assert said.status_code == 201, said.body
    assert said.json["mentions"] == [{"id": f"key:{dana.key_id}", "name": "Dana Reyes"}]
    assert said.json["unresolved_mentions"] == ["nobody"]
    assert said.json["visibility"] == "internal"
    [kept] = api.get(f"/posts/{post['id']}/comments").json["items"]
    assert kept["id"] == said.json["id"] and kept["mentions"] == said.json["mentions"]
    drain_webhooks(deps)
    [event] = [json.loads(r.body) for r in receiver.received()]
    assert event["type"] == "comment.mentioned"
    assert (event["data"]["post_id"], event["data"]["mentioned"]["id"]) == (post["id"], f"key:{dana.key_id}")


def test_comments_are_tenancy_checked_and_viewers_only_read(api: Api, client: Any, deps: Container, clock: Any,
                                                             workspace: Any, channel: str) -> None:
    post = schedule(api, clock, channel).json
    viewer = Api(client, workspace.headers("viewer"))
    assert viewer.post(f"/posts/{post['id']}/comments", {"text": "me too"}).status_code == 403
    assert viewer.get(f"/posts/{post['id']}/comments").status_code == 200
    rival = Api(client, make_workspace(deps, "Rival").headers())
    assert rival.get(f"/posts/{post['id']}/comments").status_code == 404
    assert rival.post(f"/posts/{post['id']}/comments", {"text": "hello"}).status_code == 404
    assert api.post(f"/posts/{post['id']}/comments", {"text": "   "}).status_code == 422
    assert api.get(f"/posts/{post['id']}/comments").json["items"] == []


def test_a_post_approved_before_its_time_goes_out_at_its_time(api: Api, admin: Api, editor: Api,
                                                              deps: Container, clock: Any, channel: str) -> None:
    set_steps(api, INTERNAL)
    post = schedule(editor, clock, channel, seconds=1800).json
    admin.post(f"/posts/{post['id']}/approve", {"version": post["version"]})
    assert run_tick_and_worker(deps, clock) == []
    clock.advance(1800 - 90)
    assert run_tick_and_worker(deps, clock) == ["published"]
    sent = api.get(f"/channels/{channel}/sandbox/posts").json["items"]
    assert [parse_rfc3339(s["received_at"]) for s in sent] == [parse_rfc3339(post["publish_at"])]


def test_a_message_that_reaches_a_post_waiting_for_approval_publishes_nothing(
        api: Api, editor: Api, deps: Container, workspace: Any, clock: Any, channel: str) -> None:
    """Deliveries of a post waiting for approval have no due time, so nothing queues them; a message that
    reaches one anyway (a race the API cannot make) carries no send token the delivery holds, so it claims
    nothing and nothing is published."""
    set_steps(api, INTERNAL)
    post = schedule(editor, clock, channel).json
    message = PublishMessage(workspace.id, post["id"], channel, post["version"], to_rfc3339(clock.now()))
    assert deps.engine.publish_delivery(message) != "published"
    assert api.get(f"/channels/{channel}/sandbox/posts").json["items"] == []
    [delivery] = api.get(f"/posts/{post['id']}").json["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("scheduled", 0)
    assert api.get(f"/posts/{post['id']}").json["status"] == "pending_approval"
