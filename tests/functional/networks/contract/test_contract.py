"""The network contract: the same scenarios for every adapter, against its local fake.

Every module in `cases/` is a row (its `start(clock)` yields a `NetworkContract`, see case.py); adding a module
adds its network to every scenario with no edit here. A scenario's id is `<network>-<scenario>`:
- `text`: a text post goes out once, with its remote id and a link;
- `media-<kind>`: each media kind the case names goes out once (publish again with the progress of each
  `StillProcessing`, after `settle()`, a bounded number of times);
- `too-long-text`: the documented text limit is checked when the post is saved, naming the text;
- `error-<kind>`: each documented error is the outcome the engine acts on (a PermanentError in a sentence);
- `ambiguous`: an answer lost after the post was made is an AmbiguousError, and looking before retrying finds
  the one post (or the adapter says it cannot tell, and a retry of an idempotent publish adds no second post).
Each scenario also asserts that the fake saw nothing Herald should not have sent.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from chalicelib.core.clock import FixedClock
from chalicelib.networks.base import (
    AmbiguousError,
    AuthError,
    ContentProblem,
    NetworkError,
    PermanentError,
    PublishRequest,
    PublishResult,
    RetryableError,
    StillProcessing,
)
from chalicelib.networks.registry import limits_for, text_length
from tests.functional.networks.contract import cases
from tests.functional.networks.contract.case import ErrorKind, MediaKind, NetworkContract, StartCase

START = datetime(2026, 4, 6, 9, 30, tzinfo=UTC)
MAX_PROCESSING_ROUNDS = 25  # publish → StillProcessing → settle, at most this many times
EXPECTED: dict[ErrorKind, type[NetworkError]] = {
    "throttled": RetryableError, "revoked": AuthError, "rejected": PermanentError}


@dataclass(frozen=True)
class Row:
    network: str
    start: StartCase
    media_kinds: tuple[MediaKind, ...]
    error_kinds: tuple[ErrorKind, ...]


def _case_modules() -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(cases.__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"{cases.__name__}.{name}") for name in names]


def _row(module: ModuleType) -> Row:
    """What a case offers, read once at collection by starting it (its fake runs on 127.0.0.1 for a moment)."""
    start: StartCase = module.start
    with start(FixedClock(START)) as case:
        return Row(case.network, start, tuple(case.media_kinds), tuple(case.error_kinds))


def _marks(module: ModuleType, scenario: str) -> list[Any]:
    """A case module may mark known findings: `CONTRACT_MARKS = {"ambiguous": (pytest.mark.xfail(...),)}`."""
    marks: Mapping[str, tuple[Any, ...]] = getattr(module, "CONTRACT_MARKS", {})
    return [*marks.get("*", ()), *marks.get(scenario, ())]


def _scenarios() -> list[Any]:
    params = []
    for module in _case_modules():
        try:
            row = _row(module)
        except Exception as exc:  # one broken row fails its own test, not the collection of every network
            params.append(pytest.param(_broken(exc), "text", id=f"{module.__name__.rsplit('.', 1)[-1]}-start"))
            continue
        names = ["text", *(f"media-{kind}" for kind in row.media_kinds), "too-long-text",
                 *(f"error-{kind}" for kind in row.error_kinds), "ambiguous"]
        params += [pytest.param(row.start, name, id=f"{row.network}-{name}", marks=_marks(module, name))
                   for name in names]
    return params


def _broken(exc: Exception) -> StartCase:
    def start(_clock: Any) -> Any:
        raise AssertionError(f"the case module's start(clock) failed: {exc!r}")

    return start


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


class Progress:
    """The engine's side of `record_progress`: the last progress recorded, given back on the next attempt."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}

    def __call__(self, progress: Mapping[str, Any]) -> None:
        self.last = dict(progress)


def new_request(case: NetworkContract, delivery_id: str, text: str, progress: Progress,
                media_kind: MediaKind | None = None) -> PublishRequest:
    request = case.request(delivery_id, text, media_kind, record_progress=progress)
    return request if request.first_attempt_at else replace(request, first_attempt_at=START)


def publish_settled(case: NetworkContract, request: PublishRequest, progress: Progress) -> PublishResult:
    """Publishes as the engine does: each StillProcessing is recorded, time passes, and publish runs again."""
    adapter, channel = case.adapter(), case.channel()
    for _ in range(MAX_PROCESSING_ROUNDS):
        try:
            return adapter.publish(channel, request)
        except StillProcessing as waiting:
            progress(waiting.progress)
            request = replace(request, progress=waiting.progress)
            case.settle()
    raise AssertionError(f"{case.network}: still processing after {MAX_PROCESSING_ROUNDS} rounds")


