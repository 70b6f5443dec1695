"""A local HTTP fake of the LinkedIn endpoints Herald calls to connect, publish and look before a retry.

One real ThreadingHTTPServer on 127.0.0.1 (a free port), on the real hosts' paths:
- OAuth 2.0 (www.linkedin.com): `GET /oauth/v2/authorization` redirects to the redirect_uri with a code (for
  the member a test named with `authorizing(...)`), `POST /oauth/v2/accessToken` (form) exchanges a code or a
  refresh token (LinkedIn answers the same refresh token and its remaining lifetime; `rotate_refresh_tokens`
  makes it issue a new one), `invalid_grant` for a revoked, expired or used one.
- OpenID: `GET /v2/userinfo` → `{"sub", "name", "picture", ...}` (tests/events/linkedin/userinfo.json).
- `GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED`, `GET /rest/organizations/{id}`
  (organization.json: localizedName, localizedDescription, localizedWebsite, vanityName, logoV2), and
  `GET /rest/images/{image urn}` (image.json: the logo's `downloadUrl`).
- Images, Documents, Videos APIs: `POST /rest/{images,documents,videos}?action=initializeUpload`, the bytes to
  the upload URLs it answers (`PUT /dms-uploads/...`; a video in 4 MB parts, each answered with an ETag),
  `POST /rest/videos?action=finalizeUpload`, `GET /rest/{videos,documents}/{urn}` (PROCESSING for
  `processing_polls` reads, then AVAILABLE; PROCESSING_FAILED when the bytes are not of the declared kind).
- Posts API: `POST /rest/posts` (201, the urn in `x-restli-id`; the commentary read as "little" text, cut at
  the first unescaped reserved character as LinkedIn does; 422 DUPLICATE_POST for a repeat; 403 ACCESS_DENIED
  for an author the member may not post as), `GET /rest/posts?q=author` (needs `X-RestLi-Method: FINDER`;
  a member's own posts need r_member_social, as on LinkedIn).
- Comments: `POST|GET /rest/socialActions/{urn}/comments`.

Every /rest call is checked for `Authorization: Bearer <a live token>` (401 INVALID_ACCESS_TOKEN or
REVOKED_ACCESS_TOKEN), `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0` (400 otherwise).
`fail(method, path, status, body)` scripts an error for the next matching calls. Every request is recorded
(`requests`), bodies included, so a test can check the order of a multi-step flow and the bytes uploaded.
Sources: tests/events/linkedin/README.md.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.support.events import load_event

PART_BYTES = 4 * 1024 * 1024
ACCESS_TTL_S = 60 * 24 * 3600
REFRESH_TTL_S = 365 * 24 * 3600
VERSION = re.compile(r"^\d{6}$")
RESERVED = set("\\|{}@[]()<>#*_~")
MAGIC: dict[str, Callable[[bytes], bool]] = {
    "image": lambda data: data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n" or data[:4] == b"GIF8",
    "document": lambda data: data[:5] == b"%PDF-",
    "video": lambda data: data[4:8] == b"ftyp",
}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


@dataclass
class Member:
    sub: str
    name: str
    organizations: list[str]  # ids of the organizations the member administers
    scopes: set[str]

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.sub}"


@dataclass
class Asset:
    kind: str
    urn: str
    owner: str
    size: int = 0
    parts: dict[int, bytes] = field(default_factory=dict)
    etags: list[str] = field(default_factory=list)
    data: bytes | None = None
    status: str = "WAITING_UPLOAD"
    polls: int = 0


@dataclass
class _Failure:
    method: str
    path: str
    status: int
    body: Any
    times: int


class LinkedInApi:
    """`with LinkedInApi() as li:`; `li.member(...)` makes a member and its token; `li.url` is every base URL."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.client_id = "herald-client"
        self.client_secret = "herald-secret"
        self.processing_polls = 1
        self.refresh_tokens_enabled = True
        self.rotate_refresh_tokens = False
        self.members: dict[str, Member] = {}
        self.organizations: dict[str, dict[str, Any]] = {}
        self.images: dict[str, dict[str, Any]] = {}  # image urn -> the Images API's answer
        self.pictures: dict[str, str] = {}  # member sub -> their userinfo picture
        self.tokens: dict[str, str] = {}  # access token -> member sub
        self.revoked: set[str] = set()
        self.refresh_tokens: dict[str, tuple[str, float]] = {}  # refresh token -> (sub, expires at)
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (sub, redirect_uri)
        self.assets: dict[str, Asset] = {}
        self.posts: list[dict[str, Any]] = []
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[Recorded] = []
        self._authorizing: str | None = None
        self._failures: list[_Failure] = []
        self._drops: list[tuple[str, str]] = []
        self._ids = itertools.count(7_100_000_000_000_000_001)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="linkedin-fake",
                         daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- what a test sets up ----------------------------------------------------------------------------

    def member(self, sub: str, name: str, *, token: str | None = None, organizations: tuple[str, ...] = (),
               scopes: tuple[str, ...] = ("openid", "profile", "w_member_social", "w_organization_social",
                                          "r_organization_social", "rw_organization_admin")) -> str:
        """A member administering `organizations` (ids); answers its access token."""
        with self._lock:
            self.members[sub] = Member(sub, name, list(organizations), set(scopes))
            token = token or f"token-{sub}-{next(self._ids)}"
            self.tokens[token] = sub
            return token

    def organization(self, org_id: str, name: str, vanity: str, *, description: str | None = None,
                     website: str | None = None, logo_url: str | None = None) -> str:
        """An organization page answered as organization.json with these values; its logo (`logo_url`: the
        Images API's downloadUrl) an image of its own. No description, website or logo: the page has none."""
        urn = f"urn:li:organization:{org_id}"
        page = load_event("linkedin", "organization.json")
        page.update(id=int(org_id), localizedName=name, vanityName=vanity)
        page["name"]["localized"] = {"en_US": name}
        for key, value, localized in (("localizedDescription", description, "description"),
                                      ("localizedWebsite", website, "website")):
            page.pop(key)
            page.pop(localized)
            if value is not None:
                page[key] = value
                page[localized] = {"localized": {"en_US": value}, "preferredLocale": page["defaultLocale"]}
        page.pop("logoV2")
        if logo_url is not None:
            image = f"urn:li:image:D4E0BAQ{org_id}"
            page["logoV2"] = {"cropped": image, "original": f"{image}o", "cropInfo": {"x": 0, "width": 0, "y": 0,
                                                                                     "height": 0}}
            self.images[image] = {**load_event("linkedin", "image.json"), "id": image, "owner": urn,
                                  "downloadUrl": logo_url}
        with self._lock:
            self.organizations[org_id] = page
        return urn

    def picture(self, sub: str, url: str | None) -> None:
        """The member's profile picture as userinfo answers it (None: the member has none)."""
        with self._lock:
            self.pictures[sub] = url or ""

    def authorizing(self, sub: str | None) -> None:
        """The member who approves the next authorization (None: the member cancels)."""
        self._authorizing = sub

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def fail(self, method: str, path: str, status: int, body: Any = None, times: int = 1) -> None:
        """The next `times` calls of `method` on a path starting with `path` answer `status` and `body`."""
        with self._lock:
            self._failures.append(_Failure(method, path, status, body, times))

    def drop_after(self, method: str, path: str) -> None:
        """The next call of `method` on a path starting with `path` is done, then its connection is closed without
        an answer: an ambiguous attempt (the work is done; Herald cannot know it)."""
        with self._lock:
            self._drops.append((method, path))

    def dropped(self, request: Recorded) -> bool:
        with self._lock:
            for drop in self._drops:
                if drop[0] == request.method and request.path.startswith(drop[1]):
                    self._drops.remove(drop)
                    return True
        return False

    def calls(self, method: str | None = None, path: str = "") -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(path)]

    def steps(self) -> list[str]:
        """The publishing calls in order, as `METHOD /path?action` (the upload URLs shortened)."""
        out = []
        for r in self.requests:
            if r.path.startswith(("/oauth", "/v2/userinfo")):
                continue
            path = re.sub(r"/dms-uploads/(\w+)/.*", r"/dms-uploads/\1", r.path)
            action = r.query.get("action", [""])[0]
            out.append(f"{r.method} {path}" + (f"?{action}" if action else ""))
        return out

    # -- dispatch -------------------------------------------------------------------------------------

    def handle(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append(request)
            scripted = self._scripted(request)
            if scripted:
                return scripted
            return self._answer(request)

    def _answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            if request.path.startswith("/oauth/v2/authorization"):
                return self._authorize(request)
            if request.path == "/oauth/v2/accessToken" and request.method == "POST":
                return self._token(request)
            if request.path.startswith("/dms-uploads/"):
                return self._upload(request)
            member, refused = self._member_of(request)
            if refused:
                return refused
            assert member is not None
            if request.path == "/v2/userinfo":
                return 200, self._userinfo(member), {}
            refused = _rest_headers_refused(request)
            if refused:
                return refused
            return self._rest(request, member)

    def _scripted(self, request: Recorded) -> tuple[int, Any, dict[str, str]] | None:
        for failure in self._failures:
            if failure.times > 0 and failure.method == request.method and request.path.startswith(failure.path):
                failure.times -= 1
                return failure.status, failure.body, {}
        return None

    def _member_of(self, request: Recorded) -> tuple[Member | None, tuple[int, Any, dict[str, str]] | None]:
        auth = request.headers.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if token in self.revoked:
            return None, (401, {"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
                                "message": "The token used in the request has been revoked by the user"}, {})
        if token not in self.tokens:
            return None, (401, {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
                                "message": "Invalid access token"}, {})
        return self.members[self.tokens[token]], None

    def _rest(self, request: Recorded, member: Member) -> tuple[int, Any, dict[str, str]]:
        path, method = request.path, request.method
        action = request.query.get("action", [""])[0]
        if method == "POST" and path in ("/rest/images", "/rest/documents", "/rest/videos"):
            if action == "initializeUpload":
                return self._initialize(request, member, path.rsplit("/", 1)[1])
            if action == "finalizeUpload" and path == "/rest/videos":
                return self._finalize(request)
        match = re.fullmatch(r"/rest/(videos|documents)/(?P<urn>[^/]+)", path)
        if method == "GET" and match:
            return self._asset_status(unquote(match["urn"]))
        if path == "/rest/posts" and method == "POST":
            return self._create_post(request, member)
        if path == "/rest/posts" and method == "GET":
            return self._find_posts(request, member)
        match = re.fullmatch(r"/rest/socialActions/(?P<urn>[^/]+)/comments", path)
        if match:
            return self._comments(request, member, unquote(match["urn"]))
        if path == "/rest/organizationAcls" and method == "GET":
            return self._acls(request, member)
        match = re.fullmatch(r"/rest/organizations/(?P<id>\d+)", path)
        if match and method == "GET":
            organization = self.organizations.get(match["id"])
            return (200, organization, {}) if organization else (404, _error(404, "NOT_FOUND", "no such org"), {})
        match = re.fullmatch(r"/rest/images/(?P<urn>[^/]+)", path)
        if match and method == "GET":
            image = self.images.get(unquote(match["urn"]))
            return (200, image, {}) if image else (404, _error(404, "NOT_FOUND", "no such image"), {})
        return 404, _error(404, "NOT_FOUND", f"no resource {path}"), {}

    def _userinfo(self, member: Member) -> dict[str, Any]:
        given, _, family = member.name.partition(" ")
        picture = self.pictures.get(member.sub, f"https://media.licdn.com/{member.sub}.jpg")
        answer = {**load_event("linkedin", "userinfo.json"), "sub": member.sub, "name": member.name,
                  "given_name": given, "family_name": family, "picture": picture}
        if not picture:
            answer.pop("picture")
        return answer

    # -- OAuth ------------------------------------------------------------------------------------------

    def _authorize(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        query = {key: values[0] for key, values in request.query.items()}
        if query.get("response_type") != "code" or query.get("client_id") != self.client_id:
            return 400, {"error": "invalid_request", "error_description": "bad response_type or client_id"}, {}
        if not query.get("redirect_uri") or not query.get("state") or not query.get("scope"):
            return 400, {"error": "invalid_request", "error_description": "redirect_uri, state, scope needed"}, {}
        answer = {"state": query["state"]}
        if self._authorizing is None:
            answer.update(error="user_cancelled_login", error_description="The user cancelled the login")
        else:
            code = f"code-{next(self._ids)}"
            self.codes[code] = (self._authorizing, query["redirect_uri"])
            answer["code"] = code
        return 302, None, {"Location": f"{query['redirect_uri']}?{urlencode(answer)}"}

    def issue_code(self, sub: str, redirect_uri: str) -> str:
        code = f"code-{next(self._ids)}"
        self.codes[code] = (sub, redirect_uri)
        return code

    def _token(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return 400, {"error": "invalid_request", "error_description": "form body expected"}, {}
        form = request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}, {}
        if form.get("grant_type") == "authorization_code":
            issued = self.codes.pop(form.get("code", ""), None)
            if issued is None or issued[1] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant", "error_description": "The authorization code is invalid "
                                                                              "or has expired"}, {}
            return 200, self._tokens_for(issued[0], None), {}
        if form.get("grant_type") == "refresh_token":
            held = self.refresh_tokens.get(form.get("refresh_token", ""))
            if held is None or held[1] <= self.now():
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, {}
            if self.rotate_refresh_tokens:
                del self.refresh_tokens[form["refresh_token"]]
                return 200, self._tokens_for(held[0], None, expires_at=held[1]), {}
            return 200, self._tokens_for(held[0], form["refresh_token"]), {}
        return 400, {"error": "unsupported_grant_type", "error_description": "grant_type"}, {}

    def _tokens_for(self, sub: str, refresh_token: str | None, expires_at: float | None = None) -> dict[str, Any]:
        member = self.members[sub]
        access = f"token-{sub}-{next(self._ids)}"
        self.tokens[access] = sub
        answer: dict[str, Any] = {"access_token": access, "expires_in": ACCESS_TTL_S,
                                  "scope": ",".join(sorted(member.scopes)), "token_type": "Bearer"}
        if self.refresh_tokens_enabled:
            if refresh_token is None:
                refresh_token = f"refresh-{sub}-{next(self._ids)}"
                self.refresh_tokens[refresh_token] = (sub, expires_at or self.now() + REFRESH_TTL_S)
            answer["refresh_token"] = refresh_token
            answer["refresh_token_expires_in"] = int(self.refresh_tokens[refresh_token][1] - self.now())
        return answer

    # -- media ------------------------------------------------------------------------------------------

    def _may_act_as(self, member: Member, author: Any) -> bool:
        if author == member.urn:
            return "w_member_social" in member.scopes
        return (isinstance(author, str) and author.startswith("urn:li:organization:")
                and author.rsplit(":", 1)[1] in member.organizations and "w_organization_social" in member.scopes)

    def _initialize(self, request: Recorded, member: Member, api: str) -> tuple[int, Any, dict[str, str]]:
        body = request.json() or {}
        init = body.get("initializeUploadRequest") or {}
        owner = init.get("owner")
        if not self._may_act_as(member, owner):
            return 403, _error(403, "ACCESS_DENIED", f"Not enough permissions to access: {api}.CREATE"), {}
        kind = api[:-1]
        number = next(self._ids)
        urn = {"image": f"urn:li:image:C4E{number}", "document": f"urn:li:document:D4E{number}",
               "video": f"urn:li:video:C5F{number}"}[kind]
        asset = Asset(kind, urn, owner)
        self.assets[urn] = asset
        expires = int(self.now() * 1000) + 3600_000
        if kind != "video":
            return 200, {"value": {"uploadUrlExpiresAt": expires, "uploadUrl": f"{self.url}/dms-uploads/{api}/"
                                                                              f"{quote_urn(urn)}", kind: urn}}, {}
        size = init.get("fileSizeBytes")
        if not isinstance(size, int) or size <= 0:
            return 400, _error(400, "BAD_REQUEST", "fileSizeBytes is required"), {}
        asset.size = size
        instructions = [{"uploadUrl": f"{self.url}/dms-uploads/videos/{quote_urn(urn)}/{index}",
                         "firstByte": first, "lastByte": min(first + PART_BYTES, size) - 1}
                        for index, first in enumerate(range(0, size, PART_BYTES))]
        return 200, {"value": {"uploadUrlsExpireAt": expires, "video": urn, "uploadInstructions": instructions,
                               "uploadToken": ""}}, {}

    def _upload(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        if request.method != "PUT":
            return 405, None, {}
        match = re.fullmatch(r"/dms-uploads/(?P<api>\w+)/(?P<urn>[^/]+)(/(?P<part>\d+))?", request.path)
        asset = self.assets.get(unquote(match["urn"])) if match else None
        if asset is None:
            return 404, None, {}
        if asset.kind == "video":
            index = int(match["part"])
            first = index * PART_BYTES
            if len(request.body) != min(first + PART_BYTES, asset.size) - first:
                return 400, None, {}
            asset.parts[index] = request.body
            etag = f'"etag-{index}-{len(request.body)}"'
            return 200, None, {"ETag": etag}
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return 401, None, {}
        asset.data = request.body
        asset.status = "PROCESSING" if asset.kind == "document" else "AVAILABLE"
        if not MAGIC[asset.kind](request.body):
            asset.status = "PROCESSING_FAILED"
        return 201, None, {}

    def _finalize(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        final = (request.json() or {}).get("finalizeUploadRequest") or {}
        asset = self.assets.get(final.get("video", ""))
        if asset is None:
            return 404, _error(404, "NOT_FOUND", "no such video"), {}
        count = -(-asset.size // PART_BYTES)
        expected = [f'"etag-{i}-{len(asset.parts[i])}"' for i in range(count) if i in asset.parts]
        if len(expected) != count or final.get("uploadedPartIds") != expected or "uploadToken" not in final:
            return 400, _error(400, "BAD_REQUEST", "uploadedPartIds do not match the uploaded parts"), {}
        asset.data = b"".join(asset.parts[i] for i in range(count))
        asset.status = "PROCESSING" if MAGIC["video"](asset.data) else "PROCESSING_FAILED"
        return 200, None, {}

    def _asset_status(self, urn: str) -> tuple[int, Any, dict[str, str]]:
        asset = self.assets.get(urn)
        if asset is None:
            return 404, _error(404, "NOT_FOUND", "no such asset"), {}
        if asset.status == "PROCESSING":
            asset.polls += 1
            if asset.polls > self.processing_polls:
                asset.status = "AVAILABLE"
        return 200, {"id": urn, "owner": asset.owner, "status": asset.status}, {}

    # -- posts ------------------------------------------------------------------------------------------

    def _create_post(self, request: Recorded, member: Member) -> tuple[int, Any, dict[str, str]]:
        body = request.json() or {}
        author = body.get("author")
        if not self._may_act_as(member, author):
            return 403, _error(403, "ACCESS_DENIED", "Not enough permissions to access: "
                                                     "partnerApiPostsExternal.CREATE.20260101"), {}
        missing = [key for key in ("commentary", "visibility", "distribution", "lifecycleState") if key not in body]
        if missing or body.get("lifecycleState") != "PUBLISHED":
            return 422, _input_error("FIELD_MISSING", f"missing {missing}"), {}
        problem = self._content_problem(body.get("content"), author)
        if problem:
            return 422, _input_error("INVALID_CONTENT", problem), {}
        day_ago = (self.now() - 86400) * 1000
        if any(p["author"] == author and p["commentary"] == body["commentary"] and p["createdAt"] > day_ago
               for p in self.posts):
            earlier = next(p["id"] for p in self.posts if p["commentary"] == body["commentary"])
            return 422, {"errorDetailType": "com.linkedin.common.error.BadRequest",
                         "message": f"com.linkedin.content.common.exception.BadRequestResponseException: Content "
                                    f"is a duplicate of {earlier}",
                         "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected",
                                                           "input": {}, "code": "DUPLICATE_POST"}]},
                         "status": 422}, {}
        urn = f"urn:li:share:{next(self._ids)}"
        moment = int(self.now() * 1000)
        post = {"id": urn, "author": author, "commentary": body["commentary"], "visibility": body["visibility"],
                "lifecycleState": "PUBLISHED", "createdAt": moment, "publishedAt": moment,
                "lastModifiedAt": moment, "shown": shown_text(body["commentary"])}
        if body.get("content"):
            post["content"] = body["content"]
        self.posts.append(post)
        return 201, None, {"x-restli-id": urn}

    def _content_problem(self, content: Any, author: str) -> str | None:
        if content is None:
            return None
        if "multiImage" in content:
            images = content["multiImage"].get("images") or []
            if not 2 <= len(images) <= 20:
                return "multiImage holds 2 to 20 images"
            ids = [image.get("id") for image in images]
        else:
            media = content.get("media") or {}
            ids = [media.get("id")]
            asset = self.assets.get(str(media.get("id")))
            if asset and asset.kind == "document" and not media.get("title"):
                return "a document post needs a title"
        for urn in ids:
            asset = self.assets.get(str(urn))
            if asset is None or asset.owner != author:
                return f"{urn} is not an asset of {author}"
            if asset.status != "AVAILABLE":
                return f"{urn} is {asset.status}"
        return None

    def _find_posts(self, request: Recorded, member: Member) -> tuple[int, Any, dict[str, str]]:
        if request.headers.get("x-restli-method", "").upper() != "FINDER":
            return 400, _error(400, "BAD_REQUEST", "a finder needs X-RestLi-Method: FINDER"), {}
        query = {key: values[0] for key, values in request.query.items()}
        author = query.get("author", "")
        if query.get("q") != "author":
            return 400, _error(400, "BAD_REQUEST", "q=author"), {}
        readable = ("r_member_social" in member.scopes if author == member.urn
                    else author.rsplit(":", 1)[-1] in member.organizations
                    and "r_organization_social" in member.scopes)
        if not readable:
            return 403, _error(403, "ACCESS_DENIED", "Not enough permissions to access: "
                                                     "partnerApiPostsExternal.FINDER-author.20260101"), {}
        posts = sorted((p for p in self.posts if p["author"] == author), key=lambda p: -p["lastModifiedAt"])
        count = int(query.get("count", "10"))
        elements = [{k: v for k, v in post.items() if k != "shown"} for post in posts[:count]]
        return 200, {"paging": {"start": 0, "count": count, "links": []}, "elements": elements}, {}

    def _comments(self, request: Recorded, member: Member, target: str) -> tuple[int, Any, dict[str, str]]:
        if request.method == "GET":
            return 200, {"paging": {"start": 0, "count": 10}, "elements": self.comments.get(target, [])}, {}
        body = request.json() or {}
        if not self._may_act_as(member, body.get("actor")):
            return 403, _error(403, "ACCESS_DENIED", "Not enough permissions to access: comments.CREATE"), {}
        if body.get("object") != target or not (body.get("message") or {}).get("text"):
            return 422, _input_error("FIELD_MISSING", "object and message.text"), {}
        number = next(self._ids)
        comment = {"actor": body["actor"], "object": target, "message": body["message"], "id": str(number),
                   "commentUrn": f"urn:li:comment:({target},{number})",
                   "created": {"time": int(self.now() * 1000), "actor": body["actor"]}}
        self.comments.setdefault(target, []).append(comment)
        return 201, comment, {"x-restli-id": str(number)}

    def _acls(self, request: Recorded, member: Member) -> tuple[int, Any, dict[str, str]]:
        if "rw_organization_admin" not in member.scopes:
            return 403, _error(403, "ACCESS_DENIED", "Not enough permissions to access: organizationAcls"), {}
        elements = [{"organization": f"urn:li:organization:{org}", "role": "ADMINISTRATOR", "state": "APPROVED",
                     "roleAssignee": member.urn} for org in member.organizations]
        return 200, {"paging": {"start": 0, "count": 100}, "elements": elements}, {}


def quote_urn(urn: str) -> str:
    from urllib.parse import quote

    return quote(urn, safe="")


def shown_text(commentary: str) -> str:
    """What LinkedIn shows of a little text: escapes removed, `#word` a hashtag, and the text cut at the first
    reserved character left unescaped (what LinkedIn does to such posts)."""
    shown: list[str] = []
    index = 0
    while index < len(commentary):
        char = commentary[index]
        if char == "\\" and index + 1 < len(commentary):
            shown.append(commentary[index + 1])
            index += 2
            continue
        if char == "#" and index + 1 < len(commentary) and commentary[index + 1].isalnum():
            shown.append(char)
        elif char in RESERVED:
            break
        else:
            shown.append(char)
        index += 1
    return "".join(shown)


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"status": status, "serviceErrorCode": 100 if status == 403 else 0, "code": code, "message": message}


def _input_error(code: str, description: str) -> dict[str, Any]:
    return {"errorDetailType": "com.linkedin.common.error.BadRequest", "message": description,
            "errorDetails": {"inputErrors": [{"description": description, "input": {}, "code": code}]},
            "status": 422}


def _rest_headers_refused(request: Recorded) -> tuple[int, Any, dict[str, str]] | None:
    if not VERSION.fullmatch(request.headers.get("linkedin-version", "")):
        return 400, _error(400, "VERSION_MISSING", "A version must be present. Please specify a version by "
                                                   "adding the LinkedIn-Version header."), {}
    if request.headers.get("x-restli-protocol-version") != "2.0.0":
        return 400, _error(400, "BAD_REQUEST", "X-Restli-Protocol-Version: 2.0.0 is required"), {}
    return None


def _handler_for(api: LinkedInApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorded = Recorded(self.command, split.path, parse_qs(split.query),
                                {key.lower(): value for key, value in self.headers.items()}, body)
            status, answer, headers = api.handle(recorded)
            if api.dropped(recorded):
                self.close_connection = True
                self.connection.close()
                return
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if answer is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler
