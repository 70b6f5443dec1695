from __future__ import annotations

import pytest

from chalicelib.publishing.post_status import derive_post_status


@pytest.mark.parametrize(("stored", "deliveries", "shown"), [
    ("draft", ["scheduled", "scheduled"], "draft"),
    ("draft", [], "draft"),
    ("scheduled", [], "scheduled"),
    ("scheduled", ["scheduled"], "scheduled"),
    ("scheduled", ["scheduled", "scheduled"], "scheduled"),
    # Queued deliveries have not gone out: the post can still be edited or canceled.
    ("scheduled", ["scheduled", "queued"], "scheduled"),
    ("scheduled", ["queued"], "scheduled"),
    ("scheduled", ["queued", "publishing"], "publishing"),
    ("scheduled", ["publishing", "published"], "publishing"),
    ("scheduled", ["scheduled", "published"], "publishing"),
    ("scheduled", ["published"], "published"),
    ("scheduled", ["published", "published"], "published"),
    ("scheduled", ["published", "failed"], "partially_published"),
    ("scheduled", ["published", "unknown"], "partially_published"),
    ("scheduled", ["published", "canceled"], "partially_published"),
    ("scheduled", ["failed"], "failed"),
    ("scheduled", ["failed", "canceled"], "failed"),
    ("scheduled", ["unknown"], "failed"),
    ("scheduled", ["canceled", "canceled"], "canceled"),
    ("canceled", ["canceled"], "canceled"),
    ("canceled", [], "canceled"),
    ("publishing", ["failed", "queued"], "publishing"),
])
def test_a_posts_status_follows_from_its_deliveries(stored, deliveries, shown):
    assert derive_post_status(stored, deliveries) == shown


def test_any_iterable_of_statuses_will_do():
    assert derive_post_status("scheduled", (s for s in ["published", "failed"])) == "partially_published"
