"""/webhooks/meta end to end in-process: signed fixture deliveries → store → queue → inbox."""
from __future__ import annotations

import json
from datetime import date

import pytest

from tests.support.factories import connect_verified
from tests.support.streams import run_stream_consumers
from tests.support.webhooks import (
    META_VERIFY_TOKEN,
    Webhooks,
    as_bytes,
    assert_nothing_stored,
    fixture,
    meta_headers,
    outcomes,
    queued_messages,
    run_inbox_worker,
    settle_inbox,
    stored_event_keys,
)

PAGE_ID = "448242228374517"
IG_USER_ID = "17841474524784050"
POST_ID = "448242228374517_122131676912594941"



@pytest.fixture
def hooks(client, clock):
    return Webhooks(client, clock)


@pytest.fixture
def graph(network_apis):
    """The Graph API (a local fake): what it was asked, and the answers a test scripts."""
    return network_apis


@pytest.fixture
def page(api, graph):
    return connect_verified(api, graph, "facebook", PAGE_ID, token="p-token", name="Herald Coffee")["id"]


@pytest.fixture
def instagram(api, graph):
    return connect_verified(api, graph, "instagram", IG_USER_ID, token="ig-token", name="Herald IG")["id"]


def conversations(api, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    answer = api.get(f"/inbox/conversations?{query}")
    assert answer.status_code == 200, answer.body
    return answer.json["items"]


def thread(api, conversation_id):
    answer = api.get(f"/inbox/conversations/{conversation_id}")
    assert answer.status_code == 200, answer.body
    return answer.json


# -- the handshake -------------------------------------------------------------------------


def test_the_subscription_handshake_echoes_the_challenge(hooks, deps):
    query = f"hub.mode=subscribe&hub.verify_token={META_VERIFY_TOKEN}&hub.challenge=1158201444"
    answer = hooks.get("meta", query)
    assert answer.status_code == 200
    assert answer.body == b"1158201444"
    assert answer.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("query", [
    "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1",
    "hub.mode=unsubscribe&hub.verify_token=" + META_VERIFY_TOKEN + "&hub.challenge=1",
    "hub.mode=subscribe&hub.challenge=1",
    f"hub.mode=subscribe&hub.verify_token={META_VERIFY_TOKEN}&hub.challenge=%3Cscript%3E",
    f"hub.mode=subscribe&hub.verify_token={META_VERIFY_TOKEN}&hub.challenge=" + "1" * 65,
])
def test_a_handshake_with_the_wrong_token_or_challenge_is_refused(hooks, deps, query):
    answer = hooks.get("meta", query)
    assert answer.status_code == 403
    assert answer.json["error"] == {"code": "handshake_refused", "message": "The handshake is not valid.",
                                    "details": []}


# -- events in -------------------------------------------------------------------------------


def test_a_page_comment_becomes_a_conversation_on_its_post(hooks, api, deps, page):
    answer = hooks.post("meta", fixture("meta", "feed_comment_add.json"))

    assert answer.status_code == 200, answer.body
    assert answer.json["stored"] == 1
    assert conversations(api) == []  # threading happens on the queue, after the answer
    settle_inbox(deps)
    [conversation] = conversations(api)
    assert (conversation["channel_id"], conversation["kind"]) == (page, "comment")
    assert conversation["status"] == "open"
    assert conversation["participant"]["name"] == "Ada Lovelace"
    [message] = thread(api, conversation["id"])["messages"]
    assert message["text"] == "Do you ship to Lisbon?"
    assert message["direction"] == "inbound"
    assert message["id"] == "122131676912594941_1213590066982748"


def test_a_batch_larger_than_an_api_body_is_taken_whole(hooks, api, deps, page):
    """Meta batches up to 1,000 changes in one POST: more than the API's 256 KiB for its own routes."""
    template = json.loads(fixture("meta", "feed_comment_add.json"))
    change = template["entry"][0]["changes"][0]
    changes = []
    for index in range(200):  # long comments rather than many: the same size, a quarter of the events to store
        value = {**change["value"], "comment_id": f"122131676912594941_{index:016d}",
                 "message": f"Question {index}: " + "do you ship to Lisbon? " * 60}
        changes.append({**change, "value": value})
    body = json.dumps({"object": "page", "entry": [{**template["entry"][0], "changes": changes}]}).encode()
    assert 256 * 1024 < len(body) < 2 * 1024 * 1024

    answer = hooks.post("meta", body)

    assert answer.status_code == 200, answer.body
    assert answer.json["stored"] == 200
    settle_inbox(deps)
    [conversation] = conversations(api)
    assert len(thread(api, conversation["id"])["messages"]) == 200


def test_the_same_delivery_twice_stores_one_message(hooks, api, deps, page):
    body = fixture("meta", "feed_comment_add.json")
    first = hooks.post("meta", body)
    settle_inbox(deps)
    second = hooks.post("meta", body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (second.json["stored"], second.json["duplicates"]) == (0, 1)
    assert queued_messages(deps) == []
    [conversation] = conversations(api)
    assert len(thread(api, conversation["id"])["messages"]) == 1


def test_a_retry_while_the_first_copy_is_still_queued_is_applied_once(hooks, api, deps, page):
    body = fixture("meta", "feed_comment_add.json")
    hooks.post("meta", body)
    again = hooks.post("meta", body)  # before the consumer ran: the event is stored but not applied
    assert again.json["requeued"] == 1

    bodies = queued_messages(deps)
    assert len(bodies) == 2
    run_inbox_worker(bodies)
    run_stream_consumers(deps)
    [conversation] = conversations(api)
    assert len(thread(api, conversation["id"])["messages"]) == 1
    assert len(stored_event_keys(deps)) == 1


class BrokenQueue:
    def send(self, events):
        raise RuntimeError("SQS is unreachable")


def test_an_event_whose_queueing_failed_is_not_acknowledged_and_the_retry_delivers_it(hooks, api, deps, page):
    body = fixture("meta", "feed_comment_add.json")
    real_queue = deps.inbox_queue
    deps.ingest.queue = BrokenQueue()
    failed = hooks.post("meta", body)
    assert failed.status_code == 500  # not 2xx: Meta delivers it again

    deps.ingest.queue = real_queue
    retried = hooks.post("meta", body)
    assert retried.status_code == 200 and retried.json["requeued"] == 1
    settle_inbox(deps)
    [conversation] = conversations(api)
    assert [m["text"] for m in thread(api, conversation["id"])["messages"]] == ["Do you ship to Lisbon?"]


def test_a_batch_with_bad_entries_keeps_the_good_ones(hooks, api, deps, page):
    answer = hooks.post("meta", fixture("meta", "batch_with_bad_entry.json"))

    assert answer.status_code == 200, answer.body
    assert answer.json["stored"] == 2  # a comment and a Messenger message
    assert answer.json["rejected"] == 2  # a comment without its id, an entry without the page id
    assert answer.json["ignored"] == 2  # a reaction, a read receipt
    settle_inbox(deps)
    kinds = sorted(c["kind"] for c in conversations(api))
    assert kinds == ["comment", "message"]


def test_an_event_for_no_connected_channel_is_answered_and_counted_not_stored(hooks, deps, clock):
    answer = hooks.post("meta", fixture("meta", "feed_comment_add.json"))

    assert answer.status_code == 200
    assert answer.json["unrouted"] == 1 and answer.json["stored"] == 0
    assert_nothing_stored(deps)
    assert outcomes(deps, "meta", clock)["unrouted"] == 1


def test_unknown_event_types_are_answered_and_counted(hooks, deps, clock, page):
    payload = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1742667606, "changes": [
        {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": POST_ID,
                                    "reaction_type": "like", "created_time": 1742667603}},
        {"field": "ratings", "value": {"item": "rating"}},
    ]}]}
    answer = hooks.post("meta", as_bytes(payload))

    assert answer.status_code == 200
    assert answer.json["ignored"] == 2
    assert_nothing_stored(deps)
    assert outcomes(deps, "meta", clock)["ignored"] == 2


