"""The outbound policy: what Herald may reach on a client's say-so (chalicelib/core/outbound.py).

No test here reaches the network: names resolve through an injected resolver, and where a real socket is
needed it is a local server on 127.0.0.1 (reached only by the allowing policy).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from chalicelib.core.outbound import (
    ALLOW_LOCAL_PEERS,
    AnswerTooLarge,
    OutboundPolicy,
    OutboundRefused,
    clean_reason,
)
from chalicelib.core.settings import load_settings
from infra.local.environment import LocalOptions, app_environment
from tests.support.local_server import LocalServer

REFUSING = OutboundPolicy()

INSIDE = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("::ffff:127.0.0.1", "loopback address inside an IPv6"),
    ("::ffff:169.254.169.254", "link-local address inside an IPv6"),
    ("::ffff:10.0.0.1", "private address inside an IPv6"),
    ("64:ff9b::a9fe:a9fe", "link-local address inside an IPv6"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::", "loopback address inside an IPv6"),  # 6to4 of 127.0.0.1
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.10", "documentation"),
    ("198.18.0.1", "benchmarking"),
]
PUBLIC = ["93.184.216.34", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "100.128.0.1", "172.32.0.1",
          "::ffff:93.184.216.34"]


def resolving(table: dict[str, list[str]]) -> tuple[OutboundPolicy, list[str]]:
    """A refusing policy whose DNS is `table`; the list records every name asked."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host not in table:
            raise OSError(f"no such name {host}")
        return table[host]

    return OutboundPolicy(resolver=resolve), asked


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


# -- addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "reason"), INSIDE)
def test_every_inside_address_is_refused(address: str, reason: str) -> None:
    with pytest.raises(OutboundRefused, match=reason):
        REFUSING.check_address(address, 443)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    REFUSING.check_address(address, 443)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "fc00::1",
                                     "::ffff:127.0.0.1"])
def test_the_allowing_policy_lets_loopback_and_private_peers_through(address: str) -> None:
    ALLOW_LOCAL_PEERS.check_address(address, 3000, "http")


@pytest.mark.parametrize("address", ["169.254.169.254", "fe80::1", "224.0.0.1", "0.0.0.0", "100.64.0.1",
                                     "240.0.0.1", "::ffff:169.254.169.254"])
def test_even_the_allowing_policy_never_reaches_metadata_multicast_or_unspecified(address: str) -> None:
    with pytest.raises(OutboundRefused):
        ALLOW_LOCAL_PEERS.check_address(address, 80, "http")


def test_the_aws_emulator_is_never_reached_even_when_private_peers_are_allowed() -> None:
    settings = replace(load_settings(), aws_endpoint_url="http://127.0.0.1:4566", allow_private_urls=True)
    policy = OutboundPolicy.from_settings(settings)
    for address in ("127.0.0.1", "127.0.0.2", "::1"):
        with pytest.raises(OutboundRefused, match="AWS endpoint"):
            policy.check_address(address, 4566, "http")
    policy.check_address("127.0.0.1", 3000, "http")  # another local peer is fine
    with pytest.raises(OutboundRefused, match="AWS endpoint"):
        policy.check_url("http://127.0.0.1:4566/herald-local-media/ws/secret")


def test_the_setting_is_off_by_default_in_tests_and_in_the_local_stack(tmp_path: Path) -> None:
    assert OutboundPolicy.from_settings(load_settings()).allow_private is False
    assert REFUSING.allow_private is False
    options = LocalOptions(host="127.0.0.1", port=8000, aws_port=4566, state_dir=tmp_path, app_spec="app:app",
                           region="us-east-1", workers=1)
    assert "HERALD_ALLOW_PRIVATE_URLS" not in app_environment(options)
    # ...and the local stack's policy never reaches its own AWS emulator.
    settings = replace(load_settings(), aws_endpoint_url=options.aws_endpoint_url)
    assert OutboundPolicy.from_settings(settings).blocked_endpoints == (("127.0.0.1", 4566),)


# -- URLs as written -------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://example.com/cat.png",  # plain http
    "ftp://example.com/cat.png",
    "file:///etc/passwd",
    "https://user:pass@example.com/",  # credentials in the address
    "https:///nohost",
    "https://127.0.0.1/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://169.254.169.254/latest/meta-data/",
    "https://localhost:8000/",
    "https://api.localhost/",
    "https://10.0.0.1:443/",
    "https://0x7f000001/",  # what some resolvers read as 127.0.0.1: checked when resolved
])
def test_urls_refused_as_written(url: str) -> None:
    if url == "https://0x7f000001/":
        policy, _ = resolving({"0x7f000001": ["127.0.0.1"]})
        with pytest.raises(OutboundRefused):
            policy.vetted_addresses("0x7f000001", 443, "https")
        return
    with pytest.raises(OutboundRefused):
        REFUSING.check_url(url)


@pytest.mark.parametrize("url", ["http://[0-9]/", "https://[example.com]/x", "https://[::1/"])
def test_a_url_python_cannot_split_is_refused_not_an_error(url: str) -> None:
    """A bracketed host that is no IP address made urlsplit raise ValueError: a post's media URL was a 500."""
    with pytest.raises(OutboundRefused, match="not a valid URL"):
        REFUSING.check_url(url)


def test_plain_http_is_only_for_private_peers_even_when_allowed() -> None:
    ALLOW_LOCAL_PEERS.check_url("http://127.0.0.1:3000/xrpc")
    with pytest.raises(OutboundRefused, match="https"):
        ALLOW_LOCAL_PEERS.check_address("93.184.216.34", 80, "http")


