"""The Reddit adapter against a local fake of Reddit's API and token host (tests/fakes/reddit_api.py)."""
from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chalicelib.core.clock import FixedClock
from chalicelib.networks import reddit
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ChannelContext,
    MediaItem,
    OAuthApp,
    PermanentError,
    PublishRequest,
    RetryableError,
)
from chalicelib.networks.http_failures import send
from chalicelib.networks.registry import NETWORKS, limits_for
from tests.fakes.reddit_api import RedditApi
from tests.support.events import load_event

TOKEN = "reddit-token"
USER_ID = "1w72"
NAME = "herald_coffee"
AGENT = "web:com.herald.publisher:v1.3.0 (by /u/herald_ops)"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
APP = OAuthApp("p-jcoLKBynTLew", "reddit-secret")
FLAIRS = [{"id": "a1b2c3d4-0000-4000-8000-000000000001", "text": "News", "text_editable": False, "type": "text"},
          {"id": "a1b2c3d4-0000-4000-8000-000000000002", "text": "Other", "text_editable": True, "type": "text"}]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[RedditApi]:
    with RedditApi(clock) as api:
        api.user(TOKEN, USER_ID, NAME)
        api.subreddit("coffee", flairs=FLAIRS)
        api.subreddit("linksonly", submission_type="link")
        api.subreddit("strict", flairs=FLAIRS, flair_required=True)
        api.subreddit("onelink", links_once=True)
        yield api


@pytest.fixture
def adapter(fake: RedditApi, clock: FixedClock) -> reddit.RedditAdapter:
    return reddit.make_adapter(clock=clock, base_url=fake.url, user_agent=AGENT)


def channel(token: str = TOKEN, subreddit: str | None = "coffee") -> ChannelContext:
    settings = {"user_id": USER_ID, "username": NAME} | ({"subreddit": subreddit} if subreddit else {})
    return ChannelContext("ws1", "ch1", "reddit", settings, {"access_token": token})


class Progress:
    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []

    def __call__(self, progress: Mapping[str, Any]) -> None:
        self.saved.append(dict(progress))

    @property
    def last(self) -> dict[str, Any]:
        return self.saved[-1] if self.saved else {}


def request(text: str = "We roast on Tuesdays; here is how.", options: dict[str, Any] | None = None,
            link: str | None = None, progress: Progress | None = None, **kwargs: Any) -> PublishRequest:
    saved = progress or Progress()
    return PublishRequest("d1", text, link=link, options=options if options is not None else {"title": "Roast day"},
                          progress=saved.last, record_progress=saved, **kwargs)


# -- submissions -----------------------------------------------------------------------------------------------

def test_a_text_post_goes_to_the_channel_subreddit_with_its_title_and_body(adapter, fake):
    result = adapter.publish(channel(), request())

    [post] = fake.published(NAME)
    assert (post.kind, post.subreddit, post.title, post.body) == ("self", "coffee", "Roast day",
                                                                 "We roast on Tuesdays; here is how.")
    assert result.remote_id == f"t3_{post.id}"
    assert result.remote_url == f"https://www.reddit.com/r/coffee/comments/{post.id}/roast_day/"
    form = fake.calls("POST", "/api/submit")[0].form()
    assert form["api_type"] == "json" and form["sendreplies"] == "true"
    assert fake.violations == []


def test_every_call_carries_the_descriptive_user_agent_and_the_bearer_token(adapter, fake):
    adapter.publish(channel(), request())
    assert {r.headers["user-agent"] for r in fake.requests} == {AGENT}
    assert all(r.headers["authorization"] == f"bearer {TOKEN}" for r in fake.requests)


def test_a_generic_user_agent_is_refused_before_anything_is_sent(fake, clock):
    generic = reddit.make_adapter(clock=clock, base_url=fake.url, user_agent="python-requests/2.32")
    with pytest.raises(PermanentError, match="HERALD_REDDIT_USER_AGENT"):
        generic.publish(channel(), request())
    assert fake.requests == []


