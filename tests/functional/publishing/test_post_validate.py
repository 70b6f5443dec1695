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

    good = api.post("/posts/validate", {"text": "Hello", "channel_ids": [channel]}).json
    assert (good["valid"], good["problems"]) == (True, [])
    needs_time = api.post("/posts/validate", {"text": "Hello", "channel_ids": [channel], "status": "scheduled"})
    assert [p["field"] for p in needs_time.json["problems"]] == ["publish_at"]
    foreign = api.post("/posts/validate", {"text": "Hello", "channel_ids": ["chn_nope"]})
    assert [p["field"] for p in foreign.json["problems"]] == ["channel_ids.0"]


def test_each_channel_is_previewed_as_its_network_will_show_it(api):
    short, other = sandbox(api, max_characters=10), sandbox(api)
    text = "See https://bakery.example/menu today"

    answer = api.post("/posts/validate", {"text": text, "channel_ids": [short, other],
                                          "variants": {other: {"text": "Open at 7"}}})

    assert answer.status_code == 200, answer.body
    first, second = answer.json["networks"]
    assert (first["channel_id"], first["channel_name"], first["network"]) == (short, "Try-out", "sandbox")
    assert (first["text"], first["shown_text"], first["length"], first["limit"], first["fits"]) == (
        text, "See https:", 37, 10, False)
    assert first["link_card"] == {"url": "https://bakery.example/menu", "host": "bakery.example"}
    assert (second["channel_id"], second["text"], second["shown_text"], second["fits"], second["link_card"]) == (
        other, "Open at 7", "Open at 7", True, None)
    assert api.get("/posts").json["items"] == []


def test_a_preview_with_media_shows_the_media_and_no_link_card(api):
    channel = sandbox(api)
    media = api.post("/media", {"filename": "loaf.png", "mime": "image/png", "size": 1000}).json

    answer = api.post("/posts/validate", {"text": "See https://bakery.example", "channel_ids": [channel],
                                          "media": [{"media_id": media["id"]}]})

    [network] = answer.json["networks"]
    assert [(m["media_id"], m["mime"], m["accepted"]) for m in network["media"]] == [
        (media["id"], "image/png", True)]
    assert network["link_card"] is None
