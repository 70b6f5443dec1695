"""Reconnecting and changing a channel while its tokens live on: through the OAuth routes and PATCH /channels, against
the X fake (tests/fakes/x_api.py, which rotates refresh tokens and spends the old one), with a second worker
refreshing at the worst moment. The new grant's tokens always win, a rotated refresh token is never put back, and a
channel reconnected after a revocation is healthy again, with its scheduled posts no longer at risk."""
from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.accounts.tokens import TokenService
from chalicelib.core.clock import to_rfc3339
from chalicelib.networks.base import AuthError, ConnectsByOAuth, OAuthApp, TokenGrant
from chalicelib.wiring import Container
from tests.functional.accounts import test_connect as connecting
from tests.functional.accounts.test_connect import X_USER, Fakes, choose, granted
from tests.support.http import Api

# The local fakes of every OAuth network and the container pointed at them, as the connect tests have them.
api, deps, fakes, network_side = connecting.api, connecting.deps, connecting.fakes, connecting.network_side


class _Interleaved:
    """A network's OAuth side whose refresh lets something happen before or after the network answers."""

    def __init__(self, real: ConnectsByOAuth, before: Callable[[], None] | None,
                 after: Callable[[], None] | None) -> None:
        self.real, self.before, self.after = real, before, after

    def refresh(self, app: OAuthApp, credentials: Any) -> TokenGrant:
        if self.before:
            self.before()
        grant = self.real.refresh(app, credentials)
        if self.after:
            self.after()
        return grant


def _other_worker(deps: Container, *, before: Callable[[], None] | None = None,
                  after: Callable[[], None] | None = None) -> TokenService:
    """The container's own token service (its conditional writes, its revocation handling), as a second worker
    whose refresh is interleaved with what a person does meanwhile."""
    worker = copy.copy(deps.tokens)
    real = deps.tokens.oauth

    def oauth(network: str) -> tuple[ConnectsByOAuth, OAuthApp] | None:
        found = real(network)
        return None if found is None else (_Interleaved(found[0], before, after), found[1])  # type: ignore[return-value]

    worker.oauth = oauth
    return worker


def _connect_x(api: Api, network_side: Api, fakes: Fakes) -> str:
    started, _grant = granted(api, network_side, fakes, "x")
    made = choose(api, started["state"], [X_USER])
    assert made.status_code == 201, made.body
    return str(made.json["channels"][0]["id"])


def _stored(deps: Container, workspace: Any, channel_id: str) -> dict[str, Any]:
    row = deps.channel_repository.get(workspace.id, channel_id, consistent=True)
    assert row is not None
    return deps.tokens.open(row)


def test_reconnecting_a_revoked_channel_makes_it_healthy_and_its_posts_no_longer_at_risk(
        api: Api, network_side: Api, fakes: Fakes, deps: Container, workspace: Any, clock: Any) -> None:
    channel_id = _connect_x(api, network_side, fakes)
    post = api.post("/posts", {"text": "Launch day", "channel_ids": [channel_id],
                               "publish_at": to_rfc3339(clock.now() + timedelta(days=2))})
    assert post.status_code == 201, post.body
    old = _stored(deps, workspace, channel_id)
    fakes.x.revoke(old["refresh_token"])  # the person revoked Herald in X's settings
    fakes.x.expire(old["access_token"])
    checked = api.post(f"/channels/{channel_id}/check").json
    assert (checked["status"], checked["health"]["status"]) == ("needs_reauth", "failing")
    assert api.get(f"/posts/{post.json['id']}").json["at_risk"] is True

    assert _connect_x(api, network_side, fakes) == channel_id  # the person reconnects: the same channel

    channel = api.get(f"/channels/{channel_id}").json
    assert channel["status"] == "active"
    assert (channel["health"] or {}).get("status") != "failing", channel["health"]
    answer = api.get(f"/posts/{post.json['id']}").json
    assert answer["at_risk"] is False and answer["deliveries"][0]["risk"] is None
    assert api.get("/posts?at_risk=true").json["items"] == []
    assert api.post(f"/channels/{channel_id}/check").json["health"]["status"] == "ok"


def test_a_refresh_refused_on_the_old_tokens_does_not_flag_the_channel_just_reconnected(
        api: Api, network_side: Api, fakes: Fakes, deps: Container, workspace: Any) -> None:
    channel_id = _connect_x(api, network_side, fakes)
    read_before = deps.channel_repository.get(workspace.id, channel_id)
    assert read_before is not None
    fakes.x.revoke(_stored(deps, workspace, channel_id)["refresh_token"])
    worker = _other_worker(deps, before=lambda: _connect_x(api, network_side, fakes))

    with pytest.raises(AuthError):  # X refuses the old, revoked refresh token: true, and about the old grant
        worker.refresh(read_before)

    channel = api.get(f"/channels/{channel_id}").json
    assert channel["status"] == "active"
    new = _stored(deps, workspace, channel_id)
    assert fakes.x.tokens[new["access_token"]] == X_USER
    assert fakes.x.refresh_tokens[new["refresh_token"]] == (X_USER, False)  # the new grant's, unspent


def test_renaming_a_channel_while_its_token_is_refreshed_keeps_the_rotated_refresh_token(
        api: Api, network_side: Api, fakes: Fakes, deps: Container, workspace: Any) -> None:
    channel_id = _connect_x(api, network_side, fakes)
    read_before = deps.channel_repository.get(workspace.id, channel_id)
    assert read_before is not None
    renamed: list[Any] = []
    worker = _other_worker(deps, after=lambda: renamed.append(api.patch(f"/channels/{channel_id}",
                                                                        {"name": "Herald, on X"})))

    refreshed = worker.refresh(read_before)  # X spent the old refresh token and answered a new one

    assert renamed[0].status_code == 200, renamed[0].body
    channel = api.get(f"/channels/{channel_id}").json
    assert (channel["name"], channel["status"]) == ("Herald, on X", "active")
    stored = _stored(deps, workspace, channel_id)
    assert stored["refresh_token"] == refreshed["refresh_token"]
    assert fakes.x.refresh_tokens[stored["refresh_token"]] == (X_USER, False)
    assert deps.channel_repository.get(workspace.id, channel_id).token_version == 1  # type: ignore[union-attr]
