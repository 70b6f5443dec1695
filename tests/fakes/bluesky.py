"""A small in-memory Bluesky (PDS + AppView) behind a `requests.Session`-like object.

It answers the XRPC calls the adapter makes with the documented shapes, behaves like the reference PDS
where that matters (TID record keys; a second record at the same key is a 500; an expired access token is
a 400 `ExpiredToken`), records every request, and can be told to fail the next call to a method.
Its AppView side searches posts (app.bsky.feed.searchPosts) over `search_index`; `add_search_post` puts a
post there in the shape of tests/events/bluesky/search_posts.json. tests/fakes/bluesky_server.py serves the
same fake over HTTP on 127.0.0.1, for what runs in another process (the local stack).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from chalicelib.core.clock import Clock, SystemClock
from tests.support.events import load_event

TID_PATTERN = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# searchPosts (lexicons/app/bsky/feed/searchPosts.json): limit 1..100, default 25; sort top|latest.
SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX = 25, 100
SEARCH_SORTS = ("latest", "top")
AUTHENTICATED = {
    "com.atproto.server.getSession",
    "com.atproto.repo.createRecord",
    "com.atproto.repo.uploadBlob",
    "app.bsky.notification.listNotifications",
    "app.bsky.actor.getProfile",
    "app.bsky.feed.getPosts",
    "app.bsky.feed.searchPosts",
}


@dataclass
class Sent:
    method: str
    nsid: str
    params: dict[str, list[str]]
    json: Any
    data: bytes | None
    headers: dict[str, str]


@dataclass
class Failure:
    status: int = 500
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    exception: Exception | None = None
    # True: the call takes effect and then the answer is lost (a timeout after sending).
    after_handling: bool = False


def _cid(data: bytes, prefix: str) -> str:
    return prefix + hashlib.sha256(data).hexdigest()[:40]


class FakeBluesky:
    def __init__(
        self,
        handle: str = "alice.test",
        password: str = "app-pass-1234",
        did: str = "did:plc:alice0000000000000000000",
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.handle = handle
        self.password = password
        self.did = did
        self.sent: list[Sent] = []
        self.records: dict[str, dict[str, Any]] = {}  # uri -> {"uri", "cid", "value"}
        self.blobs: dict[str, bytes] = {}
        self.handles: dict[str, str] = {handle: did}
        self.notifications: list[dict[str, Any]] = []  # newest first, as the AppView answers
        self.profile: dict[str, Any] | None = None  # getProfile's answer; a minimal one when None
        self.post_views: dict[str, dict[str, Any]] = {}
        # What app.bsky.feed.searchPosts searches (postViews). None: the method is not there at all, as on a
        # PDS without an AppView (the reference PDS answers 501 MethodNotImplemented for it).
        self.search_index: list[dict[str, Any]] | None = None
        self.search_answers: list[list[str]] = []  # the post uris each searchPosts answered, in order
        self.failures: dict[str, list[Failure]] = {}
        self.valid_access: set[str] = set()
        self.valid_refresh: set[str] = set()
        self.expired: set[str] = set()
        self._issued = 0

    # -- test controls

    def fail_next(self, nsid: str, failure: Failure) -> None:
        self.failures.setdefault(nsid, []).append(failure)

    def expire_tokens(self) -> None:
        """Every access token issued so far has expired; refresh tokens still work."""
        self.expired |= self.valid_access
        self.valid_access.clear()

    def expire_everything(self) -> None:
        self.expire_tokens()
        self.expired |= self.valid_refresh
        self.valid_refresh.clear()

    def add_search_post(
        self,
        text: str,
        *,
        handle: str = "bob.bsky.social",
        display_name: str = "Bob",
        indexed_at: datetime | None = None,
        langs: Iterable[str] = ("en",),
        likes: int = 0,
    ) -> dict[str, Any]:
        """A post by `handle` that searchPosts finds, shaped like the documented answer's first post; an
        `@handle` of an account this fake knows (`handles`) gets its mention facet."""
        self.search_index = [] if self.search_index is None else self.search_index
        did = self.handles.setdefault(handle, "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24])
        at = _text_time(indexed_at or self.clock.now())
        rkey = _tid(len(self.search_index) + 1)
        view = copy.deepcopy(load_event("bluesky", "search_posts.json")["posts"][0])
        view.update(
            uri=f"at://{did}/app.bsky.feed.post/{rkey}",
            cid=_cid(f"{did}/{rkey}".encode(), "bafyrei"),
            indexedAt=at,
            likeCount=likes,
            replyCount=0,
            repostCount=0,
            quoteCount=0,
        )
        view["author"] = {**view["author"], "did": did, "handle": handle, "displayName": display_name}
        view["author"].pop("avatar", None)
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": at, "langs": list(langs), "text": text}
        facets = self._mention_facets(text)
        if facets:
            record["facets"] = facets
        view["record"] = record
        self.search_index.append(view)
        return view

    def _mention_facets(self, text: str) -> list[dict[str, Any]]:
        data, facets = text.encode("utf-8"), []
        for handle, did in self.handles.items():
            start = data.find(f"@{handle}".encode())
            if start >= 0:
                facets.append(
                    {
                        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
                        "index": {"byteStart": start, "byteEnd": start + len(handle.encode()) + 1},
                    }
                )
        return facets

    def calls(self, nsid: str) -> list[Sent]:
        return [sent for sent in self.sent if sent.nsid == nsid]

    def posts(self) -> list[dict[str, Any]]:
        return [r for uri, r in self.records.items() if "/app.bsky.feed.post/" in uri]

    # -- the session interface

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: Any = None,
    ) -> Any:
        parts = urlsplit(url)
        nsid = parts.path.removeprefix("/xrpc/")
        query = parse_qs(parts.query)
        for key, value in (params or {}).items():
            query[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        sent = Sent(method, nsid, query, json, data, dict(headers or {}))
        self.sent.append(sent)
        failure = self.failures.get(nsid, []).pop(0) if self.failures.get(nsid) else None
        if failure and not failure.after_handling:
            return self._fail(failure)
        response = self._handle(sent)
        if failure:
            return self._fail(failure)
        return response

    def _fail(self, failure: Failure) -> Any:
        if failure.exception is not None:
            raise failure.exception
        return _response(
            failure.status,
            failure.body or {"error": "InternalServerError", "message": "Internal Server Error"},
            failure.headers,
        )

    def _handle(self, sent: Sent) -> Any:
        if sent.nsid in AUTHENTICATED:
            problem = self._check_token(sent.headers.get("Authorization", ""), self.valid_access)
            if problem is not None:  # a 4xx Response is falsy
                return problem
        handler = getattr(self, "_" + sent.nsid.replace(".", "_"), None)
        if handler is None:
            return _response(501, {"error": "MethodNotImplemented", "message": f"{sent.nsid} not implemented"})
        return handler(sent)

    def _check_token(self, authorization: str, valid: set[str]) -> Any:
        token = authorization.removeprefix("Bearer ")
        if token in valid:
            return None
        if token in self.expired:
            return _response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        if not token:
            return _response(401, {"error": "AuthMissing", "message": "Authentication Required"})
        return _response(400, {"error": "InvalidToken", "message": "Token could not be verified"})

    def _tokens(self) -> dict[str, Any]:
        self._issued += 1
        access, refresh = f"access-{self._issued}", f"refresh-{self._issued}"
        self.valid_access.add(access)
        self.valid_refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.handle, "did": self.did, "active": True}

    # -- com.atproto.server

    def _com_atproto_server_createSession(self, sent: Sent) -> Any:
        body = sent.json or {}
        if body.get("identifier") not in (self.handle, self.did) or body.get("password") != self.password:
            return _response(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
        return _response(200, self._tokens())

    def _com_atproto_server_refreshSession(self, sent: Sent) -> Any:
        problem = self._check_token(sent.headers.get("Authorization", ""), self.valid_refresh)
        if problem is not None:
            return problem
        self.valid_refresh.discard(sent.headers["Authorization"].removeprefix("Bearer "))
        return _response(200, self._tokens())

    def _com_atproto_server_getSession(self, sent: Sent) -> Any:
        return _response(200, {"handle": self.handle, "did": self.did, "active": True})

    # -- com.atproto.identity / repo

    def _com_atproto_identity_resolveHandle(self, sent: Sent) -> Any:
        handle = sent.params.get("handle", [""])[0]
        if handle in self.handles:
            return _response(200, {"did": self.handles[handle]})
        return _response(400, {"error": "InvalidRequest", "message": "Unable to resolve handle"})

    def _com_atproto_repo_uploadBlob(self, sent: Sent) -> Any:
        data = sent.data or b""
        cid = _cid(data, "bafkrei")
        self.blobs[cid] = data
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": sent.headers.get("Content-Type"), "size": len(data)}
        return _response(200, {"blob": blob})

    def _com_atproto_repo_createRecord(self, sent: Sent) -> Any:
        body = sent.json or {}
        rkey, collection = body.get("rkey"), body.get("collection")
        if body.get("repo") != self.did:
            return _response(400, {"error": "InvalidRequest", "message": "Invalid repo"})
        if collection == "app.bsky.feed.post" and not TID_PATTERN.match(rkey or ""):
            return _response(
                400,
                {
                    "error": "InvalidRequest",
                    "message": f'Invalid record key for app.bsky.feed.post: Invalid TID string (got "{rkey}") at $',
                },
            )
        uri = f"at://{self.did}/{collection}/{rkey}"
        if uri in self.records:  # the reference PDS fails inside its MST and answers a bare 500
            return _response(500, {"error": "InternalServerError", "message": "Internal Server Error"})
        cid = _cid(json.dumps(body["record"], sort_keys=True).encode(), "bafyrei")
        self.records[uri] = {"uri": uri, "cid": cid, "value": body["record"]}
        return _response(
            200,
            {"uri": uri, "cid": cid, "commit": {"cid": "bafyreicommit", "rev": "3l2abc"}, "validationStatus": "valid"},
        )

    def _com_atproto_repo_getRecord(self, sent: Sent) -> Any:
        repo, collection, rkey = (sent.params.get(k, [""])[0] for k in ("repo", "collection", "rkey"))
        record = self.records.get(f"at://{repo}/{collection}/{rkey}")
        if record is None:
            return _response(
                400, {"error": "RecordNotFound", "message": f"Could not locate record: at://{repo}/{collection}/{rkey}"}
            )
        return _response(200, record)

    # -- app.bsky (the AppView)

    def _app_bsky_notification_listNotifications(self, sent: Sent) -> Any:
        reasons = set(sent.params.get("reasons", []))
        limit = int(sent.params.get("limit", ["50"])[0])
        start = int(sent.params.get("cursor", ["0"])[0])
        matching = [n for n in self.notifications if not reasons or n["reason"] in reasons]
        page = matching[start : start + limit]
        body: dict[str, Any] = {"notifications": page, "seenAt": "2026-03-01T00:00:00.000Z", "priority": False}
        if start + limit < len(matching):
            body["cursor"] = str(start + limit)
        return _response(200, body)

    def _app_bsky_actor_getProfile(self, sent: Sent) -> Any:
        actor = sent.params.get("actor", [""])[0]
        if actor not in (self.did, self.handle):
            return _response(400, {"error": "InvalidRequest", "message": "Profile not found"})
        return _response(
            200,
            self.profile
            or {
                "did": self.did,
                "handle": self.handle,
                "followersCount": 0,
                "followsCount": 0,
                "postsCount": len(self.posts()),
            },
        )

    def _app_bsky_feed_searchPosts(self, sent: Sent) -> Any:
        """lexicons/app/bsky/feed/searchPosts.json, https://docs.bsky.app/docs/api/app-bsky-feed-search-posts:
        `q` (required: a "quoted phrase" must appear as is, otherwise every word; case folded), `sort`
        top|latest (default latest), `since` (inclusive) and `until` (exclusive) on the post's sort time
        (`indexedAt` here), a datetime or YYYY-MM-DD, `mentions` (mention facets) and `author`, each a handle
        or a DID, `lang`, `limit` 1..100 (default 25), `cursor` (an offset this fake wrote). Answers
        `{posts, hitsTotal, cursor?}`, the cursor only while more hits follow."""
        if self.search_index is None:
            return _response(501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"})
        try:
            query = _SearchQuery.parse(sent.params, self.handles)
        except ValueError as refused:
            return _response(400, {"error": "InvalidRequest", "message": str(refused)})
        found = query.run(self.search_index)
        page = found[query.offset : query.offset + query.limit]
        self.search_answers.append([view["uri"] for view in page])
        body: dict[str, Any] = {"posts": copy.deepcopy(page), "hitsTotal": len(found)}
        if query.offset + query.limit < len(found):
            body["cursor"] = str(query.offset + query.limit)
        return _response(200, body)

    def _app_bsky_feed_getPosts(self, sent: Sent) -> Any:
        uris = sent.params.get("uris", [])
        if len(uris) > 25:
            return _response(400, {"error": "InvalidRequest", "message": "uris must not have more than 25 elements"})
        return _response(200, {"posts": [self.post_views[uri] for uri in uris if uri in self.post_views]})


def _at(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))  # a bare YYYY-MM-DD is that day's midnight
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _tid(number: int) -> str:
    """A record key in TID form (13 base32-sortable characters), growing with `number`."""
    value = (1_740_000_000_000_000 << 10) + (number << 10)
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def _param(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


@dataclass(frozen=True)
class _SearchQuery:
    """searchPosts' parameters, checked as the AppView's lexicon validation would."""

    words: tuple[str, ...]
    sort: str
    limit: int
    offset: int
    keep: tuple[Callable[[dict[str, Any]], bool], ...]

    @classmethod
    def parse(cls, params: dict[str, list[str]], handles: dict[str, str]) -> _SearchQuery:
        q = (_param(params, "q") or "").strip()
        if not q:
            raise ValueError('Error: Params must have the property "q"')
        sort = _param(params, "sort") or "latest"
        if sort not in SEARCH_SORTS:
            raise ValueError(f"Error: sort must be one of {', '.join(SEARCH_SORTS)}")
        limit = _int_param(params, "limit", SEARCH_LIMIT_DEFAULT)
        if not 1 <= limit <= SEARCH_LIMIT_MAX:
            raise ValueError(f"Error: limit can not be {'less than 1' if limit < 1 else 'greater than 100'}")
        phrase = q.startswith('"') and q.endswith('"') and len(q) > 1
        words = (q.strip('"').casefold(),) if phrase else tuple(q.casefold().split())
        return cls(words, sort, limit, _int_param(params, "cursor", 0), _filters(params, handles))

    def run(self, index: list[dict[str, Any]]) -> list[dict[str, Any]]:
        hits = [
            view
            for view in index
            if all(word in view["record"]["text"].casefold() for word in self.words)
            and all(keep(view) for keep in self.keep)
        ]
        hits.sort(key=lambda view: view["indexedAt"], reverse=True)
        if self.sort == "top":
            hits.sort(key=lambda view: view.get("likeCount", 0), reverse=True)
        return hits


def _int_param(params: dict[str, list[str]], name: str, default: int) -> int:
    raw = _param(params, name)
    try:
        return default if raw is None else int(raw)
    except ValueError:
        raise ValueError(f"Error: {name} must be an integer" if name == "limit" else "Malformed cursor") from None


def _filters(params: dict[str, list[str]], handles: dict[str, str]) -> tuple[Callable[[dict[str, Any]], bool], ...]:
    keep: list[Callable[[dict[str, Any]], bool]] = []
    try:
        since, until = (_at(raw) if raw else None for raw in (_param(params, "since"), _param(params, "until")))
    except ValueError:
        raise ValueError("Error: since and until must be a datetime or YYYY-MM-DD") from None
    if since:
        keep.append(lambda view: _at(view["indexedAt"]) >= since)
    if until:
        keep.append(lambda view: _at(view["indexedAt"]) < until)
    author, mentions, lang = (_param(params, name) for name in ("author", "mentions", "lang"))
    if author:
        did = handles.get(author, author)
        keep.append(lambda view: view["author"]["did"] == did)
    if mentions:
        did = handles.get(mentions, mentions)
        keep.append(lambda view: did in _mentioned(view))
    if lang:
        keep.append(
            lambda view: any(code == lang or code.startswith(f"{lang}-") for code in view["record"].get("langs", []))
        )
    return tuple(keep)


def _mentioned(view: dict[str, Any]) -> set[str]:
    return {
        feature.get("did")
        for facet in view["record"].get("facets", [])
        for feature in facet["features"]
        if feature.get("$type") == "app.bsky.richtext.facet#mention"
    }


def _response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode("utf-8")
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    response.encoding = "utf-8"
    return response
