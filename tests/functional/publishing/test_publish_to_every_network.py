"""Issue 13's done-when, end to end: ONE post scheduled through `POST /posts` to a channel of each of the fifteen
publishing networks of one workspace goes out once on its second (the video networks once their processing
settles), each delivery with its remote id and link, and each network's local fake holds exactly that one post.

Channels are connected the way the API allows, against each network's fake: `POST /channels` with a credential
the network verifies (sandbox, Bluesky, Mastodon, Telegram, Discord, and Google Business Profile, whose OAuth
token endpoint is the YouTube fake's in this one Container), the OAuth routes for the rest (reusing
tests/support/network_publishing.py and tests/functional/accounts). The engine runs in the test's time: the
tick, then the worker on every message it sends, delayed ones (StillProcessing waits) when their delay is up.
Each channel's media are its variant's (`variants[ch].media`): the video (from S3) to TikTok and YouTube, an
image its fake hosts to Instagram and Pinterest (they fetch it by URL), none to the others.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.core.clock import FixedClock, parse_rfc3339, to_rfc3339
from chalicelib.networks import bluesky
from chalicelib.networks.registry import NETWORKS as REGISTRY
from chalicelib.wiring import Container, use_container
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.discord_api import DiscordApi
from tests.fakes.google_business_api import GoogleBusinessApi
from tests.fakes.mastodon_server import MastodonFake
from tests.fakes.pinterest_api import PinterestApi
from tests.fakes.reddit_api import RedditApi
from tests.fakes.telegram_api import BOT_TOKEN, CHANNEL_ID, TelegramApi
from tests.fakes.tiktok_api import TikTokApi
from tests.fakes.youtube_api import YouTubeApi
from tests.functional.accounts.test_connect import REDIRECT, begin, choose, come_back, query_of
from tests.support.http import Api
from tests.support.network_publishing import IG, JPEG, PAGE, THREADS_USER, X_USER, Fakes, network_fakes, settings_for
from tests.support.network_publishing import connect as connect_by_facebook_login_and_co
from tests.support.outbound import allow_local_peers
from tests.support.queues import RecordingQueue

NETWORKS = ("sandbox", "bluesky", "mastodon", "facebook", "instagram", "threads", "linkedin", "x", "tiktok",
            "youtube", "pinterest", "google_business", "telegram", "discord", "reddit")
# The video networks: their processing is awaited by delayed messages, and they go out once it settles.
PROCESSING = {"tiktok", "youtube"}
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(4096)
REDDIT_AGENT = "web:herald-test:1.0 (by /u/herald_dev)"
YOUTUBE_CHANNEL = "UCherald0000000000coffee"
GOOGLE_PERSON, GOOGLE_ACCOUNT, LOCATION = "owner@heraldcoffee.example", "1090000000000000001", "2090000000000000001"
PIN_USER, BOARD = "9001", "5550900"
REDDIT_USER, REDDIT_NAME, SUBREDDIT = "t2abc", "herald_coffee", "heraldcoffee"
TIKTOK_OPEN_ID = "open-42"
BLUESKY_DID, BLUESKY_PASSWORD = "did:plc:k3a6mqxwv2nfj7hbcy4zt5de", "app-pass-every-network"
TEXT = "Our spring menu is out: oat flat white, rhubarb tart, and the terrace opens at 7."


@dataclass
class World:
    """Every network's local fake, each knowing the one business."""

    oauth: Fakes  # Meta's Graph API (Facebook, Instagram), Threads, LinkedIn, X
    tiktok: TikTokApi
    youtube: YouTubeApi
    pinterest: PinterestApi
    business: GoogleBusinessApi
    reddit: RedditApi
    telegram: TelegramApi
    discord: DiscordApi
    mastodon: MastodonFake
    bluesky: FakeBluesky

    def posts_held(self) -> dict[str, list[str]]:
        """Per network, the ids of the posts its fake holds for the business (sandbox: see `sandbox_posts`)."""
        graph = self.oauth.graph
        return {
            "bluesky": [str(r["uri"]) for r in self.bluesky.posts()],
            "mastodon": [s.id for s in self.mastodon.created],
            "facebook": [p["id"] for p in graph.posts(PAGE)],
            "instagram": [m["id"] for m in graph.instagram_media(IG)],
            "threads": [m.media_id for m in self.oauth.threads.published(THREADS_USER)],
            "linkedin": [p["id"] for p in self.oauth.linkedin.posts],
            "x": [t.id for t in self.oauth.x.tweets if t.author_id == X_USER],
            "tiktok": [p.post_id or p.publish_id for p in self.tiktok.published(TIKTOK_OPEN_ID)],
            "youtube": [v.video_id for v in self.youtube.published(YOUTUBE_CHANNEL)],
            "pinterest": [p.pin_id for p in self.pinterest.published(PIN_USER)],
            "google_business": [p["name"] for p in self.business.posts(LOCATION)],
            "telegram": [str(m["message_id"]) for m in self.telegram.messages],
            "discord": [str(m["id"]) for m in self.discord.messages],
            "reddit": [f"t3_{s.id}" for s in self.reddit.published(REDDIT_NAME)],
        }

    def violations(self) -> dict[str, list[str]]:
        """What each fake refused because Herald sent it wrong."""
        fakes: dict[str, Any] = {"graph": self.oauth.graph.state, "threads": self.oauth.threads.problems,
                                 "linkedin": self.oauth.linkedin, "x": self.oauth.x, "tiktok": self.tiktok,
                                 "youtube": self.youtube, "pinterest": self.pinterest, "business": self.business,
                                 "reddit": self.reddit, "telegram": self.telegram, "discord": self.discord}
        found = {name: list(fake if isinstance(fake, list) else getattr(fake, "violations", []))
                 for name, fake in fakes.items()}
        return {name: problems for name, problems in found.items() if problems}


