"""Short links through the API: made per channel when a post is saved, followed with UTM parameters,
counted without bots, unique visitors per day, conversions by API and pixel within the attribution window,
and the figures in /metrics/daily, the monthly report and best-times."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.settings import get_settings
from tests.functional.publishing.test_publishing import received, run_messages, sandbox
from tests.support.events import load_event
from tests.support.http import Api
from tests.support.queues import RecordingQueue

AGENTS = load_event("links", "user_agents.json")
BROWSER = AGENTS["browsers"]["firefox"]
# What Firefox sends for an <img> (https://developer.mozilla.org/en-US/docs/Web/HTTP/Content_negotiation/List_of_default_Accept_values)
IMAGE = {"User-Agent": BROWSER, "Accept": "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"}
TARGET = "https://shop.example/spring?ref=social"
BASE = get_settings().public_base_url


@pytest.fixture
def queue(deps):
    recording = RecordingQueue()
    deps.publish_queue = recording
    return recording


@pytest.fixture
def anonymous(client):
    return Api(client, {})


def shorten_everywhere(api, **more):
    answer = api.patch("/workspace", {"links": {"shorten": True, **more}})
    assert answer.status_code == 200, answer.body
    return answer.json["links"]


def post_with_link(api, clock, channels, seconds=90):
    publish_at = clock.now() + timedelta(seconds=seconds)
    answer = api.post(
        "/posts", {"text": f"Spring sale: {TARGET}.", "channel_ids": channels, "publish_at": to_rfc3339(publish_at)}
    )
    assert answer.status_code == 201, answer.body
    return answer.json


def code_of(delivery):
    return delivery["short_links"][0]["short_url"].rsplit("/", 1)[1]


def click(anonymous, code, agent=BROWSER, method="GET"):
    return anonymous.call(method, f"/l/{code}", headers={"User-Agent": agent})


def today(api, clock, channel=None):
    day = clock.now().date().isoformat()
    query = f"/metrics/daily?from={day}&to={day}" + (f"&channel_id={channel}" if channel else "")
    return api.get(query).json["days"][0]


def test_a_saved_post_gets_a_short_link_per_channel_and_publishes_it(deps, api, clock, queue):
    first, second = sandbox(api), sandbox(api)
    assert shorten_everywhere(api)["shorten"] is True
    post = post_with_link(api, clock, [first, second])
    codes = [code_of(d) for d in post["deliveries"]]
    assert len(set(codes)) == 2 and all(len(c) >= 7 and c.isalnum() for c in codes)
    for delivery, code in zip(post["deliveries"], codes, strict=True):
        assert delivery["short_links"][0]["url"] == TARGET
        assert delivery["text"] == f"Spring sale: {BASE}/l/{code}."
    assert post["text"] == f"Spring sale: {TARGET}."  # what the author wrote is kept

    edited = api.patch(
        f"/posts/{post['id']}", {"text": f"Spring sale, last days: {TARGET}", "version": post["version"]}
    )
    assert edited.status_code == 200, edited.body
    assert [code_of(d) for d in edited.json["deliveries"]] == codes  # what was shared keeps working

    clock.advance(seconds=90)
    deps.engine.publish_due_deliveries()
    run_messages(deps, queue, clock)
    assert [item["text"] for item in received(api, first)] == [f"Spring sale, last days: {BASE}/l/{codes[0]}"]


def test_a_channel_may_keep_its_links_as_they_are(api, clock):
    kept, shortened = sandbox(api), sandbox(api)
    shorten_everywhere(api, channels={kept: False})
    post = post_with_link(api, clock, [kept, shortened])
    by_channel = {d["channel_id"]: d for d in post["deliveries"]}
    assert by_channel[kept]["short_links"] == [] and TARGET in by_channel[kept]["text"]
    assert len(by_channel[shortened]["short_links"]) == 1


def test_without_the_setting_links_are_left_alone(api, clock):
    post = post_with_link(api, clock, [sandbox(api)])
    assert post["deliveries"][0]["short_links"] == []


def test_a_click_redirects_with_utm_and_counts_people_not_bots(api, anonymous, clock):
    channel = sandbox(api)
    shorten_everywhere(api, utm_campaign="spring-2026")
    post = post_with_link(api, clock, [channel])
    code = code_of(post["deliveries"][0])

    answer = click(anonymous, code)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example", "/spring")
    query = parse_qs(location.query)
    assert query["ref"] == ["social"]
    assert query["utm_source"] == ["sandbox"] and query["utm_medium"] == ["social"]
    assert query["utm_campaign"] == ["spring-2026"] and query["utm_content"] == [post["id"]]
    assert query["hcid"][0].startswith(code + ".")

    for agent in AGENTS["bots"].values():
        assert click(anonymous, code, agent).status_code == 302
    assert click(anonymous, code, method="HEAD").status_code == 405
    assert click(anonymous, code).status_code == 302  # the same visitor again
    assert click(anonymous, code, AGENTS["browsers"]["chrome"]).status_code == 302  # another one

    day = today(api, clock)
    assert (day["clicks"], day["unique_visitors"]) == (3, 2)
    assert day["traffic"] == [
        {
            "channel_id": channel,
            "code": code,
            "post_id": post["id"],
            "clicks": 3,
            "unique_visitors": 2,
            "conversions": 0,
            "conversion_value": 0,
        }
    ]
    assert today(api, clock, channel)["clicks"] == 3


def test_a_visitor_is_unique_again_the_next_day_and_nothing_personal_is_kept(deps, api, anonymous, clock):
    channel = sandbox(api)
    shorten_everywhere(api)
    code = code_of(post_with_link(api, clock, [channel])["deliveries"][0])
    click(anonymous, code)
    clock.advance(days=1)
    click(anonymous, code)
    assert today(api, clock)["unique_visitors"] == 1
    stored = deps.client("dynamodb").scan(TableName=deps.settings.table("links"))["Items"]
    text = repr(stored)
    assert BROWSER not in text and "127.0.0.1" not in text
    markers = [item for item in stored if item["link_key"]["S"].startswith("v#")]
    assert len(markers) == 2 and all("expires_at_epoch" in item for item in markers)


def test_an_unknown_code_is_a_404(anonymous):
    answer = click(anonymous, "Zz9Zz9Zz")
    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"


def test_a_conversion_by_click_id_counts_for_the_click_within_the_window(api, anonymous, clock, workspace, client):
    channel = sandbox(api)
    shorten_everywhere(api, attribution_window_days=7, currency="USD")
    post = post_with_link(api, clock, [channel])
    code = code_of(post["deliveries"][0])
    hcid = parse_qs(urlsplit(click(anonymous, code).headers["Location"]).query)["hcid"][0]
    editor = Api(client, workspace.headers("editor"))
    body = {
        "click_id": hcid,
        "value": 49.5,
        "currency": "USD",
        "occurred_at": to_rfc3339(clock.now()),
        "id": "order-1001",
    }

    made = editor.post("/conversions", body)
    assert made.status_code == 201, made.body
    assert made.json["attributed"] is True and made.json["post_id"] == post["id"]
    assert made.json["channel_id"] == channel
    again = editor.post("/conversions", body)
    assert again.status_code == 200 and again.json == made.json

    clock.advance(days=8)
    late = editor.post("/conversions", {**body, "id": "order-1002", "occurred_at": to_rfc3339(clock.now())})
    assert late.status_code == 201 and late.json["attributed"] is False and late.json["post_id"] is None

    first_day = (clock.now() - timedelta(days=8)).date().isoformat()
    day = api.get(f"/metrics/daily?from={first_day}&to={first_day}").json["days"][0]
    assert (day["clicks"], day["conversions"], day["conversion_value"], day["conversion_rate"]) == (1, 1, 49.5, 100)
    later = today(api, clock)
    assert (later["conversions"], later["conversions_unattributed"], later["conversion_value"]) == (1, 1, 49.5)
    assert later["traffic"][0]["channel_id"] == "workspace" and later["traffic"][0]["post_id"] is None


def test_a_conversion_is_refused_when_it_is_not_right(api, anonymous, clock, workspace, client, other_workspace):
    shorten_everywhere(api)
    code = code_of(post_with_link(api, clock, [sandbox(api)])["deliveries"][0])
    editor, viewer = Api(client, workspace.headers("editor")), Api(client, workspace.headers("viewer"))
    assert viewer.post("/conversions", {"link_code": code}).status_code == 403
    wrong = editor.post("/conversions", {"link_code": code, "currency": "USD", "value": 5})
    assert wrong.status_code == 422 and wrong.json["error"]["details"][0]["field"] == "currency"
    both = editor.post("/conversions", {"link_code": code, "click_id": "x.y.z"})
    assert both.status_code == 422
    forged = editor.post("/conversions", {"click_id": f"{code}.abc.AAAAAAAAAAAAAAAA"})
    assert forged.status_code == 422 and forged.json["error"]["details"][0]["field"] == "click_id"
    rival = Api(client, other_workspace.headers("editor"))
    assert rival.post("/conversions", {"link_code": code}).status_code == 404
    assert today(api, clock)["conversions"] == 0


def test_a_pixel_records_a_conversion_once_per_click(api, anonymous, clock):
    channel = sandbox(api)
    shorten_everywhere(api)
    code = code_of(post_with_link(api, clock, [channel], seconds=60)["deliveries"][0])
    hcid = parse_qs(urlsplit(click(anonymous, code).headers["Location"]).query)["hcid"][0]
    pixel = f"/l/{code}/pixel.gif?value=20&currency=EUR&cid={hcid}"
    first = anonymous.call("GET", pixel, headers=IMAGE)
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/gif"
    assert first.headers["X-Herald-Conversion"] == "recorded"
    assert anonymous.call("GET", pixel, headers=IMAGE).headers["X-Herald-Conversion"] == "duplicate"
    day = today(api, clock, channel)
    assert (day["conversions"], day["conversion_value"]) == (1, 20)

    clock.advance(days=9)  # the click is out of the window now
    out = anonymous.call("GET", f"/l/{code}/pixel.gif?value=5", headers=IMAGE)
    assert out.headers["X-Herald-Conversion"] == "recorded"
    assert today(api, clock)["conversions_unattributed"] == 1
    assert today(api, clock, channel)["conversions"] == 0


IMAGE_ACCEPT = load_event("links", "image_accept.json")


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        *((IMAGE_ACCEPT[name], 200) for name in ("chrome", "firefox_92", "firefox_128", "safari")),
        (IMAGE_ACCEPT["image_any"], 204),
        ("image/gif", 200),
        ("image/gif;q=0, image/png", 204),
        (None, 204),
    ],
)
def test_the_pixel_answers_every_browsers_img_with_a_success(api, anonymous, clock, accept, status):
    """Chalice refuses a binary body to an Accept that lists neither image/gif nor */* (a 400 after the
    conversion was recorded): such a request gets a 204 with no body instead."""
    channel = sandbox(api)
    shorten_everywhere(api)
    code = code_of(post_with_link(api, clock, [channel], seconds=60)["deliveries"][0])
    hcid = parse_qs(urlsplit(click(anonymous, code).headers["Location"]).query)["hcid"][0]
    pixel = f"/l/{code}/pixel.gif?value=20&currency=EUR&cid={hcid}"
    headers = {"User-Agent": BROWSER, **({"Accept": accept} if accept else {})}
    first = anonymous.call("GET", pixel, headers=headers)
    assert first.status_code == status and first.headers["X-Herald-Conversion"] == "recorded"
    if status == 200:
        assert first.headers["Content-Type"] == "image/gif" and first.body[:6] == b"GIF89a"
    else:
        assert first.body == b""
    again = anonymous.call("GET", pixel, headers=headers)
    assert (again.status_code, again.headers["X-Herald-Conversion"]) == (status, "duplicate")
    day = today(api, clock, channel)
    assert (day["conversions"], day["conversion_value"]) == (1, 20)


def test_the_link_settings_are_checked_and_merged(api, client, workspace):
    shorten_everywhere(api, currency="USD")
    for bad in (
        {"currency": "usd"},
        {"attribution_window_days": 0},
        {"attribution_window_days": 91},
        {"shorten": "yes please"},
        {"unknown": 1},
    ):
        answer = api.patch("/workspace", {"links": bad})
        assert answer.status_code == 422, (bad, answer.body)
    kept = api.patch("/workspace", {"links": {"channels": {"ch_a": False}}}).json["links"]
    assert (kept["shorten"], kept["currency"], kept["channels"]) == (True, "USD", {"ch_a": False})
    editor = Api(client, workspace.headers("editor"))
    assert editor.patch("/workspace", {"links": {"shorten": False}}).status_code == 403


def test_the_nightly_roll_up_keeps_each_links_day(deps, api, anonymous, clock):
    channel = sandbox(api)
    shorten_everywhere(api)
    post = post_with_link(api, clock, [channel])
    code = code_of(post["deliveries"][0])
    click(anonymous, code)
    click(anonymous, code, AGENTS["browsers"]["safari_iphone"])
    day = clock.now().date().isoformat()
    clock.advance(days=1)
    deps.rollup.run()
    rolled = api.get(f"/metrics/daily?from={day}&to={day}&channel_id={channel}").json["days"][0]
    assert rolled["rolled_up"] is True
    assert (rolled["clicks"], rolled["unique_visitors"]) == (2, 2)
    assert [t["code"] for t in rolled["traffic"]] == [code]
