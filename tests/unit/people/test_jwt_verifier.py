"""A Cognito token is accepted only as API Gateway's Cognito authorizer would accept it: RS256 by a key of the
pool's JWKS, the pool's issuer, an access or ID token of Herald's app client, not expired (Herald's clock)."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.core.clock import FixedClock
from chalicelib.people.jwt_verifier import (
    JWKS_REFRESH_S,
    CognitoTokenVerifier,
    InvalidToken,
    JwksCache,
    JwksFetchError,
    fetch_jwks,
)
from tests.fakes.local_http import Answer, LocalHttpFake, Route
from tests.support.events import load_event

POOL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_herald"
CLIENT = "herald-web-client"
KID = "herald-key-1"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwks_of(key: rsa.RSAPrivateKey, kid: str = KID) -> dict[str, Any]:
    document = load_event("cognito", "jwks.json")
    entry = document["keys"][0]
    numbers = key.public_key().public_numbers()
    entry.update(kid=kid, n=_b64(numbers.n), e=_b64(numbers.e))
    return dict(document)


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Fetches:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.urls: list[str] = []

    def __call__(self, url: str) -> dict[str, Any]:
        self.urls.append(url)
        return copy.deepcopy(self.document)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier(
    key: rsa.RSAPrivateKey,
    clock: FixedClock | None = None,
    fetches: Fetches | None = None,
    monotonic: Monotonic | None = None,
) -> CognitoTokenVerifier:
    cache = JwksCache(f"{POOL}/.well-known/jwks.json", fetches or Fetches(jwks_of(key)), monotonic or Monotonic())
    return CognitoTokenVerifier(POOL, CLIENT, cache, clock or FixedClock(NOW))


def access_claims(**changes: Any) -> dict[str, Any]:
    claims = load_event("cognito", "access_token_claims.json")
    claims.update(
        iss=POOL,
        client_id=CLIENT,
        username="usr_ana",
        iat=int(NOW.timestamp()) - 60,
        auth_time=int(NOW.timestamp()) - 60,
        exp=int(NOW.timestamp()) + 3540,
    )
    claims.update(changes)
    return dict(claims)


def id_claims(**changes: Any) -> dict[str, Any]:
    claims = load_event("cognito", "id_token_claims.json")
    claims.update(
        {
            "iss": POOL,
            "aud": CLIENT,
            "cognito:username": "usr_ana",
            "iat": int(NOW.timestamp()) - 60,
            "exp": int(NOW.timestamp()) + 3540,
        }
    )
    claims.update(changes)
    return dict(claims)


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str = KID) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_a_good_access_token_names_its_user(pool_key: rsa.RSAPrivateKey) -> None:
    verified = verifier(pool_key).verify(sign(access_claims(), pool_key))
    assert (verified.username, verified.token_use) == ("usr_ana", "access")


def test_a_good_id_token_names_its_user_too(pool_key: rsa.RSAPrivateKey) -> None:
    verified = verifier(pool_key).verify(sign(id_claims(), pool_key))
    assert (verified.username, verified.token_use) == ("usr_ana", "id")


def test_an_expired_token_is_refused_by_herald_s_clock(pool_key: rsa.RSAPrivateKey) -> None:
    token = sign(access_claims(), pool_key)
    clock = FixedClock(NOW)
    check = verifier(pool_key, clock)
    check.verify(token)
    clock.advance(3540)
    with pytest.raises(InvalidToken, match="expired"):
        check.verify(token)


@pytest.mark.parametrize(
    "claims",
    [
        access_claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_another"),
        access_claims(iss="https://evil.example/us-east-1_herald"),
    ],
    ids=["another pool", "another host"],
)
def test_another_issuer_is_refused(pool_key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken, match="issuer"):
        verifier(pool_key).verify(sign(claims, pool_key))


@pytest.mark.parametrize(
    "claims", [access_claims(client_id="another-app"), id_claims(aud="another-app")], ids=["access token", "id token"]
)
def test_a_token_of_another_app_client_is_refused(pool_key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken, match="another app client"):
        verifier(pool_key).verify(sign(claims, pool_key))


def test_a_token_signed_by_another_key_under_the_pool_s_kid_is_refused(
    pool_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(InvalidToken, match="Signature"):
        verifier(pool_key).verify(sign(access_claims(), other_key))


def test_alg_none_is_refused(pool_key: rsa.RSAPrivateKey) -> None:
    unsigned = jwt.encode(access_claims(), None, algorithm="none", headers={"kid": KID})
    with pytest.raises(InvalidToken, match="not RS256"):
        verifier(pool_key).verify(unsigned)


def test_hs256_with_the_public_key_as_secret_is_refused(pool_key: rsa.RSAPrivateKey) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": KID}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(access_claims()).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="not RS256"):
        verifier(pool_key).verify(f"{header}.{body}.c2lnbmF0dXJl")


@pytest.mark.parametrize("use", ["refresh", None])
def test_a_token_that_is_neither_access_nor_id_is_refused(pool_key: rsa.RSAPrivateKey, use: str | None) -> None:
    claims = access_claims(token_use=use)
    with pytest.raises(InvalidToken):
        verifier(pool_key).verify(sign(claims, pool_key))


def test_garbage_is_refused(pool_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(InvalidToken, match="not a JWT"):
        verifier(pool_key).verify("eyJ.not.a-token")


def test_the_keys_are_fetched_once_and_an_unknown_kid_at_most_every_few_minutes(pool_key: rsa.RSAPrivateKey) -> None:
    fetches, monotonic = Fetches(jwks_of(pool_key)), Monotonic()
    check = verifier(pool_key, fetches=fetches, monotonic=monotonic)
    for _ in range(3):
        check.verify(sign(access_claims(), pool_key))
    for _ in range(3):
        with pytest.raises(InvalidToken, match="no key"):
            check.verify(sign(access_claims(), pool_key, kid="made-up"))
    assert fetches.urls == [f"{POOL}/.well-known/jwks.json"]
    # The pool rotated its key: found once the refresh interval passed.
    fetches.document = jwks_of(pool_key, kid="rotated")
    monotonic.now += JWKS_REFRESH_S
    assert check.verify(sign(access_claims(), pool_key, kid="rotated")).username == "usr_ana"
    assert len(fetches.urls) == 2


# -- fetching the JWKS -------------------------------------------------------------------------------------


class JwksServer(LocalHttpFake):
    """The user pool's JWKS on 127.0.0.1 (as the local stack's emulator serves it), and two ways to misbehave:
    a redirect elsewhere, and an answer far larger than any JWKS."""

    name = "jwks-fake"

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__()
        self.document = document

    def routes(self) -> list[Route]:
        return [
            ("GET", r"/pool/\.well-known/jwks\.json", lambda _r: Answer(200, self.document)),
            ("GET", r"/moved/jwks\.json", lambda _r: Answer(302, headers={"Location": f"{self.url}/elsewhere"})),
            ("GET", r"/elsewhere", lambda _r: Answer(200, self.document)),
            ("GET", r"/huge/jwks\.json", lambda _r: Answer(200, raw=b'{"keys": [' + b" " * (1 << 20) + b"]}")),
        ]


@pytest.fixture
def jwks_server(pool_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    with JwksServer(jwks_of(pool_key)) as server:
        yield server


def test_the_keys_come_from_the_loopback_emulator_over_http(
    pool_key: rsa.RSAPrivateKey, jwks_server: JwksServer
) -> None:
    cache = JwksCache(f"{jwks_server.url}/pool/.well-known/jwks.json")
    check = CognitoTokenVerifier(POOL, CLIENT, cache, FixedClock(NOW))
    assert check.verify(sign(access_claims(), pool_key)).username == "usr_ana"
    assert len(jwks_server.calls("GET", r"/pool/\.well-known/jwks\.json")) == 1


def test_a_redirect_is_not_followed(jwks_server: JwksServer) -> None:
    with pytest.raises(JwksFetchError, match="redirect"):
        fetch_jwks(f"{jwks_server.url}/moved/jwks.json")
    assert jwks_server.calls("GET", "/elsewhere") == []


def test_an_answer_larger_than_a_jwks_is_not_read(jwks_server: JwksServer) -> None:
    with pytest.raises(JwksFetchError, match="larger than 65536 bytes"):
        fetch_jwks(f"{jwks_server.url}/huge/jwks.json")


def test_a_pool_whose_keys_redirect_verifies_no_token(
    pool_key: rsa.RSAPrivateKey, jwks_server: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    cache = JwksCache(f"{jwks_server.url}/moved/jwks.json")
    check = CognitoTokenVerifier(POOL, CLIENT, cache, FixedClock(NOW))
    with pytest.raises(InvalidToken, match="could not be fetched"):
        check.verify(sign(access_claims(), pool_key))
    assert "redirect" in caplog.text and jwks_server.calls("GET", "/elsewhere") == []


class EndlessAnswer:
    """An answer with no Content-Length that never ends: only a bounded read stops."""

    status_code = 200
    is_redirect = False
    headers: dict[str, str] = {}

    def __init__(self) -> None:
        self.bytes_read = 0

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        while True:
            self.bytes_read += chunk_size
            yield b" " * chunk_size

    def __enter__(self) -> EndlessAnswer:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass


class Session:
    def __init__(self, answer: EndlessAnswer | None = None) -> None:
        self.answer = answer or EndlessAnswer()
        self.gets: list[tuple[str, dict[str, Any]]] = []

    def get(self, url: str, **options: Any) -> EndlessAnswer:
        self.gets.append((url, options))
        return self.answer


def test_an_answer_without_a_length_is_read_only_up_to_the_bound() -> None:
    session = Session()
    with pytest.raises(JwksFetchError, match="larger than 65536 bytes"):
        fetch_jwks(f"{POOL}/.well-known/jwks.json", session=session)
    [(_url, options)] = session.gets
    assert (options["allow_redirects"], options["stream"]) == (False, True)
    assert 65536 < session.answer.bytes_read <= 2 * 65536


@pytest.mark.parametrize(
    "url",
    [
        "http://cognito-idp.us-east-1.amazonaws.com/us-east-1_herald/.well-known/jwks.json",
        "http://10.0.0.7:4566/us-east-1_herald/.well-known/jwks.json",
        "file:///etc/passwd",
        "ftp://127.0.0.1/jwks.json",
    ],
    ids=["http to aws", "http to a private address", "file", "ftp"],
)
def test_only_https_is_fetched_or_http_to_a_loopback_emulator(url: str) -> None:
    session = Session()
    with pytest.raises(JwksFetchError, match="https"):
        fetch_jwks(url, session=session)
    assert session.gets == []
