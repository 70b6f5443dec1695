"""The unified inbox through its API: threading, triage, replies and saved replies.

Events come in through the ingest path (as pollers and webhooks send them) for
a Bluesky channel whose adapter is a fake that records what it was asked.
"""
from __future__ import annotations

import pytest

from chalicelib.networks.base import AmbiguousError, AuthError, PermanentError
from chalicelib.wiring import Container, use_container
from tests.support.fake_network import FakeNetwork, inbound
from tests.support.fixtures import make_workspace
from tests.support.http import Api
from tests.support.streams import run_stream_consumers
from tests.support.webhooks import queued_messages, run_inbox_worker, settle_inbox

POST = "at://did:plc:heraldcoffee/app.bsky.feed.post/3kpost"


@pytest.fixture
def network():
    return FakeNetwork()


@pytest.fixture
def deps(aws, clock, network):
    return use_container(Container(clock=clock, clients=aws, sleep=lambda _s: None,
                                   adapter_overrides={"bluesky": network}))



def connect(api, network="bluesky", name="Herald on Bluesky"):
    created = api.post("/channels", {"network": network, "name": name, "credentials": {
        "service_url": "https://pds.example", "handle": "heraldcoffee.example", "app_password": "x"}})
    assert created.status_code == 201, created.body
    return created.json["id"]


@pytest.fixture
def channel(api):
    return connect(api)


@pytest.fixture
def deliver(deps, workspace):
    """What a poller or a webhook does for a channel: ingest, then the queue consumer runs."""
    def deliver(channel_id, *events):
        row = deps.channel_repository.get(workspace.id, channel_id)
        report = deps.ingest.ingest(list(events), channel=row)
        settle_inbox(deps)
        return report

    return deliver


def listing(api, query=""):
    answer = api.get(f"/inbox/conversations?{query}")
    assert answer.status_code == 200, answer.body
    return answer.json


def conversations(api, query=""):
    return listing(api, query)["items"]


def thread(api, conversation_id):
    answer = api.get(f"/inbox/conversations/{conversation_id}")
    assert answer.status_code == 200, answer.body
    return answer.json


def only_conversation(api):
    [conversation] = conversations(api)
    return conversation


# -- threading ----------------------------------------------------------------------------------


def test_comments_on_one_post_are_one_conversation_and_dms_with_one_person_another(api, channel, deliver):
    deliver(channel,
            inbound("c1", thread=POST, text="Love the new roast"),
            inbound("c2", thread=POST, text="Same here", author="did:plc:grace", name="Grace"),
            inbound("c3", thread=POST + "-other", text="When do you open?"),
            inbound("d1", kind="message", thread="did:plc:ada", text="Hi, a private question"),
            inbound("d2", kind="message", thread="did:plc:ada", text="About my order"),
            inbound("d3", kind="message", thread="did:plc:grace", author="did:plc:grace", text="Hello"))

    found = conversations(api)
    assert sorted(c["kind"] for c in found) == ["comment", "comment", "message", "message"]
    texts = sorted(tuple(m["text"] for m in thread(api, c["id"])["messages"]) for c in found)
    assert texts == [("Hello",), ("Hi, a private question", "About my order"),
                     ("Love the new roast", "Same here"), ("When do you open?",)]


def test_a_reply_to_our_reply_joins_the_conversation_it_answers(api, channel, clock, deliver):
    deliver(channel, inbound("c1", thread=POST, text="Do you have oat milk?"))
    conversation = only_conversation(api)
    clock.advance(seconds=10)
    sent = api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "We do!"})
    assert sent.status_code == 201, sent.body
    our_reply = sent.json["message"]["id"]

    # Mastodon and X thread a reply on the status it answers: here, ours.
    clock.advance(seconds=30)
    deliver(channel, inbound("c2", thread=our_reply, parent=our_reply, text="Great, see you soon",
                                   at=clock.now()))

    assert only_conversation(api)["id"] == conversation["id"]
    texts = [m["text"] for m in thread(api, conversation["id"])["messages"]]
    assert texts == ["Do you have oat milk?", "We do!", "Great, see you soon"]


