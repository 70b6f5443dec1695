"""The YouTube and Google Business Profile contract rows, driven through the scenarios the contract runner runs."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks.base import AmbiguousError, AuthError, PermanentError, RetryableError, StillProcessing
from tests.functional.networks.contract.cases import google_business, youtube

CASES = [youtube, google_business]
EXPECTED = {"throttled": RetryableError, "revoked": AuthError, "rejected": PermanentError}


def publish(case: Any, delivery_id: str, text: str, kind: Any = None) -> Any:
    saved: list[dict[str, Any]] = []
    request = case.request(delivery_id, text, kind, record_progress=lambda p: saved.append(dict(p)))
    for _ in range(10):
        try:
            return case.adapter().publish(case.channel(), request)
        except StillProcessing as waiting:
            case.settle()
            request = case.request(delivery_id, text, kind, progress=waiting.progress,
                                   record_progress=lambda p: saved.append(dict(p)))
    raise AssertionError("never settled")


@pytest.mark.parametrize("module", CASES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_the_contract_scenarios(module: Any) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    with module.start(clock) as case:
        assert publish(case, "d-text", "Opening at 7 tomorrow").remote_id in case.published()
        for kind in case.media_kinds:
            assert publish(case, f"d-{kind}", f"With {kind}", kind).remote_id in case.published()
        assert case.adapter().content_problems(case.request("d-long", case.too_long_text()))
        for kind in case.error_kinds:
            case.script_error(kind)
            with pytest.raises(EXPECTED[kind]) as raised:
                case.adapter().publish(case.channel(), case.request(f"d-{kind}", f"Error {kind}"))
            assert raised.value.message
            if kind == "throttled":
                assert raised.value.retry_after_s
        before = len(case.published())
        case.drop_next_publish()
        saved: list[dict[str, Any]] = []
        lost = case.request("d-lost", "The answer is lost", record_progress=lambda p: saved.append(dict(p)))
        with pytest.raises(AmbiguousError):
            case.adapter().publish(case.channel(), lost)
        for progress in ({}, saved[-1] if saved else {}):  # the runner may or may not pass what was recorded
            found = case.adapter().find_published(case.channel(), case.request("d-lost", "The answer is lost",
                                                                                progress=progress))
            assert found is not None and found.remote_id == case.published()[-1]
        assert len(case.published()) == before + 1
        assert case.fake.violations == []
