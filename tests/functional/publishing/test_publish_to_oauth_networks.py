"""Posts scheduled through the API reach Facebook, Instagram, Threads, LinkedIn and X (their local fakes,
tests/fakes), once each, with the remote id and link the network gave; a crash between thread parts continues
the thread without repeating a part."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.wiring import Container, use_container
from tests.support.network_publishing import (
    IG,
    JPEG,
    PAGE,
    PDF,
    PNG,
    THREADS_USER,
    X_USER,
    Fakes,
    connect,
    container_for,
    network_fakes,
    run_engine,
    tick_later,
    upload,
)


@pytest.fixture
def fakes(clock: Any) -> Any:
    with network_fakes(clock) as started:
        yield started


@pytest.fixture
def deps(aws: dict[str, Any], clock: Any, fakes: Fakes) -> Container:
    return use_container(container_for(aws, clock, fakes))


def schedule(api: Any, clock: Any, body: dict[str, Any]) -> dict[str, Any]:
    publish_at = clock.now() + timedelta(seconds=40)
    answer = api.post("/posts", {**body, "publish_at": to_rfc3339(publish_at)})
    assert answer.status_code == 201, answer.body
    return answer.json


def delivery_of(api: Any, post: dict[str, Any]) -> dict[str, Any]:
    [delivery] = api.get(f"/posts/{post['id']}").json["deliveries"]
    return delivery


def test_x_publishes_a_three_part_thread_with_an_image(api, fakes, deps, clock, workspace):
    channel = connect(api, fakes, "x")
    image = upload(api, deps, workspace.id, "latte.png", "image/png", PNG)
    post = schedule(api, clock, {"text": "Our spring menu, a thread", "channel_ids": [channel],
                                 "media": [{"media_id": image, "alt": "A latte"}],
                                 "thread": [{"text": "2/ Oat milk on every drink"},
                                            {"text": "3/ Open from 7 every day"}],
                                 "variants": {channel: {"x": {"reply_settings": "following"}}}})

    assert run_engine(deps, clock) == ["published"]

    tweets = [t for t in fakes.x.tweets if t.author_id == X_USER]
    assert [t.text for t in tweets] == ["Our spring menu, a thread", "2/ Oat milk on every drink",
                                        "3/ Open from 7 every day"]
    assert [t.in_reply_to for t in tweets] == [None, tweets[0].id, tweets[1].id]
    assert fakes.x.violations == []
    delivery = delivery_of(api, post)
    assert (delivery["status"], delivery["remote_id"]) == ("published", tweets[0].id)
    assert delivery["remote_url"].endswith(f"/status/{tweets[0].id}")
    assert [part["remote_id"] for part in delivery["thread"]] == [tweets[1].id, tweets[2].id]


def test_instagram_publishes_a_carousel_then_its_first_comment(api, fakes, deps, clock, workspace):
    channel = connect(api, fakes, "instagram")
    urls = [f"https://cdn.herald.test/carousel-{n}.jpg" for n in range(3)]
    for url in urls:
        fakes.graph.host(url, JPEG)
    post = schedule(api, clock, {"text": "Three new cakes", "channel_ids": [channel],
                                 "media": [{"url": url, "alt": f"Cake {n}"} for n, url in enumerate(urls)],
                                 "first_comment": "Order at herald.coffee/cakes"})

    said = run_engine(deps, clock)

    assert said[-1] == "published" and set(said[:-1]) <= {"processing"}
    [media] = fakes.graph.instagram_media(IG)
    assert (media["kind"], len(media["children"]), media["caption"]) == ("CAROUSEL", 3, "Three new cakes")
    assert fakes.graph.calls("POST").count(f"POST /{IG}/media_publish") == 1
    assert [c["message"] for c in fakes.graph.state.comments] == ["Order at herald.coffee/cakes"]
    assert fakes.graph.state.violations == []
    delivery = delivery_of(api, post)
    assert (delivery["status"], delivery["remote_id"]) == ("published", media["id"])
    assert delivery["remote_url"]
    assert delivery["remote_url"] == media["permalink"]
    assert delivery["first_comment_id"] and delivery["warnings"] == []


def test_facebook_publishes_several_photos_in_one_post(api, fakes, deps, clock):
    channel = connect(api, fakes, "facebook")
    urls = ["https://cdn.herald.test/terrace.jpg", "https://cdn.herald.test/bar.jpg"]
    for url in urls:
        fakes.graph.host(url, JPEG)
    post = schedule(api, clock, {"text": "The new terrace", "channel_ids": [channel],
                                 "media": [{"url": url} for url in urls]})

    assert run_engine(deps, clock) == ["published"]

    [page_post] = fakes.graph.posts(PAGE)
    assert page_post["message"] == "The new terrace"
    assert fakes.graph.state.violations == []
    delivery = delivery_of(api, post)
    assert (delivery["status"], delivery["remote_id"]) == ("published", page_post["id"])
    assert delivery["remote_url"]


def test_threads_publishes_text_with_an_image(api, fakes, deps, clock):
    channel = connect(api, fakes, "threads")
    url = fakes.threads.host("pastry.png", PNG, "image/png")
    post = schedule(api, clock, {"text": "Fresh pastries at 7", "channel_ids": [channel],
                                 "media": [{"url": url, "alt": "Croissants"}]})

    said = run_engine(deps, clock)

    assert said[-1] == "published" and set(said[:-1]) <= {"processing"}
    [published] = fakes.threads.published(THREADS_USER)
    assert published.text == "Fresh pastries at 7"
    assert fakes.threads.problems == []
    delivery = delivery_of(api, post)
    assert (delivery["status"], delivery["remote_id"]) == ("published", published.media_id)
    assert delivery["remote_url"]


def test_linkedin_publishes_a_pdf_document_as_the_organization(api, fakes, deps, clock, workspace):
    channel = connect(api, fakes, "linkedin")
    document = upload(api, deps, workspace.id, "menu.pdf", "application/pdf", PDF)
    post = schedule(api, clock, {"text": "Our spring menu", "channel_ids": [channel],
                                 "media": [{"media_id": document}],
                                 "variants": {channel: {"linkedin": {"document_title": "Spring menu"}}}})

    said = run_engine(deps, clock)

    assert said[-1] == "published" and set(said[:-1]) <= {"processing"}
    [li_post] = fakes.linkedin.posts
    assert li_post["content"]["media"]["title"] == "Spring menu"
    uploaded = [r.body for r in fakes.linkedin.calls("PUT", "/dms-uploads/")]
    assert uploaded == [PDF]
    delivery = delivery_of(api, post)
    assert delivery["status"] == "published" and delivery["remote_id"] == li_post["id"]
    assert delivery["remote_url"]


class WorkerDied(BaseException):
    """The Lambda running the worker stopped between two steps (BaseException: nothing in the engine catches it)."""


def test_a_worker_that_dies_between_thread_parts_continues_the_thread_without_repeating_a_part(
        api, fakes, deps, clock):
    channel = connect(api, fakes, "x")
    post = schedule(api, clock, {"text": "1/ A thread that survives a crash", "channel_ids": [channel],
                                 "thread": [{"text": "2/ The middle"}, {"text": "3/ The end"}]})

    def die_after_the_second_part(step: str) -> None:
        if step == "progress" and len(fakes.x.tweets) == 2 and deps.engine.checkpoint is not None:
            deps.engine.checkpoint = lambda _step: None  # the next worker lives
            raise WorkerDied()

    deps.engine.checkpoint = die_after_the_second_part
    with pytest.raises(WorkerDied):
        run_engine(deps, clock)
    assert [t.text for t in fakes.x.tweets] == ["1/ A thread that survives a crash", "2/ The middle"]
    assert delivery_of(api, post)["status"] == "publishing"

    tick_later(deps, clock, 180)  # the claim's lease ran out: the tick hands it to a new worker

    assert run_engine(deps, clock) == ["published"]
    tweets = fakes.x.tweets
    assert [t.text for t in tweets] == ["1/ A thread that survives a crash", "2/ The middle", "3/ The end"]
    assert [t.in_reply_to for t in tweets] == [None, tweets[0].id, tweets[1].id]
    assert len(fakes.x.calls("POST", "/2/tweets")) == 3 and fakes.x.violations == []
    delivery = delivery_of(api, post)
    assert (delivery["status"], delivery["remote_id"], delivery["attempts"]) == ("published", tweets[0].id, 2)
    assert [part["remote_id"] for part in delivery["thread"]] == [tweets[1].id, tweets[2].id]
