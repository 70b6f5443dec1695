"""A giveaway on a published Instagram post, end to end: comments arrive as signed Meta webhooks into the inbox,
each entry rule decides who enters, the list is frozen with a published commitment, the draw reveals the seed,
and docs/giveaway_verify.py recomputes the winners from the exported list (and catches a tampered one)."""
from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.core.ids import new_id
from chalicelib.publishing.post_repository import DeliveryRow, PostRow
from tests.support.events import load_event
from tests.support.factories import connect_sandbox, connect_verified, iso, make_post
from tests.support.http import Api
from tests.support.webhooks import Webhooks, as_bytes, drain_inbox

ROOT = Path(__file__).resolve().parents[3]
IG_USER_ID = "17841474524784050"
MEDIA_ID = "18172143295349192"
OPENS = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)

# (comment id, author id, username, text, hours after opening): each line tests one rule.
COMMENTS = [
    ("c01", "101", "ada", "I'm in! #HeraldGiveaway @bob @carol", 1),
    ("c02", "102", "bob", "#heraldgiveaway @ada @dave", 2),                       # any letter case
    ("c03", "101", "ada", "again #HeraldGiveaway @x @y", 3),                      # one entry per person
    ("c04", "103", "eve", "#HeraldGiveaway @ada", 4),                             # one mention, two asked
    ("c05", "104", "frank", "Love it @ada @bob", 5),                              # no hashtag
    ("c06", "105", "grace.x", "#HeraldGiveaway @a1 @a2", 6),                      # excluded
    ("c07", "106", "heidi", "#HeraldGiveaway @p1 @p2", 80),                       # after the window
    ("c08", "107", "ivan", "#HeraldGiveaway @heraldcoffee @ada", 8),              # the brand does not count
    ("c09", IG_USER_ID, "heraldcoffee", "#HeraldGiveaway @ada @bob good luck!", 9),  # the brand's own
    ("c10", "108", "judy", "#HeraldGiveaway @ada @bob", 10),
    ("c11", "110", "kim", "Count me in #HeraldGiveaway! @leo @judy", 11),
    ("c12", "111", "leo", "#HeraldGiveaway, @kim @ada", 12),
    ("c13", "112", "mallory", "#HeraldGiveawayFake @kim @ada", 13),               # not the hashtag
]


@pytest.fixture
def hooks(client: Any, clock: Any) -> Webhooks:
    return Webhooks(client, clock)


def comment_payload(comment_id: str, author_id: str, username: str, text: str, at: datetime) -> bytes:
    payload = copy.deepcopy(load_event("meta", "instagram_comment.json"))
    entry = payload["entry"][0]
    entry["time"] = int(at.timestamp())
    value = entry["changes"][0]["value"]
    value.update({"id": comment_id, "from": {"id": author_id, "username": username}, "text": text})
    value["media"]["id"] = MEDIA_ID
    value.pop("parent_id")
    return as_bytes(payload)


def published_post(deps: Any, workspace_id: str, channel_id: str) -> str:
    """A post Herald published on the channel (stored as the engine leaves it)."""
    now = deps.clock.now()
    post = PostRow(workspace_id, new_id("pst"), "Win a year of coffee! #HeraldGiveaway", "published",
                   [channel_id], now, now, timezone="UTC")
    delivery = DeliveryRow(workspace_id, post.post_id, channel_id, "instagram", "published", remote_id=MEDIA_ID,
                           remote_url=f"https://www.instagram.com/p/{MEDIA_ID}/", published_at=now)
    deps.post_repository.create(post, [delivery])
    return post.post_id


def verify(tmp_path: Path, entries: str, certificate: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "entries.csv").write_text(entries, encoding="utf-8", newline="")
    (tmp_path / "certificate.json").write_text(json.dumps(certificate), encoding="utf-8")
    return subprocess.run([sys.executable, str(ROOT / "docs" / "giveaway_verify.py"), str(tmp_path / "entries.csv"),
                           str(tmp_path / "certificate.json")], capture_output=True, text=True, check=False)


