"""Connected channels: credentials go in and never come out."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag

from tests.support.factories import connect_verified, iso
from tests.support.http import Api

SECRET = "s3cret-t0ken-that-must-not-leak"
REFUSED = (ClientError, InvalidTag)  # KMS refuses the data key, or AES-GCM the ciphertext


@pytest.fixture
def api(client: Any, workspace: Any) -> Api:
    return Api(client, workspace.headers("admin"))


def connect(api: Api, **body: Any) -> Any:
    return api.post("/channels", {"network": "sandbox", "name": "Sandbox", **body})


def error_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.body
    return [d["field"] for d in response.json["error"]["details"]]


def raw_item(deps: Any, aws: dict[str, Any], workspace_id: str, channel_id: str) -> dict[str, Any]:
    return aws["dynamodb"].get_item(TableName=deps.settings.table("channels"), Key={
        "workspace_id": {"S": workspace_id}, "channel_id": {"S": channel_id}})["Item"]


def test_a_connected_channel_has_the_contracts_fields(api, clock):
    channel = connect(api, settings={"handle": "tester"}).json
    assert {"id", "network", "name", "handle", "status", "created_at"} <= set(channel)
    assert (channel["network"], channel["name"], channel["handle"], channel["status"]) \
        == ("sandbox", "Sandbox", "tester", "active")
    assert channel["created_at"] == iso(clock.now())


def test_credentials_are_never_in_an_answer_nor_a_log(api, caplog):
    with caplog.at_level(logging.DEBUG):
        created = connect(api, credentials={"token": SECRET})
        channel_id = created.json["id"]
        answers = [created,
                   api.get(f"/channels/{channel_id}"),
                   api.get("/channels"),
                   api.patch(f"/channels/{channel_id}", {"name": "Renamed", "credentials": {"token": SECRET + "2"}}),
                   api.post("/channels", {"network": "mastodon", "name": "M", "credentials": {"access_token": SECRET}})]
    for answer in answers:
        assert SECRET.encode() not in answer.body
        assert "credentials" not in (answer.json or {})
    assert answers[-1].status_code == 422
    assert SECRET not in caplog.text


def test_credentials_are_stored_sealed_under_the_channels_own_context(api, deps, aws, workspace, other_workspace):
    channel_id = connect(api, credentials={"token": SECRET}).json["id"]
    item = raw_item(deps, aws, workspace.id, channel_id)
    sealed = item["credentials_sealed"]["B"]
    assert SECRET.encode() not in sealed
    assert SECRET not in repr(item)
    assert deps.secret_box.open(sealed, {"workspace_id": workspace.id, "channel_id": channel_id}) \
        == {"token": SECRET}
    for wrong in ({"workspace_id": other_workspace.id, "channel_id": channel_id},
                  {"workspace_id": workspace.id, "channel_id": "ch_other"},
                  {"workspace_id": workspace.id}):
        with pytest.raises(REFUSED):
            deps.secret_box.open(sealed, wrong)


def test_new_credentials_replace_the_sealed_ones(api, deps, aws, workspace):
    channel_id = connect(api, credentials={"token": "old"}).json["id"]
    assert api.patch(f"/channels/{channel_id}", {"credentials": {"token": SECRET}}).status_code == 200
    sealed = raw_item(deps, aws, workspace.id, channel_id)["credentials_sealed"]["B"]
    assert deps.secret_box.open(sealed, {"workspace_id": workspace.id, "channel_id": channel_id}) \
        == {"token": SECRET}


def test_an_unknown_network_is_refused(api):
    response = api.post("/channels", {"network": "myspace", "name": "Old times"})
    assert error_fields(response) == ["network"]
    assert "sandbox" in response.json["error"]["details"][0]["message"]
    assert api.get("/channels").json["items"] == []


MISSING_CREDENTIALS = [
    ("bluesky", {}, ["service_url", "handle", "app_password"]),
    ("bluesky", {"handle": "me.bsky.social"}, ["service_url", "app_password"]),
    ("bluesky", {"service_url": "https://bsky.social", "handle": "me", "app_password": ""}, ["app_password"]),
    ("mastodon", {}, ["instance_url", "access_token"]),
    ("mastodon", {"instance_url": "https://mastodon.social"}, ["access_token"]),
]


def test_missing_credentials_are_named(api):
    for network, credentials, missing in MISSING_CREDENTIALS:
        response = api.post("/channels", {"network": network, "name": "N", "credentials": credentials})
        assert error_fields(response) == [f"credentials.{name}" for name in missing], (network, credentials)
        assert all(name in response.json["error"]["message"] for name in missing)
    assert api.get("/channels").json["items"] == []


def test_a_webhook_network_takes_its_account_from_the_network(api, network_apis):
    network_apis.facebook_page(SECRET, "1234", "Herald Coffee")
    body = {"network": "facebook", "name": "Page", "credentials": {"page_access_token": SECRET}}
    connected = api.post("/channels", body)
    assert connected.status_code == 201, connected.body
    assert (connected.json["handle"], connected.json["settings"]) == ("Herald Coffee", {"page_id": "1234"})
    [asked] = network_apis.requests_to("/me")
    assert (asked.path, asked.query, asked.headers["authorization"]) \
        == ("/v25.0/me", {"fields": ["id,name"]}, f"Bearer {SECRET}")


def test_a_facebook_page_is_a_publishing_target_now(api, network_apis):
    """Issue 12: every network Herald connects publishes (none is refused as a target any more)."""
    page = connect_verified(api, network_apis, "facebook", "1")
    response = api.post("/posts", {"text": "Hi", "channel_ids": [page["id"]]})
    assert response.status_code == 201, response.body
    assert [d["network"] for d in response.json["deliveries"]] == ["facebook"]


ACCEPTED_SETTINGS = [{"fail": fail} for fail in ("none", "429", "500", "timeout", "auth", "refused", "invalid")] \
    + [{"latency_ms": 0}, {"latency_ms": 250, "fail": "500", "fail_times": 2}, {"max_characters": 1}]


def test_sandbox_settings_that_are_accepted(api):
    for settings in ACCEPTED_SETTINGS:
        response = connect(api, settings=settings)
        assert response.status_code == 201, (settings, response.body)
        assert response.json["settings"] == settings


REFUSED_SETTINGS = [
    ({"fail": "sometimes"}, "settings.fail"),
    ({"fail": 500}, "settings.fail"),
    ({"latency_ms": -1}, "settings.latency_ms"),
    ({"latency_ms": "100"}, "settings.latency_ms"),
    ({"latency_ms": 1.5}, "settings.latency_ms"),
    ({"latency_ms": True}, "settings.latency_ms"),
    ({"fail": "500", "fail_times": -2}, "settings.fail_times"),
    ({"max_characters": "many"}, "settings.max_characters"),
    ({"max_characters": 0}, "settings.max_characters"),
    ({"max_characters": -10}, "settings.max_characters"),
]


def test_sandbox_settings_that_are_refused(api):
    for settings, field in REFUSED_SETTINGS:
        assert error_fields(connect(api, settings=settings)) == [field], settings
    assert api.get("/channels").json["items"] == []


def test_rename_and_disable(api, clock, client, workspace):
    channel = connect(api).json
    clock.advance(minutes=3)
    renamed = api.patch(f"/channels/{channel['id']}", {"name": "Renamed"})
    assert renamed.status_code == 200, renamed.body
    assert (renamed.json["name"], renamed.json["updated_at"]) == ("Renamed", iso(clock.now()))
    disabled = api.patch(f"/channels/{channel['id']}", {"status": "disabled"}).json
    assert (disabled["name"], disabled["status"]) == ("Renamed", "disabled")
    assert api.get(f"/channels/{channel['id']}").json == disabled


def test_a_disabled_channel_cannot_be_posted_to_until_enabled(api, clock, client, workspace):
    editor = Api(client, workspace.headers("editor"))
    channel_id = connect(api).json["id"]
    api.patch(f"/channels/{channel_id}", {"status": "disabled"})
    body = {"text": "Hi", "channel_ids": [channel_id], "publish_at": iso(clock.now() + timedelta(hours=1))}
    response = editor.post("/posts", body)
    assert error_fields(response) == ["channel_ids.0"]
    assert "disabled" in response.json["error"]["details"][0]["message"]
    api.patch(f"/channels/{channel_id}", {"status": "active"})
    assert editor.post("/posts", body).status_code == 201


def test_invalid_new_settings_leave_the_channel_as_it_was(api):
    channel = connect(api, settings={"fail": "500"}).json
    assert error_fields(api.patch(f"/channels/{channel['id']}", {"settings": {"fail": "often"}})) \
        == ["settings.fail"]
    assert api.get(f"/channels/{channel['id']}").json == channel


def test_a_status_other_than_active_or_disabled_cannot_be_set(api):
    channel = connect(api).json
    assert error_fields(api.patch(f"/channels/{channel['id']}", {"status": "needs_reauth"})) == ["status"]


def test_delete_then_it_is_gone(api):
    channel_id = connect(api).json["id"]
    deleted = api.delete(f"/channels/{channel_id}")
    assert deleted.status_code == 204
    assert deleted.body in (b"", None)
    assert api.get(f"/channels/{channel_id}").status_code == 404
    assert api.get("/channels").json["items"] == []
    assert api.delete(f"/channels/{channel_id}").status_code == 404


def test_channels_list_in_pages(api):
    made = [connect(api, name=f"Channel {i}").json["id"] for i in range(3)]
    first = api.get("/channels?limit=2").json
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.get(f"/channels?limit=2&cursor={first['next_cursor']}").json
    assert sorted(c["id"] for c in first["items"] + second["items"]) == sorted(made)


def test_a_fresh_sandbox_channel_has_received_nothing(api):
    channel_id = connect(api).json["id"]
    assert api.get(f"/channels/{channel_id}/sandbox/posts").json == {"items": [], "next_cursor": None}


def test_only_sandbox_channels_keep_what_they_received(api, network_apis):
    page = connect_verified(api, network_apis, "facebook", "1")
    assert api.get(f"/channels/{page['id']}/sandbox/posts").status_code == 404


# -- every network's settings and credentials are checked against its own schema ------------------

POISON_SETTINGS = [
    ({"a": {"": 1}}, "settings.a"),
    ({"latency_ms": 60_001}, "settings.latency_ms"),
    ({"fail": "500", "fail_times": 101}, "settings.fail_times"),
    ({"max_characters": 5001}, "settings.max_characters"),  # the sandbox's own limit is 5000
    ({"handle": "x" * 101}, "settings.handle"),
    ({"handle": "bell\x07"}, "settings.handle"),
    ({"handle": ["a"]}, "settings.handle"),
    ({"followers": -1}, "settings.followers"),
]


def test_settings_a_network_does_not_take_are_refused_and_nothing_is_written(api, deps, aws):
    for settings, field in POISON_SETTINGS:
        assert error_fields(connect(api, settings=settings)) == [field], settings
    assert api.get("/channels").json["items"] == []
    assert aws["dynamodb"].scan(TableName=deps.settings.table("channels"))["Items"] == []


def test_bounds_are_inclusive(api):
    for settings in ({"latency_ms": 60_000, "fail": "500", "fail_times": 100}, {"max_characters": 5000},
                     {"handle": "x" * 100}):
        assert connect(api, settings=settings).status_code == 201, settings


WEBHOOK_SETTINGS_REFUSED = [
    ("facebook", {"page_id": "1", "colour": "red"}, "settings.colour"),
    ("facebook", {"page_id": "12ab"}, "settings.page_id"),
    ("facebook", {"max_characters": 63207}, "settings.max_characters"),
    ("instagram", {"page_id": "1"}, "settings.page_id"),  # Graph names the Page, not the client
    ("x", {"user_id": 2975699229}, "settings.user_id"),
    ("linkedin", {"organization_urn": "urn:li:person:1"}, "settings.organization_urn"),
    ("tiktok", {"open_id": "a\nb"}, "settings.open_id"),
    ("mastodon", {"visibility": "everyone"}, "settings.visibility"),
    ("bluesky", {"fail": "500"}, "settings.fail"),
]


def test_each_network_refuses_settings_outside_its_schema_before_asking_the_network(api, network_apis):
    for network, settings, field in WEBHOOK_SETTINGS_REFUSED:
        credentials = CREDENTIALS[network]
        response = api.post("/channels", {"network": network, "name": "N", "credentials": credentials,
                                          "settings": settings})
        assert error_fields(response) == [field], (network, settings)
    assert api.get("/channels").json["items"] == []
    assert network_apis.requests == []


CREDENTIALS = {
    "facebook": {"page_access_token": SECRET},
    "instagram": {"access_token": SECRET},
    "x": {"access_token": SECRET, "refresh_token": SECRET},
    "linkedin": {"access_token": SECRET},
    "tiktok": {"access_token": SECRET},
    "mastodon": {"instance_url": "https://mastodon.example", "access_token": SECRET},
    "bluesky": {"service_url": "https://pds.example", "handle": "me.example", "app_password": SECRET},
}
CREDENTIALS_REFUSED = [
    ("facebook", {"page_access_token": SECRET, "page_id": "1"}, "credentials.page_id"),
    ("facebook", {"access_token": SECRET}, "credentials.page_access_token"),
    ("x", {"access_token": SECRET, "refresh_token": 7}, "credentials.refresh_token"),
    ("linkedin", {"access_token": SECRET + "\x00"}, "credentials.access_token"),
    ("tiktok", {"access_token": SECRET * 200}, "credentials.access_token"),
    ("mastodon", {"instance_url": "https://m.example", "access_token": {"nested": SECRET}},
     "credentials.access_token"),
    ("sandbox", {"token": SECRET, "extra": SECRET}, "credentials.extra"),
]


def test_credentials_outside_the_networks_fields_are_refused_without_echoing_them(api, network_apis):
    for network, credentials, field in CREDENTIALS_REFUSED:
        response = api.post("/channels", {"network": network, "name": "N", "credentials": credentials})
        assert error_fields(response) == [field], (network, credentials)
        assert SECRET.encode() not in response.body, (network, response.body)
    assert api.get("/channels").json["items"] == []
    assert network_apis.requests == []


def test_the_network_refusing_the_token_is_a_422_on_credentials_that_does_not_echo_it(api, network_apis):
    for network in ("facebook", "instagram", "x", "linkedin", "tiktok"):
        response = api.post("/channels", {"network": network, "name": "N", "credentials": CREDENTIALS[network]})
        assert error_fields(response) == ["credentials"], network
        assert SECRET.encode() not in response.body
    assert len(network_apis.requests) == 5  # one verifying call each
    assert api.get("/channels").json["items"] == []


def test_new_settings_cannot_be_poison_either(api):
    channel = connect(api, settings={"fail": "500"}).json
    assert error_fields(api.patch(f"/channels/{channel['id']}", {"settings": {"a": {"": 1}}})) == ["settings.a"]
    assert error_fields(api.patch(f"/channels/{channel['id']}", {"credentials": {"tok": "x"}})) \
        == ["credentials.tok"]
    assert api.get(f"/channels/{channel['id']}").json == channel
    assert api.get("/channels").status_code == 200


NAMES_REFUSED = ["", "   ", "x" * 101, "tab\there", "nul\x00", "esc\x1b[31m", "line\nbreak", "lone \ud800"]


def test_a_channel_name_is_1_to_100_characters_without_control_characters(api):
    for name in NAMES_REFUSED:
        assert error_fields(connect(api, name=name)) == ["name"], repr(name)
    channel = connect(api, name="  Brand  ").json
    assert channel["name"] == "Brand"
    assert connect(api, name="x" * 100).status_code == 201
    assert connect(api, name="Café ☕ 東京").status_code == 201
    for name in NAMES_REFUSED:
        assert error_fields(api.patch(f"/channels/{channel['id']}", {"name": name})) == ["name"], repr(name)
    assert api.get(f"/channels/{channel['id']}").json["name"] == "Brand"