@pytest.fixture
def world(clock: FixedClock) -> Iterator[World]:
    with ExitStack() as stack:
        oauth = stack.enter_context(network_fakes(clock))
        tiktok = stack.enter_context(TikTokApi())
        youtube = stack.enter_context(YouTubeApi(clock))
        pinterest = stack.enter_context(PinterestApi(clock))
        business = stack.enter_context(GoogleBusinessApi(clock))
        reddit = stack.enter_context(RedditApi(clock))
        telegram = stack.enter_context(TelegramApi(clock))
        discord = stack.enter_context(DiscordApi(clock))
        mastodon = stack.enter_context(MastodonFake(clock=clock))
        tiktok.creator("tiktok-seed", TIKTOK_OPEN_ID, "heraldcoffee")
        youtube.channel(YOUTUBE_CHANNEL, "Herald Coffee", "@heraldcoffee")
        pinterest.account("pin-seed", PIN_USER, "heraldcoffee", {BOARD: []})
        business.account(GOOGLE_ACCOUNT, "Herald Coffee", {GOOGLE_PERSON})
        business.location(GOOGLE_ACCOUNT, LOCATION, "Herald Coffee Roasters", "Portland")
        reddit.user("reddit-seed", REDDIT_USER, REDDIT_NAME)
        reddit.subreddit(SUBREDDIT)
        yield World(oauth, tiktok, youtube, pinterest, business, reddit, telegram, discord, mastodon,
                    FakeBluesky(handle="heraldcoffee.test", password=BLUESKY_PASSWORD, did=BLUESKY_DID))


@pytest.fixture
def deps(aws: dict[str, Any], clock: FixedClock, world: World) -> Container:
    """A Container whose every base URL setting points at its network's fake (Bluesky's PDS is in memory)."""
    settings = replace(
        settings_for(world.oauth),
        tiktok_api_url=world.tiktok.url, tiktok_authorize_url=f"{world.tiktok.url}/v2/auth/authorize/",
        tiktok_client_key=world.tiktok.client_key, tiktok_client_secret=world.tiktok.client_secret,
        tiktok_app_audited=True,
        google_client_id=world.youtube.client_id, google_client_secret=world.youtube.client_secret,
        google_authorize_url=f"{world.youtube.url}/o/oauth2/v2/auth", google_token_url=world.youtube.token_url,
        youtube_api_url=world.youtube.api_url, youtube_upload_url=world.youtube.upload_url,
        google_business_api_url=world.business.api_url,
        google_account_management_url=world.business.account_management_url,
        google_business_information_url=world.business.business_information_url,
        pinterest_api_url=world.pinterest.api_url, pinterest_authorize_url=f"{world.pinterest.url}/oauth/",
        pinterest_client_id=world.pinterest.client_id, pinterest_client_secret=world.pinterest.client_secret,
        reddit_api_url=world.reddit.url, reddit_auth_url=world.reddit.url, reddit_client_id=world.reddit.client_id,
        reddit_client_secret=world.reddit.client_secret, reddit_user_agent=REDDIT_AGENT,
        telegram_api_url=world.telegram.url, discord_api_url=f"{world.discord.url}/api")
    def wait(seconds: float) -> None:  # a wait takes the test's time
        clock.advance(seconds)

    pds: Any = world.bluesky
    container = Container(settings, clock=clock, clients=aws, sleep=wait,
                          adapter_overrides={"bluesky": bluesky.make_adapter(http=pds, clock=clock)})
    allow_local_peers(container)  # the fakes, and the media they host, are on 127.0.0.1
    container.publish_queue = RecordingQueue()  # type: ignore[assignment]
    return use_container(container)


