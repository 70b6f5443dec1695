"""Addresses a client gives (a Bluesky service_url, a Mastodon instance_url, a post's media URL) never
make Herald reach inside: refused when given, with nothing stored, and refused again when connecting
(DNS can change), with nothing fetched. These tests run with Herald's default, refusing policy; the
"inside" is a local server on 127.0.0.1 that counts every request it gets.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.outbound import ALLOW_LOCAL_PEERS, OutboundPolicy
from chalicelib.networks.mastodon import make_adapter
from tests.fakes.mastodon_server import MastodonFake
from tests.support.factories import connect_sandbox
from tests.support.http import Api
from tests.support.local_server import LocalServer
from tests.support.publishing import publish_due
from tests.support.queues import RecordingQueue

SECRET = b'{"AccessKeyId": "ASIAINTERNAL", "SecretAccessKey": "inside-secret"}'


@pytest.fixture
def inside() -> Iterator[LocalServer]:
    """What must never be reached: it answers everything with a secret."""
    with LocalServer() as server:
        for path in ("/", "/cat.png", "/latest/meta-data/iam", "/xrpc/com.atproto.server.createSession",
                     "/api/v2/instance", "/api/v1/accounts/verify_credentials"):
            server.route(path, body=SECRET, content_type="application/json")
        yield server



def resolving_inside() -> OutboundPolicy:
    """The default policy, with a DNS where every name points at this machine (a rebinding attacker's)."""
    return OutboundPolicy(resolver=lambda host, port: ["127.0.0.1"])


INSIDE_URLS = [
    "http://127.0.0.1:{port}",
    "https://127.0.0.1:{port}",
    "https://localhost:{port}",
    "https://[::1]:{port}",
    "https://[::ffff:127.0.0.1]:{port}",
    "https://169.254.169.254",
    "https://10.0.0.5",
    "https://100.64.0.1",
    "http://public.example.com",  # plain http: the password and tokens would travel in clear
]


@pytest.mark.parametrize("template", INSIDE_URLS)
@pytest.mark.parametrize(("network", "field", "credentials"), [
    ("bluesky", "service_url", {"handle": "alice.test", "app_password": "app-pass-1234"}),
    ("mastodon", "instance_url", {"access_token": "token"}),
])
def test_a_channel_whose_server_is_inside_is_refused_and_nothing_is_stored_or_fetched(
        api: Api, inside: LocalServer, network: str, field: str, credentials: dict[str, str],
        template: str) -> None:
    url = template.format(port=inside.port)
    answer = api.post("/channels", {"network": network, "name": "Inside",
                                    "credentials": {**credentials, field: url}})

    assert answer.status_code == 422, answer.body
    assert [d["field"] for d in answer.json["error"]["details"]] == [f"credentials.{field}"]
    assert api.get("/channels").json["items"] == []
    assert inside.hits == []


def test_a_name_that_resolves_inside_is_refused_when_connecting(api: Api, deps: Any, inside: LocalServer) -> None:
    deps.outbound = resolving_inside()  # the name passes as written; its address does not

    answer = api.post("/channels", {"network": "mastodon", "name": "Rebinding", "credentials": {
        "instance_url": f"https://mastodon.attacker.example:{inside.port}", "access_token": "token"}})

    assert answer.status_code == 422, answer.body
    assert "loopback" in answer.json["error"]["message"]
    assert "inside-secret" not in answer.body.decode()
    assert api.get("/channels").json["items"] == []
    assert inside.hits == []


def test_what_an_inside_service_answers_is_not_echoed(api: Api, deps: Any, inside: LocalServer) -> None:
    # Even where a private peer may be reached, its body never comes back to the client.
    deps.outbound = ALLOW_LOCAL_PEERS
    inside.route("/api/v1/accounts/verify_credentials", status=403, body=b"<html>" + SECRET + b"</html>",
                 content_type="text/html")

    answer = api.post("/channels", {"network": "mastodon", "name": "Peer", "credentials": {
        "instance_url": inside.url, "access_token": "token"}})

    assert answer.status_code == 422, answer.body
    assert "403" in answer.json["error"]["message"]
    assert "inside-secret" not in answer.body.decode() and "ASIA" not in answer.body.decode()


@pytest.mark.parametrize("template", [
    "http://127.0.0.1:{port}/cat.png",
    "https://127.0.0.1:{port}/cat.png",
    "https://169.254.169.254/latest/meta-data/iam",
    "https://[::ffff:169.254.169.254]/latest/meta-data/iam",
    "https://10.1.2.3/cat.png",
    "https://localhost:{port}/cat.png",
    "http://cdn.example.com/cat.png",
])
def test_a_post_with_a_media_url_inside_is_refused_and_nothing_is_stored_or_fetched(
        api: Api, inside: LocalServer, template: str) -> None:
    channel = connect_sandbox(api)
    answer = api.post("/posts", {"text": "", "channel_ids": [channel["id"]],
                                 "media": [{"url": template.format(port=inside.port), "alt": "a cat"}]})

    assert answer.status_code == 422, answer.body
    assert [d["field"] for d in answer.json["error"]["details"]] == ["media.0.url"]
    assert api.get("/posts").json["items"] == []
    assert inside.hits == []


def test_a_media_url_that_resolves_inside_fails_at_publish_with_a_readable_reason(
        api: Api, deps: Any, clock: Any, inside: LocalServer) -> None:
    with MastodonFake(clock=clock) as mastodon:
        deps._adapter_overrides["mastodon"] = make_adapter(clock=clock, policy=ALLOW_LOCAL_PEERS)
        deps.outbound = resolving_inside()
        deps.publish_queue = RecordingQueue()
        channel = api.post("/channels", {"network": "mastodon", "name": "Brand", "credentials": {
            "instance_url": mastodon.url, "access_token": mastodon.access_token}}).json
        publish_at = clock.now() + timedelta(seconds=40)
        post = api.post("/posts", {"text": "Look", "channel_ids": [channel["id"]],
                                   "publish_at": to_rfc3339(publish_at),
                                   "media": [{"url": f"https://cdn.attacker.example:{inside.port}/cat.png"}]})
        assert post.status_code == 201, post.body  # the name is fine as written; its address is not

        assert publish_due(deps, clock, publish_at) == ["failed"]

        delivery = api.get(f"/posts/{post.json['id']}").json["deliveries"][0]
        assert "was not fetched: the address is a loopback address" in delivery["last_error"]
        assert inside.hits == []
        assert (mastodon.created, mastodon.media) == ([], {})


def test_the_default_policy_does_not_contact_a_mastodon_on_this_machine(clock: Any) -> None:
    from chalicelib.networks.base import ChannelContext, PermanentError, PublishRequest

    with MastodonFake(clock=clock) as mastodon:
        channel = ChannelContext("ws", "ch", "mastodon", {}, {"instance_url": mastodon.url,
                                                              "access_token": mastodon.access_token})
        with pytest.raises(PermanentError, match="https"):
            make_adapter(clock=clock).publish(channel, PublishRequest("dl_1", "hello"))
        assert mastodon.requests == []
