"""A feed publisher on 127.0.0.1: serves each feed's current document at `/feeds/<name>` the way a blog's web
server does, with an ETag and a Last-Modified, and answers a conditional GET that matches with 304 Not Modified
(RFC 9110, sections 8.8.3, 8.8.2, 13.1.1 and 13.1.3; 15.4.5).

    with FeedServer() as feeds:
        feeds.publish("blog", event_bytes("feeds", "rss2_blog.xml"))
        feeds.url_of("blog")          # http://127.0.0.1:<port>/feeds/blog
        feeds.fail("GET", "/feeds/blog", 503)   # the next read answers 503
        feeds.calls("GET", "/feeds/blog")       # every read, with its headers
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route

XML = {"Content-Type": "application/rss+xml; charset=utf-8"}
FIRST_PUBLISHED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class FeedServer(LocalHttpFake):
    name = "feed-server"

    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[str, tuple[bytes, str, str]] = {}  # name -> (body, etag, last-modified)
        self._versions = 0

    def publish(self, name: str, body: bytes) -> None:
        """The feed's document from now on: a new ETag and a later Last-Modified."""
        with self.lock:
            self._versions += 1
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            modified = format_datetime(FIRST_PUBLISHED + timedelta(minutes=self._versions), usegmt=True)
            self.documents[name] = (body, etag, modified)

    def url_of(self, name: str) -> str:
        return f"{self.url}/feeds/{name}"

    def routes(self) -> list[Route]:
        return [("GET", r"/feeds/([\w-]+)", self._feed)]

    def _feed(self, request: Request, name: str) -> Answer:
        if name not in self.documents:
            return Answer(404, raw=b"Not Found", headers={"Content-Type": "text/plain"})
        body, etag, modified = self.documents[name]
        validators = {"ETag": etag, "Last-Modified": modified}
        if request.headers.get("if-none-match") == etag:
            return Answer(304, raw=b"", headers=validators)
        return Answer(200, raw=body, headers={**XML, **validators})
