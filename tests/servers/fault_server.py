"""A token endpoint on 127.0.0.1 that fails on purpose, one fault per path.

For the deadline, waiter and memory tests and ``bench/faults.py``. Every ``POST`` or
``GET`` to ``/<fault>[/<arg>]/token`` answers with that fault; each request is counted
under its fault's name, and the bytes each response actually wrote are summed, so tests
assert counts and bytes, not guesses.

Faults:
    ok                      a valid token (``expires_in`` 3600)
    expires/<json>          a valid token with ``"expires_in": <json>`` written as given
    jwt/<exp offset>        a JWT access token whose ``exp`` is now + offset, expires_in 3600
    drip                    headers at once, then one body byte every 0.5 s
    hang                    reads the request, then never answers (until the server stops)
    huge/<bytes>            a 200 body of that many bytes, sent in 64 KiB writes
    gzip/<bytes>            a gzip bomb: that many zero bytes once inflated
    retry_after/<seconds>   429 with ``Retry-After: <seconds>``
    down                    503
    slow/<seconds>          a valid token after that many seconds
"""

from __future__ import annotations

import functools
import gzip
import io
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.servers._base import BackgroundServer, JSONHandler, LoopbackServer

__all__ = ["FaultServer", "gzip_bomb"]

#: Seconds between the bytes of a drip.
DRIP_INTERVAL = 0.5


@functools.lru_cache(maxsize=4)
def gzip_bomb(inflated: int) -> bytes:
    """``inflated`` zero bytes, gzip-compressed (1 GiB gives about 1 MiB)."""
    out = io.BytesIO()
    block = bytes(1 << 20)
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        left = inflated
        while left > 0:
            gz.write(block[: min(left, len(block))])
            left -= len(block)
    return out.getvalue()


@dataclass
class State:
    counts: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, Any] = field(default_factory=dict)
    #: Body bytes written per fault (what a client made the server send).
    sent: Counter[str] = field(default_factory=Counter)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _jwt(exp: float) -> str:
    import base64
    import json

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part({'exp': exp, 'sub': 'svc'})}.sig"


class Handler(JSONHandler):
    server: LoopbackServer[State]

    def _dispatch(self) -> None:
        self._body()
        parts = self.path.split("?")[0].strip("/").split("/")
        fault, arg = parts[0], parts[1] if len(parts) > 2 else ""
        state = self.server.state
        with state.lock:
            state.counts[fault] += 1
        handler = getattr(self, f"_fault_{fault}", None)
        if handler is None:
            return self._send(404, {"error": "not_found"})
        handler(arg)

    do_GET = do_POST = _dispatch

    def _write(self, fault: str, data: bytes) -> None:
        self.wfile.write(data)
        with self.server.state.lock:
            self.server.state.sent[fault] += len(data)

    def _token_body(self, expires_in: str = "3600", access: str | None = None) -> bytes:
        access = access or "at-" + secrets.token_urlsafe(16)
        return (
            f'{{"access_token": "{access}", "token_type": "Bearer", "expires_in": {expires_in}}}'
        ).encode()

    def _fault_ok(self, arg: str) -> None:
        self._send(200, self._token_body())

    def _fault_expires(self, arg: str) -> None:
        self._send(200, self._token_body(arg))

    def _fault_jwt(self, arg: str) -> None:
        self._send(200, self._token_body("3600", _jwt(time.time() + float(arg))))

    def _fault_slow(self, arg: str) -> None:
        self.server.state.stopping.wait(float(arg))
        self._send(200, self._token_body())

    def _fault_down(self, arg: str) -> None:
        self._send(503, "<html>maintenance</html>", ctype="text/html")

    def _fault_retry_after(self, arg: str) -> None:
        self._send(429, {"error": "rate_limited"}, {"Retry-After": arg})

    def _fault_hang(self, arg: str) -> None:
        self.server.state.stopping.wait(120)
        self.close_connection = True

    def _head(self, length: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()

    def _fault_drip(self, arg: str) -> None:
        body = self._token_body()
        self._head(len(body))
        self.close_connection = True
        try:
            for i in range(len(body)):
                if self.server.state.stopping.wait(DRIP_INTERVAL):
                    return
                self._write("drip", body[i : i + 1])
                self.wfile.flush()
        except OSError:
            return  # the client gave up: what the test wants

    def _stream(self, fault: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self._head(len(body), headers)
        self.close_connection = True
        try:
            for at in range(0, len(body), 65536):
                self._write(fault, body[at : at + 65536])
        except OSError:
            return  # the client stopped reading

    def _fault_huge(self, arg: str) -> None:
        self._stream("huge", b"x" * int(arg))

    def _fault_gzip(self, arg: str) -> None:
        self._stream("gzip", gzip_bomb(int(arg)), {"Content-Encoding": "gzip"})


class FaultServer(BackgroundServer[State]):
    """Runs the fault server on a free loopback port in a background thread."""

    def __init__(self) -> None:
        super().__init__(State(), Handler, name="fault-server")

    def token_url(self, fault: str) -> str:
        """The token URL that answers with ``fault`` (e.g. ``"drip"``, ``"huge/2000000"``)."""
        return f"{self.url}/{fault}/token"

    def sent(self, fault: str) -> int:
        """Body bytes written so far for ``fault``."""
        with self.state.lock:
            return self.state.sent[fault]

    def stop(self) -> None:
        """Release every hanging or dripping handler, then stop."""
        self.state.stopping.set()
        super().stop()