def test_the_fake_refuses_a_generic_user_agent_as_reddit_throttles_it(fake):
    answer = requests.get(f"{fake.url}/api/v1/me", headers={"User-Agent": "python-requests/2.32"}, timeout=5)
    assert answer.status_code == 429 and fake.violations


def test_a_link_post_with_the_text_as_title_and_a_post_option_subreddit(adapter, fake):
    req = request(text="Our roasting guide", options={"subreddit": "linksonly", "nsfw": False, "spoiler": True},
                  link="https://herald.example/guide")
    adapter.publish(channel(), req)

    [post] = fake.published()
    assert (post.kind, post.subreddit, post.title, post.url) == ("link", "linksonly", "Our roasting guide",
                                                                "https://herald.example/guide")
    assert post.spoiler is True


def test_a_flair_is_checked_against_the_subreddit_templates_and_sent(adapter, fake):
    adapter.publish(channel(), request(options={"title": "T", "flair_id": FLAIRS[1]["id"], "flair_text": "Roasts"}))
    form = fake.calls("POST", "/api/submit")[0].form()
    assert (form["flair_id"], form["flair_text"]) == (FLAIRS[1]["id"], "Roasts")

    with pytest.raises(PermanentError, match="not one of r/coffee's flairs: News"):
        adapter.publish(channel(), request(options={"title": "T", "flair_id": "nope"}))
    with pytest.raises(PermanentError, match="does not take a custom text"):
        adapter.publish(channel(), request(options={"title": "T", "flair_id": FLAIRS[0]["id"], "flair_text": "x"}))
    assert len(fake.calls("POST", "/api/submit")) == 1


def test_a_text_post_to_a_link_only_subreddit_is_refused_before_submitting(adapter, fake):
    with pytest.raises(PermanentError, match="only takes link posts"):
        adapter.publish(channel(subreddit="linksonly"), request())
    assert fake.calls("POST", "/api/submit") == []


def test_without_a_subreddit_the_message_says_where_to_choose_one(adapter, fake):
    with pytest.raises(PermanentError, match="variants\\[ch\\].reddit.subreddit"):
        adapter.publish(channel(subreddit=None), request())


# -- Reddit's refusals ---------------------------------------------------------------------------------------

def test_a_subreddit_that_requires_flair_is_named_in_the_failure(adapter, fake):
    with pytest.raises(PermanentError, match="r/strict requires a flair: set variants\\[ch\\].reddit.flair_id"):
        adapter.publish(channel(subreddit="strict"), request())


def test_a_link_already_posted_is_a_permanent_failure(adapter, fake):
    req = request(text="Guide", options={"subreddit": "onelink"}, link="https://herald.example/g")
    adapter.publish(channel(), req)
    with pytest.raises(PermanentError, match="already been posted to r/onelink"):
        adapter.publish(channel(), request(text="Guide", options={"subreddit": "onelink"},
                                           link="https://herald.example/g"))


def test_an_unknown_subreddit_is_refused_in_a_sentence(adapter, fake):
    with pytest.raises(PermanentError, match="does not know"):
        adapter.publish(channel(subreddit="nosuchplace"), request())
    fake.subreddits["ghost"] = fake.subreddits["coffee"]  # /about answers, the submit says it is gone
    fake.fail("POST", "/api/submit", 200, {"json": {"errors": [["SUBREDDIT_NOEXIST", "that subreddit doesn't "
                                                                                    "exist", "sr"]]}})
    with pytest.raises(PermanentError, match="r/ghost does not exist"):
        adapter.publish(channel(subreddit="ghost"), request())


def test_reddits_ratelimit_error_waits_the_minutes_it_names(adapter, fake):
    fake.fail("POST", "/api/submit", 200, load_event("reddit", "submit_ratelimit.json"))
    with pytest.raises(RetryableError) as raised:
        adapter.publish(channel(), request())
    assert raised.value.retry_after_s == 540


