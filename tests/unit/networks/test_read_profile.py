"""`read_profile` of the adapters that have one, against recorded answers in each API's documented shape
(Graph Page and IG User fields, Threads' /me, Bluesky's getProfile), and LinkedIn's, YouTube's and
Pinterest's against their fakes serving the fixtures of tests/events/<network>/: what was asked (path,
headers, parameters) and the profile read."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from requests import Response
from requests.structures import CaseInsensitiveDict

from chalicelib.core.clock import FixedClock
from chalicelib.networks import (
    bluesky,
    discord,
    google_business,
    linkedin,
    meta,
    pinterest,
    reddit,
    telegram,
    threads,
    tiktok,
    whatsapp,
    youtube,
)
from chalicelib.networks.base import ChannelContext, NetworkError, PublicProfile
from chalicelib.networks.sandbox import SandboxAdapter
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.google_business_api import GoogleBusinessApi
from tests.fakes.linkedin_api import LinkedInApi
from tests.fakes.meta_graph import MetaGraphFake
from tests.fakes.pinterest_api import PinterestApi
from tests.fakes.reddit_api import RedditApi
from tests.fakes.telegram_api import TelegramApi
from tests.fakes.tiktok_api import TikTokApi
from tests.fakes.youtube_api import YouTubeApi
from tests.support.events import load_event


class Answers:
    """An HTTP client that answers every GET with one JSON body and records what was asked."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        self.asked.append((url, dict(kwargs.get("params") or {})))
        response = Response()
        response.status_code = 200
        response._content = json.dumps(self.body).encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        return response


def context(network: str, **settings: Any) -> ChannelContext:
    return ChannelContext("ws_1", "ch_1", network, settings, {"access_token": "t"}, lambda _c: None)


def test_a_facebook_page(clock: FixedClock) -> None:
    http = Answers({"id": "1122", "name": "Herald", "about": "Coffee", "website": "https://herald.coffee",
                    "picture": {"data": {"url": "https://scontent.example/p.jpg", "is_silhouette": False}}})
    profile = meta.MetaAdapter("facebook", http=http, clock=clock).read_profile(context("facebook", page_id="1122"))
    assert profile == PublicProfile("Herald", "Coffee", "https://herald.coffee", "https://scontent.example/p.jpg")
    assert http.asked[0][0].endswith("/1122") and "website" in http.asked[0][1]["fields"]


def test_an_instagram_account(clock: FixedClock) -> None:
    http = Answers({"id": "1784", "username": "herald", "biography": "Coffee", "website": "https://herald.coffee",
                    "profile_picture_url": "https://cdninstagram.example/a.jpg"})
    profile = meta.MetaAdapter("instagram", http=http, clock=clock).read_profile(
        context("instagram", ig_user_id="1784"))
    assert profile == PublicProfile("herald", "Coffee", "https://herald.coffee", "https://cdninstagram.example/a.jpg",
                                    handle="herald")


def test_a_threads_profile_takes_its_link_from_the_biography(clock: FixedClock) -> None:
    http = Answers({"id": "99", "username": "herald", "name": "Herald",
                    "threads_biography": "Coffee. https://herald.coffee/shop",
                    "threads_profile_picture_url": "https://scontent.example/t.jpg"})
    profile = threads.ThreadsAdapter(http=http, clock=clock).read_profile(context("threads"))
    assert profile.link == "https://herald.coffee/shop" and profile.display_name == "Herald"
    assert profile.handle == "herald"


def test_a_bluesky_profile(clock: FixedClock) -> None:
    fake = FakeBluesky()
    fake.profile = {"did": fake.did, "handle": fake.handle, "displayName": "Herald",
                    "description": "Coffee, slowly. herald.coffee https://herald.coffee",
                    "avatar": "https://cdn.bsky.app/img/avatar/plain/did/cid@jpeg"}
    channel = ChannelContext("ws_1", "ch_1", "bluesky", {}, {"service_url": "https://pds.example.com",
                                                             "handle": fake.handle, "app_password": fake.password},
                             lambda _c: None)
    profile = bluesky.make_adapter(http=fake, clock=clock).read_profile(channel)
    assert profile == PublicProfile("Herald", "Coffee, slowly. herald.coffee https://herald.coffee",
                                    "https://herald.coffee", "https://cdn.bsky.app/img/avatar/plain/did/cid@jpeg",
                                    handle=fake.handle)


# -- LinkedIn, YouTube and Pinterest against their fakes, which answer the fixtures of tests/events/<network>/ --

