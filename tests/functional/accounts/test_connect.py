"""Connecting accounts by OAuth, through the routes, against the local fakes of each network's authorization and
token endpoints (tests/fakes): begin, come back from the network, choose the accounts, and what must be refused."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container, use_container
from tests.fakes import x_api
from tests.fakes.linkedin_api import LinkedInApi
from tests.fakes.meta_graph import MetaGraphFake
from tests.fakes.threads_api import ThreadsApi
from tests.fakes.x_api import XApi
from tests.support.fixtures import make_workspace
from tests.support.http import Api

REDIRECT = "https://app.herald.test/connected"
X_USER, X_NAME = "2975699229", "scruffy"
LI_MEMBER, LI_ORG = "yrZCpj2Z12", "2414183"
THREADS_USER = "17841401234567890"
PAGE, IG, SECOND_PAGE = "101112131415", "17841400000000001", "161718192021"


@dataclass
class Fakes:
    graph: MetaGraphFake
    threads: ThreadsApi
    linkedin: LinkedInApi
    x: XApi


@pytest.fixture
def fakes(clock: Any) -> Iterator[Fakes]:
    with MetaGraphFake(clock.now) as graph, ThreadsApi(clock) as threads, LinkedInApi() as linkedin, \
            XApi(clock) as x:
        graph.page(PAGE, "Herald Coffee", "page-token-1", ig=(IG, "herald.coffee"))
        graph.page(SECOND_PAGE, "Herald Tea", "page-token-2")
        threads.user("threads-seed-token", THREADS_USER, "herald.coffee", name="Herald Coffee")
        linkedin.organization(LI_ORG, "Herald Coffee Co", "herald-coffee")
        linkedin.member(LI_MEMBER, "Ada Lovelace", organizations=(LI_ORG,))
        linkedin.authorizing(LI_MEMBER)
        yield Fakes(graph, threads, linkedin, x)


def settings_for(fakes: Fakes, **overrides: Any) -> Any:
    pointed = dict(
        meta_graph_url=fakes.graph.url, meta_app_id=fakes.graph.app_id, meta_app_secret=fakes.graph.app_secret,
        threads_api_url=fakes.threads.api_url, threads_app_id=fakes.threads.app_id,
        threads_app_secret=fakes.threads.app_secret,
        linkedin_api_url=fakes.linkedin.url, linkedin_client_id=fakes.linkedin.client_id,
        linkedin_client_secret=fakes.linkedin.client_secret,
        linkedin_authorize_url=f"{fakes.linkedin.url}/oauth/v2/authorization",
        linkedin_token_url=f"{fakes.linkedin.url}/oauth/v2/accessToken",
        x_api_url=fakes.x.url, x_client_id=x_api.CLIENT_ID, x_client_secret=x_api.CLIENT_SECRET)
    return replace(get_settings(), **{**pointed, **overrides})


@pytest.fixture
def deps(aws: dict[str, Any], clock: Any, fakes: Fakes) -> Container:
    return use_container(Container(settings_for(fakes), clock=clock, clients=aws, sleep=lambda _s: None))


@pytest.fixture
def api(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers("admin"))


@pytest.fixture
def network_side(client: Any) -> Api:
    """The person's browser coming back from the network: no API key."""
    return Api(client, {})


