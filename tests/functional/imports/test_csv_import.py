"""CSV bulk import through the routes and the import worker: every row held to POST /posts's rules, bad rows
reported by line and column, the two modes, re-uploads, and CSVs as Excel saves them."""
from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

import pytest

from chalicelib.imports.imports import ImportService, derived_post_id
from tests.support.events import event_bytes
from tests.support.factories import connect_sandbox
from tests.support.http import Api
from tests.support.imports import announce, import_csv, run_imports, upload

HEADER = ["text", "channels", "publish_at", "media"]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def all_posts(api: Api, **query: str) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = []
    cursor = ""
    while True:
        params = "&".join(f"{k}={v}" for k, v in {**query, "limit": "100"}.items())
        page = api.get(f"/posts?{params}" + (f"&cursor={cursor}" if cursor else "")).json
        posts += page["items"]
        if not page["next_cursor"]:
            return posts
        cursor = page["next_cursor"]


def deps_workspace(api: Api) -> str:
    return str(api.get("/workspace").json["id"])


@pytest.fixture
def channels(api: Api) -> dict[str, dict[str, Any]]:
    return {"en": connect_sandbox(api, "Brand EN"), "tr": connect_sandbox(api, "Marka TR")}


def good_row(n: int) -> list[str]:
    return [f"Post number {n}", "Brand EN" if n % 2 else "Marka TR|Brand EN", f"2026-03-{10 + n % 15:02d} 09:00", ""]


def test_a_thousand_rows_with_five_bad_ones_report_exactly_those_five_by_line_and_column(
        api: Api, deps: Any, channels: dict[str, Any]) -> None:
    rows = [good_row(n) for n in range(1000)]
    bad = {42: (["Hello", "Nope", "", ""], "channels", "no channel Nope in this workspace"),
           150: (["x" * 5001, "Brand EN", "", ""], "text", "sandbox allows 5000"),
           333: (["Late", "Brand EN", "2026-01-01T00:00:00Z", ""], "publish_at", "more than 60 seconds in the past"),
           600: (["When?", "Brand EN", "next tuesday", ""], "publish_at", "RFC 3339"),
           999: (["Picture", "Brand EN", "", "http://cdn.example.com/a.jpg"], "media", "https://")}
    for line, (row, _column, _reason) in bad.items():
        rows[line - 2] = row  # line 1 is the header

    data = csv_bytes(rows)

    report = import_csv(api, deps, data)

    assert (report["status"], report["rows_read"], report["valid"], report["invalid"], report["created"]) == \
        ("done", 1000, 995, 5, 995)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(line, c) for line, (_r, c, _m) in bad.items()]
    for error, (_row, _column, reason) in zip(report["errors"], bad.values(), strict=True):
        assert reason in error["reason"], error
    # Each line's post has the id its line and the file derive (listing 995 posts on moto takes a minute).
    sha = hashlib.sha256(data).hexdigest()
    for line in (2, 43, 500, 1001):
        post = api.get(f"/posts/{derived_post_id(deps_workspace(api), sha, line)}")
        assert (post.status_code, post.json["text"]) == (200, rows[line - 2][0])
    for line in bad:
        assert api.get(f"/posts/{derived_post_id(deps_workspace(api), sha, line)}").status_code == 404


def test_all_or_nothing_makes_nothing_while_one_row_is_bad_and_everything_once_it_is_fixed(
        api: Api, deps: Any, channels: dict[str, Any]) -> None:
    rows = [good_row(n) for n in range(20)]
    rows[7] = ["", "Brand EN", "", ""]

    rejected = import_csv(api, deps, csv_bytes(rows), mode="all_or_nothing")

    assert (rejected["status"], rejected["valid"], rejected["invalid"], rejected["created"]) == ("rejected", 19, 1, 0)
    assert rejected["errors"] == [{"line": 9, "column": "text", "reason": "is empty and the post has no media"}]
    assert all_posts(api) == []

    rows[7] = ["Fixed", "Brand EN", "", ""]
    done = import_csv(api, deps, csv_bytes(rows), mode="all_or_nothing")
    assert (done["status"], done["valid"], done["invalid"], done["created"]) == ("done", 20, 0, 20)
    assert len(all_posts(api)) == 20


def test_uploading_the_same_file_again_makes_no_second_post(api: Api, deps: Any, channels: dict[str, Any]) -> None:
    data = csv_bytes([good_row(n) for n in range(10)])

    first = import_csv(api, deps, data)
    again = import_csv(api, deps, data)

    assert (first["created"], first["existing"]) == (10, 0)
    assert (again["status"], again["valid"], again["created"], again["existing"]) == ("done", 10, 0, 10)
    assert len(all_posts(api)) == 10


@pytest.mark.parametrize("fixture", ["excel_utf8_bom_semicolon.csv", "excel_cp1254_semicolon.csv",
                                     "excel_utf16_tab.txt", "excel_utf8_bom_comma.csv"])