def test_the_documented_answers_are_read_as_documented(adapter, fake):
    fake.fail("POST", "/api/submit", 200, load_event("reddit", "submit_ok.json"))
    result = adapter.publish(channel(), request())
    assert result.remote_id == "t3_nxaraz"
    assert result.remote_url == "https://www.reddit.com/r/Pyprohly_test3/comments/nxaraz/my_title/"

    fake.subreddit("documented", flairs=load_event("reddit", "link_flair_v2.json"))
    fake.fail("POST", "/api/submit", 200, load_event("reddit", "submit_flair_required.json"))
    with pytest.raises(PermanentError, match="r/documented requires a flair"):
        adapter.publish(channel(subreddit="documented"), request())
    adapter.publish(channel(subreddit="documented"),
                    request(options={"title": "T", "flair_id": "4a2cd0b2-6a1c-11e9-a3a2-0e1b7b0d2a5c",
                                     "flair_text": "Roasting"}))
    assert fake.published()[-1].flair_id == "4a2cd0b2-6a1c-11e9-a3a2-0e1b7b0d2a5c"


def test_a_used_up_window_waits_for_its_reset_instead_of_submitting(adapter, fake):
    fake.remaining = 0
    fake.reset_s = 75
    with pytest.raises(RetryableError) as raised:
        adapter.publish(channel(), request())
    assert raised.value.retry_after_s == 75
    assert fake.calls("POST", "/api/submit") == []


def test_a_429_waits_for_the_reset_header(adapter, fake):
    fake.fail("GET", r"/r/coffee/about", 429, {"message": "Too Many Requests", "error": 429},
              {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "33", "x-ratelimit-used": "600"})
    with pytest.raises(RetryableError) as raised:
        adapter.publish(channel(), request())
    assert raised.value.retry_after_s == 33


def test_a_refused_token_is_refreshed_once_then_an_auth_error(adapter, fake):
    ch = channel(token="expired")
    ch.refresh_credentials = lambda: (fake.tokens.__setitem__("fresh", USER_ID), {"access_token": "fresh"})[1]
    adapter.publish(ch, request())
    assert len(fake.published()) == 1
    with pytest.raises(AuthError):
        adapter.publish(channel(token="revoked"), request())


def test_a_lost_answer_is_ambiguous_and_a_refused_connection_retryable(adapter, fake):
    fake.drop_after("POST", "/api/submit")
    with pytest.raises(AmbiguousError):
        adapter.publish(channel(), request())

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(RetryableError):
        send(requests.Session(), "POST", f"http://127.0.0.1:{port}/api/submit", network="Reddit",
             explain=reddit.explain_error)


# -- looking before a retry ------------------------------------------------------------------------------------

def test_find_published_finds_the_submission_whose_answer_was_lost(adapter, fake):
    req = request(first_attempt_at=START)
    fake.drop_after("POST", "/api/submit")
    with pytest.raises(AmbiguousError):
        adapter.publish(channel(), req)

    found = adapter.find_published(channel(), req)

    [post] = fake.published()
    assert found is not None and found.remote_id == f"t3_{post.id}"
    assert found.remote_url == f"https://www.reddit.com/r/coffee/comments/{post.id}/"


def test_find_published_ignores_older_and_other_subreddit_posts_and_says_when_it_cannot_tell(adapter, fake, clock):
    adapter.publish(channel(), request())  # the same title, long before this attempt
    clock.advance(hours=2)
    adapter.publish(channel(subreddit="onelink"), request())  # the same title elsewhere
    req = request(first_attempt_at=clock.now())
    assert adapter.find_published(channel(), req) is None

    for index in range(reddit.SUBMITTED_PAGE + 1):
        adapter.publish(channel(), request(options={"title": f"other {index}"}))
    with pytest.raises(AmbiguousError):
        adapter.find_published(channel(), req)


