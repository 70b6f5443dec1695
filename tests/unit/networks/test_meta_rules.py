"""Meta's documented rules (content_problems, LIMITS) and error codes, without a network."""
from __future__ import annotations

import pytest

from chalicelib.networks import meta, meta_errors
from chalicelib.networks.base import MediaItem, PublishRequest, ThreadPart
from tests.support.network_fakes import FakeResponse

MIB = 1024 * 1024
JPEG = MediaItem(mime="image/jpeg", size=MIB, width=1080, height=1080)
PNG = MediaItem(mime="image/png", size=MIB)
REEL = MediaItem(mime="video/mp4", size=50 * MIB, duration_s=30)


def problems(network: str, text: str = "hi", media: tuple[MediaItem, ...] = (), **fields) -> list[tuple[str, str]]:
    adapter = meta.make_adapter(network=network)
    return [(p.field, p.message) for p in adapter.content_problems(PublishRequest("d", text, media, **fields))]


def fields_of(found: list[tuple[str, str]]) -> list[str]:
    return [field for field, _ in found]


@pytest.mark.parametrize(("network", "text", "media", "extra", "expected"), [
    ("facebook", "hi", (), {}, []),
    ("facebook", "x" * 63207, (), {}, ["text"]),
    ("facebook", "", (), {}, ["text"]),
    ("facebook", "hi", (JPEG,) * 10, {}, []),
    ("facebook", "hi", (JPEG,) * 11, {}, ["media"]),
    ("facebook", "hi", (JPEG, REEL), {}, ["media"]),
    ("facebook", "hi", (MediaItem(mime="image/jpeg", size=5 * MIB),), {}, ["media.0"]),
    ("facebook", "hi", (MediaItem(mime="video/mp4", duration_s=21 * 60),), {}, ["media.0"]),
    ("facebook", "hi", (MediaItem(mime="image/webp"),), {}, ["media.0"]),
    ("facebook", "hi", (JPEG,), {"link": "https://herald.test"}, ["link"]),
    ("facebook", "hi", (), {"thread": (ThreadPart("more"),)}, ["thread"]),
    ("facebook", "hi", (), {"first_comment": "x" * 8001}, ["first_comment"]),
    ("facebook", "hi", (), {"options": {"privacy": "x"}}, ["options.privacy"]),
    ("instagram", "hi", (JPEG,), {}, []),
    ("instagram", "hi", (), {}, ["media"]),
    ("instagram", "x" * 2201, (JPEG,), {}, ["text"]),
    ("instagram", " ".join(f"#t{i}" for i in range(31)), (JPEG,), {}, ["text"]),
    ("instagram", " ".join(f"@u{i}" for i in range(21)), (JPEG,), {}, ["text"]),
    ("instagram", "hi", (PNG,), {}, ["media.0"]),
    ("instagram", "hi", (MediaItem(mime="image/jpeg", size=9 * MIB),), {}, ["media.0"]),
    ("instagram", "hi", (MediaItem(mime="image/jpeg", width=1080, height=1920),), {}, ["media.0"]),
    ("instagram", "hi", (MediaItem(mime="image/jpeg", width=1080, height=1350),), {}, []),
    ("instagram", "hi", (REEL,), {}, []),
    ("instagram", "hi", (MediaItem(mime="video/mp4", duration_s=2),), {}, ["media.0"]),
    ("instagram", "hi", (MediaItem(mime="video/mp4", duration_s=16 * 60),), {}, ["media.0"]),
    ("instagram", "hi", (JPEG, MediaItem(mime="video/mp4", duration_s=90)), {}, ["media.1"]),
    ("instagram", "hi", (JPEG,) * 10, {}, []),
    ("instagram", "hi", (JPEG,) * 11, {}, ["media"]),
    ("instagram", "hi", (JPEG,), {"link": "https://herald.test"}, ["link"]),
    ("instagram", "hi", (JPEG,), {"first_comment": " "}, ["first_comment"]),
    ("instagram", "hi", (JPEG,), {"thread": (ThreadPart("more"),)}, ["thread"]),
])
def test_content_rules(network, text, media, extra, expected):
    found = problems(network, text, media, **extra)
    assert fields_of(found) == expected
    for _field, message in found:
        assert network.capitalize() in message  # every rule names the network


def test_limits_agree_with_the_rules():
    facebook, instagram = meta.LIMITS_BY_NETWORK["facebook"], meta.LIMITS_BY_NETWORK["instagram"]
    assert (facebook.max_text, facebook.max_media) == (63206, 10)
    assert (instagram.max_text, instagram.max_media, instagram.requires_media) == (2200, 10, True)
    assert "image/png" not in instagram.media_types and "image/jpeg" in instagram.media_types
    assert meta.BUDGET.per_account_concurrency == 2


def graph_error(code, subcode=None, message="m", user_msg=None, status=400, headers=None):
    error = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_msg:
        error["error_user_msg"] = user_msg
    return FakeResponse(status, {"error": error}, headers=headers)


@pytest.mark.parametrize(("response", "kind"), [
    (graph_error(190, 463), "auth"),
    (graph_error(102), "auth"),
    (graph_error(4), "retry"),
    (graph_error(17), "retry"),
    (graph_error(32), "retry"),
    (graph_error(613), "retry"),
    (graph_error(80001), "retry"),
    (graph_error(80002), "retry"),
    (graph_error(2), "retry"),
    (graph_error(368), "permanent"),
    (graph_error(506), "permanent"),
    (graph_error(9004, 2207052), "permanent"),
    (graph_error(4, 2207051), "permanent"),  # code 4 with this subcode is a spam block, not throttling
    (graph_error(9, 2207042), "retry"),
    (graph_error(9007, 2207027), "retry"),
    (graph_error(-2, 2207003), "retry"),
    (graph_error(36001, 2207005, user_msg="Supported formats are: JPEG"), "permanent"),
])
def test_error_codes(response, kind):
    detail = meta_errors.explain_error(response, network="Instagram")
    assert {"auth": detail.auth, "retry": detail.rate_limited,
            "permanent": not detail.auth and not detail.rate_limited}[kind]


def test_media_errors_read_as_sentences_with_metas_reason():
    detail = meta_errors.explain_error(graph_error(36001, 2207005, user_msg="Supported formats are: JPEG"), "Instagram")
    assert detail.sentence == "Instagram refused the media: Supported formats are: JPEG"
    fetch = meta_errors.explain_error(
        graph_error(9004, 2207052, message="The media could not be fetched from this uri"))
    assert fetch.sentence == "Instagram could not fetch the media (The media could not be fetched from this uri)"


@pytest.mark.parametrize(("headers", "wait"), [
    ({}, None),
    ({"X-Business-Use-Case-Usage": '{"1": [{"type": "pages", "estimated_time_to_regain_access": 4}]}'}, 240),
    ({"X-Business-Use-Case-Usage": '{"1": [{"estimated_time_to_regain_access": 0}]}',
      "X-App-Usage": '{"call_count": 100}'}, meta_errors.APP_USAGE_WAIT_S),
    ({"X-App-Usage": '{"call_count": 40, "total_time": 12}'}, None),
    ({"X-App-Usage": "not json"}, None),
])
def test_usage_headers_give_the_wait(headers, wait):
    assert meta_errors.usage_wait_s(headers) == wait