def test_a_new_inbound_message_reopens_a_closed_conversation_but_a_redelivered_old_one_does_not(
        deps, api, channel, clock, deliver, workspace):
    row = deps.channel_repository.get(workspace.id, channel)
    deps.ingest.ingest([inbound("c1", thread=POST)], channel=row)
    first_delivery = queued_messages(deps)
    run_inbox_worker(first_delivery)
    run_stream_consumers(deps)
    conversation = only_conversation(api)

    clock.advance(minutes=1)
    closed = api.patch(f"/inbox/conversations/{conversation['id']}", {"status": "closed"})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    run_inbox_worker(first_delivery)  # SQS delivered the old message again
    run_stream_consumers(deps, from_start=True)  # and the stream its record
    assert only_conversation(api)["status"] == "closed"

    clock.advance(minutes=1)
    deliver(channel, inbound("c2", thread=POST, text="One more thing"))
    assert only_conversation(api)["status"] == "open"


def test_edits_and_deletions_update_the_message_in_whatever_order_they_arrive(api, channel, clock, deliver):
    later = clock.now().replace(minute=5)
    deliver(channel, inbound("c1", thread=POST, text="Opening at 8?"))
    deliver(channel, inbound("c1", thread=POST, text="Opening at 9?", action="edited", at=later))
    conversation = only_conversation(api)
    [message] = thread(api, conversation["id"])["messages"]
    assert (message["text"], message["edited_at"] is not None) == ("Opening at 9?", True)
    assert conversation["last_message_preview"] == "Opening at 9?"

    # An edit that reaches us before the message itself.
    deliver(channel, inbound("c2", thread=POST, text="typo fixed", action="edited", at=later,
                             context={"parent": {"uri": "c2", "cid": "bafy2"}, "labels": None}))
    deliver(channel, inbound("c2", thread=POST, text="typo fxied"))
    texts = {m["id"]: m["text"] for m in thread(api, conversation["id"])["messages"]}
    assert texts["c2"] == "typo fixed"

    deliver(channel, inbound("c1", thread=POST, action="deleted", text="", at=later.replace(minute=6)))
    deliver(channel, inbound("c1", thread=POST, text="resurrected?", action="edited",
                                   at=later.replace(minute=7)))
    deleted = {m["id"]: m for m in thread(api, conversation["id"])["messages"]}["c1"]
    assert (deleted["deleted"], deleted["text"]) == (True, "")


def test_an_edit_that_changes_nothing_is_still_applied_once(api, channel, clock, deliver):
    """An edit older than the text there, or one after the deletion, is refused by its message, yet recorded
    there: the network's retry of it is a plain duplicate, not queued again for ever."""
    later = clock.now().replace(minute=5)
    deliver(channel, inbound("c1", thread=POST, text="Opening at 8?"))
    deliver(channel, inbound("c1", thread=POST, text="Opening at 10?", action="edited", at=later,
                             event_id="c1:edit-2"))
    older = inbound("c1", thread=POST, text="Opening at 9?", action="edited", at=later.replace(minute=3),
                    event_id="c1:edit-1")
    assert deliver(channel, older).stored == 1
    retried = deliver(channel, older)
    assert (retried.duplicates, retried.requeued) == (1, 0)
    conversation = only_conversation(api)
    [message] = thread(api, conversation["id"])["messages"]
    assert message["text"] == "Opening at 10?" and conversation["last_message_preview"] == "Opening at 10?"


def test_a_duplicate_event_is_stored_once(api, channel, deliver):
    event = inbound("c1", thread=POST)
    deliver(channel, event)
    report = deliver(channel, event)
    assert report.duplicates == 1
    assert len(thread(api, only_conversation(api)["id"])["messages"]) == 1


# -- triage and filters -----------------------------------------------------------------------------


