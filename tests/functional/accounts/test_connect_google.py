"""YouTube and Google Business Profile connect through the OAuth routes (one Google client for both), and
their channels' tokens are refreshed through the same conditional write as the other networks'."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container, use_container
from tests.fakes.google_business_api import GoogleBusinessApi
from tests.fakes.youtube_api import YouTubeApi
from tests.functional.accounts.test_connect import REDIRECT, begin, choose, come_back, query_of
from tests.support.http import Api

YOUTUBE_CHANNEL = "UCherald0000000000coffee"
PERSON, ACCOUNT, LOCATION = "owner@heraldcoffee.example", "1090000000000000001", "2090000000000000001"


@pytest.fixture
def youtube(clock: Any) -> Iterator[YouTubeApi]:
    with YouTubeApi(clock) as fake:
        fake.channel(YOUTUBE_CHANNEL, "Herald Coffee", "@heraldcoffee")
        yield fake


@pytest.fixture
def business(clock: Any) -> Iterator[GoogleBusinessApi]:
    with GoogleBusinessApi(clock) as fake:
        fake.account(ACCOUNT, "Herald Coffee", {PERSON})
        fake.location(ACCOUNT, LOCATION, "Herald Coffee Roasters", "Portland")
        yield fake


def settings_for(fake: YouTubeApi | GoogleBusinessApi) -> Any:
    base = replace(get_settings(), google_client_id=fake.client_id, google_client_secret=fake.client_secret,
                   google_authorize_url=f"{fake.url}/o/oauth2/v2/auth", google_token_url=fake.token_url)
    if isinstance(fake, YouTubeApi):
        return replace(base, youtube_api_url=fake.api_url, youtube_upload_url=fake.upload_url)
    return replace(base, google_business_api_url=fake.api_url,
                   google_account_management_url=fake.account_management_url,
                   google_business_information_url=fake.business_information_url)


@pytest.fixture(params=["youtube", "google_business"])
def network(request: Any, aws: Any, clock: Any, youtube: YouTubeApi, business: GoogleBusinessApi
            ) -> tuple[str, Any, Container]:
    fake = youtube if request.param == "youtube" else business
    deps = use_container(Container(settings_for(fake), clock=clock, clients=aws, sleep=lambda _s: None))
    return request.param, fake, deps


def connect(client: Any, api: Api, network: str, fake: Any) -> dict[str, Any]:
    started = begin(api, network)
    asked = query_of(started["authorize_url"])
    assert started["authorize_url"].startswith(f"{fake.url}/o/oauth2/v2/auth")
    assert (asked["access_type"], asked["state"], asked["redirect_uri"]) == ("offline", started["state"], REDIRECT)
    user = YOUTUBE_CHANNEL if network == "youtube" else PERSON
    fake.authorization_code("4/code-1", REDIRECT, user, asked.get("code_challenge"))
    back = come_back(Api(client, {}), network, code="4/code-1", state=started["state"])
    assert back.status_code == 200, back.body
    account_id = YOUTUBE_CHANNEL if network == "youtube" else LOCATION
    assert [a["account_id"] for a in back.json["accounts"]] == [account_id]
    made = choose(api, started["state"], [account_id])
    assert made.status_code == 201, made.body
    [channel] = made.json["channels"]
    return dict(channel)


def test_each_google_network_connects_through_the_oauth_routes(
        client: Any, workspace: Any, network: tuple[str, Any, Container]) -> None:
    name, fake, deps = network
    channel = connect(client, Api(client, workspace.headers("admin")), name, fake)
    assert (channel["network"], channel["status"]) == (name, "active")
    credentials = deps.channels.context_for(deps.channels.get(workspace.id, channel["id"])).credentials
    assert credentials["refresh_token"] in fake.refresh_tokens
    assert "refresh_token" not in str(channel) and fake.violations == []


def test_a_google_channel_is_refreshed_before_its_hour_ends(
        client: Any, workspace: Any, clock: Any, network: tuple[str, Any, Container]) -> None:
    name, fake, deps = network
    channel = connect(client, Api(client, workspace.headers("admin")), name, fake)
    before = deps.channels.context_for(deps.channels.get(workspace.id, channel["id"])).credentials
    clock.advance(3599 - 60)  # within the refresh margin of Google's one-hour access token
    checked = Api(client, workspace.headers("admin")).post(f"/channels/{channel['id']}/check")
    assert checked.status_code == 200, checked.body
    after = deps.channels.context_for(deps.channels.get(workspace.id, channel["id"])).credentials
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]  # Google does not rotate it: the one kept stays
    assert checked.json["status"] == "active"
