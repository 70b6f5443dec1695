"""Listening rules through the API: matches become mentions and raise the conversation's priority."""
from __future__ import annotations

import pytest

from chalicelib.wiring import Container, use_container
from tests.support.fake_network import FakeNetwork, inbound
from tests.support.streams import run_stream_consumers
from tests.support.webhooks import queued_messages, run_inbox_worker, settle_inbox

POST = "at://did:plc:heraldcoffee/app.bsky.feed.post/3kpost"


@pytest.fixture
def deps(aws, clock):
    return use_container(Container(clock=clock, clients=aws, sleep=lambda _s: None,
                                   adapter_overrides={"bluesky": FakeNetwork()}))



def connect(api, name):
    created = api.post("/channels", {"network": "bluesky", "name": name, "credentials": {
        "service_url": "https://pds.example", "handle": "heraldcoffee.example", "app_password": "x"}})
    assert created.status_code == 201, created.body
    return created.json["id"]


def ingest(deps, api, channel_id, *events):
    row = deps.channel_repository.get(api.get("/workspace").json["id"], channel_id)
    return deps.ingest.ingest(list(events), channel=row)


def test_a_matching_inbound_text_becomes_a_mention_and_raises_the_priority(deps, api):
    channel = connect(api, "Main")
    rule = api.post("/listening/rules", {"name": "Istanbul launch", "any_of": ["İstanbul", "Ankara"],
                                         "all_of": ["herald"], "exclude": ["iş ilanı"]})
    assert rule.status_code == 201, rule.body

    ingest(deps, api, channel,
           inbound("c1", thread=POST, text="HERALD ISTANBUL şubesi ne zaman açılıyor?"),
           inbound("c2", thread=POST + "2", text="Herald İstanbul iş ilanı"),
           inbound("c3", thread=POST + "3", text="istanbul is lovely"),
           inbound("o1", thread=POST + "4", text="herald istanbul", direction="outbound"))
    settle_inbox(deps)

    [mention] = api.get("/listening/mentions").json["items"]
    assert (mention["rule_id"], mention["message_id"]) == (rule.json["id"], "c1")
    assert mention["matched_terms"] == ["İstanbul", "herald"]
    assert mention["author"]["name"] == "Ada Lovelace"
    priorities = {c["id"]: c["priority"] for c in api.get("/inbox/conversations").json["items"]}
    assert priorities.pop(mention["conversation_id"]) == "high"
    assert set(priorities.values()) == {"normal"}


def test_a_redelivered_message_does_not_repeat_the_mention(deps, api):
    channel = connect(api, "Main")
    api.post("/listening/rules", {"name": "Brand", "any_of": ["herald"]})
    ingest(deps, api, channel, inbound("c1", thread=POST, text="herald!"))
    bodies = queued_messages(deps)
    run_inbox_worker(bodies)
    run_inbox_worker(bodies)
    run_stream_consumers(deps)
    run_stream_consumers(deps, from_start=True)  # a stream may deliver a record again

    assert len(api.get("/listening/mentions").json["items"]) == 1


def test_rules_listen_only_on_their_channels_and_mentions_filter_by_rule(deps, api):
    main, other = connect(api, "Main"), connect(api, "Other")
    only_other = api.post("/listening/rules", {"name": "Other only", "any_of": ["coffee"],
                                               "channel_ids": [other]}).json["id"]
    everywhere = api.post("/listening/rules", {"name": "All", "any_of": ["coffee"]}).json["id"]
    ingest(deps, api, main, inbound("c1", thread=POST, text="Coffee time"))
    ingest(deps, api, other, inbound("c2", thread=POST, text="COFFEE!"))
    settle_inbox(deps)

    def mentions(query=""):
        return sorted(m["message_id"] for m in api.get(f"/listening/mentions?{query}").json["items"])

    assert mentions() == ["c1", "c2", "c2"]
    assert mentions(f"rule_id={only_other}") == ["c2"]
    assert mentions(f"rule_id={everywhere}") == ["c1", "c2"]


def test_rules_are_listed_changed_and_deleted_and_validated(deps, api):
    created = api.post("/listening/rules", {"name": "Brand", "any_of": ["herald"]})
    rule_id = created.json["id"]
    assert created.json["enabled"] is True and created.json["channel_ids"] == []

    changed = api.patch(f"/listening/rules/{rule_id}", {"exclude": ["jobs"], "enabled": False})
    assert (changed.json["exclude"], changed.json["enabled"]) == (["jobs"], False)
    assert changed.json["any_of"] == ["herald"]
    assert [r["id"] for r in api.get("/listening/rules").json["items"]] == [rule_id]

    assert api.post("/listening/rules", {"name": "Empty", "exclude": ["x"]}).status_code == 422
    assert api.post("/listening/rules", {"name": "Blank", "any_of": ["  "]}).status_code == 422
    assert api.post("/listening/rules", {"name": "Foreign", "any_of": ["x"],
                                         "channel_ids": ["ch_nope"]}).status_code == 422
    assert api.patch(f"/listening/rules/{rule_id}", {"any_of": []}).status_code == 422

    assert api.delete(f"/listening/rules/{rule_id}").status_code == 204
    assert api.get("/listening/rules").json["items"] == []
    assert api.delete(f"/listening/rules/{rule_id}").status_code == 404