# -- the person at the network ------------------------------------------------------------------------------


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def approve(fakes: Fakes, network: str, started: dict[str, Any], *, pages: tuple[str, ...] = (PAGE, SECOND_PAGE),
            code: str = "meta-code-1") -> str:
    """What the network's authorization page does when the person says yes: the code it redirects back with."""
    asked = query_of(started["authorize_url"])
    assert asked["state"] == started["state"] and asked["redirect_uri"] == REDIRECT
    if network in ("facebook", "instagram"):
        fakes.graph.issue_code(code, REDIRECT, list(pages), code_challenge=asked.get("code_challenge"))
        return code
    if network == "threads":
        fakes.threads.authorization_code("threads-code-1", REDIRECT, THREADS_USER)
        return "threads-code-1"
    if network == "linkedin":  # the fake's own authorization endpoint redirects with the code
        answer = requests.get(started["authorize_url"], allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        back = query_of(answer.headers["Location"])
        assert back["state"] == started["state"]
        return back["code"]
    assert network == "x"
    return fakes.x.authorize(X_USER, X_NAME, code_challenge=asked["code_challenge"], redirect_uri=REDIRECT)


def begin(api: Api, network: str, redirect_uri: str = REDIRECT) -> dict[str, Any]:
    answer = api.post("/channels/connect", {"network": network, "redirect_uri": redirect_uri})
    assert answer.status_code == 201, answer.body
    return answer.json


def come_back(network_side: Api, network: str, **params: str) -> Any:
    return network_side.get(f"/oauth/callback/{network}?{urlencode(params)}")


def granted(api: Api, network_side: Api, fakes: Fakes, network: str) -> tuple[dict[str, Any], dict[str, Any]]:
    started = begin(api, network)
    code = approve(fakes, network, started)
    answer = come_back(network_side, network, code=code, state=started["state"])
    assert answer.status_code == 200, answer.body
    return started, answer.json


def choose(api: Api, state: str, account_ids: list[str]) -> Any:
    return api.post(f"/channels/connect/{state}/accounts", {"account_ids": account_ids})


def channels_of(api: Api) -> list[dict[str, Any]]:
    return api.get("/channels").json["items"]


EXPECTED = {
    "facebook": (PAGE, "Herald Coffee", {"page_id": PAGE}),
    "threads": (THREADS_USER, "herald.coffee", {"threads_user_id": THREADS_USER}),
    "linkedin": (f"urn:li:organization:{LI_ORG}", "herald-coffee",
                 {"organization_urn": f"urn:li:organization:{LI_ORG}"}),
    "x": (X_USER, X_NAME, {"user_id": X_USER}),
}


# -- connecting ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("network", ["facebook", "threads", "linkedin", "x"])
def test_each_network_connects_through_its_oauth_flow(api, network_side, fakes, deps, workspace, network):
    started, grant = granted(api, network_side, fakes, network)
    account_id, handle, settings = EXPECTED[network]
    assert grant["state"] == started["state"] and grant["network"] == network
    assert account_id in [a["account_id"] for a in grant["accounts"]]
    assert all(a["already_connected"] is None for a in grant["accounts"])

    answer = choose(api, started["state"], [account_id])

    assert answer.status_code == 201, answer.body
    [channel] = answer.json["channels"]
    assert (channel["network"], channel["handle"], channel["status"]) == (network, handle, "active")
    assert settings.items() <= channel["settings"].items()
    assert [c["id"] for c in channels_of(api)] == [channel["id"]]
    [row] = deps.channel_repository.find_by_account(network, account_id)
    assert (row.workspace_id, row.channel_id, row.account_key) == (workspace.id, channel["id"],
                                                                    f"{network}#{account_id}")


def test_a_connected_channel_publishes_with_the_granted_token(api, network_side, fakes, deps, workspace):
    started, _grant = granted(api, network_side, fakes, "x")
    [channel] = choose(api, started["state"], [X_USER]).json["channels"]
    row = deps.channels.get(workspace.id, channel["id"])
    credentials = deps.channels.context_for(row).credentials
    assert fakes.x.tokens[credentials["access_token"]] == X_USER
    assert fakes.x.refresh_tokens[credentials["refresh_token"]] == (X_USER, False)
    assert credentials["expires_at"]
    assert deps.adapter("x").describe_account(deps.channels.context_for(row))["account_id"] == X_USER


def test_a_facebook_grant_reaches_its_pages_and_their_instagram_accounts(api, network_side, fakes, deps):
    started, grant = granted(api, network_side, fakes, "facebook")
    assert [(a["network"], a["account_id"], a["handle"]) for a in grant["accounts"]] == [
        ("facebook", PAGE, "Herald Coffee"), ("instagram", IG, "herald.coffee"),
        ("facebook", SECOND_PAGE, "Herald Tea")]

    channels = choose(api, started["state"], [PAGE, IG]).json["channels"]

    assert [(c["network"], c["handle"]) for c in channels] == [("facebook", "Herald Coffee"),
                                                               ("instagram", "herald.coffee")]
    assert channels[1]["settings"]["ig_user_id"] == IG and channels[1]["settings"]["page_id"] == PAGE
    [page] = deps.channel_repository.find_by_account("facebook", PAGE)
    assert deps.channels.context_for(page).credentials["page_access_token"] == "page-token-1"
    [ig] = deps.channel_repository.find_by_account("instagram", IG)
    assert deps.channels.context_for(ig).credentials["access_token"] == "page-token-1"


def test_a_linkedin_grant_reaches_the_member_and_the_organizations_they_administer(api, network_side, fakes):
    _started, grant = granted(api, network_side, fakes, "linkedin")
    assert [(a["account_id"], a["name"]) for a in grant["accounts"]] == [
        (f"urn:li:person:{LI_MEMBER}", "Ada Lovelace"), (f"urn:li:organization:{LI_ORG}", "Herald Coffee Co")]


def test_x_gets_the_pkce_verifier_of_the_challenge_it_was_shown(api, network_side, fakes, deps, aws):
    started = begin(api, "x")
    asked = query_of(started["authorize_url"])
    assert asked["code_challenge_method"] == "S256"
    item = only_state_item(deps, aws)
    assert "verifier_sealed" in item and started["state"] not in json.dumps(item, default=str)

    code = approve(fakes, "x", started)
    assert come_back(network_side, "x", code=code, state=started["state"]).status_code == 200

    [exchange] = fakes.x.calls("POST", "/2/oauth2/token")
    form = {k: v[0] for k, v in parse_qs(exchange.body.decode()).items()}
    digest = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest()).rstrip(b"=").decode()
    assert digest == asked["code_challenge"]
    assert 43 <= len(form["code_verifier"]) <= 128
    assert form["code_verifier"] not in started["authorize_url"]
    assert fakes.x.violations == []


