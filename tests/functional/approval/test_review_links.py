"""The client reviewer's magic link: single use, expiring, bound to the reviewer and the post; the credential it
gives reaches that post's preview, comments, approve and reject, and nothing else."""
from __future__ import annotations

import hashlib
from typing import Any

import pytest

from chalicelib.wiring import Container
from tests.functional.approval.conftest import CLIENT, link_token, reviewer, schedule, set_steps
from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.people import mail_to

CLIENT_FIRST = [{"name": "Client sign-off", "reviewers": [CLIENT, "boss@brand.example"]}]


@pytest.fixture
def pending(api: Api, editor: Api, clock: Any, channel: str) -> dict[str, Any]:
    set_steps(api, CLIENT_FIRST)
    made = schedule(editor, clock, channel)
    assert made.status_code == 201, made.body
    return dict(made.json)


def test_each_reviewer_is_emailed_a_link_of_their_own(deps: Container, pending: dict[str, Any]) -> None:
    assert link_token(deps, CLIENT) != link_token(deps, "boss@brand.example")
    [mail] = mail_to(CLIENT)
    assert "Client sign-off" in mail["subject"] and "Spring menu is here" in mail["body"]
    # the console's reviewer page (served at the API's address locally), which calls GET /review/{token}
    assert f"{deps.settings.public_base_url}/#/review/{link_token(deps, CLIENT)}" in mail["body"]


def test_a_link_opens_once(anonymous: Api, deps: Container, pending: dict[str, Any]) -> None:
    token = link_token(deps)
    opened = anonymous.get(f"/review/{token}")
    assert opened.status_code == 200, opened.body
    assert (opened.json["post_id"], opened.json["reviewer"]) == (pending["id"], CLIENT)
    assert opened.json["credential"].startswith("hrv_") and token not in opened.json["credential"]
    replayed = anonymous.get(f"/review/{token}")
    assert (replayed.status_code, replayed.json["error"]["code"]) == (400, "review_link_used")


def test_an_expired_or_unknown_link_is_refused(anonymous: Api, deps: Container, clock: Any,
                                               pending: dict[str, Any]) -> None:
    token = link_token(deps)
    clock.advance(hours=72, seconds=1)
    expired = anonymous.get(f"/review/{token}")
    assert (expired.status_code, expired.json["error"]["code"]) == (400, "review_link_expired")
    assert anonymous.get("/review/" + "x" * 43).status_code == 404
    assert anonymous.get("/review/short").status_code == 404


def test_the_link_is_stored_hashed(deps: Container, aws: Any, pending: dict[str, Any]) -> None:
    token = link_token(deps)
    key = {"pk": {"S": f"link#{hashlib.sha256(token.encode()).hexdigest()}"}, "sk": {"S": "link"}}
    found = aws["dynamodb"].get_item(TableName=deps.settings.table("approval"), Key=key)["Item"]
    assert token not in str(found)
    assert (found["email"]["S"], found["post_id"]["S"]) == (CLIENT, pending["id"])


