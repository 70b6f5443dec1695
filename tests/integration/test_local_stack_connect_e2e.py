"""Issue 12's "done when", on the local stack over real HTTP: the operator points Herald at the local fakes of
Facebook/Instagram, Threads, LinkedIn and X (HERALD_*_URL and the OAuth app settings, as in the README's
"Connecting accounts by OAuth"); a user connects one account on each through the OAuth routes, reconnects one,
and posts with an image to all five, now and ~10 s ahead. Each network receives each post exactly once, and each
delivery answers the remote id and link the network gave. Real time and the real engine: no injected clock."""
from __future__ import annotations

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
from tests.support.local_stack import eventually, local_stack
from tests.support.network_publishing import IG, JPEG, LI_MEMBER, LI_ORG, PAGE, THREADS_USER, X_NAME, X_USER

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


def upload_image(api: str, http: requests.Session) -> str:
    """A media id, its bytes PUT to the presigned URL as a browser would."""
    created = http.post(f"{api}/media", json={"filename": "latte.jpg", "mime": "image/jpeg", "size": len(JPEG)},
                        timeout=10)
    assert created.status_code == 201, created.text
    upload = created.json()
    put = requests.request(upload["upload_method"], upload["upload_url"], data=JPEG,
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


def shown_count(fakes: Fakes, network: str) -> int:
    """How many posts the account shows, counted without merging equal texts (a duplicate would count twice)."""
    return {"facebook": lambda: len(fakes.graph.posts(PAGE)), "instagram": lambda: len(fakes.graph.instagram_media(IG)),
            "threads": lambda: len(fakes.threads.published(THREADS_USER)),
            "linkedin": lambda: len(fakes.linkedin.posts),
            "x": lambda: len([t for t in fakes.x.tweets if t.author_id == X_USER])}[network]()


def settled(api: str, http: requests.Session, post_id: str) -> dict[str, Any]:
    """The post once it is out or failed; empty while it is still scheduled or publishing."""
    post = http.get(f"{api}/posts/{post_id}", timeout=5).json()
    return dict(post) if post["status"] in ("published", "partially_published", "failed") else {}


def test_a_user_connects_five_networks_by_oauth_and_each_post_reaches_each_network_once(tmp_path: Path) -> None:
    with network_fakes() as fakes, local_stack(tmp_path / ".local", tmp_path / "stack.log", free_ports(2),
                                               app="app:app", ready_path="/health",
                                               extra_env=operator_settings(fakes)) as api:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {(tmp_path / '.local' / 'api-key').read_text().strip()}"
        channels = {network: connect(api, http, fakes, network, code=f"code-{network}") for network in NETWORKS}

        renewed = connect(api, http, fakes, "x", code="code-x-again")  # the same X account, once more
        assert renewed["id"] == channels["x"]["id"]
        listed = http.get(f"{api}/channels", timeout=10).json()["items"]
        assert sorted(c["network"] for c in listed) == sorted(NETWORKS)  # still one channel per account

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
            network = by_channel[delivery["channel_id"]]
            remote_id, link = received(fakes, network)[post["text"]]
            assert (delivery["status"], delivery["remote_id"]) == ("published", remote_id), (network, delivery)
            # The network's permalink where it gives one (Instagram, Threads), else a link naming the remote id.
            assert delivery["remote_url"] == link if link else remote_id in delivery["remote_url"], (network, delivery)
            assert delivery["attempts"] == 1, (network, delivery)
    publish_at = parse_time(posts[1]["publish_at"])
    for delivery in posts[1]["deliveries"]:  # the scheduled one went out on its second, not before
        assert timedelta(0) <= parse_time(delivery["published_at"]) - publish_at < timedelta(seconds=5), delivery
    for network in NETWORKS:  # each post exactly once on each network, nothing else
        assert sorted(received(fakes, network)) == sorted(p["text"] for p in posts), network
        assert shown_count(fakes, network) == 2, network
    assert fakes.graph.calls("POST").count(f"POST /{IG}/media_publish") == 2
    assert len(fakes.threads.calls("POST", "/threads_publish")) == 2
    assert len(fakes.x.calls("POST", "/2/tweets")) == 2 and len(fakes.linkedin.calls("POST", "/rest/posts")) == 2
    assert fakes.graph.state.violations == [] and fakes.threads.problems == [] and fakes.x.violations == []
