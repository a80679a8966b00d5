"""RedisCache on a real redis-server: one token request per expiry for a fleet, leases, outages."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from tests.integration._redis import redis_or_skip
from tests.integration.conftest import free_port
from tests.integration.test_file_cache_processes import (
    ENCRYPTED,
    assert_one_request_per_expiry,
    run_herd,
    sealing,
    sigkill_handover,
)
from tests.servers.token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

import authwire
from authwire import CacheCipher, RedisCache, Token
from authwire.caches._codec import SEALED_VERSION, encode_entry, encode_token

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_or_skip(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.close()


@pytest.fixture
def server() -> Iterator[TokenServer]:
    with TokenServer(ttl=3.0) as running:
        yield running


@pytest.mark.slow
@ENCRYPTED
def test_four_processes_share_one_token_request_per_expiry(
    server: TokenServer, redis_url: str, client: redis.Redis, tmp_path: Path, encrypted: bool
) -> None:
    """4 processes on one redis-server, 3-second tokens, 3 expiries: 4 token requests, no 401.

    Encrypted, the same holds, and Redis holds the last token sealed.
    """
    env, cipher = sealing(encrypted)
    results = run_herd(server, redis_url, tmp_path, workers=4, generations=4, env=env)
    assert_one_request_per_expiry(server, results, generations=4)
    assert client.keys("herd:*:lease") == []  # every lease was released
    for key in client.keys("herd:*"):  # the last token, unless its 3 s TTL already ran out
        assert client.pttl(key) <= 3000
        raw = client.get(key)
        if cipher is not None and raw is not None:
            assert json.loads(raw)["v"] == SEALED_VERSION


@pytest.mark.slow
def test_sigkilled_refresher_lease_expires_and_a_waiter_takes_over(
    server: TokenServer, redis_url: str, client: redis.Redis, tmp_path: Path
) -> None:
    """A refresher SIGKILLed while holding the lease: after the lease, a waiter fetches."""
    env = dict(os.environ, HERD_LEASE="3")
    leases: list[bytes] = []
    result, proxy_requests = sigkill_handover(
        server,
        redis_url,
        tmp_path,
        env=env,
        while_a_refreshes=lambda: leases.extend(client.keys("herd:*:lease")),
    )
    (lease,) = leases
    assert [e["outcome"] for e in result["events"]] == ["fetched"]
    assert proxy_requests == 2
    assert server.count("token") == 1  # B's; A's never reached the endpoint
    assert client.exists(lease) == 0
    (key,) = [k for k in client.keys("herd:*") if not k.endswith(b":lease")]
    cached = authwire.RedisCache(redis_url, prefix="herd:").get(key.decode()[len("herd:") :])
    assert cached is not None


def test_a_stale_lease_holder_cannot_overwrite_the_new_token(
    redis_url: str, client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """Fencing: a holder whose lease was lost does not overwrite its successor's token."""
    stalled, successor = RedisCache(redis_url), RedisCache(redis_url)
    first = stalled.lock("k")
    assert first.acquire()
    client.delete("authwire:k:lease")  # lost, as if it expired while its holder was paused
    second = successor.lock("k")
    assert second.acquire()
    successor.set("k", Token("at-new", expires_at=time.time() + 60))
    with caplog.at_level(logging.WARNING, "authwire"):
        stalled.set("k", Token("at-stale", expires_at=time.time() + 60))
        first.release()  # lost: logged, not raised
    second.release()
    token = successor.get("k")
    assert token is not None
    assert token.access_token == "at-new"
    assert "another host has taken over" in caplog.text
    assert client.exists("authwire:k:lease") == 0


@pytest.mark.slow
def test_a_live_holder_keeps_renewing_its_lease(redis_url: str, client: redis.Redis) -> None:
    """A refresh longer than the lease keeps it (renewed); release frees it at once."""
    held = RedisCache(redis_url, lease=2).lock("r")
    assert held.acquire()
    time.sleep(4.5)  # more than two leases
    waiter = RedisCache(redis_url, wait_timeout=0.1).lock("r")
    assert waiter.acquire() is False  # still held
    assert 0 < client.pttl("authwire:r:lease") <= 2000
    held.release()
    assert waiter.acquire() is True
    waiter.release()