LINKEDIN_ORG = "96072893"
YOUTUBE_CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"


@pytest.fixture
def li(clock: FixedClock) -> Iterator[LinkedInApi]:
    with LinkedInApi(now=lambda: clock.now().timestamp()) as api:
        page = load_event("linkedin", "organization.json")
        api.organization(LINKEDIN_ORG, page["localizedName"], page["vanityName"],
                         description=page["localizedDescription"], website=page["localizedWebsite"],
                         logo_url=load_event("linkedin", "image.json")["downloadUrl"])
        member = load_event("linkedin", "userinfo.json")
        api.member(member["sub"], member["name"], token="tok-li", organizations=(LINKEDIN_ORG,))
        api.picture(member["sub"], member["picture"])
        yield api


def linkedin_channel(**settings: str) -> ChannelContext:
    return ChannelContext("ws_1", "ch_1", "linkedin", settings, {"access_token": "tok-li"})


def test_a_linkedin_organization_page_and_its_logo_from_the_images_api(li: LinkedInApi, clock: FixedClock) -> None:
    adapter = linkedin.make_adapter(requests.Session(), clock, base_url=li.url)

    profile = adapter.read_profile(linkedin_channel(organization_urn=f"urn:li:organization:{LINKEDIN_ORG}"))

    page, image = load_event("linkedin", "organization.json"), load_event("linkedin", "image.json")
    assert profile == PublicProfile(page["localizedName"], page["localizedDescription"], page["localizedWebsite"],
                                    image["downloadUrl"], handle=page["vanityName"])
    lookup, logo = li.requests
    assert (lookup.method, lookup.path, lookup.query) == ("GET", f"/rest/organizations/{LINKEDIN_ORG}", {})
    cropped = li.organizations[LINKEDIN_ORG]["logoV2"]["cropped"]
    assert (logo.method, logo.path) == ("GET", f"/rest/images/{quote(cropped, safe='')}")
    for sent in (lookup, logo):
        assert sent.headers["authorization"] == "Bearer tok-li"
        assert sent.headers["linkedin-version"] == linkedin.LINKEDIN_VERSION
        assert sent.headers["x-restli-protocol-version"] == "2.0.0"


def test_a_linkedin_page_without_a_logo_asks_no_image_and_has_no_avatar(li: LinkedInApi, clock: FixedClock) -> None:
    li.organization("12345", "Herald Tea", "herald-tea")
    adapter = linkedin.make_adapter(requests.Session(), clock, base_url=li.url)

    profile = adapter.read_profile(linkedin_channel(organization_urn="urn:li:organization:12345"))

    assert (profile.display_name, profile.bio, profile.link, profile.avatar_url) == ("Herald Tea", None, None, None)
    assert profile.unavailable == frozenset()  # a page may have them: their absence is a finding
    assert [r.path for r in li.requests] == ["/rest/organizations/12345"]


def test_a_linkedin_member_has_a_name_and_picture_and_no_bio_or_link(li: LinkedInApi, clock: FixedClock) -> None:
    member = load_event("linkedin", "userinfo.json")
    adapter = linkedin.make_adapter(requests.Session(), clock, base_url=li.url)

    profile = adapter.read_profile(linkedin_channel(person_urn=f"urn:li:person:{member['sub']}"))

    assert profile == PublicProfile(member["name"], None, None, member["picture"],
                                    unavailable=frozenset({"bio", "link"}))
    [sent] = li.requests
    assert (sent.method, sent.path, sent.headers["authorization"]) == ("GET", "/v2/userinfo", "Bearer tok-li")


