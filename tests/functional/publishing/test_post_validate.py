"""POST /posts/validate: the checks of POST /posts without saving (the console validates as one types)."""
from __future__ import annotations


def sandbox(api, **settings):
    created = api.post("/channels", {"network": "sandbox", "name": "Try-out", "settings": settings})
    assert created.status_code == 201, created.body
    return created.json["id"]


def test_a_text_over_a_networks_limit_is_named_with_the_network_and_nothing_is_saved(api):
    channel = sandbox(api, max_characters=10)

    answer = api.post("/posts/validate", {"text": "Twelve chars", "channel_ids": [channel]})

    assert answer.status_code == 200, answer.body
    assert answer.json["valid"] is False
    [problem] = answer.json["problems"]
    assert problem["field"] == "text" and problem["network"] == "sandbox" and problem["limit"] == 10
    assert api.get("/posts").json["items"] == []
    saved = api.post("/posts", {"text": "Twelve chars", "channel_ids": [channel]})
    assert saved.status_code == 422 and saved.json["error"]["details"] == answer.json["problems"]


def test_a_good_post_is_valid_and_a_schedule_without_a_time_is_not(api):
    channel = sandbox(api)

    assert api.post("/posts/validate", {"text": "Hello", "channel_ids": [channel]}).json == {
        "valid": True, "problems": []}
    needs_time = api.post("/posts/validate", {"text": "Hello", "channel_ids": [channel], "status": "scheduled"})
    assert [p["field"] for p in needs_time.json["problems"]] == ["publish_at"]
    foreign = api.post("/posts/validate", {"text": "Hello", "channel_ids": ["chn_nope"]})
    assert [p["field"] for p in foreign.json["problems"]] == ["channel_ids.0"]
