"""Issue 15's "done when" on the local stack, over real HTTP: an agency owner invites a colleague and a client
by email (the tokens read back from `GET /dev/mail`); the colleague schedules a post for the client's workspace;
it waits for internal review and then the client's approval from the emailed magic link, is published only
after both, and a receiver on 127.0.0.1 gets signed `post.approval_requested`, `post.approved` and
`post.published` events that the `standardwebhooks` library verifies; the audit log names every step's actor.
Real time, not an injected clock: this proves the post is held past its time."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from standardwebhooks import Webhook

from infra.local.ports import free_ports
from tests.support.local_stack import eventually, local_stack
from tests.support.people import PASSWORD, TOKEN
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

OWNER, COLLEAGUE, CLIENT = "olga@northwind.example", "ed@northwind.example", "cleo@bluebakery.example"
REVIEW_LINK = re.compile(r"/review/([A-Za-z0-9_-]{20,100})")
EVENTS = ["post.approval_requested", "post.approved", "post.published"]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Stack:
    """The running stack's API, as an anonymous caller and as each signed-in person."""

    def __init__(self, api: str) -> None:
        self.api = api

    def call(self, method: str, path: str, bearer: str | None = None, body: Any = None,
             workspace: str | None = None, expect: int = 200) -> Any:
        headers = {"Content-Type": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        if workspace:
            headers["X-Herald-Workspace"] = workspace
        answer = requests.request(method, f"{self.api}{path}", headers=headers, json=body, timeout=10)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def mail_to(self, address: str) -> list[dict[str, Any]]:
        return [m for m in self.call("GET", "/dev/mail")["items"] if address in m["to"]]

    def accept_and_sign_in(self, email: str) -> tuple[str, str]:
        """The newest invitation mailed to `email`, accepted with a password; (access token, user id)."""
        token = next(found.group(1) for m in self.mail_to(email) if (found := TOKEN.search(m["body"])))
        self.call("POST", "/invitations/accept", body={"token": token, "password": PASSWORD})
        access = self.call("POST", "/auth/sign-in", body={"email": email, "password": PASSWORD})["access_token"]
        return access, self.call("GET", "/me", access)["user"]["id"]


def test_an_agency_post_waits_for_both_approvals_then_publishes_once_with_signed_events(tmp_path: Path) -> None:
    state_dir, log_path = tmp_path / ".local", tmp_path / "stack.log"
    with WebhookReceiver() as receiver, local_stack(
            state_dir, log_path, free_ports(2), app="app:app", ready_path="/health",
            extra_env={"HERALD_ALLOW_PRIVATE_URLS": "1"}) as api:
        stack = Stack(api)
        demo_key = (state_dir / "api-key").read_text().strip()
        # The first person: invited as owner with the demo workspace's owner key (the README's first step).
        stack.call("POST", "/invitations", demo_key, {"email": OWNER, "role": "owner"}, expect=201)
        owner, owner_id = stack.accept_and_sign_in(OWNER)
        stack.call("POST", "/agencies", owner, {"name": "Northwind"}, expect=201)
        client_ws = stack.call("POST", "/agency/workspaces", owner,
                               {"name": "Blue Bakery", "timezone": "Europe/Paris"}, expect=201)["id"]
        stack.call("POST", "/agency/invitations", owner, {"email": COLLEAGUE, "role": "editor"}, expect=201)
        stack.call("POST", "/invitations", owner, {"email": CLIENT, "role": "client"}, workspace=client_ws,
                   expect=201)
        colleague, colleague_id = stack.accept_and_sign_in(COLLEAGUE)
        client, _client_id = stack.accept_and_sign_in(CLIENT)
        assert [w["id"] for w in stack.call("GET", "/me", client)["workspaces"]] == [client_ws]

        stack.call("PUT", "/workspace/approval", owner, {"steps": [
            {"name": "Internal review", "role": "admin"},
            {"name": "Client sign-off", "reviewers": [CLIENT]}]}, workspace=client_ws)
        endpoint = stack.call("POST", "/webhook-endpoints", owner, {"url": receiver.hook(), "events": EVENTS},
                              workspace=client_ws, expect=201)
        channel = stack.call("POST", "/channels", owner, {"network": "sandbox", "name": "Bakery"},
                             workspace=client_ws, expect=201)["id"]

        # The colleague schedules a post 15 s ahead: it waits for approval.
        publish_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=15)
        post = stack.call("POST", "/posts", colleague, {"text": "Fresh croissants at 7", "channel_ids": [channel],
                                                        "publish_at": iso(publish_at)},
                          workspace=client_ws, expect=201)
        assert post["status"] == "pending_approval", post
        post_id, version = post["id"], post["version"]
        # The client may not decide the internal step; the colleague (an editor) may not either.
        stack.call("POST", f"/posts/{post_id}/approve", colleague, {"version": version}, workspace=client_ws,
                   expect=403)

        # Its time passes: it is not published while step 1 is open.
        time.sleep(max(0.0, (publish_at - datetime.now(UTC)).total_seconds()) + 4)
        held = stack.call("GET", f"/posts/{post_id}", owner, workspace=client_ws)
        assert (held["status"], held["waiting_for"]) == ("pending_approval", "approval"), held
        sandbox = f"/channels/{channel}/sandbox/posts"
        assert stack.call("GET", sandbox, owner, workspace=client_ws)["items"] == []

        stack.call("POST", f"/posts/{post_id}/approve", owner, {"version": version, "comment": "Good"},
                   workspace=client_ws)
        after_step_1 = stack.call("GET", f"/posts/{post_id}", owner, workspace=client_ws)
        assert after_step_1["status"] == "pending_approval" and after_step_1["approval"]["current_step"] == 2
        time.sleep(2)
        assert stack.call("GET", sandbox, owner, workspace=client_ws)["items"] == []

        # The client opens the emailed link and approves.
        link = eventually(lambda: next((found.group(1) for m in stack.mail_to(CLIENT)
                                        if (found := REVIEW_LINK.search(m["body"]))), None),
                          "the review link mailed to the client", within_s=10)
        review = stack.call("GET", f"/review/{link}")
        assert review["post_id"] == post_id and review["reviewer"] == CLIENT
        stack.call("POST", f"/posts/{post_id}/approve", review["credential"], {"version": version})
        stack.call("GET", f"/review/{link}", expect=400)  # single use

        received = eventually(lambda: stack.call("GET", sandbox, owner, workspace=client_ws)["items"],
                              "the sandbox receiving the approved post", within_s=75)
        published = eventually(
            lambda: (p := stack.call("GET", f"/posts/{post_id}", owner, workspace=client_ws))["status"]
            == "published" and p, "the post published", within_s=15)
        assert published["status"] == "published"

        def events() -> list[str]:
            return [request.json()["type"] for request in receiver.received()]

        eventually(lambda: "post.published" in events(), "post.published reaching the receiver", within_s=20)
        time.sleep(1)
        assert len(stack.call("GET", sandbox, owner, workspace=client_ws)["items"]) == len(received) == 1
        verifier = Webhook(endpoint["secret"])
        bodies = [verifier.verify(request.body, request.headers) for request in receiver.received()]
        kinds = [body["type"] for body in bodies]
        assert kinds.count("post.published") == 1, kinds
        assert kinds.count("post.approval_requested") == 2 and kinds.count("post.approved") == 2, kinds
        assert {body["data"]["post"]["id"] if "post" in body["data"] else body["data"].get("post_id")
                for body in bodies} == {post_id}

        trail = stack.call("GET", f"/audit?object={post_id}", owner, workspace=client_ws)["items"]
        by_action = {(entry["action"], entry["actor"]) for entry in trail}
        assert ("POST /posts", f"user:{colleague_id}") in by_action, trail
        assert ("POST /posts/{post_id}/approve", f"user:{owner_id}") in by_action, trail
        assert ("POST /posts/{post_id}/approve", f"key:reviewer:{CLIENT}") in by_action, trail
