"""A failed cache write loses nothing: the fetched token is used from memory and reported.

The manager runs real grant flows against the in-process ``Endpoint`` of
``test_manager``; the cache is a ``MemoryCache`` whose ``set`` can be made to raise, so
the write fails exactly as a full disk or an unreachable Redis makes a real one fail.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.leakcheck import SecretPlanter, capture_logs
from tests.unit.test_manager import JSON, URL, Endpoint, _AsyncSender, manager

from authwire import (
    CacheError,
    FileCache,
    MemoryCache,
    RefreshEvent,
    RefreshPolicy,
    RetryPolicy,
    Secret,
)
from authwire._core.http import HttpResponse
from authwire._core.oauth2.client_auth import ClientAuth
from authwire._core.oauth2.grants import client_credentials_flow, refresh_token_flow
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire._core.token import Token
from authwire.manager import TokenManager
from authwire.testing import FakeClock


class BrokenCache(MemoryCache):
    """A ``MemoryCache`` whose writes fail while ``error`` is set; counts write attempts."""

    def __init__(self, error: Exception | None) -> None:
        super().__init__()
        self.error = error
        self.writes = 0

    def set(self, key: str, token: Token) -> None:
        """Count the attempt, then fail with ``error`` or store."""
        self.writes += 1
        if self.error is not None:
            raise self.error
        super().set(key, token)


def _unwritable() -> CacheError:
    return CacheError("cannot write the token cache file /x/aw1.json: No space left on device")


def test_failed_write_still_hands_out_the_token(clock: FakeClock) -> None:
    """A CacheError from set: the call succeeds with the fetched token, one request, reported."""
    events: list[RefreshEvent] = []
    endpoint = Endpoint()
    cache = BrokenCache(_unwritable())
    mgr = manager(endpoint, clock, cache=cache, on_refresh=events.append)
    with capture_logs() as logs:
        token = mgr.get_token()
        assert mgr.get_token() is token  # held in memory: no second request
    assert token.access_token == "tok-1"
    assert endpoint.requests == 1
    assert cache.writes == 1
    assert [e.outcome for e in events] == ["fetched"]
    assert events[0].error is None
    assert events[0].cache_error is not None
    assert "No space left on device" in events[0].cache_error
    warnings = [r.getMessage() for r in logs.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "could not be stored" in warnings[0]
    assert "tok-1" not in warnings[0]


def test_next_refresh_writes_the_cache_again(clock: FakeClock) -> None:
    """After a failed write, the next refresh retries it, and stores once the cache works."""
    events: list[RefreshEvent] = []
    endpoint = Endpoint(ttl=60)
    cache = BrokenCache(_unwritable())
    mgr = manager(endpoint, clock, cache=cache, on_refresh=events.append)
    mgr.get_token()
    cache.error = None
    clock.advance(61)
    second = mgr.get_token()
    assert endpoint.requests == 2
    assert cache.writes == 2
    assert cache.get("aw1-test") == second
    assert [e.cache_error is None for e in events] == [False, True]


def test_any_exception_from_set_is_contained_and_named_by_type(
    clock: FakeClock, planted_secrets: SecretPlanter
) -> None:
    """A foreign exception from set (its text may hold a password) is reported by type only."""
    password = planted_secrets.new("redis-password")
    events: list[RefreshEvent] = []
    endpoint = Endpoint()
    cache = BrokenCache(ConnectionError(f"redis://:{password}@cache:6379 refused"))
    secret = planted_secrets.new("client-secret")
    mgr = manager(endpoint, clock, cache=cache, on_refresh=events.append, secret=secret)
    token = mgr.get_token()
    assert token.access_token == "tok-1"
    assert endpoint.requests == 1
    assert events[0].cache_error == "ConnectionError"
    planted_secrets.check(events[0], repr(events[0]))


def test_refresh_ahead_with_a_failed_write_does_not_raise(clock: FakeClock) -> None:
    """refresh_ahead adopts the new token even if the write fails, and does not raise."""
    endpoint = Endpoint()
    cache = BrokenCache(None)
    mgr = manager(endpoint, clock, cache=cache)
    first = mgr.get_token()
    cache.error = _unwritable()
    second = mgr.refresh_ahead()
    assert second.access_token == "tok-2"
    assert mgr.get_token() is second
    assert cache.get("aw1-test") == first  # the old entry stays; nothing was lost in memory
    assert endpoint.requests == 2


@pytest.mark.anyio
async def test_async_failed_write_still_hands_out_the_token(clock: FakeClock) -> None:
    """aget_token with a failing set: the token is used, one request, the event says why."""
    events: list[RefreshEvent] = []
    endpoint = Endpoint()
    cache = BrokenCache(_unwritable())
    mgr = manager(endpoint, clock, cache=cache, on_refresh=events.append)
    token = await mgr.aget_token()
    assert await mgr.aget_token() is token
    assert token.access_token == "tok-1"
    assert endpoint.requests == 1
    assert cache.writes == 1
    assert events[0].outcome == "fetched"
    assert events[0].cache_error is not None


@pytest.mark.anyio
async def test_async_blocking_cache_failed_write_still_hands_out_the_token(
    clock: FakeClock,
) -> None:
    """The same through a blocking cache (set runs in a worker thread) and arefresh_ahead."""
    endpoint = Endpoint()
    cache = BrokenCache(_unwritable())
    cache.blocking = True
    mgr = manager(endpoint, clock, cache=cache)
    first = await mgr.aget_token()
    second = await mgr.arefresh_ahead()
    assert (first.access_token, second.access_token) == ("tok-1", "tok-2")
    assert endpoint.requests == 2
    assert cache.writes == 2


class RotatingEndpoint(Endpoint):
    """Issues a new refresh token with every token and accepts each refresh token once."""

    def __init__(self) -> None:
        super().__init__(ttl=60)
        self.valid_refresh: set[str] = set()
        self.refused = 0

    def _answer(self) -> HttpResponse:
        form = self.forms[-1]
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.valid_refresh:
                self.refused += 1
                body = {"error": "invalid_grant"}
                return HttpResponse(400, JSON, json.dumps(body).encode(), URL)
            self.valid_refresh.discard(form["refresh_token"])  # rotated: the old one is dead
        self.requests += 1
        refresh = f"rt-{self.requests}"
        self.valid_refresh.add(refresh)
        answer = {
            "access_token": f"tok-{self.requests}",
            "token_type": "Bearer",
            "expires_in": self.ttl,
            "refresh_token": refresh,
        }
        return HttpResponse(200, JSON, json.dumps(answer).encode(), URL)


def test_rotated_refresh_token_survives_a_failed_write(clock: FakeClock) -> None:
    """The server rotates the refresh token while the cache is unwritable: no re-login needed."""
    endpoint = RotatingEndpoint()
    ep = TokenEndpoint(URL, ClientAuth("svc", Secret("svc-secret")))
    retry = RetryPolicy(retries=0)

    def fetch(replacing: Token | None) -> Any:
        if replacing is not None and replacing.refresh_token is not None:
            return refresh_token_flow(ep, replacing.refresh_token, clock=clock, retry=retry)
        return client_credentials_flow(ep, clock=clock, retry=retry)

    @asynccontextmanager
    async def async_sender() -> AsyncIterator[_AsyncSender]:
        yield _AsyncSender(endpoint)  # pragma: no cover - sync test

    factory: Callable[[], AbstractAsyncContextManager[Any]] = async_sender
    cache = BrokenCache(None)
    mgr = TokenManager(
        fetch=fetch,
        key="aw1-test",
        cache=cache,
        policy=RefreshPolicy(jitter=0),
        sender=lambda: endpoint,
        async_sender=factory,
        name="TestCredential(client_id='svc')",
        clock=clock,
    )
    assert mgr.get_token().refresh_token == "rt-1"
    cache.error = _unwritable()
    clock.advance(61)
    assert mgr.get_token().refresh_token == "rt-2"  # rt-1 is now dead on the server
    cache.error = None
    clock.advance(61)
    third = mgr.get_token()  # refreshes with rt-2, held in memory only
    assert third.access_token == "tok-3"
    assert endpoint.refused == 0
    assert [f.get("refresh_token") for f in endpoint.forms] == [None, "rt-1", "rt-2"]
    assert cache.get("aw1-test") == third


def test_concurrent_waiters_get_the_token_despite_a_failed_write(clock: FakeClock) -> None:
    """Threads waiting on the refresh all get the fetched token when its write fails."""
    endpoint = Endpoint()
    endpoint.gate = threading.Event()
    cache = BrokenCache(_unwritable())
    mgr = manager(endpoint, clock, cache=cache)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(mgr.get_token().access_token))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    assert endpoint.entered.wait(timeout=30)
    endpoint.gate.set()
    for t in threads:
        t.join()
    assert results == ["tok-1"] * 8
    assert endpoint.requests == 1
    assert cache.writes == 1


# -- a cache that cannot be read or locked: the refresh goes on without it ----------------


def _loose_entry(tmp_path: Path) -> FileCache:
    """A real FileCache whose entry for ``aw1-test`` is group-readable (get refuses it)."""
    cache = FileCache(tmp_path / "tokens")
    cache.set("aw1-test", Token("old", expires_at=1.0))
    cache.file_for("aw1-test").chmod(0o644)
    return cache


def _unlockable(tmp_path: Path) -> FileCache:
    """A real FileCache whose lock file for ``aw1-test`` cannot be opened (a folder there)."""
    cache = FileCache(tmp_path / "tokens")
    (cache.path / "aw1-test.lock").mkdir()
    return cache


class ForeignFailure(MemoryCache):
    """A third-party cache whose reads and locks raise a non-authwire exception."""

    def get(self, key: str) -> Token | None:
        """Fail like a client library that lost its connection."""
        raise ConnectionError("redis://:pw@cache:6379 refused")

    def lock(self, key: str) -> Any:
        """Fail like a client library that lost its connection."""
        raise ConnectionError("redis://:pw@cache:6379 refused")


@pytest.mark.parametrize(
    ("make", "what"),
    [(_loose_entry, "read: CacheError"), (_unlockable, "lock: CacheError")],
    ids=["unreadable", "unlockable"],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_unreadable_or_unlockable_cache_does_not_block_the_refresh(
    clock: FakeClock,
    tmp_path: Path,
    make: Callable[[Path], FileCache],
    what: str,
    mode: str,
) -> None:
    """A FileCache whose get or lock raises CacheError: fetched directly, warned, reported."""
    events: list[RefreshEvent] = []
    endpoint = Endpoint()
    cache = make(tmp_path)
    mgr = manager(endpoint, clock, cache=cache, on_refresh=events.append)  # type: ignore[arg-type]
    with capture_logs() as logs:
        token = mgr.get_token() if mode == "sync" else anyio.run(mgr.aget_token)
    assert token.access_token == "tok-1"
    assert endpoint.requests == 1
    assert [e.outcome for e in events] == ["fetched"]
    assert events[0].cache_error is not None
    assert what in events[0].cache_error
    warnings = [r.getMessage() for r in logs.records if r.levelname == "WARNING"]
    assert any("fetching the token directly" in w for w in warnings), warnings


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_foreign_cache_failures_are_contained_and_named_by_type(
    clock: FakeClock, mode: str
) -> None:
    """Any exception from get or lock (text may hold a password) degrades, named by type."""
    events: list[RefreshEvent] = []
    endpoint = Endpoint()
    cache = ForeignFailure()
    cache.blocking = mode == "async"  # the async path runs the calls in a worker thread
    mgr = manager(endpoint, clock, cache=cache, on_refresh=events.append)
    with capture_logs() as logs:
        token = mgr.get_token() if mode == "sync" else anyio.run(mgr.aget_token)
    assert token.access_token == "tok-1"
    assert endpoint.requests == 1
    assert events[0].cache_error == "lock: ConnectionError; read: ConnectionError"
    assert not any("pw@" in text for text in logs.texts())
