"""``TokenManager``: single flight across threads and tasks, fallback, compare-and-invalidate.

The manager runs the real client-credentials flow against an in-process token endpoint
(``Endpoint`` below: it issues tokens, counts requests and can be held or made to fail),
so no socket is opened and time moves only through ``FakeClock``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import anyio
import pytest
from tests.leakcheck import SecretPlanter

from authwire import (
    ConfigurationError,
    MemoryCache,
    RefreshEvent,
    RefreshPolicy,
    RetryPolicy,
    Secret,
    Token,
    TokenRequestError,
)
from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire._core.oauth2.client_auth import ClientAuth
from authwire._core.oauth2.grants import client_credentials_flow
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire.manager import TokenManager
from authwire.testing import FakeClock

URL = "https://login.example.com/oauth2/token"
JSON = Headers({"Content-Type": "application/json"})


class Endpoint:
    """An in-process token endpoint: issues ``tok-N`` tokens, counts requests, can be held."""

    def __init__(self, ttl: float = 3600, token_prefix: str = "tok") -> None:
        self.ttl = ttl
        self.prefix = token_prefix
        self.requests = 0  # answered
        self.started = 0  # received, answered or not (a cancelled caller may never be answered)
        self.status = 200
        self.entered = threading.Event()
        self.forms: list[dict[str, str]] = []
        self.gate: threading.Event | None = None
        self.async_gate: anyio.Event | None = None
        self._lock = threading.Lock()

    def _answer(self) -> HttpResponse:
        with self._lock:
            self.requests += 1
            n = self.requests
        if self.status != 200:
            error = {"error": "temporarily_unavailable", "error_description": "down"}
            return HttpResponse(self.status, JSON, json.dumps(error).encode(), URL)
        body: dict[str, object] = {
            "access_token": f"{self.prefix}-{n}",
            "token_type": "Bearer",
            "expires_in": self.ttl,
        }
        return HttpResponse(200, JSON, json.dumps(body).encode(), URL)

    def send(self, request: HttpRequest) -> HttpResponse:
        assert request.url == URL
        self.forms.append(dict(parse_qsl((request.body or b"").decode())))
        with self._lock:
            self.started += 1
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(timeout=30), "test never released the endpoint"
        return self._answer()

    async def asend(self, request: HttpRequest) -> HttpResponse:
        assert request.url == URL
        self.started += 1
        self.entered.set()
        if self.async_gate is not None:
            await self.async_gate.wait()
        return self._answer()


class _AsyncSender:
    def __init__(self, endpoint: Endpoint) -> None:
        self.send = endpoint.asend


def manager(
    endpoint: Endpoint,
    clock: FakeClock,
    *,
    cache: MemoryCache | None = None,
    on_refresh: Callable[[RefreshEvent], None] | None = None,
    secret: str = "svc-secret",
    policy: RefreshPolicy | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> TokenManager:
    ep = TokenEndpoint(URL, ClientAuth("svc", Secret(secret)), scope="api.read", extra=extra)

    @asynccontextmanager
    async def async_sender() -> AsyncIterator[_AsyncSender]:
        yield _AsyncSender(endpoint)

    factory: Callable[[], AbstractAsyncContextManager[Any]] = async_sender
    return TokenManager(
        fetch=lambda replacing: client_credentials_flow(
            ep, clock=clock, retry=RetryPolicy(retries=0)
        ),
        key="aw1-test",
        cache=cache if cache is not None else MemoryCache(),
        policy=policy or RefreshPolicy(jitter=0),
        sender=lambda: endpoint,
        async_sender=factory,
        name="TestCredential(client_id='svc')",
        clock=clock,
        on_refresh=on_refresh,
    )


def _sync_waiters(mgr: TokenManager) -> int:
    """How many threads are blocked waiting on the manager's refresh in flight."""
    flight = mgr._flight
    if flight is None:
        return 0
    return len(flight.done._cond._waiters)  # type: ignore[attr-defined]


def _wait_until(predicate: Callable[[], bool]) -> None:
    """Spin (yielding the GIL) until ``predicate`` holds; bounded so a bug fails, not hangs."""
    for _ in range(20_000):  # about 10 s at most
        if predicate():
            return
        threading.Event().wait(0.0005)
    raise AssertionError("condition never reached")


def test_64_threads_cause_one_token_request(clock: FakeClock) -> None:
    """64 threads asking at once while the endpoint is held: one request, one shared token."""
    endpoint = Endpoint()
    endpoint.gate = threading.Event()
    mgr = manager(endpoint, clock)
    results: list[Token] = []
    lock = threading.Lock()

    def call() -> None:
        token = mgr.get_token()
        with lock:
            results.append(token)

    threads = [threading.Thread(target=call, daemon=True) for _ in range(64)]
    for t in threads:
        t.start()
    try:
        _wait_until(lambda: endpoint.entered.is_set() and _sync_waiters(mgr) == 63)
    finally:
        endpoint.gate.set()  # also on failure, so no thread is left hanging
        for t in threads:
            t.join()
    assert endpoint.started == 1
    assert endpoint.requests == 1
    assert len(results) == 64
    assert {t.access_token for t in results} == {"tok-1"}


