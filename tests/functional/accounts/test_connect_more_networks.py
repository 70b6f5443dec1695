"""Connecting by OAuth through the routes for the networks of issue 13, against each network's local fake:
begin, the person approves, Herald exchanges the code, the chosen account becomes a channel with its tokens."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container, use_container
from tests.fakes.pinterest_api import PinterestApi
from tests.fakes.reddit_api import RedditApi
from tests.fakes.tiktok_api import TikTokApi
from tests.functional.accounts.test_connect import REDIRECT, begin, choose, come_back, query_of
from tests.support.http import Api

REDDIT_AGENT = "web:herald-test:1.0 (by /u/herald_dev)"


@pytest.fixture
def pinterest(clock: Any) -> Iterator[PinterestApi]:
    with PinterestApi(clock) as fake:
        fake.account("pin-seed", "9001", "heraldcoffee", {"b1": ["Recipes"]})
        yield fake


@pytest.fixture
def reddit(clock: Any) -> Iterator[RedditApi]:
    with RedditApi(clock) as fake:
        fake.user("reddit-seed", "t2_abc", "herald_coffee")
        yield fake


@pytest.fixture
def tiktok() -> Iterator[TikTokApi]:
    with TikTokApi() as fake:
        fake.creator("tiktok-seed", "open-42", "heraldcoffee")
        yield fake


@pytest.fixture
def deps(aws: Any, clock: Any, pinterest: PinterestApi, reddit: RedditApi, tiktok: TikTokApi) -> Container:
    settings = replace(get_settings(), pinterest_api_url=pinterest.api_url,
                       pinterest_authorize_url=f"{pinterest.url}/oauth/", pinterest_client_id=pinterest.client_id,
                       pinterest_client_secret=pinterest.client_secret, reddit_api_url=reddit.url,
                       reddit_auth_url=reddit.url, reddit_client_id=reddit.client_id,
                       reddit_client_secret=reddit.client_secret, reddit_user_agent=REDDIT_AGENT,
                       tiktok_api_url=tiktok.url, tiktok_authorize_url=f"{tiktok.url}/v2/auth/authorize/",
                       tiktok_client_key=tiktok.client_key, tiktok_client_secret=tiktok.client_secret)
    return use_container(Container(settings, clock=clock, clients=aws, sleep=lambda _s: None))


@pytest.fixture
def api(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers("admin"))


@pytest.mark.parametrize("network, account_id", [("pinterest", "9001"), ("reddit", "t2_abc"),
                                                 ("tiktok", "open-42")])
def test_each_network_connects_through_its_oauth_flow(
        client: Any, api: Api, deps: Container, workspace: Any, pinterest: PinterestApi, reddit: RedditApi,
        tiktok: TikTokApi, network: str, account_id: str) -> None:
    started = begin(api, network)
    asked = query_of(started["authorize_url"])
    assert asked["state"] == started["state"] and asked["redirect_uri"] == REDIRECT
    fake: Any = {"pinterest": pinterest, "reddit": reddit, "tiktok": tiktok}[network]
    if network == "tiktok":  # PKCE: the fake checks the verifier against the challenge the person was shown
        fake.authorization_code("code-1", REDIRECT, account_id, asked.get("code_challenge"))
    else:
        fake.authorization_code("code-1", REDIRECT, account_id)
    back = come_back(Api(client, {}), network, code="code-1", state=started["state"])
    assert back.status_code == 200, back.body
    assert [a["account_id"] for a in back.json["accounts"]] == [account_id]
    made = choose(api, started["state"], [account_id])
    assert made.status_code == 201, made.body
    [channel] = made.json["channels"]
    assert (channel["network"], channel["status"]) == (network, "active")
    credentials = deps.channels.context_for(deps.channels.get(workspace.id, channel["id"])).credentials
    assert credentials["refresh_token"] in fake.refresh_tokens
    assert fake.violations == []