# -- rules and options -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("req", "field", "words"), [
    (PublishRequest("d", "x" * 40_001, options={"title": "t"}), "text", "40,000"),
    (PublishRequest("d", "a long text\nof two lines"), "options.title", "needs a title"),
    (PublishRequest("d", "x" * 301), "options.title", "needs a title"),
    (PublishRequest("d", "hi", options={"title": "t" * 301}), "options.title", "300"),
    (PublishRequest("d", "body", link="https://x.example", options={"title": "t"}), "text", "no body"),
    (PublishRequest("d", "hi", (MediaItem("image/jpeg"),)), "media", "link to the image"),
    (PublishRequest("d", "hi", options={"subreddit": "r/coffee"}), "options.subreddit", "without r/"),
    (PublishRequest("d", "hi", options={"nsfw": "yes"}), "options.nsfw", "true or false"),
    (PublishRequest("d", "hi", options={"flair_id": "x" * 37}), "options.flair_id", "36"),
    (PublishRequest("d", "hi", options={"flair_text": "x"}), "options.flair_text", "needs its flair_id"),
    (PublishRequest("d", "hi", options={"kind": "image"}), "options.kind", "not a Reddit option"),
    (PublishRequest("d", "hi", first_comment="first!"), "first_comment", "cannot"),
])
def test_content_problems_name_the_field_and_the_rule(req, field, words):
    problems = reddit.content_problems(req)
    assert any(p.field == field and words in p.message for p in problems), problems


def test_valid_submissions_have_no_problems_and_the_registry_row_agrees():
    assert reddit.content_problems(PublishRequest("d", "Short title as text")) == []
    assert reddit.content_problems(PublishRequest("d", "Guide", link="https://x.example")) == []
    assert limits_for("reddit").max_text == 40_000
    spec = NETWORKS["reddit"]
    assert spec.account_setting == "user_id"
    assert spec.settings_model.model_validate({"subreddit": "coffee", "username": NAME}).subreddit == "coffee"


def test_describe_account_reads_the_user_and_checks_the_channel_subreddit(adapter, fake):
    assert adapter.describe_account(channel()) == {"handle": NAME, "account_id": USER_ID}
    with pytest.raises(PermanentError):
        adapter.describe_account(channel(subreddit="nosuchplace"))


# -- connecting ------------------------------------------------------------------------------------------------

def test_oauth_url_exchange_refresh_and_accounts(fake, clock):
    oauth = reddit.make_oauth(clock=clock, auth_url=fake.url, api_url=fake.url, user_agent=AGENT)
    url = oauth.authorize_url(APP, "https://app.example/cb", "state123", None)
    parts = urlsplit(url)
    assert parts.path == "/api/v1/authorize"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_id": APP.client_id, "response_type": "code", "state": "state123",
        "redirect_uri": "https://app.example/cb", "duration": "permanent", "scope": "identity submit read flair"}
    assert reddit.make_oauth(user_agent=AGENT).authorize_url(APP, "https://a/cb", "s", None).startswith(
        "https://www.reddit.com/api/v1/authorize?")

    fake.authorization_code("code1", "https://app.example/cb", USER_ID)
    grant = oauth.exchange_code(APP, "code1", "https://app.example/cb", None)
    assert grant.refresh_token and grant.expires_at == START + timedelta(hours=1)
    with pytest.raises(PermanentError):  # Reddit answers a spent code with a 200 {"error": "invalid_grant"}
        oauth.exchange_code(APP, "code1", "https://app.example/cb", None)

    [account] = oauth.granted_accounts(APP, grant)
    assert (account.account_id, account.name, account.handle) == (USER_ID, NAME, f"u/{NAME}")
    assert account.settings == {"user_id": USER_ID, "username": NAME}
    assert account.credentials["refresh_token"] == grant.refresh_token

    renewed = oauth.refresh(APP, {"refresh_token": grant.refresh_token})
    assert renewed.access_token != grant.access_token and renewed.refresh_token is None  # the old one is kept
    fake.revoke(str(grant.refresh_token))
    with pytest.raises(AuthError):
        oauth.refresh(APP, {"refresh_token": grant.refresh_token})
    fake.fail("POST", "/api/v1/access_token", 503, {"message": "down"})
    with pytest.raises(RetryableError):
        oauth.refresh(APP, {"refresh_token": "anything"})
    assert {r.headers["user-agent"] for r in fake.requests} == {AGENT}
    assert fake.violations == []
