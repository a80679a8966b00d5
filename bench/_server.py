"""The loopback token server of the tests, run as a separate process for the benchmarks.

``python bench/_server.py`` prints its URL and serves until killed. On top of the test
server (``tests/servers/token_server.py``) it has a small control API, so the benchmark,
in another process, can read the server-side counts and change the token lifetime:

    GET /_bench/stats           {"counts": {...}, "token_times": [monotonic seconds, ...]}
    GET /_bench/reset           clears counts and token times
    GET /_bench/ttl?s=SECONDS   lifetime of the tokens issued from now on

A separate process keeps the server's work off the benchmarked interpreter's GIL.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers._base import LoopbackServer
from tests.servers.token_server import Handler, State


class BenchHandler(Handler):
    def _bench(self) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        if url.path == "/_bench/stats":
            with state.lock:
                body = {"counts": dict(state.counts), "token_times": list(state.token_times)}
            return self._send(200, body)
        if url.path == "/_bench/reset":
            with state.lock:
                state.counts.clear()
                state.token_times.clear()
            return self._send(200, {"ok": True})
        if url.path == "/_bench/ttl":
            with state.lock:
                state.ttl = float(dict(parse_qsl(url.query))["s"])
            return self._send(200, {"ok": True})
        return self._send(404, {"error": "not_found"})

    def _route(self) -> None:
        if self.path.startswith("/_bench/"):
            return self._bench()
        return self._dispatch()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _route


class BenchServer(LoopbackServer[State]):
    request_queue_size = 128

    def __init__(self, state: State) -> None:
        super().__init__(state, BenchHandler)


def main() -> None:
    server = BenchServer(State(ttl=3600.0))
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