def test_csvs_as_excel_saves_them_are_read_with_their_turkish_letters_and_quoted_newlines(
        api: Api, deps: Any, channels: dict[str, Any], fixture: str) -> None:
    assert api.patch("/workspace", {"timezone": "Europe/Istanbul"}).status_code == 200

    report = import_csv(api, deps, event_bytes("imports", fixture))

    assert (report["status"], report["rows_read"], report["created"], report["errors"]) == ("done", 3, 3, [])
    by_text = {post["text"]: post for post in all_posts(api)}
    assert set(by_text) == {"Yeni sezon başladı: ğüşıöç İĞÜŞÖÇ", "İki satırlık\nbir gönderi; noktalı virgülle",
                            "Taslak: fiyat 1.299,90 TL"}
    first = by_text["Yeni sezon başladı: ğüşıöç İĞÜŞÖÇ"]
    assert (first["status"], first["publish_at"], first["channel_ids"]) == \
        ("scheduled", "2026-03-10T06:00:00Z", [channels["tr"]["id"]])  # 09:00 in Istanbul
    second = by_text["İki satırlık\nbir gönderi; noktalı virgülle"]
    assert second["channel_ids"] == [channels["tr"]["id"], channels["en"]["id"]]
    assert second["media"][0]["url"] == "https://cdn.example.com/kampanya.jpg"
    draft = by_text["Taslak: fiyat 1.299,90 TL"]
    assert draft["status"] == "draft"
    assert draft["variants"] == {channels["en"]["id"]: {"text": "Sandbox için kısa metin"}}


def test_a_row_whose_time_is_queue_takes_the_channels_next_free_slot(
        api: Api, deps: Any, channels: dict[str, Any]) -> None:
    slots = {"slots": [{"weekday": "wednesday", "time": "10:00"}]}
    assert api.call("PUT", f"/channels/{channels['en']['id']}/queue", slots).status_code == 200
    report = import_csv(api, deps, csv_bytes([["Queued", "Brand EN", "queue", ""]]))

    assert (report["status"], report["created"], report["errors"]) == ("done", 1, [])
    [post] = all_posts(api)
    assert post["status"] == "scheduled" and post["publish_at"] is not None


def test_a_file_with_an_unknown_column_is_refused_whole_and_makes_nothing(
        api: Api, deps: Any, channels: dict[str, Any]) -> None:
    report = import_csv(api, deps, csv_bytes([["Hi", "Brand EN", "", "", "x"]], header=[*HEADER, "txet:x"]))

    assert report["status"] == "failed"
    assert "'txet:x'" in report["problem"]
    assert all_posts(api) == []


def test_starting_before_the_upload_or_twice_is_a_conflict_and_another_workspace_sees_nothing(
        api: Api, deps: Any, channels: dict[str, Any], client: Any, other_workspace: Any) -> None:
    data = csv_bytes([good_row(1)])
    announced = announce(api, data)

    early = api.post(f"/posts/imports/{announced['id']}/start")
    assert (early.status_code, early.json["error"]["code"]) == (409, "not_uploaded")

    upload(announced, data)
    assert api.post(f"/posts/imports/{announced['id']}/start").status_code == 202
    twice = api.post(f"/posts/imports/{announced['id']}/start")
    assert (twice.status_code, twice.json["error"]["code"]) == (409, "already_started")
    run_imports(deps)

    other = Api(client, other_workspace.headers())
    assert other.get(f"/posts/imports/{announced['id']}").status_code == 404
    assert other.post(f"/posts/imports/{announced['id']}/start").status_code == 404


def test_an_announcement_with_an_unknown_mode_is_refused(api: Api) -> None:
    answer = api.post("/posts/imports", {"filename": "a.csv", "size": 10, "mode": "some"})
    assert (answer.status_code, answer.json["error"]["details"][0]["field"]) == (422, "mode")


def test_an_import_worked_in_chunks_counts_each_row_once_when_sqs_delivers_a_message_twice(
        api: Api, deps: Any, clock: Any, channels: dict[str, Any]) -> None:
    steps: list[tuple[str, str]] = []
    service = ImportService(deps.import_repository, deps.posts, deps.client("s3"), deps.settings.media_bucket,
                            lambda workspace_id, import_id: steps.append((workspace_id, import_id)), clock,
                            chunk_rows=3)
    rows = [good_row(n) for n in range(8)]
    rows[4] = ["", "Brand EN", "", ""]
    data = csv_bytes(rows)
    announced = service.create(deps_workspace(api), "posts.csv", len(data), "all_or_nothing")
    upload(announced, data)
    service.start(deps_workspace(api), announced["id"])

    ran = 0
    while steps:
        step = steps.pop(0)
        service.run_step(*step)
        service.run_step(*step)  # the same message again
        ran += 1

    report = api.get(f"/posts/imports/{announced['id']}").json
    assert (report["status"], report["rows_read"], report["valid"], report["invalid"]) == ("rejected", 8, 7, 1)
    assert report["errors"] == [{"line": 6, "column": "text", "reason": "is empty and the post has no media"}]
    assert ran >= 3  # 8 rows, 3 a message
    assert all_posts(api) == []
