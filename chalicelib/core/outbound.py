"""The one way Herald makes an HTTP request to an address that a client chose.

A post's media URL, a Bluesky `service_url` and a Mastodon `instance_url` are
typed by a client; fetched blindly, they would let anyone read the cloud
metadata service (169.254.169.254), the AWS emulator or anything else on the
inside and have Herald upload what it read. `OutboundPolicy` decides what may be
reached, and `OutboundSession` (made by `policy.session()`) is the only HTTP
client those fetches use:

- https only (plain http only to loopback and private peers, and only with
  HERALD_ALLOW_PRIVATE_URLS=1);
- the host is resolved once and EVERY address it resolves to is checked
  (loopback, private, link-local, CGNAT, multicast, reserved, unspecified,
  IPv4 inside IPv6, the AWS emulator endpoint are refused); the socket is then
  opened to a checked address, so a second DNS answer cannot swap in another
  (DNS rebinding). TLS still verifies the certificate against the host name
  (SNI and Host header unchanged);
- redirects are followed by hand, a few at most, each hop checked again; only
  GET and HEAD follow them;
- connect and read timeouts, a total deadline, and a size limit on every answer
  (read as a stream, stopped past the limit).

No environment proxy is used (`trust_env` is off): a proxy would connect for
us, to an address the policy never saw.

Importing this module is cheap: requests and urllib3 load when a session is made.
"""
from __future__ import annotations

import ipaddress
import socket
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urljoin, urlsplit

if TYPE_CHECKING:
    import requests

    from chalicelib.core.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

DEFAULT_MAX_REDIRECTS = 3
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 20.0
DEFAULT_DEADLINE_S = 60.0
DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
REASON_CHARS = 200
REDIRECT_STATUSES = (301, 302, 303, 307, 308)

