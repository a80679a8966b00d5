"""A FileCache that cannot be written loses no token (real token server, real file system).

The failure is real and works as root: the process's file-size limit (``RLIMIT_FSIZE``,
the quota a full disk or a user's ``ulimit -f`` enforces) is lowered below the size of a
token file, so ``FileCache.set`` fails in ``os.write`` with ``EFBIG`` while reading the
cache still works. CPython ignores ``SIGXFSZ``, so the write fails with an error instead
of killing the process.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from tests.leakcheck import capture_logs
from tests.servers.token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

import authwire
import authwire.requests
from authwire import FileCache, RefreshEvent

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[TokenServer]:
    """The loopback token server and protected API, with hour-long tokens."""
    with TokenServer(ttl=3600.0) as running:
        yield running


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Lower the soft file-size limit of this process while the block runs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def revoke_all(server: TokenServer) -> None:
    """Make the server forget every access token it issued, so the next use gets a 401."""
    with server.state.lock:
        server.state.tokens.clear()


def test_unwritable_file_cache_keeps_the_fetched_token(server: TokenServer, tmp_path: Path) -> None:
    """Write fails after the first one: the call succeeds on one new token, warns, retries later."""
    cache = FileCache(tmp_path / "cache")
    events: list[RefreshEvent] = []
    cred = authwire.ClientCredentials(
        server.url + "/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        cache=cache,
        retries=0,
        on_refresh=events.append,
    )
    session = requests.Session()
    session.auth = authwire.requests.Auth(cred)
    api = server.url + "/api"

    assert session.get(api).status_code == 200
    first = cache.get(cred.cache_key)
    assert first is not None

    revoke_all(server)
    with capture_logs() as logs, file_size_limit(16):
        response = session.get(api)
    assert response.status_code == 200
    assert server.state.counts["token"] == 2  # exactly one new token request
    assert server.state.counts["api_401"] == 1
    held = cred.get_token()
    assert held.access_token != first.access_token
    assert cache.get(cred.cache_key) is None  # rejected entry dropped, new one not written
    assert events[-1].outcome == "fetched"
    assert events[-1].cache_error is not None
    assert "File too large" in events[-1].cache_error
    warnings = [r for r in logs.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    text = "\n".join(logs.texts())
    assert "could not be stored" in text
    for secret in (held.access_token, first.access_token, CLIENT_SECRET):
        assert secret not in text
    assert list((tmp_path / "cache").glob("*.tmp")) == []  # no half-written file left

    revoke_all(server)  # the next refresh writes the cache again, and now it works
    assert session.get(api).status_code == 200
    assert server.state.counts["token"] == 3
    third = cache.get(cred.cache_key)
    assert third is not None
    assert third.access_token == cred.get_token().access_token
    assert events[-1].cache_error is None
