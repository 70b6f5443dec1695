"""The Google Business Profile adapter and its OAuth side against tests/fakes/google_business_api.py."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks import google_business
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    MediaItem,
    OAuthApp,
    PermanentError,
    PublishRequest,
    RetryableError,
    StillProcessing,
)
from chalicelib.networks.registry import NETWORKS
from tests.fakes.google_business_api import GoogleBusinessApi, invalid_argument

USER = "user-1"
ACCOUNT, LOCATION, OTHER = "1090000000000000001", "2090000000000000001", "2090000000000000002"
START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(12 * 1024)
APP = OAuthApp("herald-google.apps.googleusercontent.com", "google-client-secret")
POSTS = f"/v4/accounts/{ACCOUNT}/locations/{LOCATION}/localPosts"
EVENT = {"title": "Cupping night", "start_date": "2026-03-20", "end_date": "2026-03-20", "start_time": "18:00",
         "end_time": "20:30"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[GoogleBusinessApi]:
    with GoogleBusinessApi(clock) as api:
        api.account(ACCOUNT, "Herald Coffee", {USER})
        api.location(ACCOUNT, LOCATION, "Herald Coffee Roasters", "Portland")
        api.location(ACCOUNT, OTHER, "Herald Coffee Bar", "Salem")
        yield api


@pytest.fixture
def adapter(fake: GoogleBusinessApi, clock: FixedClock) -> google_business.GoogleBusinessAdapter:
    return google_business.make_adapter(clock=clock, base_url=fake.api_url,
                                        business_information_url=fake.business_information_url)


def channel(fake: GoogleBusinessApi, user: str = USER) -> ChannelContext:
    return ChannelContext("ws1", "ch1", "google_business", {"google_account_id": ACCOUNT, "location_id": LOCATION},
                          {"access_token": fake.token_for(user)})


def request(text: str = "Our spring blend is in.", saved: list[dict[str, Any]] | None = None,
            **fields: Any) -> PublishRequest:
    return PublishRequest(delivery_id="d1", text=text, first_attempt_at=START,
                          record_progress=(saved.append if saved is not None else lambda _p: None), **fields)


def sent(fake: GoogleBusinessApi) -> list[dict[str, Any]]:
    return [r.json() for r in fake.calls("POST", POSTS)]


class TestPublishing:
    def test_a_whats_new_post_is_one_local_post_with_its_public_link(self, adapter, fake):
        saved: list[dict[str, Any]] = []
        result = adapter.publish(channel(fake), request(saved=saved))
        (post,) = fake.posts(LOCATION)
        assert sent(fake) == [{"topicType": "STANDARD", "summary": "Our spring blend is in."}]
        assert (result.remote_id, result.remote_url) == (post["name"], post["searchUrl"])
        assert saved == [{"name": post["name"], "created_at": "2026-03-02T17:00:00Z"}]
        assert fake.violations == []

    def test_a_photo_is_fetched_by_google_from_its_link(self, adapter, fake):
        photo = MediaItem(mime="image/jpeg", size=len(JPEG), public_url=lambda _ttl: fake.host("p.jpg", JPEG))
        adapter.publish(channel(fake), request(media=(photo,)))
        assert sent(fake)[0]["media"] == [{"mediaFormat": "PHOTO", "sourceUrl": f"{fake.url}/media/p.jpg"}]
        assert fake.fetched == [f"{fake.url}/media/p.jpg"]

    def test_an_event_with_a_button(self, adapter, fake):
        adapter.publish(channel(fake), request(options={"topic_type": "EVENT", "event": EVENT, "call_to_action": {
            "action_type": "BOOK", "url": "https://herald.coffee/book"}}))
        body = sent(fake)[0]
        assert body["topicType"] == "EVENT" and body["callToAction"] == {"actionType": "BOOK",
                                                                          "url": "https://herald.coffee/book"}
        assert body["event"] == {"title": "Cupping night", "schedule": {
            "startDate": {"year": 2026, "month": 3, "day": 20}, "endDate": {"year": 2026, "month": 3, "day": 20},
            "startTime": {"hours": 18, "minutes": 0, "seconds": 0, "nanos": 0},
            "endTime": {"hours": 20, "minutes": 30, "seconds": 0, "nanos": 0}}}

    def test_an_offer_with_its_coupon(self, adapter, fake):
        adapter.publish(channel(fake), request(options={"topic_type": "OFFER", "event": EVENT, "offer": {
            "coupon_code": "SPRING10", "redeem_online_url": "https://herald.coffee/shop",
            "terms_conditions": "One per customer"}}))
        assert sent(fake)[0]["offer"] == {"couponCode": "SPRING10", "redeemOnlineUrl": "https://herald.coffee/shop",
                                          "termsConditions": "One per customer"}

    def test_a_link_becomes_a_learn_more_button_and_call_takes_no_url(self, adapter, fake):
        adapter.publish(channel(fake), request(link="https://herald.coffee/spring"))
        adapter.publish(channel(fake), request(options={"call_to_action": {"action_type": "CALL"}}))
        assert [b["callToAction"] for b in sent(fake)] == [
            {"actionType": "LEARN_MORE", "url": "https://herald.coffee/spring"}, {"actionType": "CALL"}]

    def test_a_processing_post_waits_then_is_out_without_a_second_post(self, fake, clock, adapter):
        fake.processing = 1
        saved: list[dict[str, Any]] = []
        with pytest.raises(StillProcessing) as waiting:
            adapter.publish(channel(fake), request(saved=saved))
        with pytest.raises(StillProcessing):  # one more read while Google processes it
            adapter.publish(channel(fake), request(saved=saved, progress=waiting.value.progress))
        fake.settle()
        result = adapter.publish(channel(fake), request(saved=saved, progress=waiting.value.progress))
        assert len(fake.calls("POST", POSTS)) == 1 and result.remote_id == fake.posts(LOCATION)[0]["name"]

    def test_a_crash_after_the_post_is_continued_from_its_name(self, adapter, fake):
        saved: list[dict[str, Any]] = []
        adapter.publish(channel(fake), request(saved=saved))
        result = adapter.publish(channel(fake), request(progress=saved[-1]))
        assert len(fake.calls("POST", POSTS)) == 1 and result.remote_id == saved[-1]["name"]

    def test_a_rejected_post_fails_in_words(self, adapter, fake):
        fake.fail("POST", POSTS, 200, {"name": f"accounts/{ACCOUNT}/locations/{LOCATION}/localPosts/9",
                                        "state": "REJECTED"})
        with pytest.raises(PermanentError, match="content policies"):
            adapter.publish(channel(fake), request())


class TestErrors:
    def test_an_invalid_argument_names_the_field(self, adapter, fake):
        fake.fail("POST", POSTS, 400, invalid_argument("summary", "The post contains a phone number"))
        with pytest.raises(PermanentError, match="summary: The post contains a phone number"):
            adapter.publish(channel(fake), request())

    def test_a_location_the_account_no_longer_manages_needs_reauth(self, adapter, fake):
        with pytest.raises(AuthError, match="does not manage"):
            adapter.publish(channel(fake, user="someone-else"), request())

    def test_throttling_is_retried(self, adapter, fake):
        fake.fail("POST", POSTS, 429, {"error": {"code": 429, "message": "Quota", "status": "RESOURCE_EXHAUSTED"}},
                  {"Retry-After": "20"})
        with pytest.raises(RetryableError) as waiting:
            adapter.publish(channel(fake), request())
        assert waiting.value.retry_after_s == 20

    def test_a_lost_answer_is_found_by_its_exact_text(self, adapter, fake):
        fake.drop_after("POST", POSTS)
        with pytest.raises(AmbiguousError):
            adapter.publish(channel(fake), request())
        found = adapter.find_published(channel(fake), request())
        assert found is not None and found.remote_id == fake.posts(LOCATION)[0]["name"]
        assert adapter.find_published(channel(fake), request("Something else")) is None


class TestContentProblems:
    @pytest.mark.parametrize(("fields", "where", "said"), [
        ({"text": "x" * 1501}, "text", "1500"),
        ({"text": ""}, "text", "needs text or a photo"),
        ({"media": (MediaItem(mime="video/mp4"),)}, "media.0", "no video"),
        ({"media": (MediaItem(mime="image/jpeg"), MediaItem(mime="image/png"))}, "media", "one photo"),
        ({"media": (MediaItem(mime="image/jpeg", size=100),)}, "media.0", "10 KB to 5 MB"),
        ({"options": {"topic_type": "EVENT"}}, "options", "needs `event`"),
        ({"options": {"topic_type": "NEWS"}}, "options.topic_type", "STANDARD, EVENT, OFFER"),
        ({"options": {"call_to_action": {"action_type": "BOOK"}}}, "options.call_to_action", "needs a url"),
        ({"options": {"call_to_action": {"action_type": "CALL", "url": "https://x.example"}}},
         "options.call_to_action", "takes no url"),
        ({"options": {"call_to_action": {"action_type": "BUY", "url": "https://x.example"}}},
         "options.call_to_action.action_type", "BOOK, ORDER"),
        ({"options": {"topic_type": "EVENT", "event": {**EVENT, "end_date": "2026-03-19"}}}, "options.event",
         "ends before it starts"),
        ({"options": {"offer": {"coupon_code": "X"}}}, "options", "OFFER post"),
        ({"options": {"colour": "red"}}, "options.colour", "not a Google Business Profile option"),
        ({"first_comment": "hi"}, "first_comment", "no comments"),
    ])
    def test_a_documented_rule_is_named(self, fields, where, said):
        problems = google_business.content_problems(request(**fields))
        assert any(p.field == where and said in p.message for p in problems), problems

    def test_a_good_offer_has_no_problems(self):
        assert google_business.content_problems(request(options={
            "topic_type": "OFFER", "event": EVENT, "offer": {"coupon_code": "SPRING10"}})) == []


class TestAccountsAndOAuth:
    def test_describe_account_reads_the_location(self, adapter, fake):
        assert adapter.describe_account(channel(fake)) == {"handle": "Herald Coffee Roasters", "account_id": LOCATION}
        assert NETWORKS["google_business"].account_setting == "location_id"

    def test_the_grant_reaches_every_location_of_every_account(self, fake, clock):
        fake.page_size = 1  # pages are followed
        fake.account("1090000000000000002", "Herald Group", {USER})
        fake.location("1090000000000000002", "2090000000000000003", "Herald Kiosk")
        oauth = google_business.make_oauth(clock=clock, account_management_url=fake.account_management_url,
                                           business_information_url=fake.business_information_url,
                                           token_url=fake.token_url)
        fake.authorization_code("4/c", "https://herald.example/cb", USER, None, "business.manage")
        grant = oauth.exchange_code(APP, "4/c", "https://herald.example/cb", None)
        accounts = oauth.granted_accounts(APP, grant)
        assert [(a.account_id, a.name, dict(a.settings)) for a in accounts] == [
            (LOCATION, "Herald Coffee Roasters (Portland)", {"google_account_id": ACCOUNT, "location_id": LOCATION}),
            (OTHER, "Herald Coffee Bar (Salem)", {"google_account_id": ACCOUNT, "location_id": OTHER}),
            ("2090000000000000003", "Herald Kiosk", {"google_account_id": "1090000000000000002",
                                                     "location_id": "2090000000000000003"})]
        assert all(a.credentials["refresh_token"] == grant.refresh_token for a in accounts)
        listed = fake.calls("GET", r"/businessinformation/v1/accounts/\d+/locations")
        assert listed and all(r.query.get("readMask") for r in listed)

    def test_the_authorization_asks_for_business_manage_offline(self, clock):
        url = google_business.make_oauth(clock=clock).authorize_url(APP, "https://h.example/cb", "s", "c")
        assert "scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fbusiness.manage" in url
        assert "access_type=offline" in url and "prompt=consent" in url


class TestDocumentedPayloads:
    def test_an_event_is_sent_in_the_documented_shape(self, adapter, fake):
        from tests.support.events import load_event

        documented = load_event("google_business", "local_post_event.json")
        adapter.publish(channel(fake), request(documented["summary"], options={"topic_type": "EVENT", "event": {
            "title": "Halloween Spook-tacular!", "start_date": "2017-10-31", "end_date": "2017-10-31",
            "start_time": "09:00", "end_time": "17:00"}}))
        body = sent(fake)[0]
        assert body["event"] == documented["event"] and body["topicType"] == documented["topicType"]

    def test_the_documented_validation_error_names_its_field(self):
        from tests.support.events import load_event

        class Documented:
            status_code, headers, text = 400, {}, ""

            def json(self) -> Any:
                return load_event("google_business", "invalid_argument.json")

        detail = google_business.explain_error(Documented())
        assert detail.sentence and "summary: The summary contains a phone number" in detail.sentence
