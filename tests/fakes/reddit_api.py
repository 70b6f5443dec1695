"""A local HTTP fake of Reddit's OAuth API (oauth.reddit.com) and its token host (www.reddit.com), the parts
Herald calls, with the documented shapes. One server answers both (Herald is given its URL for each).

- `GET /api/v1/me` (the identity call and the profile: tests/events/reddit/me.json with the user's id and name,
  `profiles[user_id]` over it; icon_img HTML-escaped unless `raw_json=1`).
- `GET /r/{sr}/about` (`{"kind": "t5", "data": {"display_name", "submission_type", ...}}`; 404 for an unknown
  subreddit), `GET /r/{sr}/api/link_flair_v2` (a list of flair templates).
- `POST /api/submit` (form): `api_type=json`, `sr`, `kind` self|link, `title` (1..300), `text` or `url`, `flair_id`,
  `flair_text` (only for an editable template), `nsfw`, `spoiler`, `sendreplies`. Refusals come as Reddit sends
  them, a 200 with `{"json": {"errors": [[CODE, message, field]]}}`: SUBREDDIT_NOEXIST, NO_SELFS, NO_LINKS,
  ALREADY_SUB, SUBMIT_VALIDATION_FLAIR_REQUIRED, BAD_FLAIR_TEMPLATE_ID, TOO_LONG, and RATELIMIT when scripted.
- `GET /user/{name}/submitted` (`sort=new`, `limit`): a Listing of the user's submissions, newest first.
- `POST /api/v1/access_token` (HTTP Basic client auth, form): `authorization_code` (answers a refresh token for
  `duration=permanent`) and `refresh_token`; a revoked refresh token answers `{"error": "invalid_grant"}`.

Every request must carry a descriptive User-Agent `<platform>:<app id>:<version> (by /u/<name>)` (a generic one is
a violation, answered 429 as Reddit throttles it) and, on the API, `Authorization: bearer <token>`. Every answer
carries `X-Ratelimit-Used/Remaining/Reset`; `remaining` can be set to script a used-up window.
Sources: tests/events/reddit/README.md.
"""
from __future__ import annotations

import base64
import itertools
import re
import string
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.clock import Clock
from tests.fakes.local_http import Answer, LocalHttpFake, Request, Route
from tests.support.events import load_event

USER_AGENT = re.compile(r"^[^:\s]+:[^:\s]+:[^:\s]+ \(by /u/[A-Za-z0-9_-]{3,20}\)$")
ID36 = string.digits + string.ascii_lowercase


@dataclass
class Subreddit:
    name: str
    submission_type: str = "any"
    flairs: list[dict[str, Any]] = field(default_factory=list)
    flair_required: bool = False
    links_once: bool = False


@dataclass
class Submission:
    id: str
    author: str
    subreddit: str
    kind: str
    title: str
    body: str
    url: str
    created_utc: float
    flair_id: str | None
    nsfw: bool
    spoiler: bool


def _id36(number: int) -> str:
    text = ""
    while number:
        number, digit = divmod(number, 36)
        text = ID36[digit] + text
    return text or "0"


def _submit_error(code: str, message: str, field_name: str) -> Answer:
    return Answer(200, {"json": {"errors": [[code, message, field_name]]}})