# -- connecting each channel -------------------------------------------------------------------------------------


def pasted(api: Api, network: str, credentials: dict[str, str], settings: dict[str, str] | None = None) -> str:
    made = api.post("/channels", {"network": network, "name": f"Herald on {network}", "credentials": credentials,
                                  "settings": settings or {}})
    assert made.status_code == 201, made.body
    return str(made.json["id"])


def by_oauth(api: Api, network: str, fake: Any, account_id: str, user: str | None = None) -> str:
    """Begin, the person approves at the network (its fake issues the code), come back, choose the account."""
    started = begin(api, network)
    asked = query_of(started["authorize_url"])
    if network in ("tiktok", "youtube"):  # PKCE: the fake checks the verifier against the challenge shown
        fake.authorization_code("code-1", REDIRECT, user or account_id, asked.get("code_challenge"))
    else:
        fake.authorization_code("code-1", REDIRECT, user or account_id)
    back = come_back(Api(api.client, {}), network, code="code-1", state=started["state"])
    assert back.status_code == 200, back.body
    made = choose(api, started["state"], [account_id])
    assert made.status_code == 201, made.body
    [channel] = made.json["channels"]
    return str(channel["id"])


def connect_every_network(api: Api, world: World) -> dict[str, str]:
    business_token = world.business.token_for(GOOGLE_PERSON, lifetime_s=30 * 86400)
    channels = {
        "sandbox": pasted(api, "sandbox", {}),
        "bluesky": pasted(api, "bluesky", {"service_url": "https://pds.heraldcoffee.test",
                                           "handle": world.bluesky.handle, "app_password": BLUESKY_PASSWORD}),
        "mastodon": pasted(api, "mastodon", {"instance_url": world.mastodon.url,
                                             "access_token": world.mastodon.access_token}),
        "telegram": pasted(api, "telegram", {"bot_token": BOT_TOKEN}, {"chat_id": str(CHANNEL_ID)}),
        "discord": pasted(api, "discord", {"webhook_url": world.discord.webhook_url()}),
        "google_business": pasted(api, "google_business", {
            "access_token": business_token, "refresh_token": world.business.refresh_token_for(GOOGLE_PERSON),
            "expires_at": to_rfc3339(world.business.clock.now() + timedelta(days=30)) or ""},
            {"google_account_id": GOOGLE_ACCOUNT, "location_id": LOCATION}),
        "tiktok": by_oauth(api, "tiktok", world.tiktok, TIKTOK_OPEN_ID),
        "youtube": by_oauth(api, "youtube", world.youtube, YOUTUBE_CHANNEL),
        "pinterest": by_oauth(api, "pinterest", world.pinterest, PIN_USER),
        "reddit": by_oauth(api, "reddit", world.reddit, REDDIT_USER),
    }
    for network in ("facebook", "instagram", "threads", "linkedin", "x"):
        channels[network] = connect_by_facebook_login_and_co(api, world.oauth, network)
    return channels


def upload(api: Api, deps: Container, workspace_id: str, filename: str, mime: str, data: bytes) -> str:
    created = api.post("/media", {"filename": filename, "mime": mime, "size": len(data)})
    assert created.status_code == 201, created.body
    deps.media.s3.put_object(Bucket=deps.settings.media_bucket, Key=f"{workspace_id}/{created.json['id']}",
                             Body=data, ContentType=mime)
    return str(created.json["id"])


# -- the engine, in the test's time ------------------------------------------------------------------------------


@dataclass
class Step:
    at: datetime
    channel_id: str
    said: str