def test_a_linkedin_page_linkedin_refuses_is_a_network_error(li: LinkedInApi, clock: FixedClock) -> None:
    li.fail("GET", f"/rest/organizations/{LINKEDIN_ORG}", 403,
            {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED", "message": "Not enough permissions"})
    adapter = linkedin.make_adapter(requests.Session(), clock, base_url=li.url)

    with pytest.raises(NetworkError) as refused:
        adapter.read_profile(linkedin_channel(organization_urn=f"urn:li:organization:{LINKEDIN_ORG}"))

    assert "rw_organization_admin" in refused.value.message


@pytest.fixture
def yt(clock: FixedClock) -> Iterator[YouTubeApi]:
    snippet = load_event("youtube", "channels_list_snippet.json")["items"][0]["snippet"]
    with YouTubeApi(clock) as api:
        made = api.channel(YOUTUBE_CHANNEL, snippet["title"], snippet["customUrl"])
        made.description = snippet["description"]
        made.avatar_url = snippet["thumbnails"]["high"]["url"]
        yield api


def test_a_youtube_channel_from_its_snippet_with_the_link_not_available(yt: YouTubeApi, clock: FixedClock) -> None:
    adapter = youtube.make_adapter(clock=clock, base_url=yt.api_url, upload_url=yt.upload_url)
    token = yt.token_for(YOUTUBE_CHANNEL)

    profile = adapter.read_profile(ChannelContext("ws_1", "ch_1", "youtube", {"youtube_channel_id": YOUTUBE_CHANNEL},
                                                  {"access_token": token}))

    snippet = load_event("youtube", "channels_list_snippet.json")["items"][0]["snippet"]
    assert profile == PublicProfile(snippet["title"], snippet["description"], None,
                                    snippet["thumbnails"]["high"]["url"], handle=snippet["customUrl"],
                                    unavailable=frozenset({"link"}))
    [sent] = yt.calls("GET", r"/youtube/v3/channels")
    assert {k: v[0] for k, v in sent.query.items()} == {"part": "snippet", "mine": "true"}
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert yt.violations == []


def test_youtube_falls_back_to_the_smaller_thumbnails() -> None:
    body = load_event("youtube", "channels_mine.json")  # only a default thumbnail

    http = Answers(body)
    profile = youtube.make_adapter(http=http).read_profile(context("youtube"))
    assert profile.avatar_url == body["items"][0]["snippet"]["thumbnails"]["default"]["url"]
    assert profile.bio is None and profile.handle == "@googledevelopers"


@pytest.fixture
def pins(clock: FixedClock) -> Iterator[PinterestApi]:
    account = load_event("pinterest", "user_account.json")
    with PinterestApi(clock) as api:
        api.account("pina-token", account["id"], account["username"], {})
        yield api


def test_a_pinterest_business_account(pins: PinterestApi, clock: FixedClock) -> None:
    adapter = pinterest.make_adapter(clock=clock, base_url=pins.api_url)

    profile = adapter.read_profile(ChannelContext("ws_1", "ch_1", "pinterest", {}, {"access_token": "pina-token"}))

    account = load_event("pinterest", "user_account.json")
    assert profile == PublicProfile(account["business_name"], account["about"], account["website_url"],
                                    account["profile_image"], handle=account["username"])
    [sent] = pins.calls("GET", r"/v5/user_account")
    assert sent.query == {} and sent.headers["authorization"] == "Bearer pina-token"
    assert pins.violations == []


def test_a_pinterest_personal_account_shows_its_username(pins: PinterestApi, clock: FixedClock) -> None:
    account = pins.accounts[load_event("pinterest", "user_account.json")["id"]]
    account.profile = {"account_type": "PINNER", "business_name": None, "about": "", "website_url": None}
    adapter = pinterest.make_adapter(clock=clock, base_url=pins.api_url)

    profile = adapter.read_profile(ChannelContext("ws_1", "ch_1", "pinterest", {}, {"access_token": "pina-token"}))

    assert (profile.display_name, profile.bio, profile.link) == (account.username, None, None)
    assert profile.unavailable == frozenset()


@pytest.mark.parametrize("adapter", [SandboxAdapter, discord.DiscordAdapter])
def test_networks_without_a_public_profile_say_why(adapter: type) -> None:
    assert not hasattr(adapter, "read_profile")
    assert adapter.no_profile.endswith(".")


# -- TikTok, Reddit, Telegram, Google Business Profile and WhatsApp against their fakes (issue 17) -------------


@pytest.fixture
def tt() -> Iterator[TikTokApi]:
    user = load_event("tiktok", "user_info_profile.json")["data"]["user"]
    with TikTokApi() as api:
        made = api.creator("act.tt", user["open_id"], user["username"])
        made.nickname = user["display_name"]
        made.profile = {"avatar_url": user["avatar_url"]}
        yield api


def test_a_tiktok_profile_has_no_website_to_compare(tt: TikTokApi, clock: FixedClock) -> None:
    adapter = tiktok.make_adapter(requests.Session(), clock, base_url=tt.url)

    profile = adapter.read_profile(ChannelContext("ws_1", "ch_1", "tiktok", {}, {"access_token": "act.tt"}))

    user = load_event("tiktok", "user_info_profile.json")["data"]["user"]
    assert profile == PublicProfile(user["display_name"], user["bio_description"], None, user["avatar_url"],
                                    handle=user["username"], unavailable=frozenset({"link"}))
    assert user["profile_deep_link"] not in repr(profile)  # the TikTok profile's own address is not the link
    [sent] = tt.calls("GET", r"/v2/user/info/")
    assert sent.query == {"fields": ["display_name,bio_description,profile_deep_link,avatar_url,username"]}
    assert sent.headers["authorization"] == "Bearer act.tt"
    assert tt.violations == []


def test_a_tiktok_profile_without_a_bio_has_none(tt: TikTokApi, clock: FixedClock) -> None:
    tt.creators[load_event("tiktok", "user_info_profile.json")["data"]["user"]["open_id"]].profile = {
        "bio_description": ""}
    adapter = tiktok.make_adapter(requests.Session(), clock, base_url=tt.url)

    profile = adapter.read_profile(ChannelContext("ws_1", "ch_1", "tiktok", {}, {"access_token": "act.tt"}))

    assert profile.bio is None and profile.offers("bio")


REDDIT_AGENT = "web:com.herald.publisher:v1.3.0 (by /u/herald_ops)"


@pytest.fixture
def rd(clock: FixedClock) -> Iterator[RedditApi]:
    me = load_event("reddit", "me.json")
    with RedditApi(clock) as api:
        api.user("reddit-token", me["id"], me["name"])
        yield api


def reddit_profile(rd: RedditApi, clock: FixedClock) -> PublicProfile:
    adapter = reddit.make_adapter(clock=clock, base_url=rd.url, user_agent=REDDIT_AGENT)
    return adapter.read_profile(ChannelContext("ws_1", "ch_1", "reddit", {}, {"access_token": "reddit-token"}))


def test_a_reddit_profile_from_its_profile_subreddit(rd: RedditApi, clock: FixedClock) -> None:
    profile = reddit_profile(rd, clock)

    me = load_event("reddit", "me.json")
    assert profile == PublicProfile(me["subreddit"]["title"], me["subreddit"]["public_description"], None,
                                    me["icon_img"], handle=f"u/{me['name']}", unavailable=frozenset({"link"}))
    [sent] = rd.calls("GET", r"/api/v1/me")
    assert sent.query == {"raw_json": ["1"]}  # else the icon's URL comes HTML-escaped (&amp;)
    assert sent.headers["authorization"] == "bearer reddit-token"
    assert sent.headers["user-agent"] == REDDIT_AGENT
    assert rd.violations == []


def test_a_reddit_profile_without_a_title_or_icon_shows_the_name_and_the_snoovatar(
        rd: RedditApi, clock: FixedClock) -> None:
    me = load_event("reddit", "me.json")
    rd.profiles[me["id"]] = {"icon_img": "", "snoovatar_img": "https://i.redd.it/snoovatar/avatars/abc.png",
                             "subreddit": {**me["subreddit"], "title": "", "public_description": ""}}

    profile = reddit_profile(rd, clock)

    assert (profile.display_name, profile.bio, profile.avatar_url) == (
        me["name"], None, "https://i.redd.it/snoovatar/avatars/abc.png")


@pytest.fixture
def tg() -> Iterator[TelegramApi]:
    with TelegramApi() as api:
        yield api


def telegram_profile(tg: TelegramApi, clock: FixedClock) -> PublicProfile:
    chat = load_event("telegram", "get_chat_channel.json")["result"]
    channel = ChannelContext("ws_1", "ch_1", "telegram", {"chat_id": str(chat["id"])}, {"bot_token": tg.token})
    return telegram.make_adapter(clock=clock, base_url=tg.url).read_profile(channel)


def test_a_telegram_channel_from_getchat_with_its_photo_not_read(tg: TelegramApi, clock: FixedClock) -> None:
    profile = telegram_profile(tg, clock)

    chat = load_event("telegram", "get_chat_channel.json")["result"]
    assert profile == PublicProfile(chat["title"], chat["description"], "https://herald.coffee", None,
                                    handle=f"@{chat['username']}", unavailable=frozenset({"avatar_url"}))
    assert tg.token not in repr(profile)  # no file URL: it would hold the bot token
    [sent] = tg.requests
    assert (sent.method, sent.path, sent.json()) == ("POST", f"/bot{tg.token}/getChat", {"chat_id": str(chat["id"])})
    assert tg.violations == []


def test_a_telegram_channel_without_a_description_has_no_bio_or_link(tg: TelegramApi, clock: FixedClock) -> None:
    del tg.chat["description"]

    profile = telegram_profile(tg, clock)

    assert (profile.bio, profile.link) == (None, None) and profile.offers("link")


GBP_ACCOUNT, GBP_LOCATION = "1002003004", "5006007008"


@pytest.fixture
def gbp(clock: FixedClock) -> Iterator[GoogleBusinessApi]:
    shown = load_event("google_business", "location_profile.json")
    with GoogleBusinessApi(clock) as api:
        api.account(GBP_ACCOUNT, "Herald Coffee", {"owner"})
        made = api.location(GBP_ACCOUNT, GBP_LOCATION, shown["title"], "Portland")
        made.description, made.website = shown["profile"]["description"], shown["websiteUri"]
        yield api


def gbp_profile(gbp: GoogleBusinessApi, clock: FixedClock, token: str = "") -> PublicProfile:
    adapter = google_business.make_adapter(clock=clock, base_url=gbp.api_url,
                                           business_information_url=gbp.business_information_url)
    return adapter.read_profile(ChannelContext("ws_1", "ch_1", "google_business",
                                               {"google_account_id": GBP_ACCOUNT, "location_id": GBP_LOCATION},
                                               {"access_token": token or gbp.token_for("owner")}))


def test_a_google_business_location_with_the_logo_not_available(gbp: GoogleBusinessApi, clock: FixedClock) -> None:
    token = gbp.token_for("owner")

    profile = gbp_profile(gbp, clock, token)

    shown = load_event("google_business", "location_profile.json")
    assert profile == PublicProfile(shown["title"], shown["profile"]["description"], shown["websiteUri"], None,
                                    unavailable=frozenset({"avatar_url"}))
    [sent] = gbp.calls("GET", rf"/businessinformation/v1/locations/{GBP_LOCATION}")
    assert sent.query == {"readMask": ["title,profile,websiteUri"]}
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert gbp.violations == []


def test_a_google_business_location_without_a_description_or_website(gbp: GoogleBusinessApi,
                                                                      clock: FixedClock) -> None:
    gbp.locations[GBP_LOCATION].description, gbp.locations[GBP_LOCATION].website = "", None

    profile = gbp_profile(gbp, clock)

    assert (profile.bio, profile.link) == (None, None) and profile.offers("bio") and profile.offers("link")


WA_NUMBER, WA_TOKEN = "106540352242922", "wa-system-user-token"


@pytest.fixture
def wa(clock: FixedClock) -> Iterator[MetaGraphFake]:
    with MetaGraphFake(clock.now) as graph:
        graph.phone_number(WA_NUMBER, "+1 555-078-3881", "Herald Coffee", WA_TOKEN)
        yield graph


def whatsapp_profile(wa: MetaGraphFake, clock: FixedClock) -> PublicProfile:
    adapter = whatsapp.make_adapter(requests.Session(), clock, base_url=wa.url)
    return adapter.read_profile(ChannelContext("ws_1", "ch_1", "whatsapp", {"phone_number_id": WA_NUMBER},
                                               {"access_token": WA_TOKEN}))


def test_a_whatsapp_business_profile_named_by_its_verified_name(wa: MetaGraphFake, clock: FixedClock) -> None:
    profile = whatsapp_profile(wa, clock)

    shown = load_event("whatsapp", "whatsapp_business_profile.json")["data"][0]
    assert profile == PublicProfile("Herald Coffee", shown["description"], shown["websites"][0],
                                    shown["profile_picture_url"], handle="+1 555-078-3881")
    number, business = wa.requests
    assert (number.method, number.path, number.query) == (
        "GET", f"/{WA_NUMBER}", {"fields": "display_phone_number,verified_name"})
    assert (business.method, business.path, business.query) == (
        "GET", f"/{WA_NUMBER}/whatsapp_business_profile",
        {"fields": "about,description,websites,profile_picture_url"})
    assert all(sent.headers["Authorization"] == f"Bearer {WA_TOKEN}" for sent in (number, business))
    assert WA_TOKEN not in repr(profile)


def test_a_whatsapp_profile_without_a_description_or_website_shows_its_about(wa: MetaGraphFake,
                                                                             clock: FixedClock) -> None:
    wa.state.whatsapp_profiles[WA_NUMBER] = {"description": "", "websites": []}

    profile = whatsapp_profile(wa, clock)

    about = load_event("whatsapp", "whatsapp_business_profile.json")["data"][0]["about"]
    assert (profile.bio, profile.link) == (about, None) and profile.unavailable == frozenset()
