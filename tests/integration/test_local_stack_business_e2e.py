"""Issue 17's "done when", on the local stack over real HTTP with the demo workspace's key: each of what the agency
sells works end to end and is in the monthly and quarterly reports. On one stack (module-scoped: started once,
the tests run in file order and build on each other), with a Mastodon fake (`tests/fakes/mastodon_server.py`)
as the channel whose profile differs from the brand and whose search the listening rules use, the X API fake
(`tests/fakes/x_api.py`) for X's recent search, the Bluesky fake over HTTP (`tests/fakes/bluesky_server.py`:
the in-memory PDS and AppView of `tests/fakes/bluesky.py` on 127.0.0.1, since the reference PDS has no
searchPosts) for app.bsky.feed.searchPosts, and the Marketing API fake (`tests/fakes/meta_ads.py`) for a
Meta ad account's insights:
- goals on traffic and conversions for this month and on traffic for this quarter, their progress and pace;
- links in a post's text shortened when it is saved, `GET /l/{code}` answering 302 with UTM parameters, a bot
  not counted, a conversion by its click id, all of it in `/metrics/daily` and in the goals' progress;
- the brand profile and the brand_consistency job (the command line against the stack's `.local/env`): the
  Mastodon channel's name, link, bio and avatar reported as differing;
- a brand and a competitor listening rule, the search_listening job: mentions found on Mastodon, then on an X
  channel connected through X's OAuth flow, then on a Bluesky channel (its PDS at the fake's address), where a
  post the next run finds again (searchPosts' `since` is inclusive) stays one mention, counted once;
- an ad campaign with results imported as CSV: CPC, CPM, CTR;
- a Meta campaign on a Facebook channel whose insights the ads_daily job reads, and a goal on ad spend
  efficiency (cost per conversion) over both campaigns;
- a second conversion through the pixel (`GET /l/{code}/pixel.gif?cid=`), attributed to the click's post;
- a giveaway on a published sandbox post whose comments fans write through the sandbox: a commitment before the
  draw, the draw, the certificate (json and html), the entrant list, and docs/giveaway_verify.py agreeing;
- the monthly report (json, html) and the quarterly one holding every part, share of voice per network
  (Bluesky, Mastodon, X) included.
Real time, the real engine and the real queues and streams: no injected clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from chalicelib.core.clock import SystemClock
from infra.local.ports import free_ports
from tests.fakes import x_api
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.bluesky_server import BlueskyServer
from tests.fakes.mastodon_server import MastodonFake
from tests.fakes.meta_ads import MetaAdsFake
from tests.support.brand_images import logo_png, other_picture
from tests.support.events import load_event
from tests.support.local_server import LocalServer
from tests.support.local_stack import REPO, eventually, local_stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

AGENTS = load_event("links", "user_agents.json")
TARGET = "https://shop.example/spring?ref=social"
# The operator's settings: Herald may reach the fakes on 127.0.0.1 (README, "Connecting accounts").
OPERATOR = {"HERALD_ALLOW_PRIVATE_URLS": "1"}
# (handle, text): who comments on the giveaway's post; the rules let in ada, bob and kim (ada once).
COMMENTS = [
    ("ada", "I'm in! #HeraldGiveaway @bob"),
    ("bob", "#heraldgiveaway @ada"),
    ("ada", "again #HeraldGiveaway @kim"),
    ("eve", "Love it @ada"),
    ("kim", "#HeraldGiveaway @eve @ada"),
]
# The Meta side: a Page token that reads one ad account and its campaign (tests/events/meta_ads/README.md).
PAGE_TOKEN, AD_ACCOUNT, META_CAMPAIGN = "page-token-e2e", "1234567890", "120210000000001"
X_USER, X_NAME = "2975699229", "heraldcoffee"
BLUESKY_HANDLE, BLUESKY_DID = "heraldcoffee.bsky.social", "did:plc:k3a6mqxwv2nfj7hbcy4zt5de"
IMG_ACCEPT = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"  # Firefox's, for an <img>


@dataclass
class Stack:
    api: str
    http: requests.Session
    state_dir: Path
    mastodon: MastodonFake
    images: LocalServer
    meta: MetaAdsFake
    x: x_api.XApi
    bluesky: BlueskyServer
    operator: dict[str, str]  # the operator's settings, for the stack and the command line alike
    timezone: str  # the workspace's
    today: date  # in the workspace's time zone
    sandbox: str = ""
    mastodon_channel: str = ""
    seen: dict[str, Any] = field(default_factory=dict)  # what one test leaves for the reports' test

    @property
    def month(self) -> str:
        return self.today.strftime("%Y-%m")

    @property
    def quarter(self) -> str:
        return f"{self.today.year}-Q{(self.today.month - 1) // 3 + 1}"

    def call(self, method: str, path: str, body: Any = None, expect: int = 200, **kwargs: Any) -> Any:
        answer = self.http.request(method, f"{self.api}{path}", json=body, timeout=10, **kwargs)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content and "json" in answer.headers.get("Content-Type", "") else answer

    def run_job(self, name: str) -> dict[str, Any]:
        """`python -m chalicelib.cli run-job NAME` from the operator's shell, the stack found through its
        `.local/env` (README, "Command line")."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "AWS_"))}
        env.update(self.operator)
        done = subprocess.run(
            [sys.executable, "-m", "chalicelib.cli", "--env-file", str(self.state_dir / "env"), "run-job", name],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def day(self) -> dict[str, Any]:
        today = self.today.isoformat()
        return dict(self.call("GET", f"/metrics/daily?from={today}&to={today}")["days"][0])

    def upload(self, filename: str, mime: str, data: bytes) -> str:
        upload = self.call("POST", "/media", {"filename": filename, "mime": mime, "size": len(data)}, expect=201)
        put = requests.request(
            upload["upload_method"], upload["upload_url"], data=data, headers=upload["upload_headers"], timeout=10
        )
        assert put.status_code == 200, put.text
        return str(upload["id"])

    def published(self, text: str) -> dict[str, Any]:
        """A post on the sandbox channel, published now and settled."""
        post = self.call("POST", "/posts", {"text": text, "channel_ids": [self.sandbox]}, expect=201)
        self.call("POST", f"/posts/{post['id']}/publish-now")

        def settled() -> dict[str, Any]:
            now = self.call("GET", f"/posts/{post['id']}")
            return dict(now) if now["status"] in ("published", "failed") else {}

        done = eventually(settled, f"post {post['id']} published", within_s=30)
        assert done["status"] == "published", done["deliveries"]
        return done


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("business-e2e")
    with ExitStack() as fakes:
        mastodon = fakes.enter_context(MastodonFake())
        images = fakes.enter_context(LocalServer())
        images.route("/other.jpg", body=other_picture(), content_type="image/jpeg")
        meta = fakes.enter_context(MetaAdsFake())
        x = fakes.enter_context(x_api.XApi(SystemClock()))
        bluesky = fakes.enter_context(BlueskyServer(FakeBluesky(BLUESKY_HANDLE, "e2e-app-pass", BLUESKY_DID)))
        operator = {
            **OPERATOR,
            "HERALD_META_GRAPH_URL": meta.graph_url,
            "HERALD_X_API_URL": x.url,
            "HERALD_X_CLIENT_ID": x_api.CLIENT_ID,
            "HERALD_X_CLIENT_SECRET": x_api.CLIENT_SECRET,
        }
        api = fakes.enter_context(
            local_stack(
                root / ".local",
                root / "stack.log",
                free_ports(2),
                app="app:app",
                ready_path="/health",
                extra_env=operator,
            )
        )
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {(root / '.local' / 'api-key').read_text().strip()}"
        timezone = http.get(f"{api}/workspace", timeout=10).json()["timezone"]
        yield Stack(
            api,
            http,
            root / ".local",
            mastodon,
            images,
            meta,
            x,
            bluesky,
            operator,
            timezone,
            datetime.now(ZoneInfo(timezone)).date(),
        )


def test_short_links_count_people_not_bots_and_a_conversion_and_the_goals_follow(stack: Stack) -> None:
    stack.sandbox = stack.call("POST", "/channels", {"network": "sandbox", "name": "Shop"}, expect=201)["id"]
    goals = [
        stack.call("POST", "/goals", body, expect=201)
        for body in (
            {"metric": "traffic", "target": 100, "period": "month", "month": stack.month},
            {"metric": "conversions", "target": 2, "period": "month", "month": stack.month},
            {"metric": "traffic", "target": 300, "period": "quarter", "quarter": stack.quarter},
        )
    ]
    assert [g["progress"]["value"] for g in goals] == [0, 0, 0]
    links = stack.call("PATCH", "/workspace", {"links": {"shorten": True, "utm_campaign": "spring"}})["links"]
    assert links["shorten"] is True

    post = stack.published(f"Spring sale: {TARGET}")
    [delivery] = post["deliveries"]
    [short] = delivery["short_links"]
    code = short["short_url"].rsplit("/", 1)[1]
    assert short["url"] == TARGET and delivery["text"] == f"Spring sale: {short['short_url']}"
    assert post["text"] == f"Spring sale: {TARGET}"  # what the author wrote is kept
    [sent] = stack.call("GET", f"/channels/{stack.sandbox}/sandbox/posts")["items"]
    assert sent["text"] == delivery["text"]  # what reached the network carries the short link

    def click(agent: str) -> requests.Response:  # a browser: no key
        return requests.get(f"{stack.api}/l/{code}", headers={"User-Agent": agent}, allow_redirects=False, timeout=10)

    answer = click(AGENTS["browsers"]["firefox"])
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert (location.netloc, location.path, query["ref"]) == ("shop.example", "/spring", ["social"])
    assert (query["utm_source"], query["utm_medium"], query["utm_campaign"], query["utm_content"]) == (
        ["sandbox"],
        ["social"],
        ["spring"],
        [post["id"]],
    )
    assert click(AGENTS["bots"]["facebook"]).status_code == 302  # a link preview: followed, not counted
    assert click(AGENTS["browsers"]["chrome"]).status_code == 302

    made = stack.call("POST", "/conversions", {"click_id": query["hcid"][0], "value": 40, "id": "order-1"}, expect=201)
    stack.seen.update(code=code, click_id=query["hcid"][0], post=post["id"])
    assert (made["attributed"], made["post_id"], made["channel_id"]) == (True, post["id"], stack.sandbox)

    day = stack.day()
    assert (day["clicks"], day["unique_visitors"], day["conversions"], day["conversion_value"]) == (2, 2, 1, 40)
    assert [(t["code"], t["clicks"], t["conversions"]) for t in day["traffic"]] == [(code, 2, 1)]
    progress = {(g["metric"], g["period"]["kind"]): g["progress"] for g in stack.call("GET", "/goals")["items"]}
    assert progress[("traffic", "month")]["value"] == 2 and progress[("traffic", "quarter")]["value"] == 2
    assert progress[("conversions", "month")]["value"] == 1
    assert all(p["pace"] in ("on_track", "behind", "ahead") for p in progress.values()), progress
    stack.seen["goals"] = {g["id"] for g in goals}


def test_the_brand_job_reports_where_a_channel_differs_from_the_brand(stack: Stack) -> None:
    logo = stack.upload("logo.png", "image/png", logo_png())
    stack.call(
        "PUT",
        "/brand",
        {
            "name": "Herald Coffee",
            "description": "Coffee, slowly.",
            "keywords": ["coffee", "Istanbul"],
            "website": "https://herald.coffee",
            "logo_media_id": logo,
        },
    )
    stack.mastodon.set_profile(
        display_name="Heraldo",
        note_html="<p>Roasting since 2019</p>",
        fields=[
            {
                "name": "Web",
                "value": '<a href="https://heraldo.example">https://heraldo.example</a>',
                "verified_at": None,
            }
        ],
        avatar=f"{stack.images.url}/other.jpg",
    )
    stack.mastodon_channel = stack.call(
        "POST",
        "/channels",
        {
            "network": "mastodon",
            "name": "Herald on Mastodon",
            "credentials": {"instance_url": stack.mastodon.url, "access_token": stack.mastodon.access_token},
        },
        expect=201,
    )["id"]
    assert stack.call("GET", "/brand/consistency")["checked_at"] is None

    summary = stack.run_job("brand_consistency")

    assert summary["failed"] == [] and summary["workspaces"] >= 1, summary
    checked = stack.call("GET", "/brand/consistency")
    assert checked["consistent"] is False and checked["checked_at"]
    [mastodon] = [c for c in checked["channels"] if c["channel_id"] == stack.mastodon_channel]
    assert [f["code"] for f in mastodon["findings"]] == [
        "name_mismatch",
        "link_mismatch",
        "bio_missing_keywords",
        "avatar_not_logo",
    ]
    assert [hit.path for hit in stack.images.hits] == ["/other.jpg"]  # the avatar, fetched by the job


def test_listening_searches_find_the_brand_and_a_competitor(stack: Stack) -> None:
    fan = stack.mastodon.add_account("bob", "remote.example")
    for text in (
        "Tried Herald today, lovely flat white",
        "Rival Roasters has a new blend",
        "queue at @rivalroast again",
        "Herald or Rival Roasters?",
    ):
        stack.mastodon.add_status(text, author=fan)
    brand = stack.call("POST", "/listening/rules", {"name": "Herald", "any_of": ["herald"], "search": True}, expect=201)
    rival = stack.call(
        "POST",
        "/listening/rules",
        {
            "name": "Rival",
            "any_of": [],
            "search": True,
            "kind": "competitor",
            "competitor": {"name": "Rival Roasters", "handles": ["@rivalroast"]},
        },
        expect=201,
    )

    summary = stack.run_job("search_listening")

    assert summary["failed"] == [] and summary["refused"] == [] and summary["mentions"] == 5, summary
    found = stack.call("GET", "/listening/mentions")["items"]
    by_rule = {rule: sorted(m["text"] for m in found if m["rule_id"] == rule) for rule in (brand["id"], rival["id"])}
    assert by_rule == {
        brand["id"]: ["Herald or Rival Roasters?", "Tried Herald today, lovely flat white"],
        rival["id"]: ["Herald or Rival Roasters?", "Rival Roasters has a new blend", "queue at @rivalroast again"],
    }
    assert {m["network"] for m in found} == {"mastodon"} and {m["source"] for m in found} == {"search"}
    assert len(stack.mastodon.requests_to("GET", "/api/v2/search")) >= 2


def test_an_x_channel_connected_by_oauth_searches_x_for_the_same_rules(stack: Stack) -> None:
    redirect = "https://app.herald.test/connected"
    started = stack.call("POST", "/channels/connect", {"network": "x", "redirect_uri": redirect}, expect=201)
    asked = parse_qs(urlsplit(started["authorize_url"]).query)
    code = stack.x.authorize(X_USER, X_NAME, code_challenge=asked["code_challenge"][0], redirect_uri=redirect)
    back = requests.get(
        f"{stack.api}/oauth/callback/x", params={"code": code, "state": started["state"]}, timeout=10
    )  # the person's browser, sent back by X: no key
    assert back.status_code == 200, back.text
    [channel] = stack.call(
        "POST", f"/channels/connect/{started['state']}/accounts", {"account_ids": [X_USER]}, expect=201
    )["channels"]
    stack.x.user("44", "ada")
    stack.x.post_as("44", "Tried Herald on X today")
    stack.x.post_as("44", "Rival Roasters opened next door")

    summary = stack.run_job("search_listening")

    assert summary["failed"] == [] and summary["refused"] == [] and summary["mentions"] == 2, summary
    on_x = sorted(m["text"] for m in stack.call("GET", "/listening/mentions")["items"] if m["network"] == "x")
    assert on_x == ["Rival Roasters opened next door", "Tried Herald on X today"]
    searched = stack.x.calls("GET", "/2/tweets/search/recent")
    assert searched and channel["network"] == "x" and stack.x.violations == []


def test_a_bluesky_channel_searches_bluesky_and_a_post_found_again_is_one_mention(stack: Stack) -> None:
    fake = stack.bluesky.bluesky
    channel = stack.call(
        "POST",
        "/channels",
        {
            "network": "bluesky",
            "name": "Herald on Bluesky",
            "credentials": {"service_url": stack.bluesky.url, "handle": fake.handle, "app_password": fake.password},
        },
        expect=201,
    )
    now = datetime.now(ZoneInfo("UTC"))
    posts = [
        stack.bluesky.add_search_post(text, handle="ada.bsky.social", display_name="Ada", indexed_at=at)
        for text, at in (
            ("Herald beans in my cup this morning", now - timedelta(seconds=2)),
            ("Rival Roasters pop-up on Saturday", now - timedelta(seconds=1)),
        )
    ]

    summary = stack.run_job("search_listening")

    assert summary["failed"] == [] and summary["refused"] == [] and summary["mentions"] == 2, summary
    urls = [f"https://bsky.app/profile/ada.bsky.social/post/{p['uri'].rsplit('/', 1)[1]}" for p in posts]
    assert on_bluesky(stack) == [
        ("Herald", "Herald beans in my cup this morning", "ada.bsky.social", urls[0]),
        ("Rival", "Rival Roasters pop-up on Saturday", "ada.bsky.social", urls[1]),
    ]
    first = stack.bluesky.calls("GET", "/xrpc/app.bsky.feed.searchPosts")
    assert sorted(r.arg("q") for r in first) == ['"Rival Roasters"', "@rivalroast", "herald"]
    assert all(r.headers["authorization"].startswith("Bearer ") and r.arg("since") is None for r in first)
    answered_before = len(fake.search_answers)

    again = stack.run_job("search_listening")  # each rule asks `since` its newest post: it comes back

    assert again["failed"] == [] and again["mentions"] == 0, again
    asked = stack.bluesky.calls("GET", "/xrpc/app.bsky.feed.searchPosts")[len(first) :]
    assert len(asked) == 3 and all(r.arg("since") for r in asked)
    assert {uri for page in fake.search_answers[answered_before:] for uri in page} == {p["uri"] for p in posts}
    assert len(on_bluesky(stack)) == 2  # found twice, listed once
    searches = {rule["name"]: rule["searches"]["bluesky"] for rule in stack.call("GET", "/listening/rules")["items"]}
    assert {name: (s["status"], s["found"]) for name, s in searches.items()} == {
        "Herald": ("ok", 0),
        "Rival": ("ok", 0),
    }
    assert channel["network"] == "bluesky" and stack.bluesky.violations == []


def on_bluesky(stack: Stack) -> list[tuple[str, str, str, str]]:
    return sorted(
        (m["rule_name"], m["text"], m["author"]["handle"], m["url"])
        for m in stack.call("GET", "/listening/mentions")["items"]
        if m["network"] == "bluesky"
    )


def test_an_ad_campaigns_csv_results_give_cpc_cpm_and_ctr(stack: Stack) -> None:
    first = stack.today.replace(day=1)
    campaign = stack.call(
        "POST",
        "/ads/campaigns",
        {
            "name": "TikTok spring",
            "network": "tiktok",
            "objective": "traffic",
            "audience": "Students, 18-24",
            "budget": {"total": 500, "daily": 50, "currency": "USD"},
            "start_date": first.isoformat(),
            "end_date": (first + timedelta(days=40)).isoformat(),
        },
        expect=201,
    )
    url = f"/ads/campaigns/{campaign['id']}/results"
    csv_body = f"date,impressions,clicks,spend,conversions\r\n{stack.today.isoformat()},4000,80,40.00,2\r\n"

    imported = stack.call("POST", url, data=csv_body.encode(), headers={"Content-Type": "text/csv; charset=utf-8"})

    assert imported["days_written"] == 1
    results = stack.call("GET", url)
    totals = results["totals"]
    assert (totals["impressions"], totals["clicks"], totals["spend"], totals["conversions"]) == (4000, 80, 40.0, 2)
    assert (totals["cpc"], totals["cpm"], totals["ctr"], totals["cost_per_conversion"]) == (0.5, 10.0, 2.0, 20.0)
    assert [(d["date"], d["source"]) for d in results["days"]] == [(stack.today.isoformat(), "csv")]
    stack.seen["campaign"] = campaign["id"]


def test_the_daily_ads_job_reads_a_meta_campaigns_insights_and_an_ad_spend_goal_follows(stack: Stack) -> None:
    yesterday = stack.today - timedelta(days=1)
    stack.meta.page(PAGE_TOKEN, "448242228374517", "Herald Coffee")
    stack.meta.ad_account(AD_ACCOUNT, tokens={PAGE_TOKEN}, currency="USD", timezone=stack.timezone)
    stack.meta.campaign(AD_ACCOUNT, META_CAMPAIGN)
    stack.meta.day(
        META_CAMPAIGN,
        yesterday,
        impressions=6000,
        reach=5000,
        clicks=120,
        spend="90.00",
        actions={"link_click": 110, "purchase": 3, "offsite_conversion.fb_pixel_purchase": 3},
    )
    page = stack.call(
        "POST",
        "/channels",
        {"network": "facebook", "name": "Herald Coffee", "credentials": {"page_access_token": PAGE_TOKEN}},
        expect=201,
    )["id"]
    meta = stack.call(
        "POST",
        "/ads/campaigns",
        {
            "name": "Meta spring",
            "objective": "sales",
            "source": "meta",
            "budget": {"total": 1000, "daily": 100, "currency": "USD"},
            "start_date": yesterday.isoformat(),
            "end_date": (stack.today + timedelta(days=30)).isoformat(),
            "meta": {"channel_id": page, "ad_account_id": f"act_{AD_ACCOUNT}", "campaign_id": META_CAMPAIGN},
        },
        expect=201,
    )
    # At most 25 USD per conversion over yesterday and today, both campaigns (the CSV's: 40 USD for 2).
    goal = stack.call(
        "POST",
        "/goals",
        {
            "metric": "ad_spend_efficiency",
            "target": 25,
            "currency": "USD",
            "period": "custom",
            "from": yesterday.isoformat(),
            "to": stack.today.isoformat(),
        },
        expect=201,
    )
    assert (goal["progress"]["value"], goal["progress"]["pace"]) == (20, "on_track")

    summary = stack.run_job("ads_daily")

    assert summary.get("synced") == 1 and "failed" not in summary, summary
    results = stack.call("GET", f"/ads/campaigns/{meta['id']}/results")
    assert [(d["date"], d["source"], d["conversions"]) for d in results["days"]] == [
        (yesterday.isoformat(), "meta", 3)
    ]  # a purchase once, never Meta's pixel duplicate too
    assert (results["totals"]["spend"], results["totals"]["cost_per_conversion"]) == (90.0, 30.0)
    [followed] = [g for g in stack.call("GET", "/goals")["items"] if g["id"] == goal["id"]]
    progress = followed["progress"]
    assert (progress["value"], progress["pace"], progress["behind_by"]) == (26, "behind", 1)  # 130 USD for 5
    assert stack.meta.violations == []
    stack.seen.update(ad_goal=goal["id"], meta_campaign=meta["id"])


def test_a_pixel_on_the_shops_page_records_a_conversion_for_the_clicks_post(stack: Stack) -> None:
    code, click_id = stack.seen["code"], stack.seen["click_id"]

    def pixel() -> requests.Response:  # an <img> on the thank-you page: no key
        return requests.get(
            f"{stack.api}/l/{code}/pixel.gif",
            params={"value": "12.5", "cid": click_id},
            headers={"User-Agent": AGENTS["browsers"]["firefox"], "Accept": IMG_ACCEPT},
            timeout=10,
        )

    seen, again = pixel(), pixel()  # the page reloaded

    assert (seen.status_code, seen.content[:6]) == (200, b"GIF89a"), seen.text
    assert seen.headers["Content-Type"] == "image/gif"
    assert (seen.headers["X-Herald-Conversion"], again.headers["X-Herald-Conversion"]) == ("recorded", "duplicate")
    day = stack.day()
    assert (day["conversions"], day["conversion_value"]) == (2, 52.5)
    [link] = day["traffic"]
    assert (link["code"], link["post_id"], link["channel_id"], link["conversions"]) == (
        code,
        stack.seen["post"],
        stack.sandbox,
        2,
    )


def verify(tmp_path: Path, entries: str, certificate: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "entries.csv").write_text(entries, encoding="utf-8", newline="")
    (tmp_path / "certificate.json").write_text(json.dumps(certificate), encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "docs" / "giveaway_verify.py"),
            str(tmp_path / "entries.csv"),
            str(tmp_path / "certificate.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_giveaway_on_fans_comments_draws_winners_the_documented_script_recomputes(
    stack: Stack, tmp_path: Path
) -> None:
    opens = datetime.now(ZoneInfo("UTC")) - timedelta(seconds=5)
    post = stack.published("Win a year of coffee! Comment with #HeraldGiveaway and a friend")
    for handle, text in COMMENTS:
        stack.call(
            "POST",
            f"/channels/{stack.sandbox}/sandbox/messages",
            {"text": text, "kind": "comment", "author_handle": handle, "author_name": handle.title()},
            expect=202,
        )

    body = {
        "name": "A year of coffee",
        "post_ids": [post["id"]],
        "winners": 1,
        "alternates": 1,
        "starts_at": opens.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ends_at": (datetime.now(ZoneInfo("UTC")) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rules": {"required_terms": ["#HeraldGiveaway"], "min_mentions": 1, "not_verified": ["Follow the brand"]},
    }
    gid = stack.call("POST", "/giveaways", body, expect=201)["id"]

    def counted() -> dict[str, Any]:  # the comments reach the inbox through its queue and its stream
        now = stack.call("GET", f"/giveaways/{gid}")
        return (
            dict(now)
            if (now["entrant_count"], now["left_out"].get("duplicates"), now["left_out"].get("missing_terms"))
            == (3, 1, 1)
            else {}
        )

    eventually(counted, "three entrants, a second comment and one without the hashtag left out", within_s=20)

    # The window closes: the list is frozen and its commitment shown, the seed not yet.
    def freeze() -> dict[str, Any]:
        answer = stack.http.post(f"{stack.api}/giveaways/{gid}/freeze", timeout=10)
        if answer.status_code == 409 and answer.json()["error"]["code"] == "window_open":
            return {}
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    frozen = eventually(freeze, "the entry window closed and the list frozen", within_s=10)
    commitment = frozen["commitment"]
    shown = stack.call("GET", f"/giveaways/{gid}")
    assert (shown["status"], shown["seed"], shown["commitment"]) == ("frozen", None, commitment)
    assert commitment["entrant_count"] == 3 and len(commitment["seed_sha256"]) == 64

    drawn = stack.call("POST", f"/giveaways/{gid}/draw")
    certificate = stack.call("GET", f"/giveaways/{gid}/certificate?format=json")
    page = stack.call("GET", f"/giveaways/{gid}/certificate?format=html")
    entries = stack.call("GET", f"/giveaways/{gid}/entries.csv")

    assert drawn["status"] == "drawn" and len(drawn["winners"]) == 1 and len(drawn["alternates"]) == 1
    assert (certificate["seed"], certificate["winners"], certificate["commitment"]) == (
        drawn["seed"],
        drawn["winners"],
        commitment,
    )
    assert page.headers["Content-Type"].startswith("text/html")
    assert drawn["seed"] in page.text and drawn["winners"][0]["handle"] in page.text and "not verified" in page.text
    assert entries.headers["Content-Type"].startswith("text/csv")
    handles = sorted(line.split(",")[2] for line in entries.text.splitlines()[1:])
    assert handles == ["ada", "bob", "kim"]
    checked = verify(tmp_path, entries.text, certificate)
    assert checked.returncode == 0, checked.stdout
    assert "verified" in checked.stdout
    forged = verify(
        tmp_path,
        entries.text,
        {**certificate, "winners": certificate["alternates"], "alternates": certificate["winners"]},
    )
    assert forged.returncode == 1, forged.stdout  # the script would catch other winners


def test_the_monthly_and_quarterly_reports_hold_every_part(stack: Stack) -> None:
    report = stack.call("GET", f"/reports/monthly?month={stack.month}")
    quarter = stack.call("GET", f"/reports/quarterly?quarter={stack.quarter}")
    pages = [
        stack.call("GET", f"/reports/{path}&format=html").text
        for path in (f"monthly?month={stack.month}", f"quarterly?quarter={stack.quarter}")
    ]

    yesterday = stack.today - timedelta(days=1)
    for figures in (report["figures"], quarter["figures"]):
        assert (figures["clicks"]["value"], figures["conversions"]["value"]) == (2, 2)
        assert figures["conversion_value"]["value"] == 52.5
    assert [p["conversions"] for p in report["traffic_posts"] if p["post_id"] == stack.seen["post"]] == [2]
    # the month's and the quarter's, and the ad goal's two days (yesterday may be last month: it overlaps)
    assert {g["id"] for g in report["goals"]} == stack.seen["goals"] | {stack.seen["ad_goal"]}
    traffic = {(g["metric"], g["progress"]["value"]) for g in quarter["goals"]}
    assert ("traffic", 2) in traffic and ("conversions", 2) in traffic
    for goals in (report["goals"], quarter["goals"]):
        [ad_goal] = [g for g in goals if g["id"] == stack.seen["ad_goal"]]
        assert (ad_goal["currency"], ad_goal["progress"]["value"], ad_goal["progress"]["pace"]) == ("USD", 26, "behind")
    for ads, first in (
        (report["ads"], stack.today.replace(day=1)),
        (quarter["ads"], date(stack.today.year, 3 * ((stack.today.month - 1) // 3) + 1, 1)),
    ):
        campaigns = {c["name"]: c for c in ads["campaigns"]}
        assert (campaigns["TikTok spring"]["cpc"], campaigns["TikTok spring"]["ctr"]) == (0.5, 2.0)
        meta_spend = 90.0 if yesterday >= first else 0.0  # yesterday's insights, when yesterday is in the period
        assert (campaigns["Meta spring"]["source"], campaigns["Meta spring"]["spend"]) == ("meta", meta_spend)
        assert [(t["currency"], t["spend"]) for t in ads["totals"]] == [("USD", 40.0 + meta_spend)]
    for voice in (report["share_of_voice"], quarter["share_of_voice"]):
        assert voice["brand"]["mentions"] == 4 and voice["competitors"][0]["mentions"] == 5, voice
        assert voice["competitors"][0]["name"] == "Rival Roasters"
        assert [row["network"] for row in voice["by_network"]] == ["bluesky", "mastodon", "x"]
        bluesky = voice["by_network"][0]  # its two posts, each searched twice, counted once
        assert (bluesky["brand"], [c["mentions"] for c in bluesky["competitors"]]) == (1, [1]), bluesky
    for brand in (report["brand_consistency"], quarter["brand_consistency"]):
        assert brand["consistent"] is False, brand
    for section in (
        "Goals (the 90-day review)",
        "Traffic and conversions",
        "<h2>Ads</h2>",
        "<h2>Share of voice</h2>",
        "<h2>Brand consistency</h2>",
        "TikTok spring",
        "Meta spring",
        "Rival Roasters",
        "ad_spend_efficiency",
        "26.00 USD",
        "behind by 1.00 USD",
    ):
        assert all(section in page for page in pages), section
