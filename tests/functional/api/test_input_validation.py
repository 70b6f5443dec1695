"""Poison input through the API: every field of one kind answers the same, a 422 naming the field,
and nothing is stored. The rules live in chalicelib/core/fields.py."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.factories import connect_sandbox, iso, make_post
from tests.support.http import Api


@pytest.fixture
def channel(api: Api) -> str:
    return connect_sandbox(api)["id"]


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.body
    assert response.json["error"]["code"] == "validation_failed"
    assert field in [d["field"] for d in response.json["error"]["details"]], response.json


# -- lone surrogates -----------------------------------------------------------------------------


def test_a_lone_surrogate_in_post_text_or_a_variant_is_a_422_naming_the_field(api, channel):
    refused(api.post("/posts", {"text": "a\ud800b", "channel_ids": [channel]}), "text")
    refused(api.post("/posts", {"text": "ok", "channel_ids": [channel],
                                "variants": {channel: {"text": "a\udfffb"}}}), f"variants.{channel}.text")
    refused(api.post("/posts", {"text": "ok", "channel_ids": [channel], "variants": {"\ud83d": {}}}), "variants")
    assert api.get("/posts").json["items"] == []


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("PATCH", "/workspace", {"name": "Acme \ud800"}, "name"),
    ("POST", "/saved-replies", {"name": "Thanks", "text": "Merci \udc00"}, "text"),
    ("POST", "/saved-replies", {"name": "\ud800", "text": "Merci"}, "name"),
    ("POST", "/listening/rules", {"name": "Brand", "any_of": ["herald", "\ud800"]}, "any_of.1"),
    ("PATCH", "/inbox/conversations/cnv_x", {"tags": ["\ud800"]}, "tags.0"),
    ("POST", "/inbox/conversations/cnv_x/reply", {"text": "Hi \ud800"}, "text"),
    ("POST", "/channels", {"network": "sandbox", "name": "S", "settings": {"a": {"\ud800": 1}}}, "settings.a"),
])
def test_a_lone_surrogate_anywhere_in_a_body_is_a_422(api, method, path, body, field):
    refused(api.call(method, path, body), field)


def test_query_models_refuse_a_lone_surrogate_too():
    """A query string cannot carry one through Chalice's decoding (it replaces bad UTF-8), but an
    event built some other way could: every request model checks every field."""
    from pydantic import ValidationError

    from chalicelib.inbox.schemas import ConversationQuery

    with pytest.raises(ValidationError) as raised:
        ConversationQuery.model_validate({"channel_id": "ch_\ud800"})
    assert [e["loc"] for e in raised.value.errors()] == [("channel_id",)]


# -- months, quarters and days -----------------------------------------------------------------------


ARABIC_MONTH = "\u0662\u0660\u0662\u0666-\u0660\u0663"  # ٢٠٢٦-٠٣
BAD_MONTHS = ["0000-01", "9999-12", "0001-01", "1999-12", "2101-01", ARABIC_MONTH, "\u0662\u0660\u0662\u0666-03",
              "2026-\u0660\u0663", "\uff12\uff10\uff12\uff16-03", "2026-03 ", "+2026-03"]


@pytest.mark.parametrize("month", BAD_MONTHS)
def test_a_month_out_of_range_or_in_other_digits_is_a_422(api, month):
    refused(api.get(f"/calendar?month={quote(month)}"), "month")
    refused(api.get(f"/reports/monthly?month={quote(month)}"), "month")


@pytest.mark.parametrize("quarter", ["0000-Q1", "9999-Q4", "1999-Q4", "2101-Q1", "\u0662\u0660\u0662\u0666-Q1",
                                     "2026-Q\u0661", "2026-q1"])
def test_a_quarter_out_of_range_or_in_other_digits_is_a_422(api, quarter):
    refused(api.get(f"/reports/quarterly?quarter={quote(quarter)}"), "quarter")


@pytest.mark.parametrize("month", ["2000-01", "2100-12"])
def test_the_first_and_last_supported_months_answer(api, channel, month):
    assert api.get(f"/calendar?month={month}").status_code == 200
    for fmt in ("json", "csv", "html"):
        response = api.get(f"/reports/monthly?month={month}&format={fmt}")
        assert response.status_code == 200, (fmt, response.body)


@pytest.mark.parametrize("quarter", ["2000-Q1", "2100-Q4"])
def test_the_first_and_last_supported_quarters_answer(api, channel, quarter):
    response = api.get(f"/reports/quarterly?quarter={quarter}")
    assert response.status_code == 200, response.body


def test_the_first_and_last_supported_days_answer(api, channel):
    for first, last in (("2000-01-01", "2000-01-31"), ("2100-12-01", "2100-12-31")):
        response = api.get(f"/metrics/daily?from={first}&to={last}&channel_id={channel}")
        assert response.status_code == 200, response.body
        assert len(response.json["days"]) == 31


@pytest.mark.parametrize(("query", "field"), [
    ("from=0001-01-01&to=0001-01-02", "from"),
    ("from=2026-03-01&to=9999-12-31", "to"),
    ("from=1999-12-31&to=2000-01-01", "from"),
    ("from=2100-12-31&to=2101-01-01", "to"),
    ("from=" + quote("\u0662\u0660\u0662\u0666-03-01") + "&to=2026-03-02", "from"),
    ("from=2026-03-01T00:00:00&to=2026-03-02", "from"),
    ("from=0&to=2026-03-02", "from"),
    ("from=2026-02-30&to=2026-03-02", "from"),
])
def test_a_day_out_of_range_or_not_plain_is_a_422(api, query, field):
    refused(api.get(f"/metrics/daily?{query}"), field)


@pytest.mark.parametrize("value", ["1700000000", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                   "2026-03-05T10:00:00", "2026-03-05", "\u0662\u0660\u0662\u0666-03-05T10:00:00Z"])
def test_a_post_listing_bound_must_be_an_rfc3339_instant_in_range(api, value):
    refused(api.get(f"/posts?from={quote(value)}"), "from")
    refused(api.get(f"/posts?to={quote(value)}"), "to")


# -- time zones ------------------------------------------------------------------------------------


@pytest.mark.parametrize("timezone", ["A" * 10_000, "Europe/" + "x" * 300, "localtime", "posixrules", "Factory",
                                      "europe/paris", "Europe/Paris\x00", "posix/Europe/Paris", 2, ""])
def test_a_time_zone_is_a_bounded_iana_name(api, timezone):
    before = api.get("/workspace").json
    refused(api.patch("/workspace", {"timezone": timezone}), "timezone")
    assert api.get("/workspace").json == before


def test_every_iana_zone_is_accepted(api):
    for timezone in ("Europe/Paris", "America/Argentina/ComodRivadavia", "Etc/GMT+5", "UTC", "Asia/Kolkata"):
        response = api.patch("/workspace", {"timezone": timezone})
        assert response.status_code == 200, response.body
        assert api.get("/calendar?month=2026-03").json["timezone"] == timezone


# -- control characters ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\x00b", "ring\x07", "\x1b[31mred", "a\rb", "del\x7f", "c1\x85", "bs\x08"])
def test_control_characters_in_post_text_are_refused(api, channel, text):
    refused(api.post("/posts", {"text": text, "channel_ids": [channel]}), "text")
    refused(api.post("/posts", {"text": "ok", "channel_ids": [channel], "variants": {channel: {"text": text}}}),
            f"variants.{channel}.text")
    assert api.get("/posts").json["items"] == []


def test_post_text_keeps_line_feeds_and_tabs_and_stores_crlf_as_lf(api, channel):
    post = make_post(api, [channel], text="Line one\r\nLine two\n\tindented")
    assert api.get(f"/posts/{post['id']}").json["text"] == "Line one\nLine two\n\tindented"


@pytest.mark.parametrize("name", ["Acme\nInc", "Acme\r", "Tab\there", "Bell\x07", "Nul\x00", "Esc\x1b",
                                  "Sep\u2028arated", "   ", "\u3000\xa0", ""])
def test_a_name_is_one_non_blank_line(api, name):
    before = api.get("/workspace").json
    refused(api.patch("/workspace", {"name": name}), "name")
    refused(api.post("/saved-replies", {"name": name, "text": "Thanks"}), "name")
    refused(api.post("/listening/rules", {"name": name, "any_of": ["herald"]}), "name")
    refused(api.post("/listening/rules", {"name": "Brand", "any_of": [name]}), "any_of.0")
    refused(api.patch("/inbox/conversations/cnv_x", {"tags": [name]}), "tags.0")
    refused(api.get(f"/inbox/conversations?tag={quote(name)}"), "tag")
    assert api.get("/workspace").json == before


def test_a_name_is_stored_without_its_surrounding_spaces(api):
    assert api.patch("/workspace", {"name": "  Acme Europe \u3000"}).json["name"] == "Acme Europe"
    assert api.post("/saved-replies", {"name": " Thanks ", "text": "Merci"}).json["name"] == "Thanks"


def test_a_name_limit_counts_what_was_sent(api):
    refused(api.patch("/workspace", {"name": "a" * 101}), "name")
    assert api.patch("/workspace", {"name": "é" * 100}).status_code == 200


# -- publish_at and version --------------------------------------------------------------------------


@pytest.mark.parametrize("publish_at", [1_900_000_000, "1900000000", 1.9e9, True, "2026-03-05T10:00:00",
                                        "2026-03-05", "2026-03-05 10:00:00Z", "9999-12-31T23:59:59Z",
                                        "2026-03-05T10:00Z", "2026-13-05T10:00:00Z"])
def test_publish_at_is_an_rfc3339_string_with_its_offset(api, channel, clock, publish_at):
    refused(api.post("/posts", {"text": "Hi", "channel_ids": [channel], "publish_at": publish_at}), "publish_at")
    post = make_post(api, [channel], status="draft")
    refused(api.post(f"/posts/{post['id']}/schedule", {"publish_at": publish_at}), "publish_at")
    refused(api.patch(f"/posts/{post['id']}", {"publish_at": publish_at, "version": 1}), "publish_at")


def test_publish_at_takes_an_offset_or_lower_case_letters(api, channel, clock):
    soon = clock.now() + timedelta(hours=3)
    for sent, stored in ((soon.strftime("%Y-%m-%dT%H:%M:%S+01:00"), soon - timedelta(hours=1)),
                         (soon.strftime("%Y-%m-%dt%H:%M:%S.250z"), soon + timedelta(milliseconds=250))):
        response = api.post("/posts", {"text": "Hi", "channel_ids": [channel], "publish_at": sent})
        assert response.status_code == 201, response.body
        assert response.json["publish_at"] == iso(stored)


def test_an_edit_must_name_the_version_it_was_made_from(api, channel, clock):
    post = make_post(api, [channel], clock.now() + timedelta(hours=3))
    refused(api.patch(f"/posts/{post['id']}", {"text": "No version"}), "version")
    refused(api.patch(f"/posts/{post['id']}", {"text": "Null version", "version": None}), "version")
    refused(api.patch(f"/posts/{post['id']}", {"text": "Text version", "version": "1"}), "version")
    assert api.get(f"/posts/{post['id']}").json["text"] == "Hello"
    edited = api.patch(f"/posts/{post['id']}", {"text": "Edited", "version": 1})
    assert edited.status_code == 200 and edited.json["version"] == 2
    stale = api.patch(f"/posts/{post['id']}", {"text": "Stale", "version": 1})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "version_conflict"


# -- one answer for another workspace's channel --------------------------------------------------------


def test_another_workspaces_channel_is_not_found_on_every_channel_filter(client, api, channel, other_workspace):
    theirs = connect_sandbox(Api(client, other_workspace.headers()))["id"]
    for path in ("/posts?channel_id={}", "/inbox/conversations?channel_id={}",
                 "/metrics/daily?from=2026-03-01&to=2026-03-02&channel_id={}"):
        for channel_id in (theirs, "ch_nothing"):
            response = api.get(path.format(channel_id))
            assert response.status_code == 404, (path, response.body)
            assert response.json["error"]["code"] == "not_found"
        assert api.get(path.format(channel)).status_code == 200, path


@pytest.mark.parametrize("limit", ["%2050", "5_0", "%2B50", "50.0", quote("\u0665\u0660"), "0", "101"])
def test_a_page_size_is_ascii_digits_from_1_to_100(api, limit):
    for path in ("/posts", "/channels", "/inbox/conversations", "/saved-replies", "/listening/mentions"):
        refused(api.get(f"{path}?limit={limit}"), "limit")


def test_the_last_supported_instant_can_be_scheduled_and_listed(api, channel):
    for last in ("2100-12-31T23:59:59Z", "2100-12-31T23:59:59-12:00"):
        response = api.post("/posts", {"text": "Far", "channel_ids": [channel], "publish_at": last})
        assert response.status_code == 201, response.body
    listed = api.get("/posts?from=2000-01-01T00:00:00Z&to=" + quote("2100-12-31T23:59:59-12:00"))
    assert listed.status_code == 200, listed.body
    assert len(listed.json["items"]) == 2
    assert api.get("/calendar?month=2100-12").json["days"][30]["posts"] != []