def test_meta_gets_the_pkce_verifier_and_threads_and_linkedin_are_shown_no_challenge(api, network_side, fakes):
    started = begin(api, "facebook")
    assert query_of(started["authorize_url"])["code_challenge_method"] == "S256"
    code = approve(fakes, "facebook", started)  # the fake checks the verifier against this challenge
    assert come_back(network_side, "facebook", code=code, state=started["state"]).status_code == 200
    for network in ("threads", "linkedin"):
        assert "code_challenge" not in query_of(begin(api, network)["authorize_url"])


def test_the_state_is_long_random_and_stored_only_as_its_hash(api, deps, aws):
    states = [begin(api, "x")["state"] for _ in range(3)]
    assert len(set(states)) == 3
    assert all(len(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))) >= 16 for s in states)
    dumped = json.dumps(aws["dynamodb"].scan(TableName=deps.settings.table("connect_states"))["Items"], default=str)
    assert not any(state in dumped for state in states)
    assert all(hashlib.sha256(s.encode()).hexdigest() in dumped for s in states)


# -- what is refused ----------------------------------------------------------------------------------------


def test_a_replayed_state_is_refused_and_changes_nothing(api, network_side, fakes, deps, aws):
    started, _grant = granted(api, network_side, fakes, "x")
    before = only_state_item(deps, aws)
    calls = len(fakes.x.requests)

    again = come_back(network_side, "x", code="another-code", state=started["state"])

    assert again.status_code == 400 and again.json["error"]["code"] == "state_used"
    assert set(again.json["error"]) == {"code", "message", "details"}
    assert only_state_item(deps, aws) == before
    assert len(fakes.x.requests) == calls  # nothing was asked of X

    assert choose(api, started["state"], [X_USER]).status_code == 201
    twice = choose(api, started["state"], [X_USER])
    assert twice.status_code == 400 and twice.json["error"]["code"] == "state_used"
    assert len(channels_of(api)) == 1


def test_an_expired_state_is_refused_at_the_callback_and_when_choosing(api, network_side, fakes, deps, aws, clock):
    started = begin(api, "x")
    code = approve(fakes, "x", started)
    clock.advance(minutes=10, seconds=1)
    before = only_state_item(deps, aws)

    late = come_back(network_side, "x", code=code, state=started["state"])

    assert late.status_code == 400 and late.json["error"]["code"] == "state_expired"
    assert only_state_item(deps, aws) == before
    assert fakes.x.calls("POST", "/2/oauth2/token") == []

    fresh, _grant = granted(api, network_side, fakes, "x")
    clock.advance(minutes=11)
    answer = choose(api, fresh["state"], [X_USER])
    assert answer.status_code == 400 and answer.json["error"]["code"] == "state_expired"
    assert channels_of(api) == []


def test_a_state_of_another_network_is_refused_and_changes_nothing(api, network_side, fakes, deps, aws):
    started = begin(api, "x")
    code = approve(fakes, "x", started)
    before = only_state_item(deps, aws)

    wrong = come_back(network_side, "linkedin", code=code, state=started["state"])

    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "state_mismatch"
    assert only_state_item(deps, aws) == before
    assert come_back(network_side, "x", code=code, state=started["state"]).status_code == 200


def test_an_unknown_state_is_404(network_side):
    answer = come_back(network_side, "x", code="c", state="no-such-state")
    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"


def test_another_workspace_or_key_cannot_choose_the_accounts(api, client, network_side, fakes, deps, workspace):
    started, _grant = granted(api, network_side, fakes, "x")
    rival = make_workspace(deps, "Rival")
    for headers in (rival.headers("owner"), workspace.headers("owner")):
        answer = Api(client, headers).post(f"/channels/connect/{started['state']}/accounts",
                                           {"account_ids": [X_USER]})
        assert answer.status_code == 404, answer.body
    assert channels_of(Api(client, rival.headers("owner"))) == []
    assert channels_of(api) == []
    assert choose(api, started["state"], [X_USER]).status_code == 201


