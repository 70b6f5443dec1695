"""Issue 12's "done when", on the local stack over real HTTP: the operator points Herald at the local fakes of
Facebook/Instagram, Threads, LinkedIn and X (HERALD_*_URL and the OAuth app settings, as in the README's
"Connecting accounts by OAuth"); a user connects one account on each through the OAuth routes and reconnects one.
Then, on that one stack (module-scoped: started once, the tests run in file order):
- a post with an image to all five, now and ~10 s ahead: each network receives each post exactly once, and each
  delivery answers the remote id and link the network gave;
- the channel_health job, run by the command line against the stack's `.local/env` as the README says, refreshes
  X's two-hour token ahead of its expiry (X rotates refresh tokens: the old one is spent); then one post scheduled
  to all five carries a carousel on Instagram (and Threads, and photos on Facebook), a PDF on LinkedIn and a thread
  on X (`variants[channel].media` / `.thread`), each delivery published once on its second with the new token;
- a Threads token revoked at the network is reported by `POST /channels/{id}/check` (needs_reauth, a readable
  problem) and the post scheduled on it later shows at risk before its time, nothing sent.
Real time and the real engine: no injected clock."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chalicelib.core.clock import SystemClock
from infra.local.ports import free_ports
from tests.fakes import x_api
from tests.fakes.linkedin_api import LinkedInApi
from tests.fakes.meta_graph import MetaGraphFake
from tests.fakes.threads_api import ThreadsApi
from tests.fakes.x_api import XApi
from tests.support.local_stack import REPO, eventually, local_stack
from tests.support.network_publishing import IG, JPEG, LI_MEMBER, LI_ORG, PAGE, PDF, THREADS_USER, X_NAME, X_USER

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REDIRECT = "https://app.herald.test/connected"
NETWORKS = ("facebook", "instagram", "threads", "linkedin", "x")
ACCOUNT = {"facebook": PAGE, "instagram": IG, "threads": THREADS_USER, "linkedin": f"urn:li:organization:{LI_ORG}",
           "x": X_USER}


@dataclass
class Fakes:
    graph: MetaGraphFake
    threads: ThreadsApi
    linkedin: LinkedInApi
    x: XApi

    def authorization_page(self, network: str) -> str:
        return {"facebook": self.graph.url, "instagram": self.graph.url, "threads": self.threads.url,
                "linkedin": self.linkedin.url, "x": self.x.url}[network]


@contextmanager
def network_fakes() -> Iterator[Fakes]:
    """The four fakes on 127.0.0.1, in real time, knowing one business (as tests/support/network_publishing)."""
    clock = SystemClock()
    with ExitStack() as stack:
        graph = stack.enter_context(MetaGraphFake(fetch_urls=True))  # it fetches the presigned S3 URLs
        threads = stack.enter_context(ThreadsApi(clock))
        linkedin = stack.enter_context(LinkedInApi())
        x = stack.enter_context(XApi(clock))
        graph.page(PAGE, "Herald Coffee", "page-token-1", ig=(IG, "herald.coffee"))
        threads.user("threads-seed-token", THREADS_USER, "herald.coffee", name="Herald Coffee")
        linkedin.organization(LI_ORG, "Herald Coffee Co", "herald-coffee")
        linkedin.member(LI_MEMBER, "Ada Lovelace", organizations=(LI_ORG,))
        linkedin.authorizing(LI_MEMBER)
        # A one-page PDF is AVAILABLE when first read (the functional tests cover the PROCESSING wait, which would
        # put LinkedIn's post 10 s after its second: Herald checks again after 10 s, never sleeping).
        linkedin.processing_polls = 0
        yield Fakes(graph, threads, linkedin, x)


def operator_settings(fakes: Fakes) -> dict[str, str]:
    """What an operator sets to point Herald at these networks (README, "Connecting accounts by OAuth")."""
    return {
        "HERALD_META_GRAPH_URL": fakes.graph.url, "HERALD_META_AUTHORIZE_URL": f"{fakes.graph.url}/dialog/oauth",
        "HERALD_META_APP_ID": fakes.graph.app_id, "HERALD_META_APP_SECRET": fakes.graph.app_secret,
        "HERALD_THREADS_API_URL": fakes.threads.api_url,
        "HERALD_THREADS_AUTHORIZE_URL": f"{fakes.threads.url}/oauth/authorize",
        "HERALD_THREADS_APP_ID": fakes.threads.app_id, "HERALD_THREADS_APP_SECRET": fakes.threads.app_secret,
        "HERALD_LINKEDIN_API_URL": fakes.linkedin.url,
        "HERALD_LINKEDIN_AUTHORIZE_URL": f"{fakes.linkedin.url}/oauth/v2/authorization",
        "HERALD_LINKEDIN_TOKEN_URL": f"{fakes.linkedin.url}/oauth/v2/accessToken",
        "HERALD_LINKEDIN_CLIENT_ID": fakes.linkedin.client_id,
        "HERALD_LINKEDIN_CLIENT_SECRET": fakes.linkedin.client_secret,
        "HERALD_X_API_URL": fakes.x.url, "HERALD_X_AUTHORIZE_URL": f"{fakes.x.url}/i/oauth2/authorize",
        "HERALD_X_CLIENT_ID": x_api.CLIENT_ID, "HERALD_X_CLIENT_SECRET": x_api.CLIENT_SECRET,
    }


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


# -- the person at the network, and the user at Herald ---------------------------------------------------------


def consent(fakes: Fakes, network: str, started: dict[str, Any], code: str) -> str:
    """The person says yes on the network's authorization page: the code it sends them back with."""
    asked = query_of(started["authorize_url"])
    assert asked["state"] == started["state"] and asked["redirect_uri"] == REDIRECT
    if network in ("facebook", "instagram"):
        fakes.graph.issue_code(code, REDIRECT, [PAGE], code_challenge=asked["code_challenge"])
        return code
    if network == "threads":
        fakes.threads.authorization_code(code, REDIRECT, THREADS_USER)
        return code
    if network == "linkedin":  # the fake's own authorization endpoint redirects back with the code
        answer = requests.get(started["authorize_url"], allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        back = query_of(answer.headers["Location"])
        assert back["state"] == started["state"]
        return back["code"]
    return fakes.x.authorize(X_USER, X_NAME, code_challenge=asked["code_challenge"], redirect_uri=REDIRECT)


def connect(api: str, http: requests.Session, fakes: Fakes, network: str, code: str) -> dict[str, Any]:
    """The three steps of the README, over HTTP: the channel made (or renewed) for the business's account."""
    begun = http.post(f"{api}/channels/connect", json={"network": network, "redirect_uri": REDIRECT}, timeout=10)
    assert begun.status_code == 201, begun.text
    started = begun.json()
    assert started["authorize_url"].startswith(fakes.authorization_page(network) + "/")  # the operator's setting
    back = requests.get(f"{api}/oauth/callback/{network}", timeout=10,  # the browser: no API key
                        params={"code": consent(fakes, network, started, code), "state": started["state"]})
    assert back.status_code == 200, back.text
    assert ACCOUNT[network] in [a["account_id"] for a in back.json()["accounts"]]
    chosen = http.post(f"{api}/channels/connect/{started['state']}/accounts",
                       json={"account_ids": [ACCOUNT[network]]}, timeout=10)
    assert chosen.status_code == 201, chosen.text
    [channel] = chosen.json()["channels"]
    assert (channel["network"], channel["status"]) == (network, "active")
    return dict(channel)


def upload_image(api: str, http: requests.Session, filename: str = "latte.jpg", mime: str = "image/jpeg",
                 data: bytes = JPEG) -> str:
    """A media id, its bytes PUT to the presigned URL as a browser would."""
    created = http.post(f"{api}/media", json={"filename": filename, "mime": mime, "size": len(data)}, timeout=10)
    assert created.status_code == 201, created.text
    upload = created.json()
    put = requests.request(upload["upload_method"], upload["upload_url"], data=data,
                           headers=upload["upload_headers"], timeout=10)
    assert put.status_code == 200, put.text
    return str(upload["id"])


# -- what reached each network ----------------------------------------------------------------------------------


def received(fakes: Fakes, network: str) -> dict[str, tuple[str, str | None]]:
    """What the network now shows on the business's account: text → (remote id, link), one entry per post."""
    if network == "facebook":
        return {p["message"]: (p["id"], None) for p in fakes.graph.posts(PAGE)}
    if network == "instagram":
        return {m["caption"]: (m["id"], m["permalink"]) for m in fakes.graph.instagram_media(IG)}
    if network == "threads":
        return {m.text: (m.media_id, m.permalink) for m in fakes.threads.published(THREADS_USER)}
    if network == "linkedin":
        return {p["commentary"]: (p["id"], None) for p in fakes.linkedin.posts}
    return {t.text: (t.id, None) for t in fakes.x.tweets if t.author_id == X_USER}


def shown_count(fakes: Fakes, network: str, text: str) -> int:
    """How many posts of this text the account shows, counted without merging (a duplicate would count twice)."""
    texts = {"facebook": lambda: [p["message"] for p in fakes.graph.posts(PAGE)],
             "instagram": lambda: [m["caption"] for m in fakes.graph.instagram_media(IG)],
             "threads": lambda: [m.text for m in fakes.threads.published(THREADS_USER)],
             "linkedin": lambda: [p["commentary"] for p in fakes.linkedin.posts],
             "x": lambda: [t.text for t in fakes.x.tweets if t.author_id == X_USER]}[network]()
    return texts.count(text)


def publish_calls(fakes: Fakes) -> dict[str, int]:
    """The publishing calls each network has seen so far (a test counts its own as the difference)."""
    return {"instagram": fakes.graph.calls("POST").count(f"POST /{IG}/media_publish"),
            "threads": len(fakes.threads.calls("POST", "/threads_publish")),
            "x": len(fakes.x.calls("POST", "/2/tweets")), "linkedin": len(fakes.linkedin.calls("POST", "/rest/posts"))}


def since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in after}