def test_filters_by_status_channel_kind_assignee_and_tag_with_cursors(api, channel, clock, deliver):
    other = connect(api, name="Second account")
    deliver(channel, inbound("c1", thread=POST))
    clock.advance(seconds=1)
    deliver(channel, inbound("d1", kind="message", thread="did:plc:ada", at=clock.now()))
    clock.advance(seconds=1)
    deliver(other, inbound("m1", kind="mention", thread="at://someone/post/9", at=clock.now()))
    newest_first = conversations(api)
    assert [c["kind"] for c in newest_first] == ["mention", "message", "comment"]
    comment, dm, mention = newest_first[2], newest_first[1], newest_first[0]

    api.patch(f"/inbox/conversations/{dm['id']}",
              {"assignee": "lena@herald.example", "tags": ["billing", "vip"]})
    api.patch(f"/inbox/conversations/{comment['id']}", {"status": "pending", "tags": ["vip"]})
    api.patch(f"/inbox/conversations/{mention['id']}", {"status": "closed"})

    def ids(query):
        return [c["id"] for c in conversations(api, query)]

    assert ids("status=open") == [dm["id"]]
    assert ids("status=pending") == [comment["id"]]
    assert ids(f"channel_id={other}") == [mention["id"]]
    assert ids(f"channel_id={channel}&kind=comment") == [comment["id"]]
    assert ids("kind=message") == [dm["id"]]
    assert ids("assignee=lena@herald.example") == [dm["id"]]
    assert ids("assignee=lena@herald.example&status=closed") == []
    assert ids("tag=vip") == [dm["id"], comment["id"]]
    assert ids("tag=billing&status=open") == [dm["id"]]

    first = listing(api, "limit=2")
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = listing(api, f"limit=2&cursor={first['next_cursor']}")
    assert [c["id"] for c in first["items"] + rest["items"]] == [mention["id"], dm["id"], comment["id"]]
    assert rest["next_cursor"] is None

    unassigned = api.patch(f"/inbox/conversations/{dm['id']}", {"assignee": None})
    assert unassigned.json["assignee"] is None and ids("assignee=lena@herald.example") == []


def test_bad_filters_and_patches_are_422(api, channel, deliver):
    assert api.get("/inbox/conversations?status=snoozed").status_code == 422
    assert api.get("/inbox/conversations?kind=post").status_code == 422
    assert api.get("/inbox/conversations?cursor=not-a-cursor").status_code == 400
    deliver(channel, inbound("c1", thread=POST))
    conversation = only_conversation(api)
    assert api.patch(f"/inbox/conversations/{conversation['id']}", {"status": "done"}).status_code == 422
    assert api.patch(f"/inbox/conversations/{conversation['id']}", {"tags": [""]}).status_code == 422


def test_a_viewer_reads_the_inbox_but_cannot_change_or_answer_it(client, workspace, api, channel, deliver):
    deliver(channel, inbound("c1", thread=POST))
    conversation = only_conversation(api)
    viewer = Api(client, workspace.headers("viewer"))
    assert viewer.get(f"/inbox/conversations/{conversation['id']}").status_code == 200
    assert viewer.patch(f"/inbox/conversations/{conversation['id']}", {"status": "closed"}).status_code == 403
    assert viewer.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "hi"}).status_code == 403
    assert viewer.post("/saved-replies", {"name": "A", "text": "B"}).status_code == 403
    assert viewer.post("/listening/rules", {"name": "A", "any_of": ["b"]}).status_code == 403
    assert viewer.get("/saved-replies").status_code == 200 and viewer.get("/listening/mentions").status_code == 200
    editor = Api(client, workspace.headers("editor"))
    assert editor.post("/saved-replies", {"name": "A", "text": "B"}).status_code == 201


# -- replies ---------------------------------------------------------------------------------------------


def test_a_reply_reaches_the_network_and_is_recorded_outbound(api, network, channel, deliver):
    context = {"root": {"uri": POST, "cid": "bafyroot"}, "parent": {"uri": "at://ada/post/c1", "cid": "bafy1"}}
    deliver(channel, inbound("c1", thread=POST, text="Is the café open?", context=context))
    conversation = only_conversation(api)

    answer = api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "Yes, until 6pm."})

    assert answer.status_code == 201, answer.body
    [request] = network.replies
    assert (request.text, request.in_reply_to, request.kind) == ("Yes, until 6pm.", "c1", "comment")
    assert request.thread == context
    message = answer.json["message"]
    assert (message["direction"], message["delivery_status"]) == ("outbound", "sent")
    assert message["id"] == "at://did:plc:heraldcoffee/reply/1" and message["parent_id"] == "c1"
    messages = thread(api, conversation["id"])["messages"]
    assert [(m["direction"], m["text"], m["delivery_status"]) for m in messages] == [
        ("inbound", "Is the café open?", "received"), ("outbound", "Yes, until 6pm.", "sent")]


