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
def deps(aws: Any, clock: Any, pinterest: PinterestApi, reddit: RedditApi) -> Container:
    settings = replace(get_settings(), pinterest_api_url=pinterest.api_url,
                       pinterest_authorize_url=f"{pinterest.url}/oauth/", pinterest_client_id=pinterest.client_id,
                       pinterest_client_secret=pinterest.client_secret, reddit_api_url=reddit.url,
                       reddit_auth_url=reddit.url, reddit_client_id=reddit.client_id,
                       reddit_client_secret=reddit.client_secret, reddit_user_agent=REDDIT_AGENT)
    return use_container(Container(settings, clock=clock, clients=aws, sleep=lambda _s: None))


@pytest.fixture
def api(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers("admin"))


@pytest.mark.parametrize("network, account_id, handle", [("pinterest", "9001", "heraldcoffee"),
                                                         ("reddit", "t2_abc", "u/herald_coffee")])
def test_pinterest_and_reddit_connect_through_their_oauth_flow(
        client: Any, api: Api, deps: Container, workspace: Any, pinterest: PinterestApi, reddit: RedditApi,
        network: str, account_id: str, handle: str) -> None:
    started = begin(api, network)
    asked = query_of(started["authorize_url"])
    assert asked["state"] == started["state"] and asked["redirect_uri"] == REDIRECT
    fake = pinterest if network == "pinterest" else reddit
    fake.authorization_code("code-1", REDIRECT, account_id)
    back = come_back(Api(client, {}), network, code="code-1", state=started["state"])
    assert back.status_code == 200, back.body
    assert [a["account_id"] for a in back.json["accounts"]] == [account_id]
    made = choose(api, started["state"], [account_id])
    assert made.status_code == 201, made.body
    [channel] = made.json["channels"]
    assert (channel["network"], channel["handle"], channel["status"]) == (network, handle, "active")
    credentials = deps.channels.context_for(deps.channels.get(workspace.id, channel["id"])).credentials
    assert credentials["refresh_token"] in fake.refresh_tokens
    assert fake.violations == []
