"""A post that reaches the inbox (a mention a listening rule matches) and is found again by the rule's network
search is one post: share of voice and the report's listening matches count it once, however many times
either path sees it (a poll that gets the notification again, a stream delivered again, a search run again).

Mastodon through the real adapter and the local Mastodon fake; Bluesky through the real adapter and the
in-memory PDS + AppView (tests/fakes/bluesky.py), its notification the lexicon's fixture."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.jobs import run_job_by_name
from chalicelib.core.settings import get_settings
from chalicelib.networks import bluesky
from chalicelib.wiring import Container, use_container
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon_server import MastodonFake
from tests.functional.inbox.test_listening_search import connect_mastodon, make_rule
from tests.support.events import load_event
from tests.support.outbound import allow_local_peers
from tests.support.streams import run_stream_consumers
from tests.support.webhooks import settle_inbox


@pytest.fixture
def mastodon(clock: Any) -> Iterator[MastodonFake]:
    with MastodonFake(clock=clock) as fake:
        yield fake


@pytest.fixture
def pds() -> FakeBluesky:
    return FakeBluesky()


@pytest.fixture
def deps(aws: Any, clock: Any, network_apis: Any, pds: FakeBluesky) -> Container:
    adapter = bluesky.make_adapter(http=pds, clock=clock)  # type: ignore[arg-type]
    return use_container(
        allow_local_peers(
            Container(
                network_apis.settings(get_settings()),
                clock=clock,
                clients=aws,
                sleep=lambda _s: None,
                adapter_overrides={"bluesky": adapter},
            )
        )
    )


def both_paths_twice(deps: Container) -> None:
    """The inbox polled and settled, the search run; then all of it again, the stream replayed too."""
    for _round in range(2):
        deps.inbox_poller.poll_all()
        settle_inbox(deps)
        run_job_by_name("search_listening")
    run_stream_consumers(deps, from_start=True)


def counted(api: Any) -> tuple[dict[str, Any], int]:
    report = api.get("/reports/monthly?month=2026-03").json
    return report["share_of_voice"], report["figures"]["listening_matches"]["value"]


def test_a_mastodon_mention_the_search_finds_again_counts_once(
    deps: Container, api: Any, mastodon: MastodonFake
) -> None:
    connect_mastodon(api, mastodon)
    make_rule(api)
    make_rule(api, name="Rival", any_of=[], kind="competitor", competitor={"name": "Rival", "handles": []})
    mastodon.add_account("bob", "remote.example")
    mastodon.receive_mention("bob@remote.example", "@herald herald or Rival, which roasts better?")

    both_paths_twice(deps)

    listed = api.get("/listening/mentions").json["items"]
    assert sorted((m["rule_name"], m["source"], m["found_by"]) for m in listed) == [
        ("Herald", "inbox", ["inbox", "search"]),
        ("Rival", "inbox", ["inbox", "search"]),
    ]
    voice, matches = counted(api)
    assert voice["brand"] == {"mentions": 1, "share": 50.0}
    assert voice["by_network"] == [
        {
            "network": "mastodon",
            "brand": 1,
            "brand_share": 50.0,
            "competitors": [{"name": "Rival", "mentions": 1, "share": 50.0}],
        }
    ]
    assert matches == 2  # one post, two rules


def test_a_bluesky_mention_the_search_finds_again_counts_once(deps: Container, api: Any, pds: FakeBluesky) -> None:
    notification = next(
        n for n in load_event("bluesky", "list_notifications.json")["notifications"] if n["reason"] == "mention"
    )
    pds.notifications = [copy.deepcopy(notification)]
    pds.search_index = [
        {key: copy.deepcopy(notification[key]) for key in ("uri", "cid", "author", "record", "indexedAt")}
    ]
    created = api.post(
        "/channels",
        {
            "network": "bluesky",
            "name": "Herald on Bluesky",
            "credentials": {"service_url": "https://pds.example", "handle": pds.handle, "app_password": pds.password},
        },
    )
    assert created.status_code == 201, created.body
    make_rule(api, name="Scheduler", any_of=["scheduler"])

    both_paths_twice(deps)

    [listed] = api.get("/listening/mentions").json["items"]
    assert (listed["network"], listed["source"], listed["found_by"]) == ("bluesky", "inbox", ["inbox", "search"])
    voice, matches = counted(api)
    assert voice["brand"] == {"mentions": 1, "share": 100.0}
    assert [(row["network"], row["brand"]) for row in voice["by_network"]] == [("bluesky", 1)]
    assert matches == 1


def test_a_post_only_the_search_found_is_a_listening_match_of_the_workspace(
    deps: Container, api: Any, mastodon: MastodonFake
) -> None:
    channel = connect_mastodon(api, mastodon)
    make_rule(api)
    mastodon.add_status("herald roasts on Fridays", author=mastodon.add_account("bob", "remote.example"))

    run_job_by_name("search_listening")
    run_job_by_name("search_listening")

    report = api.get("/reports/monthly?month=2026-03").json
    assert report["figures"]["listening_matches"]["value"] == 1
    assert report["figures"]["word_of_mouth"]["value"] == 1
    [mastodon_channel] = [c for c in report["channels"] if c["channel_id"] == channel]
    assert mastodon_channel["figures"]["listening_matches"]["value"] == 0  # not the searching channel's


def all_pages(api: Any, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _page in range(10):
        page = api.get(f"/listening/mentions?limit={limit}" + (f"&cursor={cursor}" if cursor else "")).json
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages did not end")


def test_a_post_both_paths_found_is_listed_once_and_says_who_found_it(
    deps: Container, api: Any, mastodon: MastodonFake
) -> None:
    connect_mastodon(api, mastodon)
    make_rule(api)
    mastodon.add_account("bob", "remote.example")
    mastodon.receive_mention("bob@remote.example", "@herald the herald flat white")
    mastodon.receive_mention("bob@remote.example", "@herald herald, open on Sunday?")
    only_searched = mastodon.add_status("herald roasts on Fridays", author=mastodon.account_by_acct("bob"))

    both_paths_twice(deps)

    listed = api.get("/listening/mentions").json["items"]
    assert len(listed) == 3 and len({(m["network"], m["message_id"]) for m in listed}) == 3
    by_found = {m["message_id"]: m for m in listed}
    searched = by_found.pop(only_searched["id"])
    assert (searched["found_by"], searched["conversation_id"]) == (["search"], "")
    assert all(m["found_by"] == ["inbox", "search"] and m["conversation_id"] for m in by_found.values())
    for limit in (1, 2):
        assert [m["id"] for m in all_pages(api, limit)] == [m["id"] for m in listed]


def test_a_post_the_search_found_first_gets_the_inbox_conversation_when_it_arrives(
    deps: Container, api: Any, mastodon: MastodonFake
) -> None:
    connect_mastodon(api, mastodon)
    make_rule(api)
    mastodon.add_account("bob", "remote.example")
    mastodon.receive_mention("bob@remote.example", "@herald herald or the other place?")

    run_job_by_name("search_listening")
    [first] = api.get("/listening/mentions").json["items"]
    assert (first["source"], first["found_by"], first["conversation_id"]) == ("search", ["search"], "")
    both_paths_twice(deps)

    [listed] = api.get("/listening/mentions").json["items"]
    assert (listed["id"], listed["source"], listed["found_by"]) == (first["id"], "search", ["inbox", "search"])
    conversations = api.get("/inbox/conversations").json["items"]
    assert listed["conversation_id"] in [c["id"] for c in conversations]
    assert counted(api)[1] == 1