# -- bad input: 4xx, nothing stored ---------------------------------------------------------------

BODY = fixture("meta", "feed_comment_add.json")
RESERIALISED = json.dumps(json.loads(BODY)).encode()


def _signed(body):
    return body, meta_headers(body)


BAD_DELIVERIES = {
    "no signature": (BODY, {"Content-Type": "application/json"}, 401),
    "signed with another secret": (BODY, meta_headers(BODY, secret="not-our-secret"), 401),
    "signature over other bytes": (BODY, meta_headers(RESERIALISED), 401),
    "tampered body": (BODY.replace(b"Lisbon", b"Madrid"), meta_headers(BODY), 401),
    "sha1 signature": (BODY, {"X-Hub-Signature-256": "sha1=" + "0" * 40}, 401),
    "digest that is not hex": (BODY, {"X-Hub-Signature-256": "sha256=" + "z" * 64}, 401),
    "malformed JSON": (*_signed(b'{"object": "page", "entry": ['), 400),
    "the event in UTF-16": (*_signed(RESERIALISED.decode().encode("utf-16")), 400),
    "the event behind a byte order mark": (*_signed(b"\xef\xbb\xbf" + RESERIALISED), 400),
    "a JSON list": (*_signed(b"[]"), 400),
    "nothing of the documented shape": (*_signed(b'{"object": "user", "entry": []}'), 400),
    "body over the limit": (*_signed(b'{"object":"page","entry":[],"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'),
                            413),
}


def test_bad_input_is_refused_and_nothing_is_stored(hooks, deps, page):
    for case, (body, headers, status) in BAD_DELIVERIES.items():
        answer = hooks.post("meta", body, headers={"Content-Type": "application/json", **headers})

        assert answer.status_code == status, (case, answer.body)
        assert json.loads(answer.body)["error"]["code"], case
        assert_nothing_stored(deps)


