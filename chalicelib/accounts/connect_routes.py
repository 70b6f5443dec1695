"""Connecting accounts by OAuth 2.0: begin, the network's callback, choose the accounts (chalicelib/accounts/
connect.py says how a state is kept)."""
from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.accounts.schemas import Channel
from chalicelib.accounts.views import channel_view
from chalicelib.core.api import Call, route
from chalicelib.core.schemas import RequestModel
from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "channels"
MAX_STATE = 128
MAX_ACCOUNT_ID = 200


class ConnectStart(RequestModel):
    network: Annotated[str, Field(max_length=40, description="facebook (its Pages and their Instagram "
                                                             "accounts), instagram, threads, linkedin or x")]
    redirect_uri: Annotated[str, Field(min_length=1, max_length=2048, description=(
        "Where the network sends the person back, registered with Herald's app on that network: https (http "
        "only to loopback, where HERALD_ALLOW_PRIVATE_URLS=1)."))]


class ConnectStarted(BaseModel):
    authorize_url: str
    state: str
    expires_at: str


class CallbackQuery(RequestModel):
    # Networks add their own parameters to the redirect (granted scopes...): those are not Herald's to refuse.
    model_config = ConfigDict(extra="ignore")

    state: Annotated[str, Field(min_length=1, max_length=MAX_STATE)]
    code: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    error: Annotated[str, Field(max_length=200)] | None = None
    error_description: Annotated[str, Field(max_length=1000)] | None = None


class GrantedAccountView(BaseModel):
    account_id: str
    network: str
    handle: str
    name: str
    avatar_url: str | None = None
    already_connected: str | None = Field(description="The id of this workspace's channel for this account, "
                                                      "which choosing it renews; null when it is new.")


class ConnectGranted(BaseModel):
    state: str
    network: str
    expires_at: str
    accounts: list[GrantedAccountView]


class ConnectChoice(RequestModel):
    account_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=MAX_ACCOUNT_ID)]],
                           Field(min_length=1, max_length=100)]


class ConnectedChannels(BaseModel):
    channels: list[Channel]


@route(bp, "/channels/connect", "POST", summary="Begin connecting an account by OAuth", tag=TAG, role="admin",
       body=ConnectStart, response=ConnectStarted, status=201)
def begin_connect(call: Call[Container]) -> dict[str, Any]:
    body: ConnectStart = call.body
    assert call.principal is not None
    started = call.deps.connect.start(call.principal, body.network, body.redirect_uri)
    return {"authorize_url": started.authorize_url, "state": started.state, "expires_at": started.expires_at}


@route(bp, "/oauth/callback/{network}", "GET", summary="The network's OAuth callback (the state proves who began it)",
       tag=TAG, role=None, query=CallbackQuery, response=ConnectGranted, errors=(400, 404))
def oauth_callback(call: Call[Container], network: str) -> dict[str, Any]:
    query: CallbackQuery = call.query
    granted = call.deps.connect.callback(network, query.state, query.code, query.error, query.error_description)
    return {"state": granted.state, "network": granted.network, "expires_at": granted.expires_at,
            "accounts": granted.accounts}


@route(bp, "/channels/connect/{state}/accounts", "POST", summary="Make channels of the accounts a grant reached",
       tag=TAG, role="admin", body=ConnectChoice, response=ConnectedChannels, status=201, errors=(400, 404, 409))
def choose_accounts(call: Call[Container], state: str) -> dict[str, Any]:
    body: ConnectChoice = call.body
    assert call.principal is not None
    rows = call.deps.connect.choose(call.principal, state, body.account_ids)
    return {"channels": [channel_view(row) for row in rows]}
