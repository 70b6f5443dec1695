"""Channel health: the check route, the daily job, expiry warnings, posts at risk, deauthorization."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.jobs import run_job_by_name
from chalicelib.networks.meta_deauth import signed_request
from tests.fakes.x_api import XApi
from tests.support.channel_health import connect_x, scheduled_post, store_credentials, x_container
from tests.support.events import load_event
from tests.support.factories import connect_sandbox, connect_verified
from tests.support.webhooks import META_SECRET, tiktok_headers

PAGE_ID = "1122334455"
META_USER = "998877"
TIKTOK_OPEN_ID = load_event("tiktok", "authorization_removed.json")["user_openid"]


@pytest.fixture
def x_api(clock: Any) -> Iterator[XApi]:
    with XApi(clock) as fake:
        yield fake


@pytest.fixture
def deps(aws: Any, clock: Any, network_apis: Any, x_api: XApi) -> Any:
    return x_container(aws, clock, network_apis, x_api)


def _channel(api: Any, channel_id: str) -> dict[str, Any]:
    answer = api.get(f"/channels/{channel_id}")
    assert answer.status_code == 200, answer.body
    return answer.json


def _post(api: Any, post_id: str) -> dict[str, Any]:
    answer = api.get(f"/posts/{post_id}")
    assert answer.status_code == 200, answer.body
    return answer.json


def _at_risk_ids(api: Any) -> list[str]:
    answer = api.get("/posts?at_risk=true")
    assert answer.status_code == 200, answer.body
    return [item["id"] for item in answer.json["items"]]


def test_the_check_route_records_health_and_refreshes_ahead(api: Any, deps: Any, workspace: Any, x_api: XApi,
                                                            clock: Any) -> None:
    row, tokens = connect_x(deps, workspace.id, x_api, clock)

    answer = api.post(f"/channels/{row.channel_id}/check")

    assert answer.status_code == 200, answer.body
    assert answer.json["health"] == {"status": "ok", "checked_at": "2026-03-02T09:00:00Z", "expires_at": None,
                                     "problem": None}
    assert len(x_api.calls("POST", "/2/oauth2/token")) == 1  # X's token lapses before tomorrow's run
    assert len(x_api.calls("GET", "/2/users/me")) >= 2  # connect, then the check
    listed = api.get("/channels").json["items"]
    assert [c["health"]["status"] for c in listed if c["id"] == row.channel_id] == ["ok"]
    assert "credentials" not in json.dumps(answer.json) and tokens["refresh_token"] not in answer.body.decode()


def test_the_check_route_is_for_admins(deps: Any, client: Any, workspace: Any, x_api: XApi, clock: Any) -> None:
    from tests.support.http import Api

    row, _tokens = connect_x(deps, workspace.id, x_api, clock)
    assert Api(client, workspace.headers("editor")).post(f"/channels/{row.channel_id}/check").status_code == 403
    assert Api(client, workspace.headers("admin")).post(f"/channels/{row.channel_id}/check").status_code == 200


def test_a_transient_failure_is_a_warning_and_the_channel_stays_active(api: Any, deps: Any, workspace: Any,
                                                                       x_api: XApi, clock: Any) -> None:
    row, _tokens = connect_x(deps, workspace.id, x_api, clock)
    x_api.fail("POST", "/2/oauth2/token", 503, {"title": "Service Unavailable"})

    health = api.post(f"/channels/{row.channel_id}/check").json

    assert health["status"] == "active"
    assert health["health"]["status"] == "warning"
    assert "tries again" in health["health"]["problem"]


def test_a_revoked_token_is_needs_reauth_and_the_scheduled_post_is_at_risk_before_its_time(
        api: Any, deps: Any, workspace: Any, x_api: XApi, clock: Any) -> None:
    row, tokens = connect_x(deps, workspace.id, x_api, clock)
    post_id = scheduled_post(deps, row, clock.now() + timedelta(days=2))
    assert _post(api, post_id)["at_risk"] is False
    x_api.revoke(tokens["refresh_token"])
    x_api.expire(tokens["access_token"])

    checked = api.post(f"/channels/{row.channel_id}/check").json

    assert checked["status"] == "needs_reauth"
    assert checked["health"]["status"] == "failing"
    assert "reconnect" in checked["health"]["problem"]
    post = _post(api, post_id)
    assert post["at_risk"] is True and post["status"] == "scheduled"
    assert post["deliveries"][0]["at_risk"] is True
    assert "reconnected" in post["deliveries"][0]["risk"]
    assert _at_risk_ids(api) == [post_id]


def test_reconnecting_clears_the_risk(api: Any, deps: Any, workspace: Any, clock: Any) -> None:
    channel = connect_sandbox(api)
    post_id = api.post("/posts", {"text": "Soon", "channel_ids": [channel["id"]],
                                  "publish_at": to_rfc3339(clock.now() + timedelta(days=1))}).json["id"]
    deps.channels.mark_needs_reauth(workspace.id, channel["id"])  # what the engine does on a revoked token
    assert _at_risk_ids(api) == [post_id]

    assert api.patch(f"/channels/{channel['id']}", {"status": "active"}).status_code == 200

    assert _post(api, post_id)["at_risk"] is False
    assert _at_risk_ids(api) == []


def test_a_post_scheduled_on_a_channel_already_unhealthy_is_at_risk(api: Any, deps: Any, workspace: Any,
                                                                     clock: Any) -> None:
    channel = connect_sandbox(api)
    row = deps.channels.get(workspace.id, channel["id"])
    store_credentials(deps, row, {"token": "t", "user_token_expires_at": to_rfc3339(clock.now() + timedelta(days=3))})

    early = api.post("/posts", {"text": "Early", "channel_ids": [channel["id"]],
                                "publish_at": to_rfc3339(clock.now() + timedelta(days=1))}).json
    late = api.post("/posts", {"text": "Late", "channel_ids": [channel["id"]],
                               "publish_at": to_rfc3339(clock.now() + timedelta(days=5))}).json

    assert early["at_risk"] is False
    assert late["at_risk"] is True
    assert "before this post's time" in late["deliveries"][0]["risk"]
    assert _at_risk_ids(api) == [late["id"]]


def test_the_warning_comes_seven_days_before_an_expiry_that_cannot_be_refreshed(api: Any, deps: Any,
                                                                                workspace: Any, clock: Any,
                                                                                network_apis: Any) -> None:
    page = connect_verified(api, network_apis, "facebook", PAGE_ID, token="page-token")
    row = deps.channels.get(workspace.id, page["id"])
    expires = clock.now() + timedelta(days=10)
    store_credentials(deps, row, {"page_access_token": "page-token", "user_token_expires_at": expires.isoformat()})

    assert api.post(f"/channels/{page['id']}/check").json["health"]["status"] == "ok"
    clock.advance(days=4)
    health = api.post(f"/channels/{page['id']}/check").json["health"]

    assert health["status"] == "warning"
    assert health["expires_at"] == to_rfc3339(expires)
    assert health["problem"] == ("The Facebook authorization expires on 2026-03-12 09:00 UTC (in 6 days) and "
                                 "cannot be renewed automatically: reconnect the channel before then.")
    clock.advance(days=7)
    assert api.post(f"/channels/{page['id']}/check").json["health"]["status"] == "failing"


def test_the_daily_job_checks_every_channel(api: Any, deps: Any, workspace: Any, x_api: XApi, clock: Any,
                                            other_workspace: Any) -> None:
    x_row, _tokens = connect_x(deps, workspace.id, x_api, clock)
    sandboxes = [connect_sandbox(api, name=f"Sandbox {i}")["id"] for i in range(5)]
    elsewhere = deps.channels.create(other_workspace.id, "sandbox", "Theirs", {}, {})

    report = run_job_by_name("channel-health")

    assert report["checked"] == 7 and report["ok"] == 7
    for channel_id in [x_row.channel_id, *sandboxes]:
        assert _channel(api, channel_id)["health"]["checked_at"] == "2026-03-02T09:00:00Z"
    assert deps.channels.get(other_workspace.id, elsewhere.channel_id).health["status"] == "ok"
    assert len(x_api.calls("POST", "/2/oauth2/token")) == 1


def _deauthorize(client: Any, body: str) -> Any:
    return client.http.post("/webhooks/meta/deauthorize", body=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})


def _meta_page(api: Any, deps: Any, workspace: Any, network_apis: Any, clock: Any) -> tuple[str, str]:
    page = connect_verified(api, network_apis, "facebook", PAGE_ID, token="page-token")
    row = deps.channels.get(workspace.id, page["id"])
    store_credentials(deps, row, {"page_access_token": "page-token", "user_id": META_USER})
    return page["id"], scheduled_post(deps, deps.channels.get(workspace.id, page["id"]),
                                      clock.now() + timedelta(days=1))


def test_meta_deauthorize_disables_the_channel_and_says_why_on_its_posts(api: Any, client: Any, deps: Any,
                                                                         workspace: Any, network_apis: Any,
                                                                         clock: Any) -> None:
    channel_id, post_id = _meta_page(api, deps, workspace, network_apis, clock)
    payload = {"algorithm": "HMAC-SHA256", "issued_at": int(clock.now().timestamp()), "user_id": META_USER}

    answer = _deauthorize(client, urlencode({"signed_request": signed_request(payload, META_SECRET)}))

    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body) == {"channels_disabled": 1}
    channel = _channel(api, channel_id)
    assert channel["status"] == "disabled"
    assert "removed Herald" in channel["health"]["problem"]
    delivery = _post(api, post_id)["deliveries"][0]
    assert delivery["at_risk"] is True
    assert "removed Herald" in delivery["last_error"] and "removed Herald" in delivery["risk"]
    assert _at_risk_ids(api) == [post_id]


@pytest.mark.parametrize("forge", ["wrong secret", "altered payload", "no signature", "not a form"])
def test_a_forged_meta_deauthorize_changes_nothing(api: Any, client: Any, deps: Any, workspace: Any,
                                                   network_apis: Any, clock: Any, forge: str) -> None:
    channel_id, post_id = _meta_page(api, deps, workspace, network_apis, clock)
    payload = {"algorithm": "HMAC-SHA256", "issued_at": int(clock.now().timestamp()), "user_id": META_USER}
    genuine = signed_request(payload, META_SECRET)
    forged = {
        "wrong secret": urlencode({"signed_request": signed_request(payload, "not-the-secret")}),
        "altered payload": urlencode({"signed_request": genuine.split(".")[0] + "." + signed_request(
            {**payload, "user_id": "1"}, META_SECRET).split(".")[1]}),
        "no signature": urlencode({"signed_request": "." + genuine.split(".")[1]}),
        "not a form": "signed_request",
    }[forge]

    answer = _deauthorize(client, forged)

    assert answer.status_code == 401
    assert json.loads(answer.body)["error"]["code"] == "invalid_signature"
    assert _channel(api, channel_id)["status"] == "active"
    assert _post(api, post_id)["deliveries"][0]["last_error"] is None


def test_tiktok_authorization_removed_disables_the_channel(api: Any, client: Any, deps: Any, workspace: Any,
                                                            network_apis: Any, clock: Any) -> None:
    channel = connect_verified(api, network_apis, "tiktok", TIKTOK_OPEN_ID, name="Herald on TikTok")
    post_id = scheduled_post(deps, deps.channels.get(workspace.id, channel["id"]), clock.now() + timedelta(days=1))
    body = json.dumps({**load_event("tiktok", "authorization_removed.json"),
                       "create_time": int(clock.now().timestamp())}).encode()

    answer = client.http.post("/webhooks/tiktok", body=body, headers=tiktok_headers(body, clock.now()))

    assert answer.status_code == 200, answer.body
    found = _channel(api, channel["id"])
    assert found["status"] == "disabled"
    assert found["health"]["status"] == "failing" and "TikTok" in found["health"]["problem"]
    delivery = _post(api, post_id)["deliveries"][0]
    assert delivery["at_risk"] is True and "removed Herald" in delivery["last_error"]


def test_a_channel_that_needs_reconnecting_is_announced_to_webhook_endpoints_once(
        api: Any, deps: Any, workspace: Any, x_api: XApi, clock: Any) -> None:
    from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
    from tests.support.webhook_receiver import WebhookReceiver, drain_webhooks

    row, tokens = connect_x(deps, workspace.id, x_api, clock)
    deps.outbound = ALLOW_LOCAL_PEERS  # the receiver is on 127.0.0.1; X's adapter is made already, unchanged
    with WebhookReceiver() as receiver:
        made = api.post("/webhook-endpoints", {"url": receiver.hook(), "events": ["channel.needs_reauth"]})
        assert made.status_code == 201, made.body
        x_api.revoke(tokens["refresh_token"])
        x_api.expire(tokens["access_token"])
        api.post(f"/channels/{row.channel_id}/check")
        api.post(f"/channels/{row.channel_id}/check")  # still revoked: no second announcement
        drain_webhooks(deps)
        [sent] = [json.loads(r.body) for r in receiver.received()]
    assert sent["type"] == "channel.needs_reauth"
    assert (sent["data"]["channel_id"], sent["data"]["network"], sent["data"]["status"]) == (
        row.channel_id, "x", "needs_reauth")



def test_a_deauthorize_callback_too_big_is_refused_before_it_is_read(client: Any) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    big = client.http.post("/webhooks/meta/deauthorize", headers=form, body=b"signed_request=" + b"a" * 20_000)
    assert big.status_code == 413