def test_the_person_declining_is_a_clear_400_that_spends_the_state(api, network_side, fakes):
    started = begin(api, "linkedin")

    declined = come_back(network_side, "linkedin", state=started["state"], error="access_denied",
                         error_description="The user declined")

    assert declined.status_code == 400 and declined.json["error"]["code"] == "access_denied"
    assert "declined" in declined.json["error"]["message"]
    code = approve(fakes, "linkedin", started)
    after = come_back(network_side, "linkedin", code=code, state=started["state"])
    assert after.status_code == 400 and after.json["error"]["code"] == "state_used"
    assert fakes.linkedin.calls("POST", "/oauth/v2/accessToken") == []


def test_a_code_the_network_refuses_is_a_400_and_spends_the_state(api, network_side, fakes):
    started = begin(api, "x")
    answer = come_back(network_side, "x", code="code-never-issued", state=started["state"])
    assert answer.status_code == 400 and answer.json["error"]["code"] == "grant_failed"
    assert "code-never-issued" not in answer.json["error"]["message"]


def test_account_ids_the_grant_does_not_reach_are_a_422_and_make_no_channel(api, network_side, fakes):
    started, _grant = granted(api, network_side, fakes, "facebook")
    answer = choose(api, started["state"], [PAGE, "999"])
    assert answer.status_code == 422
    [detail] = answer.json["error"]["details"]
    assert detail["field"] == "account_ids" and PAGE in detail["choices"]
    assert channels_of(api) == []
    assert choose(api, started["state"], [PAGE]).status_code == 201  # the state was not spent


def test_a_network_whose_app_is_not_configured_is_a_422_naming_the_settings(client, aws, clock, fakes):
    deps = use_container(Container(settings_for(fakes, x_client_id="", x_client_secret=""), clock=clock,
                                   clients=aws))
    api = Api(client, make_workspace(deps).headers("admin"))
    answer = api.post("/channels/connect", {"network": "x", "redirect_uri": REDIRECT})
    assert answer.status_code == 422
    [detail] = answer.json["error"]["details"]
    assert detail["field"] == "network"
    assert "HERALD_X_CLIENT_ID" in detail["message"] and "HERALD_X_CLIENT_SECRET" in detail["message"]


def test_networks_that_do_not_connect_by_oauth_are_a_422(api):
    for network in ("bluesky", "sandbox", "nowhere"):
        answer = api.post("/channels/connect", {"network": network, "redirect_uri": REDIRECT})
        assert answer.status_code == 422 and answer.json["error"]["details"][0]["field"] == "network"


@pytest.mark.parametrize("redirect_uri", [
    "http://app.herald.test/connected", "http://127.0.0.1:5173/connected", "https://app.herald.test/c#frag",
    "javascript:alert(1)", "https://user:pw@app.herald.test/", "https://app.herald.test/" + "a" * 2048, "/relative",
])
def test_redirect_uris_must_be_https(api, redirect_uri):
    answer = api.post("/channels/connect", {"network": "x", "redirect_uri": redirect_uri})
    assert answer.status_code == 422, answer.body
    assert answer.json["error"]["details"][0]["field"] == "redirect_uri"


def test_http_to_loopback_only_where_private_urls_are_allowed(client, aws, clock, fakes):
    deps = use_container(Container(settings_for(fakes, allow_private_urls=True), clock=clock, clients=aws))
    api = Api(client, make_workspace(deps).headers("admin"))
    assert begin(api, "x", "http://127.0.0.1:5173/connected")["state"]
    refused = api.post("/channels/connect", {"network": "x", "redirect_uri": "http://app.herald.test/c"})
    assert refused.status_code == 422


def test_only_an_admin_begins_or_chooses(client, workspace, network_side, fakes):
    editor = Api(client, workspace.headers("editor"))
    assert editor.post("/channels/connect", {"network": "x", "redirect_uri": REDIRECT}).status_code == 403
    assert network_side.post("/channels/connect", {"network": "x", "redirect_uri": REDIRECT}).status_code == 401
    assert editor.post("/channels/connect/s/accounts", {"account_ids": ["1"]}).status_code == 403


# -- reconnecting -------------------------------------------------------------------------------------------


