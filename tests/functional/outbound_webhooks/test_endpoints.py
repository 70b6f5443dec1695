"""Outbound webhooks through the API and the sender Lambda, to a receiver on 127.0.0.1: endpoints and their
secrets, Standard Webhooks signatures checked by the reference library, retries on Svix's schedule, the delivery
log, replays, rotation, disabling a failing endpoint, and what is refused."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tests.support.http import Api
from tests.support.webhook_receiver import WebhookReceiver, drain_webhooks, queued_attempts, run_sender, sweep
from tests.support.webhooks import table_items


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def admin(client: Any, workspace: Any, local_peers: Any) -> Api:
    return Api(client, workspace.headers("admin"))


@pytest.fixture
def now_clock(clock: Any) -> Any:
    """The reference library checks a signature's timestamp against the real time: start the clock there."""
    clock.set(datetime.now(UTC).replace(microsecond=0))
    return clock


def make_endpoint(admin: Api, receiver: WebhookReceiver, events: list[str] | None = None) -> dict[str, Any]:
    made = admin.post("/webhook-endpoints", {"url": receiver.hook(), "events": events or ["post.published"]})
    assert made.status_code == 201, made.body
    return made.json


def emit(deps: Any, workspace: Any, event_type: str = "post.published", key: str | None = None,
         **data: Any) -> str | None:
    return deps.webhook_emitter.emit(workspace.id, event_type, data or {"post_id": "post_1"}, event_key=key)


def log_of(admin: Api, endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    answer = admin.get(f"/webhook-endpoints/{endpoint['id']}/deliveries")
    assert answer.status_code == 200, answer.body
    return answer.json["items"]


def verified(secret: str, request: Any) -> Any:
    return Webhook(secret).verify(request.body, request.headers)


# -- endpoints ---------------------------------------------------------------------------------------------


def test_an_endpoint_shows_its_secret_once_and_stores_it_sealed(admin: Api, receiver: WebhookReceiver,
                                                                deps: Any) -> None:
    made = make_endpoint(admin, receiver, ["post.published", "post.failed"])
    assert made["secret"].startswith("whsec_") and made["status"] == "active"
    assert made["events"] == ["post.published", "post.failed"]
    listed = admin.get("/webhook-endpoints").json["items"]
    assert [e["id"] for e in listed] == [made["id"]] and "secret" not in listed[0]
    assert "secret" not in admin.get(f"/webhook-endpoints/{made['id']}").json
    stored = json.dumps(table_items(deps, "webhook_endpoints"), default=str)
    assert made["secret"] not in stored and made["secret"].removeprefix("whsec_") not in stored


@pytest.mark.parametrize("body, field", [
    ({"url": "http://hooks.example.com/x", "events": ["post.published"]}, "url"),
    ({"url": "https://127.0.0.1/x", "events": ["post.published"]}, "url"),
    ({"url": "https://10.1.2.3/x", "events": ["post.published"]}, "url"),
    ({"url": "https://[::1]/x", "events": ["post.published"]}, "url"),
    ({"url": "https://user:pw@hooks.example.com/x", "events": ["post.published"]}, "url"),
    ({"url": "https://hooks.example.com/x", "events": ["post.exploded"]}, "events"),
    ({"url": "https://hooks.example.com/x", "events": []}, "events"),
])
def test_a_refused_endpoint_is_a_422_naming_the_field_and_nothing_is_stored(
        client: Any, workspace: Any, deps: Any, body: dict[str, Any], field: str) -> None:
    admin = Api(client, workspace.headers("admin"))  # the production policy: no local peers
    answer = admin.post("/webhook-endpoints", body)
    assert answer.status_code == 422, answer.body
    assert field in json.dumps(answer.json["error"])
    assert table_items(deps, "webhook_endpoints") == []


def test_only_admins_manage_endpoints_and_another_workspace_s_is_not_found(
        client: Any, workspace: Any, other_workspace: Any, admin: Api, receiver: WebhookReceiver) -> None:
    made = make_endpoint(admin, receiver)
    for role in ("editor", "viewer"):
        assert Api(client, workspace.headers(role)).get("/webhook-endpoints").status_code == 403
    stranger = Api(client, other_workspace.headers("owner"))
    for method, path in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/deliveries"),
                         ("POST", "/rotate-secret")]:
        body = {"description": "mine"} if method == "PATCH" else None
        answer = stranger.call(method, f"/webhook-endpoints/{made['id']}{path}", body)
        assert answer.status_code == 404, (method, path, answer.body)
    assert stranger.get("/webhook-endpoints").json["items"] == []


