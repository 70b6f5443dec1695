"""The links approval and mention emails carry open the web console (HERALD_CONSOLE_URL), never an API route:
a member's opens the post on the console's calendar, a client reviewer's the console's review page."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container, use_container
from tests.functional.approval.conftest import CLIENT, schedule, set_steps
from tests.support.http import Api
from tests.support.outbound import allow_local_peers
from tests.support.people import invite_person, mail_to, with_user_pool
from tests.support.queues import RecordingQueue

CONSOLE = "https://console.herald.test"
ADMIN = "rita@acme.test"
LINK = re.compile(r"(https?://\S+)")


@pytest.fixture
def deps(aws: Any, clock: Any, network_apis: Any) -> Container:
    """Approval's container, with a user pool (people with an email) and the console somewhere of its own."""
    settings = replace(with_user_pool(network_apis.settings(get_settings()), aws["cognito-idp"]), console_url=CONSOLE)
    container = allow_local_peers(use_container(Container(settings, clock=clock, clients=aws, sleep=lambda _s: None)))
    container.publish_queue = RecordingQueue()  # type: ignore[assignment]
    return container


def links_in(address: str, subject: str) -> list[str]:
    [mail] = [m for m in mail_to(address) if subject in m["subject"]]
    return LINK.findall(mail["body"])


def test_an_approver_is_mailed_a_link_that_opens_the_post_in_the_console(
    client: Any, workspace: Any, api: Api, editor: Api, clock: Any, channel: str
) -> None:
    invite_person(client, workspace.headers(), ADMIN, "admin")
    set_steps(api, [{"name": "Internal review", "role": "admin"}])

    post = schedule(editor, clock, channel).json

    assert post["status"] == "pending_approval"
    assert links_in(ADMIN, "Approval requested") == [f"{CONSOLE}/#/calendar/post/{post['id']}"]


def test_a_client_reviewer_is_mailed_the_consoles_review_page(api: Api, editor: Api, clock: Any, channel: str) -> None:
    set_steps(api, [{"name": "Client sign-off", "reviewers": [CLIENT]}])

    schedule(editor, clock, channel)

    [link] = links_in(CLIENT, "Approval requested")
    assert re.fullmatch(rf"{re.escape(CONSOLE)}/#/review/[A-Za-z0-9_-]+", link), link


def test_a_mentioned_member_is_mailed_a_link_that_opens_the_post_in_the_console(
    client: Any, workspace: Any, editor: Api, clock: Any, channel: str
) -> None:
    invite_person(client, workspace.headers(), ADMIN, "admin")
    post = schedule(editor, clock, channel).json

    said = editor.post(f"/posts/{post['id']}/comments", {"text": f"@{ADMIN} is the price right?"})

    assert said.status_code == 201, said.body
    assert links_in(ADMIN, "You were mentioned") == [f"{CONSOLE}/#/calendar/post/{post['id']}"]
