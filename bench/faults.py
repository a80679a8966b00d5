"""How long callers wait on a failing token endpoint, with authwire's defaults.

``.venv/bin/python bench/faults.py [--callers N]``: for each fault of the loopback fault
server (``tests/servers/fault_server.py``), N threads ask one fresh ``ClientCredentials``
(default ``timeout``, ``retries`` and ``deadline``) for a token at once; each caller's
wait until it returns or raises is recorded, and p50/p99/max printed with the error seen.
The figures fill docs/timeouts.md. Not run by the tests (it takes about two minutes).

With ``--peer authlib`` (Authlib's ``OAuth2Session`` from ``requirements-bench.txt``, its
defaults: no timeout, no retries, no shared refresh) the same faults are measured in the
same run beside authwire. A caller still waiting after ``--cap`` seconds is counted at the
cap and reported as ``still waiting``: with no timeout it would wait for ever.
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


def _run(make: object, callers: int, cap: float) -> tuple[list[float], set[str]]:
    """Each of ``callers`` threads asks once; waits past ``cap`` count as ``cap``."""
    get = make()  # type: ignore[operator]
    waits: list[float] = []
    outcomes: set[str] = set()
    lock = threading.Lock()

    def call() -> None:
        started = time.monotonic()
        try:
            get()
            outcome = "token"
        except Exception as exc:
            outcome = type(exc).__name__
        with lock:
            waits.append(time.monotonic() - started)
            outcomes.add(outcome)

    threads = [threading.Thread(target=call, daemon=True) for _ in range(callers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, cap - (time.monotonic() - started)))
    with lock:
        stuck = callers - len(waits)
        result = [*waits, *[cap] * stuck]
        if stuck:
            outcomes.add(f"{stuck} still waiting at {cap:.0f} s")
    return result, outcomes


def _authlib(url: str) -> object:
    """Authlib's requests client with its defaults, shared by the callers."""
    from authlib.integrations.requests_client import OAuth2Session

    session = OAuth2Session("svc", "bench-secret", token_endpoint=url)
    return lambda: lambda: session.fetch_token(url, grant_type="client_credentials")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callers", type=int, default=4)
    parser.add_argument("--peer", choices=["authlib"], action="append", default=[])
    parser.add_argument("--cap", type=float, default=150.0, help="longest wait measured, s")
    args = parser.parse_args()
    release = threading.Event()

    with FaultServer() as server:

        def cc(url: str) -> object:
            def make() -> object:
                cred = ClientCredentials(
                    url, client_id="svc", client_secret="bench-secret", cache=MemoryCache()
                )
                return cred.get_token

            return make

        def stuck() -> object:
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
            ).get_token

        refused = _closed_port()
        urls = [
            ("refused (nothing listening)", refused),
            ("5xx storm (503 every time)", server.token_url("down")),
            ("429 with Retry-After: 29", server.token_url("retry_after/29")),
            ("hung endpoint (never answers)", server.token_url("hang")),
            ("drip (a body byte every 0.5 s)", server.token_url("drip")),
        ]
        rows: list[tuple[str, str, object]] = [("authwire", n, cc(u)) for n, u in urls]
        rows.append(("authwire", "leader that never returns", stuck))
        if "authlib" in args.peer:
            rows += [("authlib", n, _authlib(u)) for n, u in urls]
        print(f"{'client':9} {'fault':34} {'p50 s':>7} {'p99 s':>7} {'max s':>7}  outcome")
        for client, name, make in rows:
            waits, outcomes = _run(make, args.callers, args.cap)
            waits.sort()
            p99 = waits[min(len(waits) - 1, round(0.99 * (len(waits) - 1)))]
            print(
                f"{client:9} {name:34} {statistics.median(waits):7.2f} {p99:7.2f} "
                f"{waits[-1]:7.2f}  {', '.join(sorted(outcomes))}",
                flush=True,
            )
        release.set()


if __name__ == "__main__":
    main()
