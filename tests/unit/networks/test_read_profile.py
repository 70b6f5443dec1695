"""`read_profile` of the adapters that have one, against recorded answers in each API's documented shape
(Graph Page and IG User fields, Threads' /me, Bluesky's getProfile)."""
from __future__ import annotations

import json
from typing import Any

from requests import Response
from requests.structures import CaseInsensitiveDict

from chalicelib.core.clock import FixedClock
from chalicelib.networks import bluesky, meta, threads
from chalicelib.networks.base import ChannelContext, PublicProfile
from tests.fakes.bluesky import FakeBluesky


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
    assert profile == PublicProfile("herald", "Coffee", "https://herald.coffee", "https://cdninstagram.example/a.jpg")


def test_a_threads_profile_takes_its_link_from_the_biography(clock: FixedClock) -> None:
    http = Answers({"id": "99", "username": "herald", "name": "Herald",
                    "threads_biography": "Coffee. https://herald.coffee/shop",
                    "threads_profile_picture_url": "https://scontent.example/t.jpg"})
    profile = threads.ThreadsAdapter(http=http, clock=clock).read_profile(context("threads"))
    assert profile.link == "https://herald.coffee/shop" and profile.display_name == "Herald"


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
                                    "https://herald.coffee", "https://cdn.bsky.app/img/avatar/plain/did/cid@jpeg")