# -- delivering ----------------------------------------------------------------------------------------------


def test_an_event_reaches_the_endpoint_signed_as_standard_webhooks_and_is_logged(
        admin: Api, receiver: WebhookReceiver, deps: Any, workspace: Any, now_clock: Any) -> None:
    made = make_endpoint(admin, receiver)
    message_id = emit(deps, workspace, post_id="post_42", remote_url="https://bsky.app/x")
    assert drain_webhooks(deps) == 1
    [request] = receiver.received()
    assert verified(made["secret"], request) == {
        "type": "post.published", "timestamp": now_clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {"post_id": "post_42", "remote_url": "https://bsky.app/x"}}
    assert request.headers["webhook-id"] == message_id
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)
    [logged] = log_of(admin, made)
    assert (logged["id"], logged["status"], logged["attempts"], logged["response_status"]) == (
        message_id, "succeeded", 1, 204)


def test_only_subscribed_active_endpoints_get_an_event(admin: Api, receiver: WebhookReceiver, deps: Any,
                                                       workspace: Any) -> None:
    make_endpoint(admin, receiver, ["post.failed"])
    paused = make_endpoint(admin, receiver, ["post.published"])
    assert admin.patch(f"/webhook-endpoints/{paused['id']}", {"status": "disabled"}).status_code == 200
    assert emit(deps, workspace, "post.published") is None
    assert drain_webhooks(deps) == 0 and receiver.received() == []


def test_an_event_emitted_twice_with_its_key_is_sent_once(admin: Api, receiver: WebhookReceiver, deps: Any,
                                                          workspace: Any) -> None:
    make_endpoint(admin, receiver)
    assert emit(deps, workspace, key="dl_1") is not None
    assert emit(deps, workspace, key="dl_1") is None
    drain_webhooks(deps)
    assert len(receiver.received()) == 1


def test_a_duplicate_message_posts_once(admin: Api, receiver: WebhookReceiver, deps: Any, workspace: Any) -> None:
    make_endpoint(admin, receiver)
    emit(deps, workspace)
    [body] = queued_attempts(deps)
    assert run_sender([body, body])["batchItemFailures"] == []
    assert len(receiver.received()) == 1


