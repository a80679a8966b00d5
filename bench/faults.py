"""How long callers wait on a failing token endpoint, with authwire's defaults.

``.venv/bin/python bench/faults.py [--callers N]``: for each fault of the loopback fault
server (``tests/servers/fault_server.py``), N threads ask one fresh ``ClientCredentials``
(default ``timeout``, ``retries`` and ``deadline``) for a token at once; each caller's
wait until it returns or raises is recorded, and p50/p99/max printed with the error seen.
The figures fill docs/timeouts.md. Not run by the tests (it takes about two minutes).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.servers.fault_server import FaultServer  # noqa: E402

from authwire import ClientCredentials, JwtBearer, MemoryCache  # noqa: E402


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/token"


def _run(make: object, callers: int) -> tuple[list[float], set[str]]:
    cred = make()  # type: ignore[operator]
    waits: list[float] = []
    outcomes: set[str] = set()
    lock = threading.Lock()

    def call() -> None:
        started = time.monotonic()
        try:
            cred.get_token()
            outcome = "token"
        except Exception as exc:
            outcome = type(exc).__name__
        with lock:
            waits.append(time.monotonic() - started)
            outcomes.add(outcome)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return waits, outcomes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callers", type=int, default=4)
    args = parser.parse_args()
    release = threading.Event()

    with FaultServer() as server:

        def cc(url: str) -> object:
            return lambda: ClientCredentials(
                url, client_id="svc", client_secret="bench-secret", cache=MemoryCache()
            )

        def stuck() -> JwtBearer:
            calls: list[int] = []

            def assertion() -> str:
                calls.append(1)
                if len(calls) == 1:
                    release.wait(120)
                return "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."

            return JwtBearer(
                server.token_url("ok"),
                assertion=assertion,
                subject="bench",
                client_id="svc",
                cache=MemoryCache(),
            )

        faults = [
            ("refused (nothing listening)", cc(_closed_port())),
            ("5xx storm (503 every time)", cc(server.token_url("down"))),
            ("429 with Retry-After: 29", cc(server.token_url("retry_after/29"))),
            ("hung endpoint (never answers)", cc(server.token_url("hang"))),
            ("drip (a body byte every 0.5 s)", cc(server.token_url("drip"))),
            ("leader that never returns", stuck),
        ]
        print(f"{'fault':34} {'p50 s':>7} {'p99 s':>7} {'max s':>7}  outcome")
        for name, make in faults:
            waits, outcomes = _run(make, args.callers)
            waits.sort()
            p99 = waits[min(len(waits) - 1, round(0.99 * (len(waits) - 1)))]
            print(
                f"{name:34} {statistics.median(waits):7.2f} {p99:7.2f} {waits[-1]:7.2f}  "
                f"{', '.join(sorted(outcomes))}",
                flush=True,
            )
        release.set()


if __name__ == "__main__":
    main()
