"""A local HTTP fake of the Google Business Profile APIs Herald calls, with the documented shapes.

Base URLs: `{url}/v4` (mybusiness v4: local posts), `{url}/accountmanagement/v1`, `{url}/businessinformation/v1`,
token `{url}/token`.
- `GET /accountmanagement/v1/accounts` (paged: `pageSize`, `pageToken` → `nextPageToken`).
- `GET /businessinformation/v1/accounts/{a}/locations?readMask=` (readMask required, paged) and
  `GET /businessinformation/v1/locations/{l}?readMask=` (only the fields named: name, title, storefrontAddress,
  metadata, profile, websiteUri; the shape of tests/events/google_business/location_profile.json).
- `POST /v4/accounts/{a}/locations/{l}/localPosts`: topicType STANDARD/EVENT/OFFER, summary up to 1,500
  characters, an event (title and schedule) for EVENT and OFFER, callToAction (a url unless CALL), at most one
  PHOTO by `sourceUrl`, which the fake FETCHES (as Google does) and checks is JPEG or PNG. Answers the LocalPost
  (`name`, `state` LIVE, or PROCESSING for `processing` reads, `searchUrl`, `createTime`).
- `GET /v4/accounts/{a}/locations/{l}/localPosts` (paged), `GET /v4/accounts/{a}/locations/{l}/localPosts/{p}`.
- `GET /media/<name>`: bytes a test hosts (Herald's presigned media URLs).
Errors are Google's: `{"error": {"code", "message", "status", "details": [...]}}`. Sources:
tests/events/google_business/README.md.
"""
from __future__ import annotations

import itertools
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.clock import Clock, to_rfc3339
from tests.fakes.google_oauth_server import GoogleFake, google_error
from tests.fakes.local_http import Answer, Request, Route

TOPICS = ("STANDARD", "EVENT", "OFFER")
ACTIONS = ("BOOK", "ORDER", "SHOP", "LEARN_MORE", "SIGN_UP", "CALL")
MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def invalid_argument(field_name: str, message: str) -> dict[str, Any]:
    body = google_error(400, "badRequest", "Request contains an invalid argument.", "INVALID_ARGUMENT")
    body["error"]["details"] = [{"@type": "type.googleapis.com/google.mybusiness.v4.ValidationError",
                                 "errorDetails": [{"code": 3, "field": field_name, "message": message}]}]
    return body


@dataclass
class Location:
    account_id: str
    location_id: str
    title: str
    locality: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""  # profile.description
    website: str | None = None  # websiteUri