def test_entries_expire_with_the_token_or_its_refresh_token(
    redis_url: str, client: redis.Redis
) -> None:
    """The TTL is the access token's lifetime, or the refresh token's when there is one."""
    cache = RedisCache(redis_url, prefix="t:", max_ttl=1000)
    cache.set("a", Token("at", expires_at=time.time() + 60))
    assert 55_000 < client.pttl("t:a") <= 60_000
    cache.set("r", Token("at", expires_at=time.time() + 60, refresh_token="rt"))
    assert 995_000 < client.pttl("t:r") <= 1_000_000
    cache.set("e", Token("at", expires_at=time.time() + 60, refresh_token="rt",
                         refresh_expires_at=time.time() + 120))  # fmt: skip
    assert 115_000 < client.pttl("t:e") <= 120_000
    cache.set("x", Token("at", expires_at=time.time() - 1))
    assert client.exists("t:x") == 0


def test_a_corrupt_entry_is_dropped_and_reported_as_a_miss(
    redis_url: str, client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """Garbage under a key reads as absent (logged) and is deleted, never raised."""
    client.set("authwire:k", b"\x00not json")
    with caplog.at_level(logging.WARNING, "authwire"):
        assert RedisCache(redis_url).get("k") is None
    assert client.exists("authwire:k") == 0
    assert "unreadable" in caplog.text


def test_compare_and_discard_keeps_a_newer_token(redis_url: str, client: redis.Redis) -> None:
    """discard(old) leaves a token another host already stored."""
    cache = RedisCache(redis_url)
    old, new = Token("at-old"), Token("at-new")
    cache.set("k", new)
    assert cache.discard("k", old) is False
    assert cache.get("k") == new
    assert cache.discard("k", new) is True
    assert cache.get("k") is None


def test_redis_down_falls_back_to_direct_fetches_with_a_warning(
    server: TokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    """With nothing listening, tokens still come from the endpoint; a warning says why."""
    cache = RedisCache(f"redis://:pw-4c1d@127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    cred = authwire.ClientCredentials(
        server.url + "/token", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, cache=cache
    )
    with caplog.at_level(logging.WARNING, "authwire"):
        token = cred.get_token()
        assert cred.get_token() is token
    assert server.count("token") == 1
    assert "unavailable" in caplog.text
    assert "fetching tokens directly" in caplog.text
    assert "pw-4c1d" not in caplog.text + repr(cache) + cache.describe()


def test_redis_stopping_mid_run_does_not_stop_the_api(server: TokenServer, tmp_path: Path) -> None:
    """A redis-server that goes away: the next refresh fetches directly and succeeds."""
    with redis_or_skip(tmp_path) as own:
        cred = authwire.ClientCredentials(
            server.url + "/token",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            cache=RedisCache(own.url, socket_timeout=0.5),
        )
        first = cred.get_token()
    assert cred.invalidate(first)
    second = cred.get_token()
    assert second.access_token != first.access_token
    assert server.count("token") == 2


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each ``@pytest.mark.anyio`` test once per event loop."""
    return str(request.param)


@pytest.mark.anyio
async def test_async_credentials_share_through_redis(
    server: TokenServer, redis_url: str, client: redis.Redis
) -> None:
    """aget_token on two credentials sharing a RedisCache: one fetch, one cached read."""
    outcomes: list[str] = []

    def make() -> authwire.ClientCredentials:
        return authwire.ClientCredentials(
            server.url + "/token",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            cache=RedisCache(redis_url, prefix="async:"),
            on_refresh=lambda e: outcomes.append(e.outcome),
        )

    first, second = make(), make()
    assert await first.aget_token() == await second.aget_token()
    assert outcomes == ["fetched", "cached"]
    assert server.count("token") == 1
    assert client.exists(f"async:{first.cache_key}") == 1


def fresh_credential(
    server: TokenServer, redis_url: str, cipher: CacheCipher | None, **options: Any
) -> authwire.ClientCredentials:
    """A new credential (a new process's worth) on the token server, sharing ``redis_url``."""
    return authwire.ClientCredentials(
        server.url + "/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        cache=RedisCache(redis_url, encryption=cipher),
        **options,
    )


def test_without_encryption_a_planted_entry_is_used(
    server: TokenServer, redis_url: str, client: redis.Redis
) -> None:
    """The documented risk: whoever can write Redis can make a credential use their token."""
    cred = fresh_credential(server, redis_url, None)
    planted = Token("at-attacker", expires_at=time.time() + 3600)
    client.set(f"authwire:{cred.cache_key}", encode_token(planted))
    assert cred.get_token().access_token == "at-attacker"
    assert server.count("token") == 0


def test_an_encrypting_cache_refuses_a_planted_plain_entry(
    server: TokenServer, redis_url: str, client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """A plain-JSON token planted in Redis is refused by a fresh credential: exactly one fetch."""
    cipher = CacheCipher(CacheCipher.generate_key())
    cred = fresh_credential(server, redis_url, cipher)
    name = f"authwire:{cred.cache_key}"
    client.set(name, encode_token(Token("at-attacker", expires_at=time.time() + 3600)))
    with caplog.at_level(logging.WARNING, "authwire"):
        token = cred.get_token()
    assert token.access_token != "at-attacker"
    assert server.count("token") == 1
    assert "not encrypted" in caplog.text
    assert "at-attacker" not in caplog.text
    raw = client.get(name)
    assert raw is not None
    assert json.loads(raw)["v"] == SEALED_VERSION  # the planted entry was replaced
    assert b"at-attacker" not in raw
    assert token.access_token.encode() not in raw


def test_an_encrypting_cache_refuses_an_entry_sealed_for_another_key(
    server: TokenServer, redis_url: str, client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """A genuine sealed entry copied from another cache key is refused: exactly one fetch."""
    cipher = CacheCipher(CacheCipher.generate_key())
    cred = fresh_credential(server, redis_url, cipher)
    # Another identity's real token, sealed with the fleet's key, moved under cred's key.
    other = fresh_credential(server, redis_url, cipher, scope="admin")
    assert other.cache_key != cred.cache_key
    other_token = other.get_token()
    assert server.count("token") == 1
    client.copy(f"authwire:{other.cache_key}", f"authwire:{cred.cache_key}")
    with caplog.at_level(logging.WARNING, "authwire"):
        token = cred.get_token()
    assert token.access_token != other_token.access_token
    assert server.count("token") == 2
    assert "failed authentication" in caplog.text


def test_an_encrypting_cache_refuses_an_entry_sealed_with_another_key(
    server: TokenServer, redis_url: str, client: redis.Redis
) -> None:
    """An entry sealed by someone without the fleet's key is refused: exactly one fetch."""
    cred = fresh_credential(server, redis_url, CacheCipher(CacheCipher.generate_key()))
    attacker = CacheCipher(CacheCipher.generate_key())
    planted = Token("at-attacker", expires_at=time.time() + 3600)
    client.set(f"authwire:{cred.cache_key}", encode_entry(planted, cred.cache_key, attacker))
    assert cred.get_token().access_token != "at-attacker"
    assert server.count("token") == 1


def test_hosts_sharing_an_encrypted_redis_share_one_token(
    server: TokenServer, redis_url: str, client: redis.Redis
) -> None:
    """Two credentials with the same keys: one fetch, the second reads the sealed entry."""
    key = CacheCipher.generate_key()
    first = fresh_credential(server, redis_url, CacheCipher(key))
    second = fresh_credential(server, redis_url, CacheCipher(key))
    assert first.get_token() == second.get_token()
    assert server.count("token") == 1
