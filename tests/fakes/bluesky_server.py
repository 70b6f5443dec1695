"""The in-memory Bluesky of tests/fakes/bluesky.py (PDS and AppView alike) served over HTTP on 127.0.0.1.

What runs in another process reaches it by its address: a local stack's Bluesky channel has
`service_url: server.url`, as it would name its PDS (which proxies app.bsky.* to the AppView). Every
`/xrpc/<nsid>` request is handed to the one `FakeBluesky`, so the answers (com.atproto.server.createSession,
refreshSession and getSession, the repo methods, app.bsky.feed.searchPosts, listNotifications, getProfile,
getPosts) have the same shapes here as in-process:

    with BlueskyServer() as server:
        server.add_search_post("Tried Herald today")
        ...  # a channel with {"service_url": server.url, "handle": server.bluesky.handle,
             #                 "app_password": server.bluesky.password}
        assert server.bluesky.search_answers[-1] == [...]

Faults come from `LocalHttpFake` (`fail`, `drop_after`) or from `server.bluesky.fail_next` with a status
(not an `exception`: over HTTP, a lost answer is `drop_after`).
"""

from __future__ import annotations

from typing import Any

from tests.fakes.bluesky import FakeBluesky
from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route

NSID = r"/xrpc/([A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+)"
# What the in-memory fake reads from a request's headers, under the names it reads them by.
FORWARDED_HEADERS = ("Authorization", "Content-Type")


class BlueskyServer(LocalHttpFake):
    name = "bluesky-fake"

    def __init__(self, bluesky: FakeBluesky | None = None) -> None:
        super().__init__()
        self.bluesky = bluesky or FakeBluesky()
        if self.bluesky.search_index is None:
            self.bluesky.search_index = []  # an AppView behind the PDS: searchPosts is there

    def routes(self) -> list[Route]:
        return [("GET", NSID, self._xrpc), ("POST", NSID, self._xrpc)]

    def add_search_post(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """`FakeBluesky.add_search_post`, while no request is being answered."""
        with self.lock:
            return self.bluesky.add_search_post(text, **kwargs)

    def _xrpc(self, request: Request, nsid: str) -> Answer:
        headers = {name: request.headers[name.lower()] for name in FORWARDED_HEADERS if name.lower() in request.headers}
        is_json = headers.get("Content-Type", "").split(";")[0].strip() == "application/json"
        response = self.bluesky.request(
            request.method,
            f"{self.url}/xrpc/{nsid}",
            params=request.query,
            json=request.json() if is_json and request.body else None,
            data=request.body if request.body and not is_json else None,
            headers=headers,
        )
        kept = {name: value for name, value in response.headers.items() if name.lower() != "content-length"}
        return Answer(response.status_code, headers=kept, raw=response.content)
