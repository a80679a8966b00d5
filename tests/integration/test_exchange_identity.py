"""One user's exchanged token is never handed to another (issue 22, items 2 and 3).

A gateway exchanges each user's token (RFC 8693) on one cache: alice's and bob's
``TokenExchange`` must get tokens for alice and for bob, whichever cache holds them (the
process-wide default, a ``MemoryCache``, a ``FileCache``, a ``RedisCache`` on a real
redis-server) and however the subject or actor is given (a string, a ``StaticToken``, a
credential). The real oidc-provider does the exchange and its ``/api`` says whose token it
got (``sub``) and who acts (``act``). ``JwtBearer`` with two assertion functions named
apart gets two service accounts' tokens.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import requests
from tests.integration._oidc import CC_CLIENT, PUBLIC_CLIENT, USERS, OidcProvider, oidc
from tests.integration._redis import redis_or_skip

import authwire
import authwire.httpx
import authwire.requests
from authwire import (
    Credential,
    FileCache,
    JwtBearer,
    MemoryCache,
    PasswordGrant,
    RedisCache,
    StaticToken,
    TokenExchange,
)
from authwire.caches.base import TokenCache

pytestmark = pytest.mark.integration

__all__ = ["oidc"]  # the session fixture, imported for pytest

CACHES = ["default", "memory", "file", "redis"]
PARTS = ["str", "static", "credential"]
KINDS = ["requests", "httpx", "httpx-asyncio", "httpx-trio"]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on loopback (the test is skipped where it is not installed)."""
    with redis_or_skip(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def make_cache(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> TokenCache | None:
    """The cache named ``kind``; ``None`` is the process-wide default."""
    if kind == "default":
        return None
    if kind == "memory":
        return MemoryCache()
    if kind == "file":
        return FileCache(tmp_path / "tokens")
    url = request.getfixturevalue("redis_url")
    # A fresh prefix per test: entries of earlier tests cannot answer for this one.
    return RedisCache(url, prefix=f"authwire-test:{uuid.uuid4().hex}:")


def login(oidc: OidcProvider, user: str) -> PasswordGrant:
    """The user's own credential at the provider (the password grant)."""
    return PasswordGrant(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        username=user,
        password=USERS[user],
        cache=MemoryCache(),
    )


def part(oidc: OidcProvider, user: str, how: str) -> Credential | str:
    """The user's token as a subject or actor: a string, a ``StaticToken`` or a credential."""
    if how == "credential":
        return login(oidc, user)
    token = login(oidc, user).get_token().access_token
    return token if how == "str" else StaticToken(token)


def exchange(
    oidc: OidcProvider, cache: TokenCache | None, **parts: Credential | str
) -> TokenExchange:
    """The gateway's exchange (client ``cc-client``) of ``parts`` on ``cache``."""
    return TokenExchange(
        issuer=oidc.issuer,
        client_id=CC_CLIENT[0],
        client_secret=CC_CLIENT[1],
        cache=cache,
        **parts,  # type: ignore[arg-type]
    )


def call_api(kind: str, credential: Credential, url: str) -> dict[str, Any]:
    """GET ``url`` with ``credential`` through the client named by ``kind``; the JSON."""
    if kind == "requests":
        with requests.Session() as session:
            session.auth = authwire.requests.Auth(credential)
            response = session.get(url, timeout=10)
            assert response.status_code == 200, response.text
            return dict(response.json())
    if kind == "httpx":
        with httpx.Client(auth=authwire.httpx.Auth(credential), timeout=10) as client:
            reply = client.get(url)
            assert reply.status_code == 200, reply.text
            return dict(reply.json())

    async def main() -> dict[str, Any]:
        async with httpx.AsyncClient(auth=authwire.httpx.Auth(credential), timeout=10) as client:
            reply = await client.get(url)
            assert reply.status_code == 200, reply.text
            return dict(reply.json())

    return anyio.run(main, backend=kind.split("-")[1])


@pytest.mark.parametrize("how", PARTS)
@pytest.mark.parametrize("cache_kind", CACHES)
def test_alice_and_bob_subjects_get_their_own_tokens(
    oidc: OidcProvider, request: pytest.FixtureRequest, tmp_path: Path, cache_kind: str, how: str
) -> None:
    """On one cache, bob's exchange never returns the token exchanged for alice."""
    cache = make_cache(cache_kind, request, tmp_path)
    before = oidc.token_requests(CC_CLIENT[0], "urn:ietf:params:oauth:grant-type:token-exchange")
    alice = exchange(oidc, cache, subject=part(oidc, "alice", how))
    bob = exchange(oidc, cache, subject=part(oidc, "bob", how))
    assert call_api("requests", alice, oidc.api)["sub"] == "alice"
    assert call_api("requests", bob, oidc.api)["sub"] == "bob"
    assert alice.get_token().access_token != bob.get_token().access_token
    after = oidc.token_requests(CC_CLIENT[0], "urn:ietf:params:oauth:grant-type:token-exchange")
    assert after - before == 2  # one exchange each: still cached per user


@pytest.mark.parametrize("how", PARTS)
@pytest.mark.parametrize("cache_kind", CACHES)
def test_alice_and_bob_actors_get_their_own_tokens(
    oidc: OidcProvider, request: pytest.FixtureRequest, tmp_path: Path, cache_kind: str, how: str
) -> None:
    """One subject, two actors on one cache: each delegated token names its own actor."""
    cache = make_cache(cache_kind, request, tmp_path)
    subject = login(oidc, "alice").get_token().access_token
    as_alice = exchange(oidc, cache, subject=subject, actor=part(oidc, "alice", how))
    as_bob = exchange(oidc, cache, subject=subject, actor=part(oidc, "bob", how))
    assert call_api("requests", as_alice, oidc.api)["act"] == {"sub": "alice"}
    assert call_api("requests", as_bob, oidc.api)["act"] == {"sub": "bob"}


@pytest.mark.parametrize("kind", KINDS)
def test_gateway_on_the_default_cache_per_client(oidc: OidcProvider, kind: str) -> None:
    """The README's gateway (string subjects, default cache) through every client."""
    alice = exchange(oidc, None, subject=part(oidc, "alice", "str"))
    bob = exchange(oidc, None, subject=part(oidc, "bob", "str"))
    assert call_api(kind, alice, oidc.api)["sub"] == "alice"
    assert call_api(kind, bob, oidc.api)["sub"] == "bob"
    assert call_api(kind, alice, oidc.api)["sub"] == "alice"


def test_two_assertion_functions_get_two_service_accounts(oidc: OidcProvider) -> None:
    """JwtBearer: two assertion functions named apart on one cache get two subjects' tokens."""
    import jwt

    def signer(subject: str) -> Any:
        def sign() -> str:
            now = int(time.time())
            claims = {
                "iss": CC_CLIENT[0],
                "sub": subject,
                "aud": oidc.token_url,
                "iat": now,
                "exp": now + 60,
                "jti": uuid.uuid4().hex,
            }
            headers = {"kid": "ec-key"}
            return jwt.encode(claims, oidc.private_keys["ec"], algorithm="ES256", headers=headers)

        return sign

    def robot(name: str) -> JwtBearer:
        return JwtBearer(
            issuer=oidc.issuer,
            client_id=CC_CLIENT[0],
            client_secret=CC_CLIENT[1],
            assertion=signer(name),
            cache_identity=name,
        )

    one, two = robot("robot-a"), robot("robot-b")
    assert call_api("requests", one, oidc.api)["sub"] == "robot-a"
    assert call_api("requests", two, oidc.api)["sub"] == "robot-b"
