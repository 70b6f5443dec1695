"""Publishing to the five OAuth networks in a functional test: the local fakes of Meta's Graph API, Threads,
LinkedIn and X started together, a Container pointed at them by settings, channels connected through the OAuth
routes as a person would, media uploaded to (emulated) S3, and the tick and the worker run in the test's time."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from chalicelib.core.clock import FixedClock
from chalicelib.core.settings import get_settings
from chalicelib.wiring import Container
from tests.fakes import x_api
from tests.fakes.linkedin_api import LinkedInApi
from tests.fakes.meta_graph import MetaGraphFake
from tests.fakes.threads_api import ThreadsApi
from tests.fakes.x_api import XApi
from tests.support.http import Api

REDIRECT = "https://app.herald.test/connected"
X_USER, X_NAME = "2975699229", "scruffy"
LI_MEMBER, LI_ORG = "yrZCpj2Z12", "2414183"
THREADS_USER = "17841401234567890"
PAGE, IG = "101112131415", "17841400000000001"
ACCOUNT = {"facebook": PAGE, "instagram": IG, "threads": THREADS_USER, "linkedin": f"urn:li:organization:{LI_ORG}",
           "x": X_USER}

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 64
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 8 + b"%%EOF\n"


@dataclass
class Fakes:
    graph: MetaGraphFake
    threads: ThreadsApi
    linkedin: LinkedInApi
    x: XApi


@contextmanager
def network_fakes(clock: FixedClock) -> Iterator[Fakes]:
    """The four fakes, knowing one business: a Page with its Instagram account, a Threads profile, a LinkedIn
    organization its member administers, and an X user."""
    with ExitStack() as stack:
        graph = stack.enter_context(MetaGraphFake(clock.now))
        threads = stack.enter_context(ThreadsApi(clock))
        linkedin = stack.enter_context(LinkedInApi(lambda: clock.now().timestamp()))
        x = stack.enter_context(XApi(clock))
        graph.page(PAGE, "Herald Coffee", "page-token-1", ig=(IG, "herald.coffee"))
        threads.user("threads-seed-token", THREADS_USER, "herald.coffee", name="Herald Coffee")
        linkedin.organization(LI_ORG, "Herald Coffee Co", "herald-coffee")
        linkedin.member(LI_MEMBER, "Ada Lovelace", organizations=(LI_ORG,))
        linkedin.authorizing(LI_MEMBER)
        yield Fakes(graph, threads, linkedin, x)


def settings_for(fakes: Fakes) -> Any:
    """HERALD_META_GRAPH_URL, HERALD_THREADS_API_URL, HERALD_LINKEDIN_API_URL, HERALD_X_API_URL (and the OAuth
    endpoints and app credentials) pointed at the fakes."""
    return replace(
        get_settings(),
        meta_graph_url=fakes.graph.url, meta_app_id=fakes.graph.app_id, meta_app_secret=fakes.graph.app_secret,
        threads_api_url=fakes.threads.api_url, threads_app_id=fakes.threads.app_id,
        threads_app_secret=fakes.threads.app_secret,
        linkedin_api_url=fakes.linkedin.url, linkedin_client_id=fakes.linkedin.client_id,
        linkedin_client_secret=fakes.linkedin.client_secret,
        linkedin_authorize_url=f"{fakes.linkedin.url}/oauth/v2/authorization",
        linkedin_token_url=f"{fakes.linkedin.url}/oauth/v2/accessToken",
        x_api_url=fakes.x.url, x_client_id=x_api.CLIENT_ID, x_client_secret=x_api.CLIENT_SECRET)


# -- connecting, as a person does ------------------------------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _approve(fakes: Fakes, network: str, started: dict[str, Any]) -> str:
    """What the network's authorization page hands back when the person says yes."""
    asked = _query(started["authorize_url"])
    if network in ("facebook", "instagram"):
        fakes.graph.issue_code("meta-code", REDIRECT, [PAGE], code_challenge=asked.get("code_challenge"))
        return "meta-code"
    if network == "threads":
        fakes.threads.authorization_code("threads-code", REDIRECT, THREADS_USER)
        return "threads-code"
    if network == "linkedin":
        answer = requests.get(started["authorize_url"], allow_redirects=False, timeout=5)
        return _query(answer.headers["Location"])["code"]
    return fakes.x.authorize(X_USER, X_NAME, code_challenge=asked["code_challenge"], redirect_uri=REDIRECT)


def container_for(aws: dict[str, Any], clock: FixedClock, fakes: Fakes) -> Container:
    """A Container pointed at the fakes, reaching 127.0.0.1 (the fakes and the media they host), recording what
    the engine queues (tests.support.queues.RecordingQueue)."""
    from tests.support.outbound import allow_local_peers
    from tests.support.queues import RecordingQueue

    container = Container(settings_for(fakes), clock=clock, clients=aws, sleep=lambda _s: None)
    allow_local_peers(container)
    container.publish_queue = RecordingQueue()  # type: ignore[assignment]
    return container


def connect(api: Api, fakes: Fakes, network: str, account_id: str | None = None) -> str:
    """The channel id of the business's account on `network` (or `account_id` the grant reaches), connected
    through the OAuth routes."""
    oauth_network = "facebook" if network == "instagram" else network  # one Facebook Login reaches both
    started = api.post("/channels/connect", {"network": oauth_network, "redirect_uri": REDIRECT})
    assert started.status_code == 201, started.body
    state = started.json["state"]
    code = _approve(fakes, network, started.json)
    back = Api(api.client, {}).get(f"/oauth/callback/{oauth_network}?{urlencode({'code': code, 'state': state})}")
    assert back.status_code == 200, back.body
    chosen = api.post(f"/channels/connect/{state}/accounts", {"account_ids": [account_id or ACCOUNT[network]]})
    assert chosen.status_code == 201, chosen.body
    [channel] = [c for c in chosen.json["channels"] if c["network"] == network]
    return str(channel["id"])


def upload(api: Api, deps: Container, workspace_id: str, filename: str, mime: str, data: bytes) -> str:
    """A media id whose bytes are in the media bucket, as a browser's presigned PUT leaves them."""
    created = api.post("/media", {"filename": filename, "mime": mime, "size": len(data)})
    assert created.status_code == 201, created.body
    deps.media.s3.put_object(Bucket=deps.settings.media_bucket, Key=f"{workspace_id}/{created.json['id']}",
                             Body=data, ContentType=mime)
    return str(created.json["id"])


# -- the engine, in the test's time ----------------------------------------------------------------------------


def run_engine(deps: Container, clock: FixedClock, rounds: int = 30,
               crash: Any = None) -> list[str]:
    """Tick, then hand the worker every message the engine sends (delayed ones when their delay is up) until
    none is left; a tick runs whenever the clock passes a minute, as EventBridge would. What the worker said,
    in order. `crash(message)` may raise to stand for a worker that dies (its message is then lost)."""
    said: list[str] = []
    deps.engine.publish_due_deliveries()
    pending: list[tuple[Any, Any]] = []
    for _ in range(rounds):
        sent_at = clock.now()
        pending += [(message, sent_at + timedelta(seconds=delay)) for message, delay in deps.publish_queue.take()]
        if not pending:
            return said
        pending.sort(key=lambda entry: entry[1])
        message, due = pending.pop(0)
        clock.set(max(clock.now(), due))
        said.append(deps.engine.publish_delivery(message))
    return said


def tick_later(deps: Container, clock: FixedClock, seconds: float) -> None:
    """The clock moves on and the tick runs (it recovers what a dead worker left)."""
    clock.advance(seconds)
    deps.engine.publish_due_deliveries()