def test_the_credential_reaches_that_post_only(api: Api, editor: Api, anonymous: Api, client: Any, deps: Container,
                                               clock: Any, channel: str, pending: dict[str, Any]) -> None:
    as_client = reviewer(client, anonymous, link_token(deps))
    other = schedule(editor, clock, channel, text="Another post").json  # the client reviews it too, by its own link
    mine = pending["id"]
    assert as_client.get(f"/posts/{mine}/preview").status_code == 200
    assert as_client.get(f"/posts/{mine}/comments").status_code == 200
    for method, path, body in [
            ("GET", f"/posts/{other['id']}/preview", None), ("GET", f"/posts/{other['id']}/comments", None),
            ("POST", f"/posts/{other['id']}/comments", {"text": "hi"}),
            ("POST", f"/posts/{other['id']}/approve", {"version": other["version"]}),
            ("POST", f"/posts/{other['id']}/reject", {"version": other["version"], "comment": "no"})]:
        answer = as_client.call(method, path, body)
        assert answer.status_code == 404, (method, path, answer.body)
    for method, path, body in [
            ("GET", f"/posts/{mine}", None), ("GET", "/posts", None), ("PATCH", f"/posts/{mine}",
                                                                         {"text": "mine now", "version": 1}),
            ("POST", f"/posts/{mine}/submit", {}), ("POST", f"/posts/{mine}/publish-now", None),
            ("GET", "/workspace", None), ("GET", "/workspace/approval", None),
            ("PUT", "/workspace/approval", {"steps": []}), ("GET", "/channels", None), ("GET", "/audit", None),
            ("GET", "/webhook-endpoints", None), ("GET", "/calendar?month=2026-03", None)]:
        answer = as_client.call(method, path, body)
        assert answer.status_code == 403, (method, path, answer.body)
    assert api.get(f"/posts/{other['id']}").json["approval"]["decisions"] == []
    assert api.get(f"/posts/{mine}").json["text"] == "Spring menu is here"


def test_another_workspace_never_sees_the_post_through_a_credential(client: Any, anonymous: Api, deps: Container,
                                                                    pending: dict[str, Any]) -> None:
    rival = make_workspace(deps, "Rival")
    rival_owner = Api(client, rival.headers())
    assert rival_owner.get(f"/posts/{pending['id']}/preview").status_code == 404
    assert rival_owner.post(f"/posts/{pending['id']}/approve", {"version": pending["version"]}).status_code == 404


def test_the_credential_expires(anonymous: Api, client: Any, deps: Container, clock: Any,
                                pending: dict[str, Any]) -> None:
    as_client = reviewer(client, anonymous, link_token(deps))
    clock.advance(minutes=61)
    late = as_client.get(f"/posts/{pending['id']}/preview")
    assert late.status_code == 401
    assert Api(client, {"Authorization": "Bearer hrv_forged"}).get(f"/posts/{pending['id']}/preview").status_code == 401


def test_the_reviewer_comments_and_sees_only_what_is_shared_with_reviewers(
        api: Api, editor: Api, anonymous: Api, client: Any, deps: Container, clock: Any,
        pending: dict[str, Any]) -> None:
    post = pending["id"]
    editor.post(f"/posts/{post}/comments", {"text": "Internal: client hates orange"})
    clock.advance(1)
    editor.post(f"/posts/{post}/comments", {"text": "Prices are final", "visibility": "reviewers"})
    clock.advance(1)
    as_client = reviewer(client, anonymous, link_token(deps))
    said = as_client.post(f"/posts/{post}/comments", {"text": "Can we say 'new'?", "visibility": "internal"})
    assert said.status_code == 201, said.body
    assert (said.json["visibility"], said.json["author"]["id"]) == ("reviewers", f"reviewer:{CLIENT}")
    assert [c["text"] for c in as_client.get(f"/posts/{post}/comments").json["items"]] == [
        "Prices are final", "Can we say 'new'?"]
    assert [c["text"] for c in api.get(f"/posts/{post}/comments").json["items"]] == [
        "Internal: client hates orange", "Prices are final", "Can we say 'new'?"]


def test_the_reviewer_approves_from_the_link_and_the_post_is_scheduled(
        api: Api, anonymous: Api, client: Any, deps: Container, pending: dict[str, Any]) -> None:
    as_client = reviewer(client, anonymous, link_token(deps, "boss@brand.example"))
    approved = as_client.post(f"/posts/{pending['id']}/approve", {"version": pending["version"], "comment": "Go"})
    assert approved.status_code == 200, approved.body
    assert approved.json["status"] == "scheduled"
    assert approved.json["approval"]["decisions"][0]["by_email"] == "boss@brand.example"
    # Due within the tick's horizon: queued at once, to go out on its second.
    assert api.get(f"/posts/{pending['id']}").json["deliveries"][0]["status"] == "queued"
