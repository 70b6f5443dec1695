"""Tokens of the networks of issue 13 are kept alive too: a TikTok, Pinterest or Reddit channel connected through
the OAuth routes is refreshed (one conditional write, accounts/tokens.py) before its access token lapses, by the
health check and on use, against each network's local fake; a revoked refresh token makes it needs_reauth."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.jobs import run_job_by_name
from chalicelib.wiring import Container
from tests.fakes.pinterest_api import PinterestApi
from tests.fakes.reddit_api import RedditApi
from tests.fakes.tiktok_api import TikTokApi
from tests.functional.accounts import test_connect_more_networks as connecting
from tests.functional.accounts.test_connect import REDIRECT, begin, choose, come_back, query_of
from tests.support.http import Api

# The fakes of TikTok, Pinterest and Reddit and the container pointed at them, as the connect tests have them.
api, deps, pinterest, reddit, tiktok = (connecting.api, connecting.deps, connecting.pinterest, connecting.reddit,
                                        connecting.tiktok)

ACCOUNTS = {"pinterest": "9001", "reddit": "t2_abc", "tiktok": "open-42"}
# How long each network's access token lasts (the fakes answer the documented expires_in).
LIFETIMES = {"pinterest": timedelta(days=30), "reddit": timedelta(hours=1), "tiktok": timedelta(hours=24)}


def _fake(network: str, pinterest: PinterestApi, reddit: RedditApi, tiktok: TikTokApi) -> Any:
    return {"pinterest": pinterest, "reddit": reddit, "tiktok": tiktok}[network]


def _connect(client: Any, api: Api, fake: Any, network: str) -> str:
    started = begin(api, network)
    asked = query_of(started["authorize_url"])
    if network == "tiktok":
        fake.authorization_code("code-1", REDIRECT, ACCOUNTS[network], asked.get("code_challenge"))
    else:
        fake.authorization_code("code-1", REDIRECT, ACCOUNTS[network])
    assert come_back(Api(client, {}), network, code="code-1", state=started["state"]).status_code == 200
    made = choose(api, started["state"], [ACCOUNTS[network]])
    assert made.status_code == 201, made.body
    return str(made.json["channels"][0]["id"])


def _lapse(fake: Any, network: str, access_token: str) -> None:
    """The network no longer takes the access token (its lifetime is over)."""
    if network == "tiktok":
        fake.expire(access_token)
    else:
        fake.tokens.pop(access_token, None)


def _credentials(deps: Container, workspace: Any, channel_id: str) -> dict[str, Any]:
    row = deps.channel_repository.get(workspace.id, channel_id)
    assert row is not None
    return deps.tokens.open(row)


@pytest.mark.parametrize("network", ["tiktok", "pinterest", "reddit"])
def test_the_check_refreshes_a_token_about_to_lapse_and_the_channel_stays_healthy(
        client: Any, api: Api, deps: Container, workspace: Any, clock: Any, pinterest: PinterestApi,
        reddit: RedditApi, tiktok: TikTokApi, network: str) -> None:
    fake = _fake(network, pinterest, reddit, tiktok)
    channel_id = _connect(client, api, fake, network)
    old = _credentials(deps, workspace, channel_id)
    clock.advance(seconds=(LIFETIMES[network] - timedelta(minutes=5)).total_seconds())
    _lapse(fake, network, old["access_token"])

    checked = api.post(f"/channels/{channel_id}/check")

    assert checked.status_code == 200, checked.body
    assert (checked.json["status"], checked.json["health"]["status"]) == ("active", "ok"), checked.json["health"]
    new = _credentials(deps, workspace, channel_id)
    assert new["access_token"] != old["access_token"] and new["access_token"] in fake.tokens
    assert new["refresh_token"] in fake.refresh_tokens  # a rotated one stored, or the same one kept
    assert deps.channel_repository.get(workspace.id, channel_id).token_version == 1  # type: ignore[union-attr]
    assert fake.violations == []


def test_the_daily_job_keeps_a_tiktok_channel_alive_day_after_day(
        client: Any, api: Api, deps: Container, workspace: Any, clock: Any, tiktok: TikTokApi) -> None:
    channel_id = _connect(client, api, tiktok, "tiktok")
    for _day in range(3):
        token = _credentials(deps, workspace, channel_id)["access_token"]
        report = run_job_by_name("channel-health")
        assert report["ok"] == 1, report
        clock.advance(seconds=timedelta(hours=23).total_seconds())
        tiktok.expire(token)  # TikTok's tokens last 24 hours: yesterday's is refused today
    [listed] = api.get("/channels").json["items"]
    assert (listed["status"], listed["health"]["status"]) == ("active", "ok")


def test_a_revoked_tiktok_refresh_token_is_needs_reauth(client: Any, api: Api, deps: Container, workspace: Any,
                                                         clock: Any, tiktok: TikTokApi) -> None:
    channel_id = _connect(client, api, tiktok, "tiktok")
    old = _credentials(deps, workspace, channel_id)
    tiktok.refresh_tokens.pop(old["refresh_token"])  # the person revoked Herald in TikTok's settings
    tiktok.expire(old["access_token"])
    clock.advance(seconds=timedelta(hours=23).total_seconds())

    checked = api.post(f"/channels/{channel_id}/check").json

    assert (checked["status"], checked["health"]["status"]) == ("needs_reauth", "failing")
    assert "reconnect" in checked["health"]["problem"]
    refreshes = [r for r in tiktok.calls("POST", "/v2/oauth/token/") if r.form().get("grant_type") == "refresh_token"]
    assert len(refreshes) == 1  # TikTok refused the refresh itself (invalid_grant): that, not a lapsed token, is why


def test_a_tiktok_token_endpoint_that_is_down_leaves_the_channel_active(
        client: Any, api: Api, deps: Container, workspace: Any, clock: Any, tiktok: TikTokApi) -> None:
    channel_id = _connect(client, api, tiktok, "tiktok")
    old = _credentials(deps, workspace, channel_id)
    clock.advance(seconds=timedelta(hours=23).total_seconds())  # due for a refresh, still working
    tiktok.fail("POST", "/v2/oauth/token/", 503, {"error": "server_error", "error_description": "down"})

    checked = api.post(f"/channels/{channel_id}/check").json

    assert (checked["status"], checked["health"]["status"]) == ("active", "warning")
    assert "tries again" in checked["health"]["problem"]
    assert _credentials(deps, workspace, channel_id)["refresh_token"] == old["refresh_token"] in tiktok.refresh_tokens
    assert api.post(f"/channels/{channel_id}/check").json["health"]["status"] == "ok"  # the next try refreshes