def test_a_reply_answers_the_newest_inbound_message_or_the_one_asked_for(
        api, network, channel, clock, deliver):
    deliver(channel, inbound("c1", thread=POST, text="first"))
    clock.advance(seconds=5)
    deliver(channel, inbound("c2", thread=POST, text="second", at=clock.now()))
    conversation = only_conversation(api)
    path = f"/inbox/conversations/{conversation['id']}/reply"
    api.post(path, {"text": "to the newest"})
    api.post(path, {"text": "to the first", "in_reply_to": "c1"})
    assert [r.in_reply_to for r in network.replies] == ["c2", "c1"]
    missing = api.post(path, {"text": "x", "in_reply_to": "nope"})
    assert missing.status_code == 422


def test_first_response_time_runs_from_the_first_inbound_message_to_the_first_answer(
        api, channel, clock, deliver):
    deliver(channel, inbound("c1", thread=POST))
    clock.advance(seconds=95)
    deliver(channel, inbound("c2", thread=POST, at=clock.now()))
    conversation = only_conversation(api)
    assert conversation["first_response_s"] is None

    first = api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "Hello!"})
    clock.advance(minutes=10)
    api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "Anything else?"})

    assert first.json["conversation"]["first_response_s"] == 95
    assert only_conversation(api)["first_response_s"] == 95


@pytest.mark.parametrize(("error", "status", "says"), [
    (PermanentError("text is too long"), "failed", "did not take the reply: text is too long"),
    (AmbiguousError("read timed out"), "unknown", "may or may not"),
])
def test_a_reply_the_network_refused_is_recorded_with_its_failure(
        api, network, channel, error, status, says, deliver):
    deliver(channel, inbound("c1", thread=POST))
    conversation = only_conversation(api)
    network.reply_error = error

    answer = api.post(f"/inbox/conversations/{conversation['id']}/reply", {"text": "An answer"})

    assert answer.status_code == 201
    assert answer.json["message"]["delivery_status"] == status and says in answer.json["message"]["error"]
    outbound = [m for m in thread(api, conversation["id"])["messages"] if m["direction"] == "outbound"]
    assert [(m["delivery_status"], m["text"]) for m in outbound] == [(status, "An answer")]
    assert only_conversation(api)["first_response_s"] is None


def test_a_repeated_reply_with_the_same_idempotency_key_is_sent_once(api, network, channel, deliver):
    deliver(channel, inbound("c1", thread=POST, text="Open today?"))
    path = f"/inbox/conversations/{only_conversation(api)['id']}/reply"
    key = {"Idempotency-Key": "click-7f3a"}

    first = api.post(path, {"text": "Yes, until 6pm."}, headers=key)
    again = api.post(path, {"text": "Yes, until 6pm."}, headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert len(network.replies) == 1
    assert again.json["message"]["id"] == first.json["message"]["id"]
    assert again.json["message"]["delivery_status"] == "sent"
    outbound = [m for m in thread(api, only_conversation(api)["id"])["messages"] if m["direction"] == "outbound"]
    assert [m["text"] for m in outbound] == ["Yes, until 6pm."]

    other = api.post(path, {"text": "Yes, until 6pm."}, headers={"Idempotency-Key": "click-8b21"})
    assert other.status_code == 201 and len(network.replies) == 2


def test_an_idempotency_key_reused_for_another_text_is_a_conflict(api, network, channel, deliver):
    deliver(channel, inbound("c1", thread=POST))
    path = f"/inbox/conversations/{only_conversation(api)['id']}/reply"
    api.post(path, {"text": "First answer"}, headers={"Idempotency-Key": "k1"})
    reused = api.post(path, {"text": "Another answer"}, headers={"Idempotency-Key": "k1"})
    assert reused.status_code == 409 and reused.json["error"]["code"] == "idempotency_key_reused"
    assert [r.text for r in network.replies] == ["First answer"]


def test_a_failed_keyed_reply_answers_the_same_failure_until_a_new_key(api, network, channel, deliver):
    deliver(channel, inbound("c1", thread=POST))
    path = f"/inbox/conversations/{only_conversation(api)['id']}/reply"
    network.reply_error = AmbiguousError("read timed out")
    first = api.post(path, {"text": "An answer"}, headers={"Idempotency-Key": "k1"})
    network.reply_error = None
    again = api.post(path, {"text": "An answer"}, headers={"Idempotency-Key": "k1"})
    assert first.json["message"]["delivery_status"] == again.json["message"]["delivery_status"] == "unknown"
    assert network.replies == []  # not tried again: unknown may have arrived, the same key never resends it


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "café"])
def test_a_malformed_idempotency_key_is_refused_before_anything_is_sent(api, network, channel, deliver, key):
    deliver(channel, inbound("c1", thread=POST))
    path = f"/inbox/conversations/{only_conversation(api)['id']}/reply"
    answer = api.post(path, {"text": "An answer"}, headers={"Idempotency-Key": key})
    assert answer.status_code == 422
    assert answer.json["error"]["details"][0]["field"] == "headers.Idempotency-Key"
    assert network.replies == []


