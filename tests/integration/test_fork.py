"""Forking while a refresh is in flight: the child starts clean and gets a token.

The parent refreshes through a slow loopback token endpoint (a thread, or a task on an
asyncio loop in a thread) and forks the moment the endpoint has the request: the flight,
the manager's mutex, the cache's lock (a FileCache lock file, a Redis lease, a
MemoryCache key lock) and the token-endpoint client all belong to the parent's threads
then. The child asks the same credential for a token, sync or async, and must get one,
soon: from its own request (memory caches) or from the parent's refresh, which it waits
for on the cross-process lock (file, keyring and Redis caches). Token requests are
counted at the server; a hung child is killed at a generous bound and fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from keyrings.alt.file import PlaintextKeyring
from tests.integration._redis import redis_or_skip
from tests.servers.token_server import TokenServer

from authwire import ClientCredentials, FileCache, KeyringCache, MemoryCache, RedisCache, Token
from authwire.caches.base import TokenCache

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform"),
]

#: Seconds the token endpoint takes to answer: the window in which the parent forks.
DELAY = 0.5
#: Seconds a child may take before it counts as hung (it needs about DELAY + one request).
BOUND = 30.0


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on loopback for this module."""
    with redis_or_skip(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
def server() -> Iterator[TokenServer]:
    """The token endpoint, answering after ``DELAY`` seconds."""
    with TokenServer(ttl=300.0) as running:
        running.state.token_delay = DELAY
        yield running


def _cache(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> TokenCache | None:
    if kind == "default":
        return None
    if kind == "memory":
        return MemoryCache()
    if kind == "file":
        return FileCache(tmp_path / "tokens")
    if kind == "keyring":
        ring = PlaintextKeyring()
        ring.file_path = str(tmp_path / "keyring.cfg")
        return KeyringCache(backend=ring, path=tmp_path / "locks")
    assert kind == "redis"
    url = request.getfixturevalue("redis_url")
    cache = RedisCache(url, prefix=f"fork-{os.urandom(4).hex()}:")
    request.addfinalizer(cache.close)
    return cache


def _fork_and_ask(get: Callable[[], Token]) -> tuple[str, float]:
    """Fork now; the child calls ``get`` and reports through a pipe. (answer, seconds)."""
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a multi-threaded process may deadlock the
        # child: exactly the hazard under test.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: report, then leave without running any of pytest's code
        code = 1
        try:
            os.close(read_fd)
            answer = f"ok {get().access_token}"
            code = 0
        except BaseException as exc:
            answer = f"error {type(exc).__name__}: {exc}"
        with contextlib.suppress(BaseException):
            os.write(write_fd, answer.encode())
        os._exit(code)
    os.close(write_fd)
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        elapsed = time.monotonic() - started
        if done:
            break
        if elapsed > BOUND:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            pytest.fail(f"the forked child hung: no token after {BOUND}s")
        time.sleep(0.01)
    with os.fdopen(read_fd, "rb") as pipe:
        return pipe.read().decode(), elapsed


def _wait_for_request(server: TokenServer) -> None:
    """Until the parent's token request is at the server (its refresh is in flight)."""
    deadline = time.monotonic() + BOUND
    while server.count("token") < 1:
        assert time.monotonic() < deadline, "the parent's refresh never reached the server"
        time.sleep(0.002)


class Refresher:
    """The parent's refresh in a thread: ``get_token()``, or ``aget_token()`` on a loop."""

    def __init__(self, cred: ClientCredentials, how: str) -> None:
        self.token: Token | None = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                if how == "thread":
                    self.token = cred.get_token()
                else:
                    self.token = asyncio.run(cred.aget_token())
            except BaseException as exc:  # shown by the test's assertion
                self.error = exc

        self.thread = threading.Thread(target=run, name=f"parent-{how}", daemon=True)
        self.thread.start()

    def result(self) -> Token:
        self.thread.join(BOUND)
        assert not self.thread.is_alive(), "the parent's refresh hung"
        assert self.error is None, self.error
        assert self.token is not None
        return self.token


#: (how the parent refreshes, how the child asks)
MODES = [("thread", "sync"), ("task", "async"), ("thread", "async"), ("task", "sync")]
#: Whether the child finds the parent's token through the cache (one request in all).
SHARED = {"default": False, "memory": False, "file": True, "keyring": True, "redis": True}


@pytest.mark.parametrize("kind", list(SHARED))
@pytest.mark.parametrize(("parent", "child"), MODES)
def test_fork_mid_refresh_child_gets_a_token(
    server: TokenServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    kind: str,
    parent: str,
    child: str,
) -> None:
    """Forked while the parent refreshes (lock or lease held): the child gets a token soon."""
    cred = ClientCredentials(
        f"{server.url}/token",
        client_id=server.state.client_id,
        client_secret=server.state.client_secret,
        cache=_cache(kind, tmp_path, request),
        retries=0,
    )
    # One token request of its own first: the credential's sender and pool are warm,
    # so the fork copies a client with a pooled connection to the endpoint.
    cred.get_token()
    cred.clear()
    server.reset()
    refresher = Refresher(cred, parent)
    _wait_for_request(server)

    def ask() -> Token:
        if child == "async":
            return asyncio.run(cred.aget_token())
        return cred.get_token()

    answer, elapsed = _fork_and_ask(ask)
    parents = refresher.result()
    assert answer.startswith("ok "), answer
    child_token = answer.removeprefix("ok ")
    # Memory caches: the child fetched its own. Shared caches: it waited for the
    # parent's refresh on the lock and read the parent's token from the cache.
    expected: dict[str, Any] = (
        {"requests": 1, "same": True} if SHARED[kind] else {"requests": 2, "same": False}
    )
    assert server.count("token") == expected["requests"]
    assert (child_token == parents.access_token) is expected["same"]
    assert elapsed < BOUND
