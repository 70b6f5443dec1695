"""Networks connected by a pasted credential (a Telegram bot token, a Discord webhook URL), through
`POST /channels`: verified with one call to the network before anything is saved, never echoed."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.core.outbound import ALLOW_LOCAL_PEERS
from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container, use_container
from tests.fakes.discord_api import WEBHOOK_TOKEN, DiscordApi
from tests.fakes.telegram_api import BOT_TOKEN, CHANNEL_ID, CHANNEL_USERNAME, TelegramApi
from tests.support.http import Api
from tests.support.webhooks import table_items


@pytest.fixture
def telegram() -> Iterator[TelegramApi]:
    with TelegramApi() as fake:
        yield fake


@pytest.fixture
def discord() -> Iterator[DiscordApi]:
    with DiscordApi() as fake:
        yield fake


@pytest.fixture
def deps(aws: Any, clock: Any, telegram: TelegramApi, discord: DiscordApi) -> Container:
    settings = replace(get_settings(), telegram_api_url=telegram.url, discord_api_url=f"{discord.url}/api")
    container = Container(settings, clock=clock, clients=aws, sleep=lambda _s: None)
    container.outbound = ALLOW_LOCAL_PEERS  # the Discord fake is on 127.0.0.1
    return use_container(container)


@pytest.fixture
def api(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers("admin"))


def test_a_telegram_channel_is_the_chat_its_bot_administers(api: Api, deps: Container,
                                                             telegram: TelegramApi) -> None:
    made = api.post("/channels", {"network": "telegram", "name": "News", "credentials": {"bot_token": BOT_TOKEN},
                                  "settings": {"chat_id": f"@{CHANNEL_USERNAME}"}})
    assert made.status_code == 201, made.body
    assert made.json["settings"]["chat_id"] == str(CHANNEL_ID)  # the typed @name is replaced by the chat's id
    assert BOT_TOKEN not in made.body.decode()
    assert BOT_TOKEN not in json.dumps(table_items(deps, "channels"), default=str)
    assert telegram.violations == []


def test_a_wrong_bot_token_is_a_422_and_no_channel(api: Api, deps: Container) -> None:
    wrong = BOT_TOKEN.split(":")[0] + ":AAH-not-the-token-of-this-bot_0000000"
    made = api.post("/channels", {"network": "telegram", "name": "News", "credentials": {"bot_token": wrong},
                                  "settings": {"chat_id": str(CHANNEL_ID)}})
    assert made.status_code == 422, made.body
    assert table_items(deps, "channels") == []


def test_a_discord_channel_is_its_webhook_and_the_token_is_never_shown(api: Api, deps: Container,
                                                                       discord: DiscordApi) -> None:
    made = api.post("/channels", {"network": "discord", "name": "Announcements",
                                  "credentials": {"webhook_url": discord.webhook_url()}})
    assert made.status_code == 201, made.body
    assert WEBHOOK_TOKEN not in made.body.decode()
    assert WEBHOOK_TOKEN not in json.dumps(table_items(deps, "channels"), default=str)
    elsewhere = api.post("/channels", {"network": "discord", "name": "Evil", "credentials": {
        "webhook_url": "https://evil.example/api/webhooks/1/abc"}})
    assert elsewhere.status_code == 422, elsewhere.body