def test_revoked_credentials_flag_the_channel(api, network, channel, deliver):
    deliver(channel, inbound("c1", thread=POST))
    network.reply_error = AuthError("token revoked", status=401)
    api.post(f"/inbox/conversations/{only_conversation(api)['id']}/reply", {"text": "An answer"})
    assert api.get(f"/channels/{channel}").json["status"] == "needs_reauth"


def test_a_conversation_with_nothing_inbound_has_nothing_to_answer(api, channel, deliver):
    deliver(channel, inbound("o1", thread=POST, direction="outbound", text="Our own comment"))
    answer = api.post(f"/inbox/conversations/{only_conversation(api)['id']}/reply", {"text": "?"})
    assert answer.status_code == 409


def test_a_reply_through_the_sandbox_network_arrives_there(api, deliver):
    created = api.post("/channels", {"network": "sandbox", "name": "Sandbox", "settings": {"handle": "shop"}})
    sandbox = created.json["id"]
    deliver(sandbox, inbound("s1", network="sandbox", account_id="shop", thread="sbx_post"))

    answer = api.post(f"/inbox/conversations/{only_conversation(api)['id']}/reply", {"text": "Thanks!"})

    assert answer.json["message"]["delivery_status"] == "sent"
    received = api.get(f"/channels/{sandbox}/sandbox/posts").json["items"]
    assert [(r["kind"], r["text"]) for r in received] == [("reply", "Thanks!")]


# -- saved replies ------------------------------------------------------------------------------------


def test_saved_replies_fill_their_placeholders(api, network, channel, deliver):
    created = api.post("/saved-replies", {"name": "Thanks",
                                          "text": "Thanks {first_name}, see you at {shop}!"})
    assert created.status_code == 201, created.body
    assert created.json["placeholders"] == ["first_name", "shop"]
    saved_id = created.json["id"]
    deliver(channel, inbound("c1", thread=POST))
    conversation = only_conversation(api)

    answer = api.post(f"/inbox/conversations/{conversation['id']}/reply",
                      {"saved_reply_id": saved_id,
                       "variables": {"first_name": "Ada", "shop": "{the Rossio shop}"}})

    assert answer.status_code == 201, answer.body
    assert [r.text for r in network.replies] == ["Thanks Ada, see you at {the Rossio shop}!"]


def test_saved_reply_placeholders_have_unicode_names(api, network, channel, deliver):
    created = api.post("/saved-replies", {"name": "Karşılama",
                                          "text": "Merhaba {İsim}, {şehir} ekibi olarak teşekkürler {adı_soyadı}."})
    assert created.status_code == 201, created.body
    assert created.json["placeholders"] == ["İsim", "şehir", "adı_soyadı"]
    deliver(channel, inbound("c1", thread=POST))
    conversation = only_conversation(api)["id"]
    missing = api.post(f"/inbox/conversations/{conversation}/reply",
                       {"saved_reply_id": created.json["id"], "variables": {"İsim": "Ayşe"}})
    assert missing.status_code == 422
    assert [d["field"] for d in missing.json["error"]["details"]] == ["variables.şehir", "variables.adı_soyadı"]
    assert network.replies == []
    answer = api.post(f"/inbox/conversations/{conversation}/reply", {
        "saved_reply_id": created.json["id"],
        "variables": {"İsim": "Ayşe", "şehir": "İzmir", "adı_soyadı": "Ayşe Yılmaz"}})
    assert answer.status_code == 201, answer.body
    assert [r.text for r in network.replies] == ["Merhaba Ayşe, İzmir ekibi olarak teşekkürler Ayşe Yılmaz."]