def test_one_request_per_expiry(clock: FakeClock) -> None:
    """Across three expiries, many calls each: exactly one token request per expiry."""
    endpoint = Endpoint(ttl=3)
    mgr = manager(endpoint, clock)
    seen = set()
    for _expiry in range(3):
        for _ in range(20):
            seen.add(mgr.get_token().access_token)
            clock.advance(0.01)
        clock.advance(3)  # past expiry
    assert endpoint.requests == 3
    assert seen == {"tok-1", "tok-2", "tok-3"}


def test_advisory_failure_falls_back_to_the_valid_token(clock: FakeClock) -> None:
    """A failed advisory refresh returns the still-valid token; retries wait for the back-off."""
    events: list[RefreshEvent] = []
    endpoint = Endpoint()
    mgr = manager(endpoint, clock, on_refresh=events.append)
    first = mgr.get_token()
    clock.advance(3600 - 200)  # advisory window
    endpoint.status = 503
    assert mgr.get_token() is first
    assert mgr.get_token() is first  # inside the back-off: no new request
    assert endpoint.requests == 2
    assert [e.outcome for e in events] == ["fetched", "fallback"]
    assert events[1].reason == "advisory"


def test_mandatory_failure_raises(clock: FakeClock) -> None:
    """Inside the mandatory window a failed refresh raises the endpoint's typed error."""
    events: list[RefreshEvent] = []
    endpoint = Endpoint()
    mgr = manager(endpoint, clock, on_refresh=events.append)
    mgr.get_token()
    clock.advance(3600 - 10)
    endpoint.status = 503
    with pytest.raises(TokenRequestError) as info:
        mgr.get_token()
    assert info.value.status == 503
    assert info.value.retryable
    assert events[-1].outcome == "failed"
    assert events[-1].reason == "mandatory"


def test_invalidate_is_compare_and_invalidate(clock: FakeClock) -> None:
    """Invalidating the current token causes one refetch; a stale report changes nothing."""
    endpoint = Endpoint()
    mgr = manager(endpoint, clock)
    old = mgr.get_token()
    assert mgr.invalidate(old) is True
    new = mgr.get_token()
    assert new.access_token == "tok-2"
    assert mgr.invalidate(old) is False  # a second caller that saw the same 401
    assert mgr.get_token() is new
    assert endpoint.requests == 2


def test_extra_params_are_kept_on_every_refetch(clock: FakeClock) -> None:
    """Scope and extra params go with the first fetch, an expiry refetch and a 401 refetch."""
    endpoint = Endpoint(ttl=60)
    mgr = manager(endpoint, clock, extra=(("tenant", "t1"), ("resource_id", "r9")))
    mgr.invalidate(mgr.get_token())
    mgr.get_token()
    clock.advance(61)
    mgr.get_token()
    assert endpoint.requests == 3
    for form in endpoint.forms:
        assert form["tenant"] == "t1"
        assert form["resource_id"] == "r9"
        assert form["scope"] == "api.read"
        assert form["grant_type"] == "client_credentials"


def test_invalidated_token_is_not_served_from_the_cache(clock: FakeClock) -> None:
    """After a 401, the cache entry with the rejected token is dropped too."""
    endpoint, cache = Endpoint(), MemoryCache()
    mgr = manager(endpoint, clock, cache=cache)
    old = mgr.get_token()
    mgr.invalidate(old)
    assert cache.get("aw1-test") is None
    assert mgr.get_token().access_token == "tok-2"


def test_a_second_manager_reuses_the_cached_token(clock: FakeClock) -> None:
    """Two managers on one cache and key: the second takes the cached token, no request."""
    endpoint, cache = Endpoint(), MemoryCache()
    events: list[RefreshEvent] = []
    first = manager(endpoint, clock, cache=cache).get_token()
    second = manager(endpoint, clock, cache=cache, on_refresh=events.append).get_token()
    assert second == first
    assert endpoint.requests == 1
    assert [e.outcome for e in events] == ["cached"]


def test_peek_is_the_lock_free_fast_path(clock: FakeClock) -> None:
    """peek gives nothing before the first fetch, the fresh token after, nothing once advisory."""
    mgr = manager(Endpoint(), clock)
    assert mgr.peek(clock()) is None
    token = mgr.get_token()
    assert mgr.peek(clock()) is token
    assert mgr.peek(clock() + 3600 - 299) is None