class RedditApi(LocalHttpFake):
    name = "reddit-api-fake"

    def __init__(self, clock: Clock, *, client_id: str = "p-jcoLKBynTLew", client_secret: str = "reddit-secret"
                 ) -> None:
        super().__init__()
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self._ids = itertools.count(1_300_000_000)
        self.users: dict[str, str] = {}  # user id → name
        self.profiles: dict[str, dict[str, Any]] = {}  # user id → fields of /api/v1/me over me.json's
        self.tokens: dict[str, str] = {}  # access token → user id
        self.refresh_tokens: dict[str, str] = {}
        self.codes: dict[str, tuple[str, str]] = {}
        self.subreddits: dict[str, Subreddit] = {}
        self.submissions: list[Submission] = []
        self.remaining = 99.0
        self.reset_s = 120

    # -- the world ------------------------------------------------------------------------------------------

    def user(self, token: str, user_id: str, name: str) -> None:
        with self.lock:
            self.users[user_id] = name
            self.tokens[token] = user_id

    def subreddit(self, name: str, **kwargs: Any) -> Subreddit:
        with self.lock:
            return self.subreddits.setdefault(name.lower(), Subreddit(name, **kwargs))

    def authorization_code(self, code: str, redirect_uri: str, user_id: str) -> None:
        with self.lock:
            self.codes[code] = (redirect_uri, user_id)

    def refresh_token(self, token: str, user_id: str) -> None:
        with self.lock:
            self.refresh_tokens[token] = user_id

    def revoke(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)
            self.refresh_tokens.pop(token, None)

    def published(self, name: str | None = None) -> list[Submission]:
        with self.lock:
            return [s for s in self.submissions if name is None or s.author == name]

    def routes(self) -> list[Route]:
        return [
            ("POST", r"/api/v1/access_token", self._token),
            ("GET", r"/api/v1/me", self._me),
            ("GET", r"/r/([A-Za-z0-9_]+)/about", self._about),
            ("GET", r"/r/([A-Za-z0-9_]+)/api/link_flair_v2", self._flairs),
            ("POST", r"/api/submit", self._submit),
            ("GET", r"/user/([A-Za-z0-9_-]+)/submitted", self._submitted),
        ]

    # -- every request --------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Answer | None:
        agent = request.headers.get("user-agent", "")
        if not USER_AGENT.match(agent):
            with self.lock:
                self.requests.append(request)
            return self.violation(f"{request.path}: User-Agent {agent!r} is not descriptive",
                                  Answer(429, {"message": "Too Many Requests", "error": 429}))
        answer = super().handle(request)
        if answer is not None and request.path != "/api/v1/access_token":
            answer.headers = {"x-ratelimit-used": str(600 - int(self.remaining)),
                              "x-ratelimit-remaining": f"{self.remaining:.1f}",
                              "x-ratelimit-reset": str(self.reset_s), **answer.headers}
        return answer

    def _caller(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise self.violation(f"{request.path}: no bearer token", Answer(401, {"message": "Unauthorized",
                                                                                   "error": 401}))
        user_id = self.tokens.get(header[len("bearer "):])
        if user_id is None:
            raise Answer(401, {"message": "Unauthorized", "error": 401},
                         headers={"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})
        return user_id

    # -- handlers -------------------------------------------------------------------------------------------

    def _me(self, request: Request) -> Answer:
        user_id = self._caller(request)
        me = load_event("reddit", "me.json")
        name = self.users[user_id]
        me.update(id=user_id, name=name, **self.profiles.get(user_id, {}))
        me["subreddit"].update(display_name=f"u_{name}", display_name_prefixed=f"u/{name}", url=f"/user/{name}/")
        if request.arg("raw_json") != "1":  # Reddit HTML-escapes strings unless raw_json=1
            me["icon_img"] = str(me["icon_img"]).replace("&", "&amp;")
        return Answer(200, me)

    def _about(self, request: Request, name: str) -> Answer:
        self._caller(request)
        sub = self.subreddits.get(name.lower())
        if sub is None:
            raise Answer(404, {"reason": "banned", "message": "Not Found", "error": 404})
        return Answer(200, {"kind": "t5", "data": {"display_name": sub.name, "submission_type": sub.submission_type,
                                                   "subreddit_type": "public", "link_flair_enabled": bool(sub.flairs),
                                                   "name": "t5_2qh1o"}})

    def _flairs(self, request: Request, name: str) -> Answer:
        self._caller(request)
        sub = self.subreddits.get(name.lower())
        if sub is None:
            raise Answer(404, {"message": "Not Found", "error": 404})
        return Answer(200, sub.flairs)

    def _submit(self, request: Request) -> Answer:
        user_id = self._caller(request)
        if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            raise self.violation("/api/submit without a form body")
        form = request.form()
        if form.get("api_type") != "json":
            raise self.violation("/api/submit without api_type=json")
        sub = self.subreddits.get(form.get("sr", "").lower())
        if sub is None:
            return _submit_error("SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr")
        kind = form.get("kind")
        refusal = self._refusal(sub, form, kind)
        if refusal is not None:
            return refusal
        number = next(self._ids)
        item = Submission(_id36(number), self.users[user_id], sub.name, str(kind), form["title"],
                          form.get("text", ""), form.get("url", ""), self.clock.now().timestamp(),
                          form.get("flair_id"), form.get("nsfw") == "true", form.get("spoiler") == "true")
        self.submissions.append(item)
        slug = re.sub(r"[^a-z0-9]+", "_", item.title.lower()).strip("_")[:50]
        return Answer(200, {"json": {"errors": [], "data": {
            "url": f"https://www.reddit.com/r/{sub.name}/comments/{item.id}/{slug}/", "drafts_count": 0,
            "id": item.id, "name": f"t3_{item.id}"}}})

    def _refusal(self, sub: Subreddit, form: dict[str, str], kind: str | None) -> Answer | None:
        title = form.get("title", "")
        if kind not in ("self", "link"):
            return _submit_error("INVALID_OPTION", "that option is not valid", "kind")
        if not title.strip():
            return _submit_error("NO_TEXT", "we need something here", "title")
        if len(title) > 300:
            return _submit_error("TOO_LONG", "this is too long (max: 300)", "title")
        if kind == "self" and sub.submission_type == "link":
            return _submit_error("NO_SELFS", "This community doesn't allow text posts", "sr")
        if kind == "link" and sub.submission_type == "self":
            return _submit_error("NO_LINKS", "This community only allows text posts", "sr")
        if kind == "link" and not form.get("url"):
            return _submit_error("NO_URL", "a url is required", "url")
        if kind == "self" and "url" in form or kind == "link" and "text" in form:
            raise self.violation(f"a {kind} post with {'url' if kind == 'self' else 'text'}")
        flair = form.get("flair_id")
        template = next((f for f in sub.flairs if f["id"] == flair), None)
        if flair and template is None:
            return _submit_error("BAD_FLAIR_TEMPLATE_ID", "That flair isn't available", "flair")
        if form.get("flair_text") and not (template and template.get("text_editable")):
            raise self.violation("flair_text for a template that is not editable")
        if sub.flair_required and not flair:
            return _submit_error("SUBMIT_VALIDATION_FLAIR_REQUIRED", "Your post must contain post flair.", "flair")
        if kind == "link" and sub.links_once and any(s.url == form["url"] and s.subreddit == sub.name
                                                    for s in self.submissions):
            return _submit_error("ALREADY_SUB", "This community doesn't allow links to be posted more than once, "
                                                "and this link has already been shared", "url")
        return None

    def _submitted(self, request: Request, name: str) -> Answer:
        self._caller(request)
        limit = int(request.arg("limit", "25") or 25)
        if request.arg("sort", "new") != "new":
            raise self.violation("submitted listing not sorted by new")
        mine = sorted((s for s in self.submissions if s.author.lower() == name.lower()),
                      key=lambda s: s.created_utc, reverse=True)
        children = [{"kind": "t3", "data": {
            "id": s.id, "name": f"t3_{s.id}", "title": s.title, "subreddit": s.subreddit, "author": s.author,
            "created_utc": s.created_utc, "is_self": s.kind == "self", "selftext": s.body,
            "url": s.url or f"https://www.reddit.com/r/{s.subreddit}/comments/{s.id}/",
            "permalink": f"/r/{s.subreddit}/comments/{s.id}/"}} for s in mine[:limit]]
        after = children[-1]["data"]["name"] if len(mine) > limit else None
        return Answer(200, {"kind": "Listing", "data": {"after": after, "dist": len(children), "children": children,
                                                        "before": None}})

    def _token(self, request: Request) -> Answer:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            raise self.violation("the token call without HTTP Basic client auth",
                                 Answer(401, {"message": "Unauthorized", "error": 401}))
        form = request.form()
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.pop(form.get("code", ""), None)
            if entry is None or entry[0] != form.get("redirect_uri"):
                return Answer(200, {"error": "invalid_grant"})
            user_id = entry[1]
        elif grant == "refresh_token":
            found = self.refresh_tokens.get(form.get("refresh_token", ""))
            if found is None:
                return Answer(400, {"error": "invalid_grant"})
            user_id = found
        else:
            raise self.violation(f"grant_type {grant!r}")
        token = f"reddit-{next(self._ids)}"
        self.tokens[token] = user_id
        answer: dict[str, Any] = {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                                  "scope": "identity submit read flair"}
        if grant == "authorization_code":
            refresh = f"reddit-refresh-{next(self._ids)}"
            self.refresh_tokens[refresh] = user_id
            answer["refresh_token"] = refresh
        return Answer(200, answer)
