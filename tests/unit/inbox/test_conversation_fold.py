"""Folding messages into a conversation: the rules, and that repeating a message changes nothing."""
from datetime import UTC, datetime, timedelta

from chalicelib.inbox.conversations import ThreadUpdate, conversation_id_for, fold

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def update(message_id, *, direction="inbound", action="created", at=T0, seen=None, text="hi", kind="comment"):
    return ThreadUpdate("ws_1", "cv_1", "ch_1", "bluesky", kind, "post-1", message_id, action, direction,
                        text, at, seen or at, {"id": "did:ada", "name": "Ada", "handle": "ada"})


def test_the_first_message_opens_a_conversation():
    conversation = fold(None, update("m1", text="Hello there"))
    assert (conversation.status, conversation.last_message_preview, conversation.participant["name"]) == (
        "open", "Hello there", "Ada")
    assert conversation.first_inbound_at == T0 and conversation.first_response_s is None


def test_applying_the_same_message_again_returns_the_same_conversation():
    once = fold(None, update("m1"))
    assert fold(once, update("m1")) is once
    answered = fold(once, update("r1", direction="outbound", at=T0 + timedelta(seconds=30)))
    assert fold(answered, update("r1", direction="outbound", at=T0 + timedelta(seconds=30))) is answered
    assert fold(answered, update("m1")) is answered


def test_first_response_is_the_first_outbound_after_the_first_inbound():
    conversation = fold(None, update("o0", direction="outbound"))  # our post's own comment: not an answer
    conversation = fold(conversation, update("m1", at=T0 + timedelta(seconds=10)))
    conversation = fold(conversation, update("r1", direction="outbound", at=T0 + timedelta(seconds=70)))
    conversation = fold(conversation, update("r2", direction="outbound", at=T0 + timedelta(seconds=500)))
    assert conversation.first_response_s == 60


def test_an_older_message_arriving_late_does_not_become_the_last_one():
    conversation = fold(None, update("m2", at=T0 + timedelta(minutes=5), text="newer"))
    conversation = fold(conversation, update("m1", at=T0, seen=T0 + timedelta(minutes=6), text="older"))
    assert (conversation.last_message_id, conversation.last_message_preview) == ("m2", "newer")


def test_editing_or_deleting_the_last_message_changes_the_preview_only():
    conversation = fold(None, update("m1", text="first"))
    edited = fold(conversation, update("m1", action="edited", text="first (edited)",
                                       at=T0 + timedelta(seconds=5)))
    assert edited.last_message_preview == "first (edited)" and edited.last_message_at == T0
    deleted = fold(edited, update("m1", action="deleted", text="", at=T0 + timedelta(seconds=9)))
    assert deleted.last_message_preview == ""


def test_only_a_message_that_arrived_after_closing_reopens():
    conversation = fold(None, update("m1"))
    conversation.status, conversation.status_changed_at = "closed", T0 + timedelta(minutes=1)
    assert fold(conversation, update("m1")).status == "closed"
    assert fold(conversation, update("m2", at=T0 + timedelta(minutes=2))).status == "open"
    answer = update("r1", direction="outbound", at=T0 + timedelta(minutes=2))
    assert fold(conversation, answer).status == "closed"


def test_comments_and_mentions_of_a_post_share_an_id_and_dms_do_not():
    comments = conversation_id_for("ws", "ch", "comment", "p1")
    assert comments == conversation_id_for("ws", "ch", "mention", "p1")
    assert comments != conversation_id_for("ws", "ch", "message", "p1")
    assert comments != conversation_id_for("ws2", "ch", "comment", "p1")


def test_a_conversation_that_starts_with_our_words_or_a_deletion_waits_closed_for_an_inbound_message():
    ours = fold(None, update("o1", direction="outbound"))
    assert ours.status == "closed"
    assert fold(ours, update("m1")).status == "open"  # received in the same instant still counts
    assert fold(None, update("m0", action="deleted", text="")).status == "closed"