# -- resolution ------------------------------------------------------------------------------


def test_a_public_name_resolving_to_a_private_address_is_refused_before_connecting() -> None:
    policy, asked = resolving({"cdn.example.com": ["10.0.0.7"]})
    with pytest.raises(OutboundRefused, match="private"):
        policy.session().request("GET", "https://cdn.example.com/cat.png")
    assert asked == ["cdn.example.com"]


def test_every_resolved_address_is_checked_not_only_the_first() -> None:
    policy, _ = resolving({"mixed.example.com": ["93.184.216.34", "169.254.169.254"]})
    with pytest.raises(OutboundRefused, match="link-local"):
        policy.session().request("GET", "https://mixed.example.com/")


def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept(server: LocalServer) -> None:
    server.route("/hello", body=b"hi")
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        # A rebinding DNS: the first answer is the one that was checked; a second would point elsewhere.
        return ["127.0.0.1"] if len(calls) == 1 else ["169.254.169.254"]

    policy = replace(ALLOW_LOCAL_PEERS, resolver=resolve)
    answer = policy.session().request("GET", f"http://peer.test:{server.port}/hello")

    assert (answer.status_code, answer.content) == (200, b"hi")
    assert calls == ["peer.test"]  # resolved once: the socket was opened to that address
    assert server.hits[0].headers["host"] == f"peer.test:{server.port}"


# -- redirects -------------------------------------------------------------------------------


def test_a_redirect_to_an_inside_address_is_refused(server: LocalServer) -> None:
    server.route("/cat.png", status=302, headers={"Location": "http://metadata.test/latest/meta-data/"})
    policy = replace(ALLOW_LOCAL_PEERS, resolver=lambda host, port: {
        "peer.test": ["127.0.0.1"], "metadata.test": ["169.254.169.254"]}[host])

    with pytest.raises(OutboundRefused, match="link-local"):
        policy.session().request("GET", f"http://peer.test:{server.port}/cat.png")
    assert [hit.path for hit in server.hits] == ["/cat.png"]


def test_a_redirect_to_a_literal_inside_address_is_refused_by_the_default_policy() -> None:
    policy, _ = resolving({"public.example.com": ["93.184.216.34"]})
    with pytest.raises(OutboundRefused):
        policy.check_url("http://169.254.169.254/")  # what each hop is held to


def test_redirects_are_followed_a_few_times_then_refused(server: LocalServer) -> None:
    server.route("/a", status=302, headers={"Location": "/b"})
    server.route("/b", status=301, headers={"Location": "/c"})
    server.route("/c", body=b"done")
    server.route("/loop", status=302, headers={"Location": "/loop"})

    assert ALLOW_LOCAL_PEERS.session().request("GET", f"{server.url}/a").content == b"done"
    with pytest.raises(OutboundRefused, match="more than 3 redirects"):
        ALLOW_LOCAL_PEERS.session().request("GET", f"{server.url}/loop")
    assert len([hit for hit in server.hits if hit.path == "/loop"]) == 4


def test_a_token_does_not_follow_a_redirect_to_another_host(server: LocalServer) -> None:
    with LocalServer() as other:
        other.route("/landing", body=b"ok")
        server.route("/go", status=302, headers={"Location": f"{other.url}/landing"})
        ALLOW_LOCAL_PEERS.session().request("GET", f"{server.url}/go", headers={"Authorization": "Bearer s3cret"})
        assert server.hits[0].headers["authorization"] == "Bearer s3cret"
        assert "authorization" not in other.hits[0].headers


def test_a_post_is_not_redirected(server: LocalServer) -> None:
    server.route("/api", status=307, headers={"Location": "/elsewhere"})
    with pytest.raises(OutboundRefused, match="does not follow"):
        ALLOW_LOCAL_PEERS.session().request("POST", f"{server.url}/api", json={"status": "hi"})
    assert [hit.path for hit in server.hits] == ["/api"]


# -- limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_an_answer_over_the_size_limit_is_refused(server: LocalServer, chunked: bool) -> None:
    server.route("/big", body=b"x" * (300 * 1024), chunked=chunked)
    policy = replace(ALLOW_LOCAL_PEERS, max_answer_bytes=100 * 1024)

    with pytest.raises(AnswerTooLarge):
        policy.session().request("GET", f"{server.url}/big")
    assert policy.session().request("GET", f"{server.url}/big", max_bytes=400 * 1024).content == b"x" * 300 * 1024


def test_a_server_that_trickles_past_the_deadline_is_cut_off(server: LocalServer) -> None:
    server.route("/slow", body=b"x" * 200, trickle_s=0.02)  # 4 s in all, a byte well within any read timeout
    policy = replace(ALLOW_LOCAL_PEERS, deadline_s=0.5)

    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        policy.session().request("GET", f"{server.url}/slow")
    assert time.monotonic() - started < 2.0


def test_no_environment_proxy_is_used() -> None:
    assert ALLOW_LOCAL_PEERS.session()._session.trust_env is False


# -- what may be shown -----------------------------------------------------------------------


def test_a_remote_reason_is_one_short_clean_line() -> None:
    assert clean_reason("bad\x00 to\x1b[31mken\r\nInjected: yes\u202e") == "bad to [31mken Injected: yes"
    assert len(clean_reason("x" * 5000)) == 200
    assert clean_reason(None) == ""