def test_a_giveaway_collects_entries_by_its_rules_and_draws_verifiably(
        api: Api, deps: Any, clock: Any, network_apis: Any, hooks: Webhooks, workspace: Any, client: Any,
        other_workspace: Any, tmp_path: Path) -> None:
    clock.set(OPENS - timedelta(hours=1))
    channel = connect_verified(api, network_apis, "instagram", IG_USER_ID, token="ig-token", name="Herald IG",
                               handle="heraldcoffee")
    post_id = published_post(deps, workspace.id, channel["id"])
    draft = make_post(api, [connect_sandbox(api)["id"]], text="not out yet")
    for comment_id, author, username, text, hours in COMMENTS:
        answer = hooks.post("meta", comment_payload(comment_id, author, username, text,
                                                     OPENS + timedelta(hours=hours)))
        assert answer.status_code == 200, answer.body
    drain_inbox(deps)

    body = {"name": "A year of coffee", "post_ids": [post_id], "starts_at": iso(OPENS), "ends_at": iso(CLOSES),
            "winners": 2, "alternates": 2,
            "rules": {"required_terms": ["#HeraldGiveaway"], "min_mentions": 2, "excluded_accounts": ["@grace.x"],
                      "not_verified": ["Follow @heraldcoffee", "Share the post to your story"]}}
    unpublished = api.post("/giveaways", {**body, "post_ids": [draft["id"]]})
    assert unpublished.status_code == 422
    assert unpublished.json["error"]["details"][0]["field"] == "post_ids.0"
    made = api.post("/giveaways", body)
    assert made.status_code == 201, made.body
    giveaway = made.json
    gid = giveaway["id"]
    assert giveaway["status"] == "open" and giveaway["entrant_count"] == 5
    assert giveaway["left_out"] == {"duplicates": 1, "too_few_mentions": 2, "missing_terms": 2, "excluded": 1,
                                    "outside_window": 1, "brand_own": 1}
    assert [r["rule"] for r in giveaway["rules"] if not r["verified"]] == ["Follow @heraldcoffee",
                                                                           "Share the post to your story"]

    before_draw = [api.post(f"/giveaways/{gid}/draw"), api.post(f"/giveaways/{gid}/freeze"),
                   api.get(f"/giveaways/{gid}/entries.csv")]
    assert [(a.status_code, a.json["error"]["code"]) for a in before_draw] == [
        (409, "not_frozen"), (409, "window_open"), (409, "not_frozen")]

    clock.set(CLOSES + timedelta(minutes=5))
    frozen = api.post(f"/giveaways/{gid}/freeze")
    assert frozen.status_code == 200, frozen.body
    commitment = frozen.json["commitment"]
    assert frozen.json["status"] == "frozen" and commitment["entrant_count"] == 5 and frozen.json["seed"] is None
    entries = api.get(f"/giveaways/{gid}/entries.csv")
    assert entries.status_code == 200 and entries.headers["Content-Type"].startswith("text/csv")
    entries_csv = entries.body.decode()
    assert [line.split(",")[1] for line in entries_csv.splitlines()[1:]] == [
        "instagram:101", "instagram:102", "instagram:108", "instagram:110", "instagram:111"]
    certificate_before = api.get(f"/giveaways/{gid}/certificate?format=json")
    assert certificate_before.json["seed"] is None and certificate_before.json["winners"] == []
    said_before = [frozen.body, certificate_before.body, api.get(f"/giveaways/{gid}").body,
                   api.get(f"/giveaways/{gid}/certificate?format=html").body]

    drawn = api.post(f"/giveaways/{gid}/draw")
    assert drawn.status_code == 200, drawn.body
    seed = drawn.json["seed"]
    assert hashlib.sha256(seed.encode()).hexdigest() == commitment["seed_sha256"]
    assert all(seed.encode() not in said for said in said_before)  # the seed never showed before the draw
    picks = drawn.json["winners"] + drawn.json["alternates"]
    assert [p["position"] for p in picks] == [1, 2, 3, 4] and len(drawn.json["winners"]) == 2
    assert len({p["entrant_id"] for p in picks}) == 4  # without replacement
    again = api.post(f"/giveaways/{gid}/draw")
    assert (again.status_code, again.json["error"]["code"]) == (409, "already_drawn")

    certificate = api.get(f"/giveaways/{gid}/certificate?format=json").json
    assert certificate["seed"] == seed and certificate["winners"] == drawn.json["winners"]
    assert certificate["entrant_count"] == 5 and certificate["commitment"] == commitment
    page = api.get(f"/giveaways/{gid}/certificate?format=html")
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert seed in html and drawn.json["winners"][0]["handle"] in html and "not verified" in html

    checked = verify(tmp_path, entries_csv, certificate)
    assert checked.returncode == 0, checked.stdout
    lines = entries_csv.splitlines(keepends=True)
    tampered = verify(tmp_path, "".join(lines[:2] + lines[3:]), certificate)  # one entrant left out
    assert tampered.returncode == 1 and "not the one committed to" in tampered.stdout
    swapped = {**certificate, "winners": list(reversed(certificate["winners"]))}
    assert verify(tmp_path, entries_csv, swapped).returncode == 1

    rival = Api(client, other_workspace.headers())
    for path in (f"/giveaways/{gid}", f"/giveaways/{gid}/certificate", f"/giveaways/{gid}/entries.csv"):
        assert rival.get(path).status_code == 404
    assert rival.post(f"/giveaways/{gid}/draw").status_code == 404
    assert [g["id"] for g in api.get("/giveaways").json["items"]] == [gid]


def test_a_freeze_that_lost_the_race_changes_nothing(api: Api, deps: Any, clock: Any, network_apis: Any,
                                                     workspace: Any) -> None:
    from chalicelib.giveaways.giveaway_repository import AlreadyChanged

    clock.set(OPENS)
    channel = connect_verified(api, network_apis, "instagram", IG_USER_ID, token="ig-token", handle="heraldcoffee")
    made = api.post("/giveaways", {"name": "Quick", "post_ids": [published_post(deps, workspace.id, channel["id"])],
                                   "starts_at": iso(OPENS), "ends_at": iso(OPENS + timedelta(hours=1))}).json
    stale = deps.giveaway_repository.get(workspace.id, made["id"])  # read while still open
    clock.set(OPENS + timedelta(hours=2))
    first = api.post(f"/giveaways/{made['id']}/freeze").json
    stale.status, stale.seed_sha256 = "frozen", "0" * 64
    with pytest.raises(AlreadyChanged):
        deps.giveaway_repository.replace_if(stale, "open")
    assert api.get(f"/giveaways/{made['id']}").json["commitment"] == first["commitment"]
    assert api.post(f"/giveaways/{made['id']}/freeze").json["error"]["code"] == "already_frozen"
