"""The integration contract for ``httpx.AsyncClient`` with ``authwire.httpx.Auth``.

Each test runs on asyncio and on trio: the client lives on an event loop in a
``anyio`` blocking portal, and the contract's synchronous calls are sent to it, so the
same test bodies as for the sync clients drive the async integration.

Every loop here is watched by a ``LoopLagMonitor`` (10 ms ticks): a stall of more than
50 ms during which the loop's thread sat in authwire's code fails the test.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import tests.contract.test_httpx_sync as httpx_sync
from anyio.from_thread import BlockingPortal, start_blocking_portal
from tests.contract.base import (
    Body,
    IntegrationContract,
    LoopLagMonitor,
    MakeClient,
    Reply,
    assert_single_flight,
    fingerprint,
    make_credential,
)
from tests.servers.token_server import TokenServer

import authwire.httpx
from authwire import FileCache, KeyringCache, MemoryCache, RedisCache
from authwire._core.schemes.base import AuthLike
from authwire.caches.base import TokenCache

make_handler = httpx_sync.make_handler  # the contract's MakeHandler: an httpx.Auth

pytestmark = pytest.mark.integration


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), 100):
        yield data[i : i + 100]


class AsyncHttpxClient:
    """A ``ContractClient`` over one ``httpx.AsyncClient`` living on a portal's loop."""

    def __init__(self, portal: BlockingPortal, auth: authwire.httpx.Auth, proxy: str | None):
        self.portal = portal
        self.auth = auth
        self.sent_urls: list[str] = []

        async def record(request: httpx.Request) -> None:
            self.sent_urls.append(str(request.url))

        async def create() -> httpx.AsyncClient:
            return httpx.AsyncClient(
                auth=auth,
                proxy=proxy,
                trust_env=False,
                timeout=60,
                follow_redirects=True,
                limits=httpx.Limits(max_connections=100),
                event_hooks={"request": [record]},
            )

        self.client = portal.call(create)

    def __repr__(self) -> str:
        return f"AsyncHttpxClient({self.auth!r})"

    def request(
        self, method: str, url: str, *, body: Body | None = None, follow_redirects: bool = True
    ) -> Reply:
        async def send() -> Reply:
            content: Any = None
            if body is not None:
                content = body.data if body.kind == "bytes" else _chunks(body.data)
            response = await self.client.request(
                method, url, content=content, follow_redirects=follow_redirects
            )
            return httpx_sync.to_reply(response)

        return self.portal.call(send)

    def hammer(self, url: str, workers: int, keep_going: Callable[[], bool]) -> Counter[int]:
        return self.portal.call(hammer_async, self.client, url, workers, keep_going)

    def close(self) -> None:
        self.portal.call(self.client.aclose)


#: Requests in flight at once in ``hammer_async``. This 2-core test machine serves a
#: few hundred requests a second; with 1,000 unbounded tasks a request would wait seconds
#: in httpx's connection pool *after* its token was attached (httpx authenticates before
#: it acquires a connection) and reach the server after the 3 s token expired, whatever
#: the client library. The tasks queue on this semaphore instead, before authenticating.
IN_FLIGHT = 16


async def hammer_async(
    client: httpx.AsyncClient,
    url: str,
    workers: int,
    keep_going: Callable[[], bool],
    in_flight: int = IN_FLIGHT,
) -> Counter[int]:
    """GET ``url`` from ``workers`` tasks on the running loop until ``keep_going()`` is false."""
    seen: Counter[int] = Counter()
    gate = anyio.Semaphore(in_flight)

    async def work() -> None:
        while keep_going():
            async with gate:
                if not keep_going():
                    break
                response = await client.get(url)
            seen[response.status_code] += 1
            if response.status_code == 401:  # shown if the test fails: which tokens were sent
                sent = [(r.status_code, _fingerprint(r.request)) for r in response.history]
                print("caller saw 401:", sent, _fingerprint(response.request))

    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(work)
    return seen


def _fingerprint(request: httpx.Request) -> str:
    return fingerprint(request.headers.get("authorization", "")[7:])


@pytest.fixture(params=["asyncio", "trio"])
def portal(request: pytest.FixtureRequest) -> Iterator[BlockingPortal]:
    """An event loop (asyncio or trio) in a thread, watched by a ``LoopLagMonitor``."""
    with start_blocking_portal(request.param) as running:
        monitor, stop = LoopLagMonitor.start(running)
        yield running
        stop()
    monitor.check()


@contextlib.contextmanager
def watched_portal(backend: str) -> Iterator[BlockingPortal]:
    """``start_blocking_portal(backend)`` whose loop a ``LoopLagMonitor`` watches."""
    with start_blocking_portal(backend) as running:
        monitor, stop = LoopLagMonitor.start(running)
        try:
            yield running
        finally:
            stop()
    monitor.check()