def settled(api: str, http: requests.Session, post_id: str) -> dict[str, Any]:
    """The post once it is out or failed; empty while it is still scheduled or publishing."""
    post = http.get(f"{api}/posts/{post_id}", timeout=5).json()
    return dict(post) if post["status"] in ("published", "partially_published", "failed") else {}




# -- the stack, once for the module -----------------------------------------------------------------------------


@dataclass
class Stack:
    api: str
    http: requests.Session
    fakes: Fakes
    state_dir: Path
    channels: dict[str, dict[str, Any]]  # network → the channel made by connecting
    renewed: dict[str, Any]  # the X channel as the second connect of the same account answered it

    def channel(self, network: str) -> dict[str, Any]:
        """The channel as `GET /channels` shows it now."""
        listed = self.http.get(f"{self.api}/channels", timeout=10).json()["items"]
        return dict(next(c for c in listed if c["id"] == self.channels[network]["id"]))

    def run_job(self, name: str) -> dict[str, Any]:
        """`python -m chalicelib.cli run-job NAME` from the operator's shell: their HERALD_* network settings
        exported, the stack found through its `.local/env` (README, "Command line")."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "AWS_"))}
        env.update(operator_settings(self.fakes))
        done = subprocess.run([sys.executable, "-m", "chalicelib.cli", "--env-file", str(self.state_dir / "env"),
                               "run-job", name], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("connect-e2e")
    with network_fakes() as fakes, local_stack(root / ".local", root / "stack.log", free_ports(2), app="app:app",
                                               ready_path="/health", extra_env=operator_settings(fakes)) as api:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {(root / '.local' / 'api-key').read_text().strip()}"
        channels = {network: connect(api, http, fakes, network, code=f"code-{network}") for network in NETWORKS}
        renewed = connect(api, http, fakes, "x", code="code-x-again")  # the same X account, once more
        yield Stack(api, http, fakes, root / ".local", channels, renewed)


def check_delivery(fakes: Fakes, network: str, post: dict[str, Any], delivery: dict[str, Any]) -> None:
    """Published once, with the remote id the network gave and its link."""
    remote_id, link = received(fakes, network)[post["text"]]
    assert (delivery["status"], delivery["remote_id"]) == ("published", remote_id), (network, delivery)
    # The network's permalink where it gives one (Instagram, Threads), else a link naming the remote id.
    assert delivery["remote_url"] == link if link else remote_id in delivery["remote_url"], (network, delivery)
    assert delivery["attempts"] == 1, (network, delivery)


# -- the tests (in file order: the last one breaks the Threads channel) ------------------------------------------


def test_a_user_connects_five_networks_by_oauth_and_each_post_reaches_each_network_once(stack: Stack) -> None:
    api, http, fakes, channels = stack.api, stack.http, stack.fakes, stack.channels
    assert stack.renewed["id"] == channels["x"]["id"]
    listed = http.get(f"{api}/channels", timeout=10).json()["items"]
    assert sorted(c["network"] for c in listed) == sorted(NETWORKS)  # still one channel per account
    before = publish_calls(fakes)

    image = upload_image(api, http)
    ids = [channels[n]["id"] for n in NETWORKS]
    now = http.post(f"{api}/posts", json={"text": "Our spring menu is out", "channel_ids": ids,
                                          "media": [{"media_id": image, "alt": "A latte"}]}, timeout=10)
    assert now.status_code == 201, now.text
    assert http.post(f"{api}/posts/{now.json()['id']}/publish-now", timeout=10).status_code == 200
    later = http.post(f"{api}/posts", json={
        "text": "Open from 7 tomorrow", "channel_ids": ids, "media": [{"media_id": image}],
        "publish_at": iso(datetime.now(UTC) + timedelta(seconds=10))}, timeout=10)
    assert later.status_code == 201, later.text

    posts = [eventually(partial(settled, api, http, post_id), f"post {post_id} settled", within_s=40)
             for post_id in (now.json()["id"], later.json()["id"])]

    by_channel = {c["id"]: c["network"] for c in channels.values()}
    for post in posts:
        assert post["status"] == "published", post["deliveries"]
        for delivery in post["deliveries"]:
            check_delivery(fakes, by_channel[delivery["channel_id"]], post, delivery)
    publish_at = parse_time(posts[1]["publish_at"])
    for delivery in posts[1]["deliveries"]:  # the scheduled one went out on its second, not before
        assert timedelta(0) <= parse_time(delivery["published_at"]) - publish_at < timedelta(seconds=5), delivery
    for network in NETWORKS:  # each post exactly once on each network
        assert [shown_count(fakes, network, p["text"]) for p in posts] == [1, 1], network
    assert since(before, publish_calls(fakes)) == {"instagram": 2, "threads": 2, "x": 2, "linkedin": 2}
    assert fakes.graph.state.violations == [] and fakes.threads.problems == [] and fakes.x.violations == []


# X's tokens as the fake issued them: a refresh grant names the refresh token it spends.


def refresh_grants(x: XApi) -> list[str]:
    forms = [parse_qs(r.body.decode()) for r in x.calls("POST", "/2/oauth2/token")]
    return [form["refresh_token"][0] for form in forms if form.get("grant_type") == ["refresh_token"]]


def held_refresh_token(x: XApi) -> str:
    """The refresh token Herald holds: the newest one X issued to the user (the reconnect's), not spent."""
    return [token for token, (user, spent) in x.refresh_tokens.items() if user == X_USER and not spent][-1]


def access_tokens(x: XApi) -> set[str]:
    return {token for token, user in x.tokens.items() if user == X_USER}


def refresh_at_x(x: XApi, refresh_token: str) -> requests.Response:
    """What X answers anyone who presents this refresh token now (Herald's client, as Herald sends it)."""
    return requests.post(f"{x.url}/2/oauth2/token", auth=(x_api.CLIENT_ID, x_api.CLIENT_SECRET), timeout=5,
                         data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                               "client_id": x_api.CLIENT_ID})


