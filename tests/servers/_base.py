"""Plumbing shared by the loopback test servers: a JSON-speaking handler and a thread runner.

Each server module keeps its own ``State`` and endpoints; this module holds only what they
would otherwise write twice: reading a request body (Content-Length or chunked), writing a
response, and running a ``ThreadingHTTPServer`` on a free 127.0.0.1 port in a daemon thread.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Protocol, TypeVar


class ServerState(Protocol):
    """What every server's ``State`` carries: a lock, counters and the live tokens."""

    lock: threading.Lock
    counts: Counter[str]
    tokens: dict[str, Any]


StateT = TypeVar("StateT", bound=ServerState)
RunnerT = TypeVar("RunnerT", bound="BackgroundServer[Any]")


class LoopbackServer(ThreadingHTTPServer, Generic[StateT]):
    """A threaded HTTP server on a free 127.0.0.1 port that carries the test state."""

    daemon_threads = True
    allow_reuse_address = True
    # Hundreds of clients connect at once in the concurrency tests; the default backlog
    # of 5 would drop their SYNs and stall connections for seconds.
    request_queue_size = 1024

    def __init__(self, state: StateT, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.state = state


class JSONHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler with body reading and JSON responses; logs nothing."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, each
    # keep-alive response would wait for the client's delayed ACK (about 40 ms).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes | dict[str, Any] | str = b"",
        headers: dict[str, str] | None = None,
        ctype: str = "application/json",
    ) -> None:
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class BackgroundServer(Generic[StateT]):
    """Runs a ``LoopbackServer`` in a daemon thread; a context manager.

    Args:
        state: The server's state, shared with its handler threads.
        handler: The request handler class.
        name: The thread's name.
    """

    def __init__(self, state: StateT, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self.state = state
        self._server = LoopbackServer(state, handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=name,
        )

    @property
    def url(self) -> str:
        """The server's base URL, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self: RunnerT) -> RunnerT:
        """Start serving in the background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self: RunnerT) -> RunnerT:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, name: str) -> int:
        """How many times the server counted ``name`` (e.g. ``"POST /token"``)."""
        with self.state.lock:
            return self.state.counts[name]

    def revoke_all(self) -> None:
        """Revoke every token issued so far (the API answers 401 to them)."""
        with self.state.lock:
            self.state.tokens.clear()
