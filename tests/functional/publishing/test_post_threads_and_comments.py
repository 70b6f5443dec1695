"""The post model's threads, first comments and per-network options: checked when the post is saved by each
target network's own rules (a 422 naming the network and the field), stored, and shown with each delivery's
thread parts, first comment and warnings."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.wiring import Container, use_container
from tests.support.network_publishing import JPEG, PDF, Fakes, connect, container_for, network_fakes, upload


@pytest.fixture
def fakes(clock: Any) -> Any:
    with network_fakes(clock) as started:
        yield started


@pytest.fixture
def deps(aws: dict[str, Any], clock: Any, fakes: Fakes) -> Container:
    return use_container(container_for(aws, clock, fakes))


def refused(answer: Any) -> list[dict[str, Any]]:
    assert answer.status_code == 422, answer.body
    return list(answer.json["error"]["details"])


@pytest.mark.parametrize(("network", "body", "field"), [
    ("facebook", {"thread": [{"text": "a second part"}]}, "thread"),
    ("linkedin", {"thread": [{"text": "a second part"}]}, "thread"),
    ("x", {"first_comment": "link in the first comment"}, "first_comment"),
    ("threads", {"first_comment": "link in the first comment"}, "first_comment"),
])
def test_a_thread_or_first_comment_where_the_network_has_none_is_refused_naming_it(
        api, fakes, network, body, field):
    channel = connect(api, fakes, network)

    details = refused(api.post("/posts", {"text": "Hello", "channel_ids": [channel], **body}))

    assert [(d["network"], d["field"]) for d in details] == [(network, field)]
    assert api.get("/posts").json["items"] == []


def test_a_thread_part_is_checked_by_the_network_and_named_by_its_place(api, fakes):
    x = connect(api, fakes, "x")
    threads = connect(api, fakes, "threads")

    details = refused(api.post("/posts", {"text": "Hello", "channel_ids": [x, threads],
                                          "thread": [{"text": "fine"}, {"text": "y" * 501}]}))

    assert {(d["network"], d["field"]) for d in details} == {("x", "thread.1.text"), ("threads", "thread.1.text")}


def test_network_options_are_checked_by_that_network_and_only_on_its_channels(api, fakes):
    x = connect(api, fakes, "x")
    linkedin = connect(api, fakes, "linkedin")

    bad_value = refused(api.post("/posts", {"text": "Hello", "channel_ids": [x],
                                            "variants": {x: {"x": {"reply_settings": "nobody"}}}}))
    other_network = refused(api.post("/posts", {"text": "Hello", "channel_ids": [linkedin],
                                                "variants": {linkedin: {"x": {"reply_settings": "following"}}}}))

    assert [(d["network"], d["field"]) for d in bad_value] == [("x", f"variants.{x}.x.reply_settings")]
    assert [(d["network"], d["field"]) for d in other_network] == [("linkedin", f"variants.{linkedin}.x")]


def test_a_network_without_its_own_rules_takes_no_thread_or_first_comment(api):
    channel = api.post("/channels", {"network": "sandbox", "name": "Test"}).json["id"]

    details = refused(api.post("/posts", {"text": "Hello", "channel_ids": [channel], "thread": [{"text": "2/"}],
                                          "first_comment": "hi"}))

    assert {(d["network"], d["field"]) for d in details} == {("sandbox", "thread"), ("sandbox", "first_comment")}


def test_a_saved_thread_first_comment_and_options_are_shown_with_each_delivery(api, fakes):
    x = connect(api, fakes, "x")
    linkedin = connect(api, fakes, "linkedin")
    created = api.post("/posts", {"text": "Hello", "channel_ids": [x], "thread": [{"text": "2/ more"}],
                                  "variants": {x: {"x": {"reply_settings": "following"}}}})
    assert created.status_code == 201, created.body
    with_comment = api.post("/posts", {"text": "Hello", "channel_ids": [linkedin],
                                       "first_comment": "More at herald.coffee"}).json

    shown = api.get(f"/posts/{created.json['id']}").json

    assert shown["thread"] == [{"text": "2/ more", "media": []}]
    assert shown["variants"][x]["x"] == {"reply_settings": "following"}
    [delivery] = shown["deliveries"]
    assert (delivery["thread"], delivery["first_comment_id"], delivery["warnings"]) == (
        [{"remote_id": None}], None, [])
    assert api.get(f"/posts/{with_comment['id']}").json["first_comment"] == "More at herald.coffee"

    changed = api.patch(f"/posts/{created.json['id']}", {"thread": [{"text": "2/ more"}, {"text": "3/ end"}],
                                                          "version": shown["version"]})
    assert changed.status_code == 200, changed.body
    assert [p["text"] for p in changed.json["thread"]] == ["2/ more", "3/ end"]
    assert len(changed.json["deliveries"][0]["thread"]) == 2


def test_a_channels_own_media_and_thread_are_checked_by_its_network_and_named_by_its_variant(
        api, fakes, deps, workspace):
    x = connect(api, fakes, "x")
    linkedin = connect(api, fakes, "linkedin")
    image = upload(api, deps, workspace.id, "latte.jpg", "image/jpeg", JPEG)
    menu = upload(api, deps, workspace.id, "menu.pdf", "application/pdf", PDF)
    post = {"text": "Spring menu", "channel_ids": [x, linkedin], "media": [{"media_id": image}]}

    pdf_on_x = refused(api.post("/posts", {**post, "variants": {x: {"media": [{"media_id": menu}]}}}))
    thread_on_linkedin = refused(api.post("/posts", {**post, "variants": {
        linkedin: {"media": [{"media_id": menu}], "thread": [{"text": "2/"}]}}}))
    unknown = refused(api.post("/posts", {**post, "variants": {linkedin: {"media": [{"media_id": "med_nope"}]}}}))

    assert {(d["network"], d["field"]) for d in pdf_on_x} == {("x", f"variants.{x}.media.0")}
    assert [(d["network"], d["field"]) for d in thread_on_linkedin] == [("linkedin", f"variants.{linkedin}.thread")]
    assert f"variants.{linkedin}.media.0.media_id" in [d["field"] for d in unknown]
    assert api.get("/posts").json["items"] == []


def test_a_channels_own_media_and_thread_are_saved_and_shown_with_its_delivery(api, fakes, deps, workspace):
    x = connect(api, fakes, "x")
    linkedin = connect(api, fakes, "linkedin")
    image = upload(api, deps, workspace.id, "latte.jpg", "image/jpeg", JPEG)
    menu = upload(api, deps, workspace.id, "menu.pdf", "application/pdf", PDF)

    created = api.post("/posts", {"text": "1/ Spring menu", "channel_ids": [x, linkedin],
                                  "media": [{"media_id": image}],
                                  "variants": {x: {"thread": [{"text": "2/ from 7"}, {"text": "3/ see you"}]},
                                               linkedin: {"media": [{"media_id": menu}]}}})

    assert created.status_code == 201, created.body
    shown = api.get(f"/posts/{created.json['id']}").json
    assert (shown["thread"], shown["media"][0]["media_id"]) == ([], image)
    assert shown["variants"][linkedin]["media"] == [{"media_id": menu, "alt": ""}]
    assert [p["text"] for p in shown["variants"][x]["thread"]] == ["2/ from 7", "3/ see you"]
    threads = {d["channel_id"]: d["thread"] for d in shown["deliveries"]}
    assert threads == {x: [{"remote_id": None}, {"remote_id": None}], linkedin: []}
