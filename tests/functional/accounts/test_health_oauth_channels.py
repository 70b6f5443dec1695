"""Health of channels connected the way users connect them (the OAuth routes, against the Meta and LinkedIn fakes):
a grant no refresh can push back is warned about before it lapses, Meta's code 190 is a revocation and anything
transient is not, and a post scheduled past such a grant's end is at risk from the moment it is saved."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.core.clock import to_rfc3339
from chalicelib.wiring import Container
from tests.functional.accounts import test_connect as connecting
from tests.functional.accounts.test_connect import LI_MEMBER, PAGE, Fakes, choose, granted
from tests.support.http import Api

api, deps, fakes, network_side = connecting.api, connecting.deps, connecting.fakes, connecting.network_side
MEMBER = f"urn:li:person:{LI_MEMBER}"


def _connect(api: Api, network_side: Api, fakes: Fakes, network: str, account_id: str) -> str:
    started, _grant = granted(api, network_side, fakes, network)
    made = choose(api, started["state"], [account_id])
    assert made.status_code == 201, made.body
    return str(made.json["channels"][0]["id"])


def test_a_linkedin_grant_without_a_refresh_token_is_warned_about_a_week_before_its_60_days(
        api: Api, network_side: Api, fakes: Fakes, deps: Container, clock: Any) -> None:
    fakes.linkedin.refresh_tokens_enabled = False  # LinkedIn gives refresh tokens to approved apps only
    channel_id = _connect(api, network_side, fakes, "linkedin", MEMBER)
    lapses = clock.now() + timedelta(days=60)
    late = api.post("/posts", {"text": "In ten weeks", "channel_ids": [channel_id],
                               "publish_at": to_rfc3339(clock.now() + timedelta(days=70))}).json
    assert late["at_risk"] is True and "before this post's time" in late["deliveries"][0]["risk"]

    assert api.post(f"/channels/{channel_id}/check").json["health"]["status"] == "ok"
    clock.advance(days=54)
    health = api.post(f"/channels/{channel_id}/check").json["health"]

    assert health["status"] == "warning"
    assert health["expires_at"] == to_rfc3339(lapses)
    assert health["problem"] == (f"The LinkedIn authorization expires on {lapses:%Y-%m-%d %H:%M} UTC (in 6 days) "
                                 "and cannot be renewed automatically: reconnect the channel before then.")
    [listed] = api.get("/channels").json["items"]
    assert listed["health"] == health


def test_a_linkedin_grant_with_a_refresh_token_is_not_warned_about(
        api: Api, network_side: Api, fakes: Fakes, deps: Container, clock: Any) -> None:
    channel_id = _connect(api, network_side, fakes, "linkedin", MEMBER)
    clock.advance(days=54)
    assert api.post(f"/channels/{channel_id}/check").json["health"]["status"] == "ok"


def test_meta_code_190_is_needs_reauth_and_a_transient_graph_error_is_not(
        api: Api, network_side: Api, fakes: Fakes, deps: Container) -> None:
    channel_id = _connect(api, network_side, fakes, "facebook", PAGE)
    fakes.graph.fail("GET", "me", 500, 2, "An unexpected error has occurred. Please retry your request later.")

    transient = api.post(f"/channels/{channel_id}/check").json

    assert (transient["status"], transient["health"]["status"]) == ("active", "warning")
    fakes.graph.revoke("page-token-1")  # the person's password change invalidates the Page token (code 190)
    revoked = api.post(f"/channels/{channel_id}/check").json
    assert (revoked["status"], revoked["health"]["status"]) == ("needs_reauth", "failing")
    assert "reconnect" in revoked["health"]["problem"]
