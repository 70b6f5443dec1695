from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.publishing.engine import whole_posts_cut
from chalicelib.publishing.publish_queue import PublishMessage

DUE = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def outgoing(post_id: str, channel_id: str) -> tuple[PublishMessage, datetime]:
    return PublishMessage("ws", post_id, channel_id, 1, "2026-12-06T12:00:00Z", send_token="t"), DUE


def test_a_full_batch_is_cut_after_the_last_post_that_ends_in_it() -> None:
    batch = [outgoing(post, f"c{i}") for i, post in enumerate(["a"] * 3 + ["b"] * 3 + ["c"] * 4)]
    assert whole_posts_cut(batch, outgoing("c", "c10")) == 6  # c goes on in the next batch
    assert whole_posts_cut(batch, outgoing("d", "c0")) == 10  # the batch ends where c does
    one_post = [outgoing("a", f"c{i}") for i in range(10)]
    assert whole_posts_cut(one_post, outgoing("a", "c10")) == 10  # a post bigger than a batch is split