def test_a_failing_endpoint_is_retried_on_svix_s_schedule_until_it_answers(
        admin: Api, receiver: WebhookReceiver, deps: Any, workspace: Any, clock: Any) -> None:
    made = make_endpoint(admin, receiver)
    receiver.answer_next(500, 503, 410)
    emit(deps, workspace)
    drain_webhooks(deps)
    [logged] = log_of(admin, made)
    assert (logged["status"], logged["attempts"], logged["response_status"]) == ("pending", 1, 500)
    assert logged["last_error"] == "the endpoint answered HTTP 500"
    assert logged["next_attempt_at"] == (clock.now() + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sweep(deps) == 0  # not due yet
    for wait_s in (5, 300, 1800):
        clock.advance(wait_s + 30)
        assert sweep(deps) == 1
        drain_webhooks(deps)
    [logged] = log_of(admin, made)
    assert (logged["status"], logged["attempts"], logged["response_status"]) == ("succeeded", 4, 204)
    ids = {r.headers["webhook-id"] for r in receiver.received()}
    assert len(receiver.received()) == 4 and len(ids) == 1  # one message id on every attempt
    assert admin.get(f"/webhook-endpoints/{made['id']}").json["failing_since"] is None


def test_a_message_fails_after_the_last_attempt_and_an_endpoint_failing_for_5_days_is_disabled(
        admin: Api, receiver: WebhookReceiver, deps: Any, workspace: Any, clock: Any) -> None:
    made = make_endpoint(admin, receiver)
    receiver.answer_next(*[500] * 8)
    emit(deps, workspace)
    drain_webhooks(deps)
    for wait_s in (5, 300, 1800, 7200, 18000, 36000, 36000):
        clock.advance(wait_s + 30)
        sweep(deps)
        drain_webhooks(deps)
    [logged] = log_of(admin, made)
    assert (logged["status"], logged["attempts"]) == ("failed", 8)
    assert len(receiver.received()) == 8
    endpoint = admin.get(f"/webhook-endpoints/{made['id']}").json
    assert endpoint["status"] == "active"  # failing for about 27 hours so far
    clock.advance(days=4)
    receiver.answer_next(500)
    emit(deps, workspace)
    drain_webhooks(deps)
    endpoint = admin.get(f"/webhook-endpoints/{made['id']}").json
    assert endpoint["status"] == "disabled"
    assert endpoint["disabled_reason"] == "every delivery failed for 5 days (the last: the endpoint answered HTTP 500)"
    assert emit(deps, workspace) is None  # a disabled endpoint gets nothing new
    again = admin.patch(f"/webhook-endpoints/{made['id']}", {"status": "active"}).json
    assert (again["status"], again["disabled_reason"], again["failing_since"]) == ("active", None, None)


def test_an_address_that_resolves_to_a_private_one_is_never_reached(
        client: Any, workspace: Any, deps: Any, receiver: WebhookReceiver) -> None:
    # The endpoint names a public-looking host; DNS answers loopback at delivery time.
    deps.outbound = replace(deps.outbound, resolver=lambda _host, _port: ["127.0.0.1"])
    admin = Api(client, workspace.headers("admin"))
    made = admin.post("/webhook-endpoints", {"url": "https://hooks.example.com/herald",
                                             "events": ["post.published"]})
    assert made.status_code == 201, made.body
    emit(deps, workspace)
    drain_webhooks(deps)
    [logged] = log_of(admin, made.json)
    assert logged["status"] == "pending" and logged["last_error"].startswith("refused by Herald's outbound policy")
    assert receiver.requests == []


# -- secrets and replays ---------------------------------------------------------------------------------------


def test_a_rotated_secret_signs_beside_the_old_one_for_24_hours(
        admin: Api, receiver: WebhookReceiver, deps: Any, workspace: Any, now_clock: Any) -> None:
    made = make_endpoint(admin, receiver)
    rotated = admin.post(f"/webhook-endpoints/{made['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.body
    new_secret = rotated.json["secret"]
    assert new_secret != made["secret"]
    emit(deps, workspace)
    drain_webhooks(deps)
    [request] = receiver.received()
    assert verified(made["secret"], request) and verified(new_secret, request)
    # A day later the old secret no longer signs (the receiver's check uses the real time: sign at it).
    deps.webhook_endpoint_repository.put(replace(
        deps.webhook_endpoint_repository.get(workspace.id, made["id"]),
        previous_expires_at=(now_clock.now() - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")))
    emit(deps, workspace)
    drain_webhooks(deps)
    latest = receiver.received()[-1]
    assert verified(new_secret, latest)
    with pytest.raises(WebhookVerificationError):
        verified(made["secret"], latest)


def test_one_delivery_or_every_failed_one_since_a_time_is_replayed(
        admin: Api, receiver: WebhookReceiver, deps: Any, workspace: Any, clock: Any) -> None:
    made = make_endpoint(admin, receiver, ["post.published", "post.failed"])
    first = emit(deps, workspace)
    drain_webhooks(deps)
    answer = admin.post(f"/webhook-endpoints/{made['id']}/deliveries/{first}/replay")
    assert (answer.status_code, answer.json) == (202, {"replayed": 1})
    drain_webhooks(deps)
    assert [r.headers["webhook-id"] for r in receiver.received()] == [first, first]

    since = clock.now()
    clock.advance(60)
    receiver.answer_next(*[500] * 8)
    failed = emit(deps, workspace, "post.failed")
    drain_webhooks(deps)
    for wait_s in (5, 300, 1800, 7200, 18000, 36000, 36000):
        clock.advance(wait_s + 30)
        sweep(deps)
        drain_webhooks(deps)
    assert [d["status"] for d in log_of(admin, made)] == ["failed", "succeeded"]
    answer = admin.post(f"/webhook-endpoints/{made['id']}/replay",
                        {"since": since.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert (answer.status_code, answer.json) == (202, {"replayed": 1})
    drain_webhooks(deps)
    assert receiver.received()[-1].headers["webhook-id"] == failed
    assert [d["status"] for d in log_of(admin, made)] == ["succeeded", "succeeded"]
    missing = admin.post(f"/webhook-endpoints/{made['id']}/deliveries/msg_nothing/replay")
    assert missing.status_code == 404


def test_a_deleted_endpoint_gets_nothing_more(admin: Api, receiver: WebhookReceiver, deps: Any,
                                              workspace: Any) -> None:
    made = make_endpoint(admin, receiver)
    emit(deps, workspace)
    assert admin.delete(f"/webhook-endpoints/{made['id']}").status_code == 204
    drain_webhooks(deps)
    assert receiver.received() == []
    assert admin.get(f"/webhook-endpoints/{made['id']}").status_code == 404