# What is never reached on a client's say-so, and why (checked in this order).
_REFUSED_V4 = tuple((ipaddress.IPv4Network(net), reason) for net, reason in (
    ("0.0.0.0/8", "an unspecified address"),
    ("127.0.0.0/8", "a loopback address"),
    ("10.0.0.0/8", "a private address"),
    ("172.16.0.0/12", "a private address"),
    ("192.168.0.0/16", "a private address"),
    ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
    ("169.254.0.0/16", "a link-local address"),
    ("192.0.0.0/24", "an IETF protocol address"),
    ("192.0.2.0/24", "a documentation address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),
))
_REFUSED_V6 = tuple((ipaddress.IPv6Network(net), reason) for net, reason in (
    ("::/128", "an unspecified address"),
    ("::1/128", "a loopback address"),
    ("::/96", "an IPv4-compatible address"),
    ("100::/64", "a discard address"),
    ("2001:db8::/32", "a documentation address"),
    ("fc00::/7", "a private address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
))
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# What HERALD_ALLOW_PRIVATE_URLS=1 lets through: this machine and private networks, never link-local
# (the metadata service), multicast or the rest.
_PRIVATE_REASONS = ("a loopback address", "a private address")
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


class OutboundRefused(Exception):
    """The policy refused a request, or an answer. `reason` is safe to show a client.

    `sent` is False when nothing left Herald for that address.
    """

    def __init__(self, reason: str, *, sent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


class AnswerTooLarge(OutboundRefused):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes", sent=True)
        self.limit = limit


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address as written (no DNS): where a local emulator may be reached by http."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the order the system gives them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` is not a public internet address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_refusal(embedded)
            return f"{inner} inside an IPv6 address" if inner else None
        table: Iterable[tuple[Any, str]] = _REFUSED_V6
    else:
        table = _REFUSED_V4
    for network, reason in table:
        if address in network:
            return reason
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return "a broadcast address"
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def clean_reason(text: Any, limit: int = REASON_CHARS) -> str:
    """A remote party's short error text made safe to show: one line, no control characters, truncated."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in str(text or ""))
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def _parse_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@dataclass(frozen=True)
class OutboundPolicy:
    """What Herald may reach on a client's say-so. Made from settings (`from_settings`) and injected."""

    allow_private: bool = False
    # (host, port) pairs never reached, whatever allow_private says: the AWS emulator of the local stack.
    blocked_endpoints: tuple[tuple[str, int], ...] = ()
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    deadline_s: float = DEFAULT_DEADLINE_S
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    resolver: Resolver = system_resolver
    monotonic: Callable[[], float] = time.monotonic

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        blocked: list[tuple[str, int]] = []
        if settings.aws_endpoint_url:
            parts = urlsplit(settings.aws_endpoint_url)
            if parts.hostname:
                blocked.append((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
        return cls(allow_private=settings.allow_private_urls, blocked_endpoints=tuple(blocked))

    # -- checks ------------------------------------------------------------------------

    def check_url(self, url: str) -> SplitResult:
        """What can be said of `url` without DNS: scheme, form, a literal address. Raises OutboundRefused."""
        try:
            parts = urlsplit(str(url or "").strip())
        except ValueError:  # a bracketed host that is no IP address (`http://[0-9]/`), an unbalanced bracket
            raise OutboundRefused("the address is not a valid URL") from None
        if parts.scheme not in ("https", "http"):
            raise OutboundRefused("the address must start with https://")
        try:
            hostname, port = parts.hostname, parts.port
        except ValueError:
            raise OutboundRefused("the address has an invalid port") from None
        if not hostname:
            raise OutboundRefused("the address has no host")
        if parts.username is not None or parts.password is not None:
            raise OutboundRefused("the address must not carry a user name or password")
        if parts.scheme == "http" and not self.allow_private:
            raise OutboundRefused("the address must start with https://")
        literal = _parse_address(hostname)
        if literal is not None:
            self.check_address(literal, port or _default_port(parts.scheme), parts.scheme)
        elif hostname.rstrip(".").lower() in _LOCAL_NAMES or hostname.rstrip(".").lower().endswith(".localhost"):
            self._check_reason("a loopback address", parts.scheme)
        return parts

    def check_address(self, address: IPAddress | str, port: int, scheme: str = "https") -> None:
        """Raises OutboundRefused unless a connection to `address`:`port` is allowed."""
        parsed = address if not isinstance(address, str) else _parse_address(address.split("%", 1)[0])
        if parsed is None:
            raise OutboundRefused(f"'{address}' is not an IP address")
        if self._is_blocked_endpoint(parsed, port):
            raise OutboundRefused("the address is Herald's own AWS endpoint")
        self._check_reason(address_refusal(parsed), scheme)

    def _check_reason(self, reason: str | None, scheme: str) -> None:
        if reason is None:
            if scheme != "https":
                raise OutboundRefused("the address must start with https://")
            return
        if self.allow_private and reason.removesuffix(" inside an IPv6 address") in _PRIVATE_REASONS:
            return
        raise OutboundRefused(f"the address is {reason}")

    def _is_blocked_endpoint(self, address: IPAddress, port: int) -> bool:
        for host, blocked_port in self.blocked_endpoints:
            if port != blocked_port:
                continue
            blocked = _parse_address(host)
            targets = [blocked] if blocked is not None else [_parse_address(a) for a in self._resolve_quietly(host)]
            for target in targets:
                if target is None:
                    continue
                if target == address:
                    return True
                # A server listening on a loopback or every address answers on every loopback address.
                if (target.is_loopback or target.is_unspecified) and (address.is_loopback or address.is_unspecified):
                    return True
        return False

    def _resolve_quietly(self, host: str) -> list[str]:
        try:
            return self.resolver(host, 0)
        except OSError:
            return ["127.0.0.1"] if host in _LOCAL_NAMES else []

    def vetted_addresses(self, host: str, port: int, scheme: str) -> list[str]:
        """Resolve `host` once and check every address; the connection is made to one of these."""
        literal = _parse_address(host)
        addresses = [host] if literal is not None else self.resolver(host, port)
        if not addresses:
            raise OutboundRefused(f"{host} resolves to no address")
        for address in addresses:
            self.check_address(address, port, scheme)
        return addresses

    # -- sessions ------------------------------------------------------------------------

    def session(self) -> OutboundSession:
        return OutboundSession(self)


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


ALLOW_LOCAL_PEERS = OutboundPolicy(allow_private=True)
"""For tests and local peers on this machine (a PDS, a fake Mastodon): what HERALD_ALLOW_PRIVATE_URLS=1 gives."""


class OutboundSession:
    """A `requests.Session`-like client held to an OutboundPolicy.

    `request(method, url, **kwargs)` answers a `requests.Response` whose body is already read (within the
    limit); transport failures raise requests' own exceptions (so callers tell "not sent" from "sent, no
    answer" as before) and refusals raise OutboundRefused.
    """

    def __init__(self, policy: OutboundPolicy) -> None:
        import requests

        self.policy = policy
        self._session = requests.Session()
        self._session.trust_env = False
        adapter = _vetted_adapter(policy)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def close(self) -> None:
        self._session.close()

    def request(self, method: str, url: str, *, timeout: Any = None, headers: Any = None,
                max_bytes: int | None = None, **kwargs: Any) -> requests.Response:
        import requests

        kwargs.pop("stream", None)
        kwargs.pop("allow_redirects", None)
        policy = self.policy
        deadline = policy.monotonic() + policy.deadline_s
        limit = max_bytes or policy.max_answer_bytes
        sent_headers = dict(headers or {})
        method = method.upper()
        for hop in range(policy.max_redirects + 1):
            current = policy.check_url(url)
            response = self._session.request(method, url, headers=sent_headers, stream=True, allow_redirects=False,
                                             timeout=self._timeout(timeout, deadline), **kwargs)
            if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
                _read_body(response, limit, deadline, policy.monotonic)
                return response
            response.close()
            if method not in ("GET", "HEAD"):
                raise OutboundRefused(f"answered a redirect ({response.status_code}), which Herald does not "
                                      f"follow for {method}", sent=True)
            if hop == policy.max_redirects:
                break
            url = urljoin(response.url, response.headers["location"])
            if urlsplit(url).netloc != current.netloc:
                # A token for one host never travels to another.
                sent_headers = {k: v for k, v in sent_headers.items() if k.lower() != "authorization"}
            if policy.monotonic() >= deadline:
                raise requests.exceptions.ConnectTimeout(f"no answer within {policy.deadline_s:g} s")
        raise OutboundRefused(f"more than {policy.max_redirects} redirects", sent=True)

    def _timeout(self, asked: Any, deadline: float) -> tuple[float, float]:
        """The caller's (connect, read) timeouts, never above the policy's, nor past the deadline."""
        connect, read = self.policy.connect_timeout_s, self.policy.read_timeout_s
        if isinstance(asked, tuple):
            connect, read = min(connect, asked[0]), min(read, asked[1])
        elif isinstance(asked, int | float):
            connect, read = min(connect, asked), min(read, asked)
        remaining = max(0.001, deadline - self.policy.monotonic())
        return min(connect, remaining), min(read, remaining)


def _read_body(response: requests.Response, limit: int, deadline: float, monotonic: Callable[[], float]) -> None:
    """Read the answer within `limit` bytes and the deadline; the body is then `response.content`."""
    import requests

    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        response.close()
        raise AnswerTooLarge(limit)
    chunks, size = [], 0
    try:
        for chunk in _chunks(response):
            size += len(chunk)
            if size > limit:
                raise AnswerTooLarge(limit)
            chunks.append(chunk)
            if monotonic() > deadline:
                raise requests.exceptions.ReadTimeout("the answer did not arrive within the deadline")
    finally:
        response.close()
    response._content = b"".join(chunks)  # what requests keeps for .content, .text and .json()
    response._content_consumed = True


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: `read1` answers what is there, so a trickle meets the deadline check."""
    import requests
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    raw = response.raw
    while True:
        try:
            chunk = raw.read1(CHUNK_BYTES, decode_content=True)
        except ReadTimeoutError as error:
            raise requests.exceptions.ReadTimeout(str(error)) from error
        except ProtocolError as error:
            raise requests.exceptions.ChunkedEncodingError(str(error)) from error
        if not chunk:
            return
        yield chunk


def _vetted_adapter(policy: OutboundPolicy) -> Any:
    """A requests transport adapter whose connections go only to addresses the policy checked.

    urllib3 resolves and connects in `HTTPConnection._new_conn`; ours resolves once through the policy,
    checks every address and connects to one of them. The connection keeps its host name, so the Host
    header, SNI and certificate checks are the host's, not the address's.
    """
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
    from urllib3.util.connection import create_connection

    class VettedConnection:
        scheme_name = "https"

        def _new_conn(self: Any) -> socket.socket:
            try:
                addresses = policy.vetted_addresses(self.host, self.port, self.scheme_name)
            except socket.gaierror as error:
                raise NewConnectionError(self, f"could not resolve {self.host}: {error}") from error
            failure: OSError | None = None
            for address in addresses:
                try:
                    return create_connection((address, self.port), self.timeout,
                                             source_address=self.source_address, socket_options=self.socket_options)
                except TimeoutError as error:
                    raise ConnectTimeoutError(self, f"connecting to {self.host} timed out") from error
                except OSError as error:
                    failure = error
            raise NewConnectionError(self, f"could not connect to {self.host}: {failure}")

    class VettedHTTPConnection(VettedConnection, HTTPConnection):
        scheme_name = "http"

    class VettedHTTPSConnection(VettedConnection, HTTPSConnection):
        scheme_name = "https"

    class VettedHTTPPool(HTTPConnectionPool):
        ConnectionCls = VettedHTTPConnection

    class VettedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = VettedHTTPSConnection

    class VettedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": VettedHTTPPool, "https": VettedHTTPSPool}

        def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
            raise OutboundRefused("requests to a client's address never go through a proxy")

    return VettedAdapter()