def test_the_health_job_refreshes_x_ahead_and_a_carousel_a_pdf_and_a_thread_go_out_once_on_their_second(
        stack: Stack) -> None:
    api, http, fakes, channels = stack.api, stack.http, stack.fakes, stack.channels
    # X's access tokens last two hours (the fake's token endpoint answers expires_in 7200, as X does): inside the
    # 26 hours the daily job refreshes ahead, outside the 10 minutes a publish refreshes on use.
    held, tokens_before, grants_before = held_refresh_token(fakes.x), access_tokens(fakes.x), refresh_grants(fakes.x)

    summary = stack.run_job("channel-health")

    assert summary["checked"] == len(NETWORKS) and "errors" not in summary, summary
    assert refresh_grants(fakes.x)[len(grants_before):] == [held]  # one refresh, of the token Herald held
    [fresh] = access_tokens(fakes.x) - tokens_before
    spent = refresh_at_x(fakes.x, held)
    assert (spent.status_code, spent.json()["error"]) == (400, "invalid_request")  # X rotated it: spent
    grants_seen = refresh_grants(fakes.x)  # the job's, and the one just refused
    x_channel = stack.channel("x")
    assert (x_channel["status"], x_channel["health"]["status"]) == ("active", "ok"), x_channel

    images = [upload_image(api, http, f"latte-{n}.jpg") for n in range(3)]
    menu = upload_image(api, http, "spring-menu.pdf", "application/pdf", PDF)
    text, parts = "1/ The spring menu, in three pictures", ["2/ Every bean roasted here", "3/ Taste it from 7"]
    ids = [channels[n]["id"] for n in NETWORKS]
    before, x_requests_before = publish_calls(fakes), len(fakes.x.requests)
    created = http.post(f"{api}/posts", timeout=10, json={
        "text": text, "channel_ids": ids, "publish_at": iso(datetime.now(UTC) + timedelta(seconds=10)),
        "media": [{"media_id": image, "alt": f"Latte art, cup {n + 1}"} for n, image in enumerate(images)],
        "variants": {channels["linkedin"]["id"]: {"media": [{"media_id": menu}],
                                                  "linkedin": {"document_title": "Spring menu"}},
                     channels["x"]["id"]: {"thread": [{"text": part} for part in parts]}}})
    assert created.status_code == 201, created.text
    assert (created.json()["status"], created.json()["at_risk"]) == ("scheduled", False)

    post = eventually(partial(settled, api, http, created.json()["id"]), "the post settled", within_s=40)

    assert post["status"] == "published", post["deliveries"]
    by_channel = {c["id"]: c["network"] for c in channels.values()}
    publish_at = parse_time(post["publish_at"])
    for delivery in post["deliveries"]:
        check_delivery(fakes, by_channel[delivery["channel_id"]], post, delivery)
        late = parse_time(delivery["published_at"]) - publish_at
        assert timedelta(0) <= late < timedelta(seconds=3), delivery  # on its second, never before
        assert shown_count(fakes, by_channel[delivery["channel_id"]], text) == 1
    assert since(before, publish_calls(fakes)) == {"instagram": 1, "threads": 1, "x": 3, "linkedin": 1}

    # Instagram: one CAROUSEL container of the three images, published once.
    [carousel] = [c for c in fakes.graph.state.containers.values() if c["kind"] == "CAROUSEL" and c["caption"] == text]
    children = [fakes.graph.state.containers[child] for child in carousel["children"]]
    assert [(c["kind"], c["item"]) for c in children] == [("IMAGE", True)] * 3
    [on_instagram] = [m for m in fakes.graph.instagram_media(IG) if m["caption"] == text]
    assert (on_instagram["kind"], on_instagram["children"]) == ("CAROUSEL", carousel["children"])
    # Threads shows a carousel too, and the Page one post of three photos.
    [on_threads] = [m for m in fakes.threads.published(THREADS_USER) if m.text == text]
    assert on_threads.media_type == "CAROUSEL_ALBUM"  # as Threads lists a carousel
    [on_page] = [p for p in fakes.graph.posts(PAGE) if p["message"] == text]
    assert len(on_page["photos"]) == 3
    # LinkedIn: one document post of the PDF (its bytes uploaded once), titled.
    [on_linkedin] = [p for p in fakes.linkedin.posts if p["commentary"] == text]
    assert on_linkedin["content"]["media"]["id"].startswith("urn:li:document:"), on_linkedin
    assert on_linkedin["content"]["media"]["title"] == "Spring menu"
    assert len(fakes.linkedin.calls("POST", "/rest/documents")) == 1
    assert [r.body for r in fakes.linkedin.calls("PUT", "/dms-uploads/")].count(PDF) == 1
    # X: the thread, each part a reply to the one before, each sent once, with the refreshed token.
    tweets = [t for t in fakes.x.tweets if t.text in (text, *parts)]
    assert [t.text for t in tweets] == [text, *parts]
    assert [t.in_reply_to for t in tweets] == [None, tweets[0].id, tweets[1].id]
    assert len(tweets[0].media_ids) == 3 and tweets[1].media_ids == tweets[2].media_ids == []
    sent = [r for r in fakes.x.requests[x_requests_before:] if (r.method, r.path) == ("POST", "/2/tweets")]
    assert [r.json()["text"] for r in sent] == [text, *parts]
    assert {r.headers["authorization"] for r in fakes.x.requests[x_requests_before:]} == {f"Bearer {fresh}"}
    [on_x] = [d for d in post["deliveries"] if d["channel_id"] == channels["x"]["id"]]
    assert [part["remote_id"] for part in on_x["thread"]] == [tweets[1].id, tweets[2].id]
    assert refresh_grants(fakes.x) == grants_seen  # the publish needed no other refresh
    assert fakes.graph.state.violations == [] and fakes.threads.problems == [] and fakes.x.violations == []