class TestHttpxAsyncClient(IntegrationContract):
    """``httpx.AsyncClient(auth=authwire.httpx.Auth(x))`` on asyncio and trio."""

    workers = 1000
    file_bodies = False  # httpx.AsyncClient sends async iterables, not sync file objects

    @pytest.fixture
    def make_client(self, portal: BlockingPortal) -> Iterator[MakeClient]:
        """Async clients on the portal's loop, authenticated by ``authwire.httpx.Auth``."""
        clients: list[AsyncHttpxClient] = []

        def make(
            auth: AuthLike,
            *,
            origin: str,
            allow_insecure: bool = False,
            proxy: str | None = None,
        ) -> AsyncHttpxClient:
            client = AsyncHttpxClient(
                portal, authwire.httpx.Auth(auth, allow_insecure=allow_insecure), proxy
            )
            clients.append(client)
            return client

        yield make
        for client in clients:
            client.close()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sync_and_async_callers_share_one_refresh(server: TokenServer, backend: str) -> None:
    """Threads (httpx.Client) and tasks (httpx.AsyncClient) on one credential: one refresh."""
    server.state.ttl = 3.0
    server.state.token_delay = 0.05
    cred = make_credential(server)
    start = threading.Event()

    def keep_going() -> bool:  # until the first token and two refreshes were fetched
        return len(server.state.token_times) < 3

    statuses: Counter[int] = Counter()
    with (
        watched_portal(backend) as portal,
        httpx.Client(auth=authwire.httpx.Auth(cred), timeout=60) as sync_client,
    ):

        async def create() -> httpx.AsyncClient:
            return httpx.AsyncClient(auth=authwire.httpx.Auth(cred), timeout=60)

        async_client = portal.call(create)

        def thread_worker(_: int) -> Counter[int]:
            seen: Counter[int] = Counter()
            start.wait()
            while keep_going():
                seen[sync_client.get(f"{server.url}/api").status_code] += 1
            return seen

        try:
            with ThreadPoolExecutor(16) as pool:
                results = pool.map(thread_worker, range(16))
                start.set()
                statuses += portal.call(
                    hammer_async, async_client, f"{server.url}/api", 200, keep_going
                )
                for seen in results:
                    statuses += seen
        finally:
            portal.call(async_client.aclose)
    assert_single_flight(server, statuses, expiries=1)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_cold_start_burst_of_tasks_one_token_request(server: TokenServer, backend: str) -> None:
    """1,000 tasks asking one credential for a token at the same instant cause one request."""
    server.state.token_delay = 0.05
    cred = make_credential(server)

    async def burst() -> set[str]:
        tokens: set[str] = set()

        async def ask() -> None:
            tokens.add((await cred.aget_token()).access_token)

        async with anyio.create_task_group() as group:
            for _ in range(1000):
                group.start_soon(ask)
        return tokens

    async def watched() -> set[str]:
        monitor = LoopLagMonitor()
        async with anyio.create_task_group() as group:
            await group.start(monitor.run)
            tokens = await burst()
            group.cancel_scope.cancel()
        monitor.check()
        return tokens

    tokens = anyio.run(watched, backend=backend)
    assert tokens == set(server.issued_tokens())
    assert len(tokens) == 1
    assert server.count("token") == 1


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on loopback (the test skips if none is installed)."""
    from tests.integration._redis import redis_or_skip

    with redis_or_skip(tmp_path_factory.mktemp("redis")) as running:
        yield running.url


def _cache(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> TokenCache | None:
    """A cache of ``kind``; ``None`` for the process-wide default one."""
    if kind == "default":
        return None
    if kind == "memory":
        return MemoryCache()
    if kind == "file":
        return FileCache(tmp_path / "tokens")
    if kind == "keyring":
        from keyrings.alt.file import PlaintextKeyring

        ring = PlaintextKeyring()
        ring.file_path = str(tmp_path / "keyring.cfg")
        return KeyringCache(backend=ring, path=tmp_path / "locks")
    assert kind == "redis"
    cache = RedisCache(request.getfixturevalue("redis_url"), prefix=f"lag-{os.urandom(4).hex()}:")
    request.addfinalizer(cache.close)
    return cache


@pytest.mark.parametrize("kind", ["default", "memory", "file", "keyring", "redis"])
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_loop_never_blocks_while_a_thread_refreshes_the_same_identity(
    server: TokenServer, tmp_path: Path, request: pytest.FixtureRequest, kind: str, backend: str
) -> None:
    """A thread refreshes one credential through a slow endpoint while a task asks another
    credential of the same identity on the same cache: the loop keeps ticking, one request."""
    server.state.token_delay = 0.5
    cache = _cache(kind, tmp_path, request)
    in_thread = make_credential(server, cache=cache)
    in_task = make_credential(server, cache=cache)
    with watched_portal(backend) as portal:
        refresher = threading.Thread(target=in_thread.get_token, daemon=True)
        refresher.start()
        while server.count("token") < 1:  # the thread's refresh holds the cache's lock
            threading.Event().wait(0.002)
        token = portal.call(in_task.aget_token)
        refresher.join(30)
    assert not refresher.is_alive()
    assert token == in_thread.get_token()  # the task waited for the thread's token...
    assert server.count("token") == 1  # ...and read it from the cache: one request