def run_until_settled(deps: Container, clock: FixedClock, world: World, publish_at: datetime,
                      rounds: int = 100) -> list[Step]:
    """As tests/support/network_publishing.py's run_engine: the tick, then the worker on every message the engine
    sends (a delayed one when its delay is up) until none is left; what the worker said for which channel, when.
    Before the post's second, after every step, no fake holds anything."""
    steps: list[Step] = []
    deps.engine.publish_due_deliveries()
    pending: list[tuple[datetime, int, Any]] = []
    for n in range(rounds):
        sent_at = clock.now()
        queue: Any = deps.publish_queue  # tests.support.queues.RecordingQueue
        pending += [(sent_at + timedelta(seconds=delay), n, message) for message, delay in queue.take()]
        if not pending:
            return steps
        pending.sort(key=lambda entry: (entry[0], entry[1]))
        due, _, message = pending.pop(0)
        clock.set(max(clock.now(), due))
        steps.append(Step(clock.now(), message.channel_id, deps.engine.publish_delivery(message)))
        if clock.now() < publish_at:
            assert not any(world.posts_held().values()), f"published before its second: {steps[-1]}"
    raise AssertionError(f"not settled after {rounds} rounds: {steps}")


def test_one_post_goes_out_once_to_each_of_the_fifteen_networks(api: Api, deps: Container, clock: FixedClock,
                                                                 world: World, workspace: Any) -> None:
    assert sorted(NETWORKS) == sorted(name for name, spec in REGISTRY.items() if spec.can_publish)
    channels = connect_every_network(api, world)
    assert sorted(channels) == sorted(NETWORKS)
    video = upload(api, deps, workspace.id, "spring.mp4", "video/mp4", MP4)
    world.oauth.graph.host("https://cdn.herald.test/spring.jpg", JPEG)
    pin_image = world.pinterest.host("spring.jpg", JPEG)
    publish_at = clock.now() + timedelta(seconds=40)
    variants = {
        channels["tiktok"]: {"media": [{"media_id": video}], "tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE"}},
        channels["youtube"]: {"media": [{"media_id": video}],
                              "youtube": {"title": "Our spring menu", "privacy_status": "public"}},
        channels["instagram"]: {"media": [{"url": "https://cdn.herald.test/spring.jpg", "alt": "A flat white"}]},
        channels["pinterest"]: {"media": [{"url": pin_image, "alt": "A flat white"}],
                                "pinterest": {"title": "Our spring menu", "link": "https://heraldcoffee.example/menu"}},
        channels["reddit"]: {"reddit": {"subreddit": SUBREDDIT, "title": "Our spring menu is out"}},
    }
    answer = api.post("/posts", {"text": TEXT, "channel_ids": [channels[n] for n in NETWORKS], "variants": variants,
                                 "publish_at": to_rfc3339(publish_at)})
    assert answer.status_code == 201, answer.body
    post_id = answer.json["id"]
    assert not any(world.posts_held().values())

    steps = run_until_settled(deps, clock, world, publish_at)

    assert min(step.at for step in steps) == publish_at  # the worker touched nothing before its second

    post = api.get(f"/posts/{post_id}").json
    assert post["status"] == "published"
    deliveries = {d["network"]: d for d in post["deliveries"]}
    said = {network: [step.said for step in steps if step.channel_id == channel_id]
            for network, channel_id in channels.items()}
    finished = {step.channel_id: step.at for step in steps if step.said == "published"}
    held = world.posts_held()
    for network in NETWORKS:
        delivery = deliveries[network]
        assert (delivery["status"], delivery["attempts"]) == ("published", 1), (network, delivery)
        assert delivery["remote_id"] and str(delivery["remote_url"]).startswith("http"), (network, delivery)
        published_at = parse_rfc3339(delivery["published_at"])
        if network in PROCESSING:  # out once processing settled, by the delayed messages that waited for it
            assert said[network][-1] == "published" and set(said[network][:-1]) == {"processing"}, said[network]
            assert finished[channels[network]] > publish_at, network
            # YouTube names the upload's second as the video's publishedAt; TikTok's is when it settled
            assert publish_at <= published_at <= finished[channels[network]], network
        else:
            assert said[network] == ["published"], (network, said[network])
            assert published_at == publish_at, (network, delivery["published_at"])
        if network != "sandbox":
            assert held[network] == [delivery["remote_id"]], (network, held[network], delivery["remote_id"])
    received = api.get(f"/channels/{channels['sandbox']}/sandbox/posts").json["items"]
    assert [item["text"] for item in received] == [TEXT]
    assert world.violations() == {}