class GoogleBusinessApi(GoogleFake):
    name = "google-business-fake"

    def __init__(self, clock: Clock, *, processing: int = 0, page_size: int = 100, **kwargs: Any) -> None:
        super().__init__(clock, **kwargs)
        self.processing = processing
        self.page_size = page_size
        self.accounts: dict[str, dict[str, Any]] = {}  # account id → {"name", "accountName", "managers"}
        self.locations: dict[str, Location] = {}
        self.hosted: dict[str, tuple[bytes, str]] = {}
        self.fetched: list[str] = []
        self.reads_processing: dict[str, int] = {}
        self._ids = itertools.count(1)

    @property
    def api_url(self) -> str:
        return f"{self.url}/v4"

    @property
    def account_management_url(self) -> str:
        return f"{self.url}/accountmanagement/v1"

    @property
    def business_information_url(self) -> str:
        return f"{self.url}/businessinformation/v1"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def account(self, account_id: str, name: str, managers: set[str]) -> None:
        with self.lock:
            self.accounts[account_id] = {"name": f"accounts/{account_id}", "accountName": name,
                                         "type": "PERSONAL", "managers": managers}

    def location(self, account_id: str, location_id: str, title: str, locality: str = "") -> Location:
        with self.lock:
            return self.locations.setdefault(location_id, Location(account_id, location_id, title, locality))

    def host(self, name: str, body: bytes) -> str:
        self.hosted[name] = (body, "image/jpeg")
        return f"{self.url}/media/{name}"

    def posts(self, location_id: str) -> list[dict[str, Any]]:
        return list(self.locations[location_id].posts)

    def routes(self) -> list[Route]:
        posts = r"/v4/accounts/(\d+)/locations/(\d+)/localPosts"
        return self.oauth_routes() + [
            ("GET", r"/accountmanagement/v1/accounts", self._accounts),
            ("GET", r"/businessinformation/v1/accounts/(\d+)/locations", self._locations),
            ("GET", r"/businessinformation/v1/locations/(\d+)", self._location),
            ("POST", posts, self._create),
            ("GET", posts, self._list),
            ("GET", posts + r"/(\d+)", self._get),
        ]

    def handle(self, request: Request) -> Answer | None:
        # Hosted media is served without the fake's lock: the fake fetches it from itself while it answers.
        if request.method == "GET" and request.path.startswith("/media/"):
            return self._media(request, request.path.removeprefix("/media/"))
        return super().handle(request)

    def _media(self, request: Request, name: str) -> Answer:
        body, mime = self.hosted[name]
        return Answer(200, raw=body, headers={"Content-Type": mime})

    def _managed(self, request: Request, account_id: str) -> None:
        user = self.user_of(request)
        account = self.accounts.get(account_id)
        if account is None or user not in account["managers"]:
            raise Answer(403, google_error(403, "forbidden", "The caller does not have permission",
                                           "PERMISSION_DENIED"))

    def _page(self, request: Request, items: list[dict[str, Any]], key: str) -> Answer:
        size = min(int(request.arg("pageSize") or self.page_size), self.page_size)
        start = int(request.arg("pageToken") or 0)
        body: dict[str, Any] = {key: items[start:start + size]}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return Answer(200, body)

    def _accounts(self, request: Request) -> Answer:
        user = self.user_of(request)
        mine = [{k: v for k, v in a.items() if k != "managers"}
                for a in self.accounts.values() if user in a["managers"]]
        return self._page(request, mine, "accounts")

    def _location_resource(self, location: Location) -> dict[str, Any]:
        return {"name": f"locations/{location.location_id}", "title": location.title,
                "storefrontAddress": {"regionCode": "US", "locality": location.locality},
                "metadata": {"mapsUri": f"https://maps.google.com/maps?cid={location.location_id}"}}

    def _locations(self, request: Request, account_id: str) -> Answer:
        self._managed(request, account_id)
        if not request.arg("readMask"):
            return Answer(400, invalid_argument("read_mask", "Request must specify a readMask"))
        mine = [self._location_resource(loc) for loc in self.locations.values() if loc.account_id == account_id]
        return self._page(request, mine, "locations")

    def _location(self, request: Request, location_id: str) -> Answer:
        location = self.locations.get(location_id)
        if location is None:
            return Answer(404, google_error(404, "notFound", "Requested entity was not found.", "NOT_FOUND"))
        self._managed(request, location.account_id)
        mask = request.arg("readMask")
        if not mask:
            return Answer(400, invalid_argument("read_mask", "Request must specify a readMask"))
        resource = self._location_resource(location)
        if location.description:
            resource["profile"] = {"description": location.description}
        if location.website:
            resource["websiteUri"] = location.website
        wanted = {name.split(".")[0] for name in mask.split(",")}
        return Answer(200, {k: v for k, v in resource.items() if k in wanted})

    def _create(self, request: Request, account_id: str, location_id: str) -> Answer:
        self._managed(request, account_id)
        location = self.locations.get(location_id)
        if location is None or location.account_id != account_id:
            return Answer(404, google_error(404, "notFound", "Requested entity was not found.", "NOT_FOUND"))
        body = request.json()
        self._check_post(body)
        post_id = str(next(self._ids))
        name = f"accounts/{account_id}/locations/{location_id}/localPosts/{post_id}"
        post = {**body, "name": name, "createTime": to_rfc3339(self.clock.now()),
                "updateTime": to_rfc3339(self.clock.now()), "state": "PROCESSING" if self.processing else "LIVE",
                "searchUrl": f"https://local.google.com/place?id={location_id}&use=posts&lpsid={post_id}"}
        self.reads_processing[name] = self.processing
        location.posts.append(post)
        return Answer(200, post)

    def _check_post(self, body: Any) -> None:
        if not isinstance(body, dict) or body.get("topicType") not in TOPICS:
            raise Answer(400, invalid_argument("topic_type", "Invalid topic type"))
        if len(str(body.get("summary") or "")) > 1500:
            raise Answer(400, invalid_argument("summary", "The summary is too long"))
        event = body.get("event")
        if body["topicType"] in ("EVENT", "OFFER"):
            schedule = event.get("schedule") if isinstance(event, dict) else None
            if not isinstance(schedule, dict) or not event.get("title") or "startDate" not in schedule \
                    or "endDate" not in schedule:
                raise Answer(400, invalid_argument("event", "An event needs a title and a schedule"))
        action = body.get("callToAction")
        if action is not None and (action.get("actionType") not in ACTIONS
                                   or (action["actionType"] != "CALL") != bool(action.get("url"))):
            raise Answer(400, invalid_argument("call_to_action", "Invalid call to action"))
        media = body.get("media") or []
        if len(media) > 1 or any(m.get("mediaFormat") != "PHOTO" or not m.get("sourceUrl") for m in media):
            raise self.violation(f"local post media {media}")
        for item in media:
            self._fetch(str(item["sourceUrl"]))

    def _fetch(self, url: str) -> None:
        self.fetched.append(url)
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - the test's own host
                head = answer.read(16)
        except OSError:
            raise Answer(400, invalid_argument("media.source_url", "Unable to fetch the media")) from None
        if not head.startswith(MAGIC):
            raise Answer(400, invalid_argument("media.source_url", "Unsupported media format"))

    def _list(self, request: Request, account_id: str, location_id: str) -> Answer:
        self._managed(request, account_id)
        posts = sorted(self.locations[location_id].posts, key=lambda p: p["createTime"], reverse=True)
        return self._page(request, posts, "localPosts")

    def _get(self, request: Request, account_id: str, location_id: str, post_id: str) -> Answer:
        self._managed(request, account_id)
        name = f"accounts/{account_id}/locations/{location_id}/localPosts/{post_id}"
        post = next((p for p in self.locations[location_id].posts if p["name"] == name), None)
        if post is None:
            return Answer(404, google_error(404, "notFound", "Requested entity was not found.", "NOT_FOUND"))
        left = self.reads_processing.get(name, 0)
        if left:
            self.reads_processing[name] = left - 1
        else:
            post["state"] = "LIVE"
        return Answer(200, post)

    def settle(self) -> None:
        for name in self.reads_processing:
            self.reads_processing[name] = 0