# -- Messenger and Instagram -----------------------------------------------------------------------


def test_messenger_messages_edits_and_echoes_share_the_thread_with_that_person(hooks, api, deps, clock, page):
    assert hooks.post("meta", fixture("meta", "messenger_message.json")).status_code == 200
    settle_inbox(deps)
    clock.advance(minutes=3)
    hooks.post("meta", fixture("meta", "messenger_echo.json"))
    hooks.post("meta", fixture("meta", "messenger_edit.json"))
    settle_inbox(deps)

    [conversation] = conversations(api, kind="message")
    assert conversation["participant"]["id"] == "6283746501928374"
    assert conversation["first_response_s"] == 180
    messages = {m["id"]: m for m in thread(api, conversation["id"])["messages"]}
    edited = messages["m_1457764197618:41d102a3e1ae206a38"]
    assert (edited["text"], edited["direction"]) == ("hello, world! (edited)", "inbound")
    assert edited["edited_at"] is not None
    echo = messages["mid.1457764197618:41d102a3e1ae206a38"]
    assert (echo["direction"], echo["text"]) == ("outbound", "Thanks for writing, we open at 9.")


def test_instagram_comments_and_dms_and_an_unsent_dm(hooks, api, deps, instagram):
    hooks.post("meta", fixture("meta", "instagram_comment.json"))
    hooks.post("meta", fixture("meta", "instagram_dm.json"))
    settle_inbox(deps)
    hooks.post("meta", fixture("meta", "instagram_dm_deleted.json"))
    settle_inbox(deps)

    [comment] = conversations(api, kind="comment")
    assert comment["network"] == "instagram"
    [dm] = conversations(api, kind="message")
    messages = thread(api, dm["id"])["messages"]
    assert [(m["direction"], m["deleted"], m["text"]) for m in messages] == [
        ("inbound", True, ""), ("outbound", False, "We do, until noon.")]


def test_a_page_comment_edited_then_removed(hooks, api, deps, clock, page):
    hooks.post("meta", fixture("meta", "feed_comment_add.json"))
    hooks.post("meta", fixture("meta", "feed_comment_remove.json"))
    settle_inbox(deps)

    [conversation] = conversations(api)
    [message] = thread(api, conversation["id"])["messages"]
    assert message["deleted"] is True and message["text"] == ""
    assert conversation["last_message_preview"] == ""


def test_the_page_answering_on_facebook_counts_as_the_first_response(hooks, api, deps, clock, page,
                                                                     workspace):
    hooks.post("meta", fixture("meta", "feed_comment_add.json"))
    settle_inbox(deps)
    clock.advance(minutes=5)
    hooks.post("meta", fixture("meta", "feed_comment_by_page.json"))
    settle_inbox(deps)

    [conversation] = conversations(api)
    assert conversation["first_response_s"] == 300
    directions = [m["direction"] for m in thread(api, conversation["id"])["messages"]]
    assert directions == ["inbound", "outbound"]
    commented = date(2025, 3, 22)  # counted on the day the conversation started
    counters, _rows = deps.metrics_repository.window(workspace.id, page, commented, commented)
    assert counters[commented].first_response_s == [300.0]
    assert (counters[commented].count("comments"), counters[commented].count("conversations")) == (1, 1)


def test_a_reply_to_a_page_comment_goes_to_the_graph_api_and_its_echo_is_not_a_second_message(
        hooks, api, deps, clock, page, graph):
    graph.answer("POST", "/v25.0/122131676912594941_1213590066982748/comments", 200,
                 {"id": "122131676912594941_1213590099911230"})
    hooks.post("meta", fixture("meta", "feed_comment_add.json"))
    settle_inbox(deps)
    [conversation] = conversations(api)

    clock.advance(minutes=2)
    answer = api.post(f"/inbox/conversations/{conversation['id']}/reply",
                      {"text": "Yes, we ship everywhere in Portugal!"})

    assert answer.status_code == 201 and answer.json["message"]["delivery_status"] == "sent", answer.body
    [sent] = graph.requests_to("/comments")
    assert (sent.method, sent.path) == ("POST", "/v25.0/122131676912594941_1213590066982748/comments")
    assert sent.headers["authorization"] == "Bearer p-token"
    assert sent.body == {"message": "Yes, we ship everywhere in Portugal!"}
    hooks.post("meta", fixture("meta", "feed_comment_by_page.json"))  # Meta tells us about our own comment
    settle_inbox(deps)
    messages = thread(api, conversation["id"])["messages"]
    assert [(m["direction"], m["delivery_status"]) for m in messages] == [
        ("inbound", "received"), ("outbound", "sent")]
    assert conversations(api)[0]["first_response_s"] == 120
