"""Approval's functional tests: the API, the tick and the worker in the test's time, a webhook endpoint on
127.0.0.1, and the approval's outbox (the emails it sent)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.wiring import Container, use_container
from tests.support.factories import connect_sandbox, iso
from tests.support.http import Api
from tests.support.outbound import allow_local_peers
from tests.support.people import mail_to
from tests.support.queues import RecordingQueue
from tests.support.webhook_receiver import WebhookReceiver

CLIENT = "client@brand.example"
TWO_STEPS = [{"name": "Internal review", "role": "admin"}, {"name": "Client sign-off", "reviewers": [CLIENT]}]


@pytest.fixture
def deps(aws: Any, clock: Any) -> Container:
    container = allow_local_peers(use_container(Container(clock=clock, clients=aws, sleep=lambda _s: None)))
    container.publish_queue = RecordingQueue()  # type: ignore[assignment]
    return container


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def admin(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers("admin"))


@pytest.fixture
def editor(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers("editor"))


@pytest.fixture
def anonymous(client: Any) -> Api:
    return Api(client, {"Content-Type": "application/json"})


@pytest.fixture
def channel(api: Api) -> str:
    return str(connect_sandbox(api)["id"])


def set_steps(api: Api, steps: list[dict[str, Any]]) -> None:
    answer = api.call("PUT", "/workspace/approval", {"steps": steps})
    assert answer.status_code == 200, answer.body


def schedule(api: Api, clock: Any, channel: str, seconds: int = 90, text: str = "Spring menu is here") -> Any:
    return api.post("/posts", {"text": text, "channel_ids": [channel],
                               "publish_at": iso(clock.now() + timedelta(seconds=seconds))})


def link_token(deps: Container, email: str = CLIENT) -> str:
    """The token of the last review link emailed to `email`."""
    mails = mail_to(email)  # newest first
    assert mails, f"no email to {email}"
    found = re.search(r"/review/([A-Za-z0-9_-]+)", mails[0]["body"])
    assert found, mails[0]["body"]
    return found.group(1)


def reviewer(client: Any, anonymous: Api, token: str) -> Api:
    opened = anonymous.get(f"/review/{token}")
    assert opened.status_code == 200, opened.body
    return Api(client, {"Authorization": f"Bearer {opened.json['credential']}", "Content-Type": "application/json"})


def run_tick_and_worker(deps: Container, clock: Any) -> list[str]:
    """The tick, then each message it (or anything else) queued, when its delay is over, as SQS would."""
    deps.engine.publish_due_deliveries()
    results = []
    for _round in range(10):
        batch = deps.publish_queue.take()  # type: ignore[attr-defined]
        if not batch:
            return results
        base = clock.now()
        for message, delay in sorted(batch, key=lambda item: item[1]):
            clock.set(max(clock.now(), base + timedelta(seconds=delay)))
            results.append(deps.engine.publish_delivery(message))
    raise AssertionError("the publish queue never drained")
