"""A key authwire sends in the URL never reaches the HTTP libraries' log lines (issue 10, item 2).

``ApiKey(key, query=...)`` puts the key in every request URL; httpx logs each request URL
at INFO, urllib3 at DEBUG (and again in its retry lines). The records are captured by a
handler on the root logger at DEBUG, as ``logging.basicConfig(level=logging.DEBUG)``
would write them, for requests (``Auth`` and ``authwire.Session`` with retries), httpx
sync and httpx async against a real loopback server.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import pytest
import requests
from tests.leakcheck import LogCapture, assert_no_secret, plant

import authwire
import authwire.httpx
import authwire.requests
from authwire._core import url_secrets

pytestmark = pytest.mark.integration


class _Handler(BaseHTTPRequestHandler):
    """``/ok`` answers 200; ``/busy`` 503 (Retry-After: 0); ``/hop`` redirects to ``/ok``."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        status, headers = 200, {}
        if path == "/busy":
            status, headers = 503, {"Retry-After": "0"}
        elif path == "/hop":
            status, headers = 302, {"Location": "/ok"}
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def root_logs() -> Iterator[LogCapture]:
    """Every record reaching the root logger at DEBUG (what ``basicConfig`` would print)."""
    root = logging.getLogger()
    handler = LogCapture()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


def _assert_redacted(logs: LogCapture, key: str, loggers: set[str]) -> None:
    """No record holds the key; the named loggers did log the URL, with ``***`` in place."""
    for text in logs.texts():
        assert_no_secret(text, key)
    redacted = {r.name for r in logs.records if "api_key=***" in r.getMessage()}
    assert loggers <= redacted, (loggers, redacted)


def test_requests_auth_key_not_in_urllib3_logs(origin: str, root_logs: LogCapture) -> None:
    """``authwire.requests.Auth``: urllib3's request lines show ``api_key=***``."""
    key = plant("query-key")
    auth = authwire.requests.Auth(authwire.ApiKey(key, query="api_key"))
    with requests.Session() as session:
        for path in ("/ok?page=1", "/hop"):
            assert session.get(origin + path, auth=auth, timeout=10).status_code == 200
    _assert_redacted(root_logs, key, {"urllib3.connectionpool"})


def test_session_retries_key_not_in_urllib3_retry_logs(origin: str, root_logs: LogCapture) -> None:
    """``authwire.Session`` with retries: urllib3's retry lines name the URL without the key."""
    key = plant("query-key")
    with authwire.Session(authwire.ApiKey(key, query="api_key"), retries=2) as session:
        assert session.get(origin + "/busy", timeout=10).status_code == 503
    _assert_redacted(root_logs, key, {"urllib3.connectionpool", "urllib3.util.retry"})


def test_httpx_sync_key_not_in_httpx_logs(origin: str, root_logs: LogCapture) -> None:
    """``httpx.Client``: httpx's INFO line shows ``api_key=***``; httpcore never has the key."""
    key = plant("query-key")
    auth = authwire.httpx.Auth(authwire.ApiKey(key, query="api_key"))
    with httpx.Client(auth=auth, follow_redirects=True) as client:
        for path in ("/ok?page=1", "/hop"):
            assert client.get(origin + path).status_code == 200
    _assert_redacted(root_logs, key, {"httpx"})


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_httpx_async_key_not_in_httpx_logs(
    origin: str, root_logs: LogCapture, backend: str
) -> None:
    """``httpx.AsyncClient`` (asyncio and trio): the same, on the async path."""
    key = plant("query-key")
    auth = authwire.httpx.Auth(authwire.ApiKey(key, query="api_key"))

    async def run() -> None:
        async with httpx.AsyncClient(auth=auth, follow_redirects=True) as client:
            for path in ("/ok?page=1", "/hop"):
                assert (await client.get(origin + path)).status_code == 200

    anyio.run(run, backend=backend)
    _assert_redacted(root_logs, key, {"httpx"})


def test_registry_holds_only_live_keys() -> None:
    """A key is redacted while a scheme holding it lives, and forgotten after (counted)."""
    key = plant("query-key")
    first = authwire.ApiKey(key, query="api_key")
    second = authwire.ApiKey(key, query="token")
    assert key in url_secrets.registered_forms()
    del first
    gc.collect()
    assert key in url_secrets.registered_forms()  # the second still sends it
    del second
    gc.collect()
    assert key not in url_secrets.registered_forms()


def test_header_key_registers_nothing_and_leaves_records_alone(root_logs: LogCapture) -> None:
    """A key in a header is not a URL secret: records pass the filter untouched."""
    before = url_secrets.registered_forms()
    key = plant("header-key")
    scheme = authwire.ApiKey(key, header="X-API-Key")
    assert url_secrets.registered_forms() == before
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: %s", ("x",), None)
    assert url_secrets.FILTER.filter(record) is True
    assert (record.msg, record.args) == ("HTTP Request: %s", ("x",))
    del scheme