def test_a_missing_variable_is_a_422_and_nothing_is_sent(api, network, channel, deliver):
    saved_id = api.post("/saved-replies", {"name": "Hi", "text": "Hi {first_name}!"}).json["id"]
    deliver(channel, inbound("c1", thread=POST))
    conversation = only_conversation(api)

    for variables in ({}, {"first_name": "  "}, {"firstname": "Ada"}):
        answer = api.post(f"/inbox/conversations/{conversation['id']}/reply",
                          {"saved_reply_id": saved_id, "variables": variables})
        assert answer.status_code == 422, answer.body
        assert answer.json["error"]["details"][0]["field"] == "variables.first_name"

    assert network.replies == []
    assert [m["direction"] for m in thread(api, conversation["id"])["messages"]] == ["inbound"]
    unknown = api.post(f"/inbox/conversations/{conversation['id']}/reply", {"saved_reply_id": "sr_nope"})
    assert unknown.status_code == 422
    both = api.post(f"/inbox/conversations/{conversation['id']}/reply",
                    {"text": "a", "saved_reply_id": saved_id})
    assert both.status_code == 422


def test_saved_replies_are_listed_edited_and_deleted(api):
    first = api.post("/saved-replies", {"name": "A", "text": "Hello"}).json
    api.post("/saved-replies", {"name": "B", "text": "Bye {name}"})
    assert sorted(i["name"] for i in api.get("/saved-replies").json["items"]) == ["A", "B"]

    edited = api.patch(f"/saved-replies/{first['id']}", {"text": "Hello {name}"})
    assert edited.status_code == 200 and edited.json["placeholders"] == ["name"]
    assert api.delete(f"/saved-replies/{first['id']}").status_code == 204
    assert [i["name"] for i in api.get("/saved-replies").json["items"]] == ["B"]
    assert api.patch(f"/saved-replies/{first['id']}", {"name": "again"}).status_code == 404


# -- tenancy ---------------------------------------------------------------------------------------------


def test_another_workspaces_objects_answer_404_on_every_inbox_route(
        client, deps, api, network, channel, deliver):
    deliver(channel, inbound("c1", thread=POST, text="herald rocks"))
    conversation = only_conversation(api)["id"]
    saved = api.post("/saved-replies", {"name": "A", "text": "Hello"}).json["id"]
    rule = api.post("/listening/rules", {"name": "Brand", "any_of": ["herald"]}).json["id"]
    rival = Api(client, make_workspace(deps, "Rival").headers())

    assert rival.get(f"/inbox/conversations/{conversation}").status_code == 404
    assert rival.patch(f"/inbox/conversations/{conversation}", {"status": "closed"}).status_code == 404
    assert rival.post(f"/inbox/conversations/{conversation}/reply", {"text": "hi"}).status_code == 404
    assert rival.patch(f"/saved-replies/{saved}", {"name": "mine"}).status_code == 404
    assert rival.delete(f"/saved-replies/{saved}").status_code == 404
    assert rival.patch(f"/listening/rules/{rule}", {"name": "mine"}).status_code == 404
    assert rival.delete(f"/listening/rules/{rule}").status_code == 404
    assert rival.get("/inbox/conversations").json["items"] == []
    assert rival.get(f"/inbox/conversations?channel_id={channel}").status_code == 404  # as on /posts
    assert rival.get("/saved-replies").json["items"] == []
    assert rival.get("/listening/rules").json["items"] == []
    assert rival.get("/listening/mentions").json["items"] == []
    rival_rule = rival.post("/listening/rules", {"name": "Spy", "any_of": ["x"], "channel_ids": [channel]})
    assert rival_rule.status_code == 422
    rival_reply = rival.post(f"/inbox/conversations/{conversation}/reply", {"saved_reply_id": saved})
    assert rival_reply.status_code == 404
    assert network.replies == []
    assert only_conversation(api)["status"] == "open"


def test_a_reply_cut_off_while_sending_is_shown_as_unknown(deps, api, workspace, channel, clock, deliver):
    deliver(channel, inbound("c1", thread=POST))
    conversation = only_conversation(api)

    class Crash(BaseException):  # not an Exception: like the function being stopped mid-call
        pass

    def stopped(channel_context, request):
        raise Crash()

    deps.inbox.adapters = lambda _network: type("Stopped", (), {"reply": staticmethod(stopped)})()
    with pytest.raises(Crash):
        deps.inbox.reply(workspace.id, conversation["id"], text="Hello?")

    def outbound():
        return [m for m in thread(api, conversation["id"])["messages"] if m["direction"] == "outbound"]

    assert [m["delivery_status"] for m in outbound()] == ["sending"]
    clock.advance(minutes=3)
    [message] = outbound()
    assert message["delivery_status"] == "unknown" and "may or may not" in message["error"]

