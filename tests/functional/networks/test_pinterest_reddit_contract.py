"""A local check that the Pinterest and Reddit contract rows drive their adapters through the contract's
scenarios (the shared runner, test_contract.py, runs every row the same way)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    PermanentError,
    PublishRequest,
    PublishResult,
    RetryableError,
    StillProcessing,
)
from tests.functional.networks.contract.case import NetworkContract
from tests.functional.networks.contract.cases import pinterest, reddit

EXPECTED = {"throttled": RetryableError, "revoked": AuthError, "rejected": PermanentError}


@pytest.fixture(params=[pinterest, reddit], ids=["pinterest", "reddit"])
def case(request: pytest.FixtureRequest) -> Iterator[NetworkContract]:
    with request.param.start(FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))) as row:
        yield row


def publish(case: NetworkContract, delivery_id: str, text: str, kind: Any = None) -> PublishResult:
    saved: dict[str, Any] = {}

    def keep(progress: Any) -> None:
        saved.clear()
        saved.update(progress)

    for _ in range(10):
        req = case.request(delivery_id, text, kind, progress=dict(saved), record_progress=keep)
        try:
            return case.adapter().publish(case.channel(), req)
        except StillProcessing as waiting:
            saved.clear()
            saved.update(waiting.progress)
            case.settle()
    raise AssertionError("processing never settled")


def test_a_text_post_and_each_media_kind_go_out_once(case):
    results = [publish(case, "d-text", "Hello from Herald")]
    results += [publish(case, f"d-{kind}", f"A {kind} post", kind) for kind in case.media_kinds]
    assert case.published() == [r.remote_id for r in results]
    assert all(r.remote_url for r in results)
    assert case.fake.violations == []  # type: ignore[attr-defined]


def test_text_over_the_limit_is_a_content_problem(case):
    req = case.request("d-long", case.too_long_text())
    problems = case.adapter().content_problems(req)  # type: ignore[attr-defined]
    assert any(p.field == "text" for p in problems)


@pytest.mark.parametrize("kind", ["throttled", "revoked", "rejected"])
def test_each_documented_error_is_its_outcome(case, kind):
    assert kind in case.error_kinds
    case.script_error(kind)
    with pytest.raises(EXPECTED[kind]) as raised:
        case.adapter().publish(case.channel(), case.request("d-err", "Hello"))
    assert type(raised.value) is EXPECTED[kind]
    if kind == "throttled":
        assert raised.value.retry_after_s  # type: ignore[attr-defined]
    assert case.published() == []


def test_a_lost_answer_is_ambiguous_and_looking_finds_the_one_post(case):
    case.drop_next_publish()
    req: PublishRequest = case.request("d-lost", "Did this go out?")
    with pytest.raises(AmbiguousError):
        case.adapter().publish(case.channel(), req)

    found = case.adapter().find_published(case.channel(), req)  # type: ignore[attr-defined]

    assert found is not None and case.published() == [found.remote_id]