def test_events_and_logs_hold_no_secret(clock: FakeClock, planted_secrets: SecretPlanter) -> None:
    """RefreshEvents and every log record carry fingerprints, never the secret or tokens."""
    secret = planted_secrets.new("cs")
    endpoint = Endpoint(token_prefix=planted_secrets.new("at"))
    events: list[RefreshEvent] = []
    mgr = manager(endpoint, clock, on_refresh=events.append, secret=secret)
    token = mgr.get_token()
    clock.advance(3600 - 200)
    endpoint.status = 503
    mgr.get_token()
    clock.advance(200)
    with pytest.raises(TokenRequestError) as info:
        mgr.get_token()
    planted_secrets.new(token.access_token)
    planted_secrets.check(*events, info.value)
    assert events[0].token is not None
    assert len(events[0].token) == 12
    assert len(planted_secrets.logs.records) >= 3


def test_a_broken_hook_does_not_break_authentication(clock: FakeClock) -> None:
    """An on_refresh hook that raises is logged, and the token is still returned."""

    def hook(event: RefreshEvent) -> None:
        raise RuntimeError("hook bug")

    assert manager(Endpoint(), clock, on_refresh=hook).get_token().access_token == "tok-1"


@pytest.mark.anyio
async def test_many_tasks_cause_one_request_and_the_loop_keeps_running(clock: FakeClock) -> None:
    """200 tasks asking at once: one request; the loop keeps ticking while the refresh is held."""
    endpoint = Endpoint()
    endpoint.async_gate = anyio.Event()
    mgr = manager(endpoint, clock)
    results: list[Token] = []
    ticks = 0

    async def call() -> None:
        results.append(await mgr.aget_token())

    async def heartbeat() -> None:
        nonlocal ticks
        while ticks < 50:  # the loop runs other tasks while the refresh is held
            ticks += 1
            await anyio.sleep(0)
        assert endpoint.async_gate is not None
        endpoint.async_gate.set()

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(call)
            tg.start_soon(heartbeat)
    assert ticks == 50
    assert endpoint.requests == 1
    assert len(results) == 200
    assert {t.access_token for t in results} == {"tok-1"}


@pytest.mark.anyio
async def test_sync_and_async_callers_share_one_refresh(clock: FakeClock) -> None:
    """A thread refreshing and tasks asking meanwhile: one request, the same token for all."""
    endpoint = Endpoint()
    endpoint.gate = threading.Event()
    mgr = manager(endpoint, clock)
    from_thread: list[Token] = []
    thread = threading.Thread(target=lambda: from_thread.append(mgr.get_token()))
    thread.start()
    await anyio.to_thread.run_sync(endpoint.entered.wait)
    results: list[Token] = []

    async def call() -> None:
        results.append(await mgr.aget_token())

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(call)
            await anyio.sleep(0)
            endpoint.gate.set()
    await anyio.to_thread.run_sync(thread.join)
    assert endpoint.requests == 1
    assert {t.access_token for t in (*results, *from_thread)} == {"tok-1"}
    assert len(results) == 20


@pytest.mark.anyio
async def test_async_invalidate_then_refresh(clock: FakeClock) -> None:
    """ainvalidate drops the current token once; the next aget_token fetches a new one."""
    endpoint = Endpoint()
    mgr = manager(endpoint, clock)
    old = await mgr.aget_token()
    assert await mgr.ainvalidate(old) is True
    assert await mgr.ainvalidate(old) is False
    assert (await mgr.aget_token()).access_token == "tok-2"
    assert endpoint.requests == 2


@pytest.mark.anyio
async def test_blocking_get_token_on_the_refreshing_loop_is_refused(clock: FakeClock) -> None:
    """get_token() on the loop thread while aget_token() refreshes there would deadlock: refused."""
    endpoint = Endpoint()
    endpoint.async_gate = anyio.Event()
    mgr = manager(endpoint, clock)
    async with anyio.create_task_group() as tg:
        tg.start_soon(mgr.aget_token)
        await anyio.sleep(0)
        while not endpoint.entered.is_set():
            await anyio.sleep(0)
        with pytest.raises(ConfigurationError, match="deadlock"):
            mgr.get_token()
        endpoint.async_gate.set()
    assert endpoint.requests == 1


@pytest.mark.anyio
async def test_cancelled_refresher_hands_over_to_a_waiter(clock: FakeClock) -> None:
    """If the task refreshing is cancelled, a waiting task takes over and gets a token."""
    endpoint = Endpoint()
    endpoint.async_gate = anyio.Event()
    mgr = manager(endpoint, clock)
    got: list[Token] = []

    async def waiter() -> None:
        got.append(await mgr.aget_token())

    with anyio.fail_after(30):
        async with anyio.create_task_group() as outer:
            async with anyio.create_task_group() as leader:
                leader.start_soon(mgr.aget_token)
                while not endpoint.entered.is_set():
                    await anyio.sleep(0)
                outer.start_soon(waiter)
                await anyio.sleep(0)
                leader.cancel_scope.cancel()
            endpoint.async_gate.set()
    assert [t.access_token for t in got] == ["tok-1"]
    assert endpoint.started == 2  # the cancelled leader's request, then the waiter's own
    assert endpoint.requests == 1
