"""Token refresh: before expiry on use, atomic across workers, transient failures never mark needs_reauth."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.accounts.tokens import token_facts
from chalicelib.networks.base import AuthError, RetryableError
from tests.fakes.x_api import XApi
from tests.support.channel_health import connect_x, x_container

TOKEN = ("POST", "/2/oauth2/token")


@pytest.fixture
def x_api(clock: Any) -> Iterator[XApi]:
    with XApi(clock) as fake:
        yield fake


@pytest.fixture
def deps(aws: Any, clock: Any, network_apis: Any, x_api: XApi) -> Any:
    return x_container(aws, clock, network_apis, x_api)


@pytest.fixture
def ws(deps: Any) -> str:
    return deps.access.create_workspace("Acme", "UTC")[0].workspace_id


def refreshes(x_api: XApi) -> int:
    return len(x_api.calls(*TOKEN))


def test_what_the_row_keeps_in_the_clear() -> None:
    x = token_facts("x", {"access_token": "a", "refresh_token": "r", "expires_at": "2026-03-02T11:00:00Z"})
    assert (x.token_expires_at, x.grant_expires_at) == ("2026-03-02T11:00:00Z", None)
    linkedin = token_facts("linkedin", {"access_token": "a", "expires_at": "2026-05-01T00:00:00Z"})
    assert linkedin.grant_expires_at == "2026-05-01T00:00:00Z"  # no refresh token: a person must reconnect
    page = token_facts("facebook", {"page_access_token": "p", "user_token_expires_at": "2026-05-01T00:00:00+00:00",
                                    "user_id": "1234"})
    assert (page.token_expires_at, page.grant_expires_at, page.grant_key) == (
        None, "2026-05-01T00:00:00Z", "meta#1234")


def test_a_token_is_refreshed_on_use_only_shortly_before_it_expires(deps: Any, ws: str, x_api: XApi,
                                                                    clock: Any) -> None:
    row, tokens = connect_x(deps, ws, x_api, clock)

    context = deps.channels.context_for(deps.channels.get(ws, row.channel_id))
    assert refreshes(x_api) == 0 and context.credentials["access_token"] == tokens["access_token"]

    clock.advance(hours=1, minutes=55)
    context = deps.channels.context_for(deps.channels.get(ws, row.channel_id))

    assert refreshes(x_api) == 1
    stored = deps.channels.get(ws, row.channel_id)
    assert stored.token_version == 1
    assert context.credentials["access_token"] != tokens["access_token"]
    assert context.credentials["access_token"] in x_api.tokens
    assert stored.token_expires_at == "2026-03-02T12:55:00Z"  # X's two hours from the refresh
    assert deps.tokens.open(stored)["refresh_token"] == context.credentials["refresh_token"]


def test_two_workers_refresh_once_and_both_use_the_new_token(deps: Any, ws: str, x_api: XApi, clock: Any) -> None:
    row, tokens = connect_x(deps, ws, x_api, clock)
    seen = [deps.channels.get(ws, row.channel_id) for _ in range(2)]  # both read version 0
    start = threading.Barrier(2)
    results: list[Any] = [None, None]

    def worker(i: int) -> None:
        start.wait()
        try:
            results[i] = deps.tokens.refresh(seen[i])
        except Exception as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert refreshes(x_api) == 1, "exactly one refresh reached X"
    assert all(isinstance(r, dict) for r in results), results
    assert results[0]["access_token"] == results[1]["access_token"] != tokens["access_token"]
    assert results[0]["refresh_token"] == results[1]["refresh_token"]
    stored = deps.channels.get(ws, row.channel_id)
    assert (stored.status, stored.token_version) == ("active", 1)
    assert deps.tokens.open(stored)["refresh_token"] == results[0]["refresh_token"]
    assert x_api.refresh_tokens[results[0]["refresh_token"]][1] is False  # the new one is not spent
    assert x_api.violations == []


def test_a_worker_that_read_an_old_version_uses_what_was_stored(deps: Any, ws: str, x_api: XApi,
                                                                clock: Any) -> None:
    row, _tokens = connect_x(deps, ws, x_api, clock)
    stale = deps.channels.get(ws, row.channel_id)
    first = deps.tokens.refresh(deps.channels.get(ws, row.channel_id))

    second = deps.tokens.refresh(stale)

    assert refreshes(x_api) == 1
    assert second["access_token"] == first["access_token"]


def test_a_transient_failure_leaves_the_channel_active_and_is_retried(deps: Any, ws: str, x_api: XApi,
                                                                      clock: Any) -> None:
    row, tokens = connect_x(deps, ws, x_api, clock)
    x_api.fail(*TOKEN, 503, {"title": "Service Unavailable"})

    with pytest.raises(RetryableError):
        deps.tokens.refresh(deps.channels.get(ws, row.channel_id))

    stored = deps.channels.get(ws, row.channel_id)
    assert (stored.status, stored.token_version) == ("active", 0)
    assert deps.tokens.open(stored)["refresh_token"] == tokens["refresh_token"]
    refreshed = deps.tokens.refresh(stored)  # later: the claim was released, the refresh token kept
    assert refreshed["access_token"] in x_api.tokens


def test_a_transient_failure_on_use_keeps_a_token_that_still_works(deps: Any, ws: str, x_api: XApi,
                                                                   clock: Any) -> None:
    row, tokens = connect_x(deps, ws, x_api, clock)
    clock.advance(hours=1, minutes=55)
    x_api.fail(*TOKEN, 500, {"title": "Internal Error"})

    context = deps.channels.context_for(deps.channels.get(ws, row.channel_id))

    assert context.credentials["access_token"] == tokens["access_token"]
    assert deps.channels.get(ws, row.channel_id).status == "active"


def test_a_revoked_grant_marks_the_channel_needs_reauth(deps: Any, ws: str, x_api: XApi, clock: Any) -> None:
    row, tokens = connect_x(deps, ws, x_api, clock)
    x_api.revoke(tokens["refresh_token"])

    with pytest.raises(AuthError):
        deps.tokens.refresh(deps.channels.get(ws, row.channel_id))

    assert deps.channels.get(ws, row.channel_id).status == "needs_reauth"


def test_the_x_adapter_refreshes_through_the_atomic_refresh_on_a_401(deps: Any, ws: str, x_api: XApi,
                                                                     clock: Any) -> None:
    row, tokens = connect_x(deps, ws, x_api, clock)
    x_api.expire(tokens["access_token"])  # X stopped taking it before its time

    context = deps.channels.context_for(deps.channels.get(ws, row.channel_id))
    described = deps.adapter("x").describe_account(context)

    assert described["account_id"] == "2975699229"
    assert refreshes(x_api) == 1
    assert deps.channels.get(ws, row.channel_id).token_version == 1