def test_reconnecting_renews_the_same_channel_and_keeps_the_refresh_token(api, network_side, fakes, deps, workspace):
    member = f"urn:li:person:{LI_MEMBER}"
    started, _grant = granted(api, network_side, fakes, "linkedin")
    [first] = choose(api, started["state"], [member]).json["channels"]
    old = deps.channels.context_for(deps.channels.get(workspace.id, first["id"])).credentials
    assert old["refresh_token"]
    deps.channels.mark_needs_reauth(workspace.id, first["id"])
    fakes.linkedin.refresh_tokens_enabled = False  # this grant brings no refresh token

    again, grant = granted(api, network_side, fakes, "linkedin")
    assert {a["account_id"]: a["already_connected"] for a in grant["accounts"]}[member] == first["id"]
    [renewed] = choose(api, again["state"], [member]).json["channels"]

    assert renewed["id"] == first["id"] and renewed["status"] == "active"
    assert [c["id"] for c in channels_of(api)] == [first["id"]]
    new = deps.channels.context_for(deps.channels.get(workspace.id, first["id"])).credentials
    assert new["access_token"] != old["access_token"] and new["access_token"] in fakes.linkedin.tokens
    assert new["refresh_token"] == old["refresh_token"]
    assert new["refresh_expires_at"] == old["refresh_expires_at"]


def test_reconnecting_x_takes_the_new_rotating_refresh_token(api, network_side, fakes, deps, workspace):
    started, _grant = granted(api, network_side, fakes, "x")
    [first] = choose(api, started["state"], [X_USER]).json["channels"]
    old = deps.channels.context_for(deps.channels.get(workspace.id, first["id"])).credentials
    again, _grant = granted(api, network_side, fakes, "x")
    [renewed] = choose(api, again["state"], [X_USER]).json["channels"]
    new = deps.channels.context_for(deps.channels.get(workspace.id, first["id"])).credentials
    assert renewed["id"] == first["id"] and new["refresh_token"] != old["refresh_token"]
    assert fakes.x.refresh_tokens[new["refresh_token"]] == (X_USER, False)


def test_the_same_account_in_another_workspace_is_another_channel(api, client, network_side, fakes, deps):
    started, _grant = granted(api, network_side, fakes, "x")
    [ours] = choose(api, started["state"], [X_USER]).json["channels"]
    rival = Api(client, make_workspace(deps, "Rival").headers("admin"))
    theirs_started, grant = granted(rival, network_side, fakes, "x")
    assert grant["accounts"][0]["already_connected"] is None
    [theirs] = choose(rival, theirs_started["state"], [X_USER]).json["channels"]
    assert theirs["id"] != ours["id"]


# -- secrets ------------------------------------------------------------------------------------------------


def test_tokens_are_never_in_an_answer_nor_a_log_line(api, network_side, fakes, deps, caplog):
    answers: list[Any] = []
    # Every logger at INFO, Herald's at DEBUG. (urllib3's and botocore's DEBUG lines print whole request URLs and
    # bodies, Threads' documented GET token exchange included: those levels are never on where Herald runs.)
    caplog.set_level(logging.INFO)
    with caplog.at_level(logging.DEBUG, logger="herald"):
        for network in ("facebook", "threads", "linkedin", "x"):
            started = begin(api, network)
            code = approve(fakes, network, started)
            back = come_back(network_side, network, code=code, state=started["state"])
            account_id = EXPECTED[network][0]
            answers += [back, choose(api, started["state"], [account_id]), api.get("/channels")]
        answers.append(come_back(network_side, "x", code="code-never-issued", state=begin(api, "x")["state"]))
    secrets = issued_secrets(fakes)
    assert len(secrets) > 8
    for answer in answers:
        assert answer.status_code < 500
        for secret in secrets:
            assert secret.encode() not in answer.body, secret
    for secret in secrets:
        assert secret not in caplog.text, secret


# -- helpers ------------------------------------------------------------------------------------------------


def issued_secrets(fakes: Fakes) -> set[str]:
    tokens = {*fakes.x.tokens, *fakes.x.refresh_tokens, *fakes.linkedin.tokens, *fakes.linkedin.refresh_tokens,
              *fakes.threads.tokens, *fakes.graph.state.user_tokens, *fakes.graph.state.page_tokens,
              fakes.graph.app_secret, fakes.threads.app_secret, fakes.linkedin.client_secret, x_api.CLIENT_SECRET}
    verifiers = {parse_qs(r.body.decode()).get("code_verifier", [""])[0] for r in fakes.x.requests if r.body}
    return {t for t in tokens | verifiers if t}


def only_state_item(deps: Container, aws: dict[str, Any]) -> dict[str, Any]:
    items = aws["dynamodb"].scan(TableName=deps.settings.table("connect_states"))["Items"]
    assert len(items) == 1, items
    return items[0]

