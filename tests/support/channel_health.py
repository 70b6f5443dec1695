"""Channels and scheduled posts for the health and token tests: an X channel connected against the local X
fake (tests/fakes/x_api.py), the credentials an OAuth connect stores, and a post stored as scheduled."""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.accounts.channel_repository import ChannelRow
from chalicelib.accounts.tokens import apply_token_facts
from chalicelib.core.clock import FixedClock, to_rfc3339
from chalicelib.core.ids import new_id
from chalicelib.core.settings import get_settings
from chalicelib.publishing.post_repository import DeliveryRow, PostRow
from chalicelib.wiring import Container, use_container
from tests.fakes.network_apis import NetworkApis
from tests.fakes.x_api import CLIENT_ID, CLIENT_SECRET, XApi

X_USER = "2975699229"


def x_container(aws: dict[str, Any], clock: FixedClock, network_apis: NetworkApis, x_api: XApi,
                **settings_too: Any) -> Container:
    """The test container with X's API and OAuth app pointed at the X fake (and `settings_too`: other
    networks' base URLs); waits for another worker's refresh really sleep (briefly), as they do on Lambda."""
    settings = replace(network_apis.settings(get_settings()), x_api_url=x_api.url, x_client_id=CLIENT_ID,
                       x_client_secret=CLIENT_SECRET, **settings_too)
    return use_container(Container(settings, clock=clock, clients=aws, sleep=lambda s: time.sleep(min(s, 0.05))))


def connect_x(deps: Container, workspace_id: str, x_api: XApi, clock: FixedClock,
              lifetime: timedelta = timedelta(hours=2)) -> tuple[ChannelRow, dict[str, str]]:
    tokens = x_api.user_token(X_USER, "scruffy")
    credentials = {**tokens, "expires_at": to_rfc3339(clock.now() + lifetime) or ""}
    row = deps.channels.create(workspace_id, "x", "Herald on X", credentials, {})
    return row, tokens


def store_credentials(deps: Container, row: ChannelRow, credentials: dict[str, Any]) -> ChannelRow:
    """What connecting by OAuth keeps (GrantedAccount.credentials: expiries, the granting user's id)."""
    apply_token_facts(row, credentials)
    row.credentials_sealed = deps.secret_box.seal(credentials, {"workspace_id": row.workspace_id,
                                                                "channel_id": row.channel_id})
    deps.channel_repository.save(row)
    return row


def scheduled_post(deps: Container, channel: ChannelRow, publish_at: datetime, text: str = "Hello") -> str:
    """A post scheduled on `channel`, stored as the post service stores one (its at-risk rule included)."""
    now = deps.clock.now()
    post = PostRow(channel.workspace_id, new_id("pst"), text, "scheduled", [channel.channel_id], now, now,
                   publish_at, timezone="UTC")
    current = deps.channel_repository.get(channel.workspace_id, channel.channel_id)
    assert current is not None
    deps.post_repository.create(post, [deps.posts._new_delivery(post, current)])
    return post.post_id


def delivery_of(deps: Container, workspace_id: str, post_id: str) -> DeliveryRow:
    found = deps.post_repository.get(workspace_id, post_id)
    assert found is not None
    return found[1][0]