def content_problems(case: NetworkContract, request: PublishRequest) -> list[ContentProblem]:
    """What saving the post reports for this network: the registry's limits, then the adapter's own rules."""
    settings = case.channel().settings
    problems = []
    if text_length(case.network, request.text, settings) > limits_for(case.network, settings).max_text:
        problems.append(ContentProblem("text", f"is longer than {case.network} allows"))
    check: Callable[[PublishRequest], list[ContentProblem]] | None = getattr(case.adapter(), "content_problems",
                                                                             None)
    return problems + (check(request) if check else [])


def is_sentence(message: str) -> bool:
    """A person reads it: several words, a capital first, no raw body or bare status code."""
    words = re.findall(r"[A-Za-z']+", message)
    return (len(words) >= 4 and message[:1].isupper() and "{" not in message
            and not re.fullmatch(r"\W*(HTTP\s*)?\d{3}\W*", message))


def assert_no_violations(case: NetworkContract) -> None:
    violations: Callable[[], list[str]] | None = getattr(case, "violations", None)
    assert violations is None or violations() == [], f"{case.network}: the fake refused what Herald sent"


# -- the scenarios -----------------------------------------------------------------------------------------------

def text(case: NetworkContract, _kind: str) -> None:
    progress = Progress()
    result = publish_settled(case, new_request(case, "dlv-text", "A contract post, once", progress), progress)
    assert case.published() == [result.remote_id]
    assert result.remote_url and result.remote_url.startswith("http")


def media(case: NetworkContract, kind: str) -> None:
    progress = Progress()
    request = new_request(case, f"dlv-{kind}", f"A contract post with {kind}", progress, kind)  # type: ignore[arg-type]
    assert request.media, f"{case.network}: a {kind} request carries media"
    result = publish_settled(case, request, progress)
    assert case.published() == [result.remote_id]
    assert result.remote_url and result.remote_url.startswith("http")


def too_long_text(case: NetworkContract, _kind: str) -> None:
    valid = new_request(case, "dlv-ok", "A post well within the limits", Progress())
    assert content_problems(case, valid) == []
    too_long = replace(valid, text=case.too_long_text())
    problems = content_problems(case, too_long)
    assert any(problem.field == "text" for problem in problems), problems
    assert all(is_sentence(problem.message) or problem.field == "text" for problem in problems), problems


def error(case: NetworkContract, kind: str) -> None:
    case.script_error(kind)  # type: ignore[arg-type]
    progress = Progress()
    with pytest.raises(NetworkError) as caught:
        publish_settled(case, new_request(case, f"dlv-{kind}", "A contract post that meets an error", progress),
                        progress)
    expected = EXPECTED[kind]  # type: ignore[index]
    assert type(caught.value) is expected, f"{case.network}: {kind} raised {caught.value!r}"
    if expected is PermanentError:
        assert is_sentence(caught.value.message), caught.value.message
    assert case.published() == []


def ambiguous(case: NetworkContract, _kind: str) -> None:
    case.drop_next_publish()
    progress = Progress()
    request = new_request(case, "dlv-lost", "A contract post whose answer is lost", progress)
    with pytest.raises(AmbiguousError):
        publish_settled(case, request, progress)
    assert len(case.published()) == 1, "the dropped call did its work"
    retry = replace(request, progress=progress.last)
    adapter, channel = case.adapter(), case.channel()
    if case.looks_before_retry:
        found = adapter.find_published(channel, retry)  # type: ignore[attr-defined]
        assert found is not None and [found.remote_id] == case.published()
        return
    find = getattr(adapter, "find_published", None)
    if find is not None:
        with pytest.raises(AmbiguousError):  # it must not say "absent": the post is there
            find(channel, retry)
    if adapter.idempotent_publish:
        result = publish_settled(case, retry, progress)
        assert case.published() == [result.remote_id], "a retry of an idempotent publish made a second post"


SCENARIOS: dict[str, Callable[[NetworkContract, str], None]] = {
    "text": text, "media": media, "too-long-text": too_long_text, "error": error, "ambiguous": ambiguous}


@pytest.mark.parametrize(("start", "scenario"), _scenarios())
def test_contract(start: StartCase, scenario: str, clock: FixedClock) -> None:
    name, _, kind = scenario.partition("-") if scenario.startswith(("media-", "error-")) else (scenario, "", "")
    with start(clock) as case:
        SCENARIOS[name](case, kind)
        assert_no_violations(case)