def test_a_token_revoked_at_the_network_is_reported_and_a_later_post_on_it_is_at_risk_before_its_time(
        stack: Stack) -> None:
    api, http, fakes = stack.api, stack.http, stack.fakes
    threads_id = stack.channels["threads"]["id"]
    planned = http.post(f"{api}/posts", timeout=10, json={
        "text": "Tomorrow: cardamom buns", "channel_ids": [threads_id],
        "publish_at": iso(datetime.now(UTC) + timedelta(hours=1))})
    assert planned.status_code == 201, planned.text
    assert planned.json()["at_risk"] is False
    at_risk = http.get(f"{api}/posts", params={"at_risk": "true"}, timeout=10).json()["items"]
    assert planned.json()["id"] not in [p["id"] for p in at_risk]
    threads_calls = len(fakes.threads.requests)

    for token in [t for t, user in fakes.threads.tokens.items() if user == THREADS_USER]:
        fakes.threads.revoke(token)  # the person removed Herald in Threads' settings

    checked = http.post(f"{api}/channels/{threads_id}/check", timeout=10)

    assert checked.status_code == 200, checked.text
    for channel in (checked.json(), stack.channel("threads")):
        assert (channel["status"], channel["health"]["status"]) == ("needs_reauth", "failing"), channel
        assert "reconnect" in channel["health"]["problem"].lower(), channel["health"]
    at_risk = http.get(f"{api}/posts", params={"at_risk": "true"}, timeout=10).json()["items"]
    [flagged] = [p for p in at_risk if p["id"] == planned.json()["id"]]
    assert (flagged["status"], flagged["at_risk"]) == ("scheduled", True)
    assert parse_time(flagged["publish_at"]) > datetime.now(UTC)  # before its time
    [delivery] = flagged["deliveries"]
    assert (delivery["status"], delivery["at_risk"]) == ("scheduled", True)
    assert delivery["risk"], delivery
    # Found by the identity call: nothing was sent to Threads for the post.
    assert [r.path for r in fakes.threads.requests[threads_calls:] if r.method == "POST"] == []
