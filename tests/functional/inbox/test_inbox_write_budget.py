"""Issue 14, finding 5: an inbound event costs at most two DynamoDB write requests on its way in (one to
deduplicate, one to store); the conversation, the counters, listening and webhook events belong off that
path. Counted through PynamoDB's pre-send signal (tests/support/dynamodb_calls.py) while a signed Meta
delivery goes through the real handlers: POST /webhooks/meta (the API function) and the `inbox_events`
queue's consumer (`inbox_worker`, fed as SQS feeds it).

The queue consumer writes the message only; the conversation, mentions, counters and webhook events
follow from the inbox table's stream (`thread_messages`), which runs after the count. What repeats cost:
a repeat delivery one refused dedupe put (that refusal is the deduplication); a copy queued again, or a
message SQS delivers again, a read instead of a refused message write."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.dynamodb_calls import WRITES, dynamodb_calls
from tests.support.factories import connect_verified
from tests.support.webhooks import (
    Webhooks,
    drain_inbox,
    fixture,
    queued_messages,
    run_inbox_worker,
    settle_inbox,
    table_items,
)

PAGE_ID = "448242228374517"  # the Page of tests/events/meta/feed_comment_add.json
COMMENT = fixture("meta", "feed_comment_add.json")


@pytest.fixture
def hooks(client: Any, clock: Any) -> Webhooks:
    return Webhooks(client, clock)


@pytest.fixture
def page(api: Any, network_apis: Any) -> str:
    return str(connect_verified(api, network_apis, "facebook", PAGE_ID, token="p-token", name="Herald Coffee")["id"])


def messages(deps: Any) -> list[dict[str, Any]]:
    return [item for item in table_items(deps, "inbox") if item["sk"]["S"].startswith("message#")]


def the_comment_once(api: Any, deps: Any) -> None:
    """The comment is in the inbox once: one message item, one conversation with one message."""
    settle_inbox(deps)
    [message] = messages(deps)
    assert message["text"]["S"] == "Do you ship to Lisbon?"
    [conversation] = api.get("/inbox/conversations").json["items"]
    thread = api.get(f"/inbox/conversations/{conversation['id']}").json
    assert [m["text"] for m in thread["messages"]] == ["Do you ship to Lisbon?"]


def test_a_new_comment_costs_two_writes_through_the_handlers(hooks: Webhooks, deps: Any, api: Any,
                                                            page: str) -> None:
    with dynamodb_calls() as calls:
        assert hooks.post("meta", COMMENT).json["stored"] == 1
        assert drain_inbox(deps) == 1
    assert calls.count(*WRITES) <= 2, calls.calls
    # the dedupe put, and the event written into its message: nothing else on the way in
    assert calls.count("PutItem", table="webhook_events") == 1, calls.calls
    assert calls.count("UpdateItem", table="inbox") == 1, calls.calls
    the_comment_once(api, deps)


def test_a_repeat_delivery_costs_only_its_refused_dedupe_put(hooks: Webhooks, deps: Any, api: Any,
                                                            page: str) -> None:
    hooks.post("meta", COMMENT)
    drain_inbox(deps)
    with dynamodb_calls() as calls:
        assert hooks.post("meta", COMMENT).json["duplicates"] == 1
        assert drain_inbox(deps) == 0  # nothing queued
    assert calls.count(*WRITES) == 1 and calls.count("PutItem", table="webhook_events") == 1, calls.calls
    the_comment_once(api, deps)


@pytest.mark.parametrize("first", ["the first copy", "the copy sent again"])
def test_a_repeat_before_the_first_copy_is_written_stores_it_once(hooks: Webhooks, deps: Any, api: Any,
                                                                 page: str, first: str) -> None:
    """The repeat finds the event stored but not in its message yet (its first copy is still on the queue), so
    it queues it again, marked; whichever copy the consumer takes first writes it."""
    with dynamodb_calls() as calls:
        hooks.post("meta", COMMENT)
        assert hooks.post("meta", COMMENT).json["requeued"] == 1
        original, again = sorted(queued_messages(deps), key=lambda body: '"again":true' in body)
        assert '"again":true' in again and '"again"' not in original
        for body in ([original, again] if first == "the first copy" else [again, original]):
            assert run_inbox_worker([body]) == {"batchItemFailures": []}
    assert calls.count("PutItem", table="webhook_events") == 2, calls.calls  # the second one refused
    # The copy sent again reads the message first: it writes nothing when the first copy wrote it already.
    # Taken first, it writes the event, and the first copy's conditional write is refused.
    assert calls.count("UpdateItem", table="inbox") == (1 if first == "the first copy" else 2), calls.calls
    the_comment_once(api, deps)


def test_a_message_sqs_delivers_again_is_read_not_written(hooks: Webhooks, deps: Any, api: Any,
                                                         page: str) -> None:
    hooks.post("meta", COMMENT)
    [body] = queued_messages(deps)
    assert run_inbox_worker([body]) == {"batchItemFailures": []}
    with dynamodb_calls() as calls:
        assert run_inbox_worker([body], receive_count=2) == {"batchItemFailures": []}
    assert calls.count(*WRITES) == 0, calls.calls
    assert calls.count("GetItem", table="inbox") == 1, calls.calls
    the_comment_once(api, deps)


def test_a_message_sqs_delivers_again_before_it_was_written_is_written(hooks: Webhooks, deps: Any, api: Any,
                                                                      page: str) -> None:
    """The first receipt failed before writing (a timeout): the second one finds nothing and writes it."""
    hooks.post("meta", COMMENT)
    [body] = queued_messages(deps)
    with dynamodb_calls() as calls:
        assert run_inbox_worker([body], receive_count=2) == {"batchItemFailures": []}
    assert calls.count("UpdateItem", table="inbox") == 1, calls.calls
    the_comment_once(api, deps)
