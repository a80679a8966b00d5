"""FileCache across real processes: one token request per expiry, kill -9 safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.servers.token_server import TokenServer

from authwire import CacheCipher, FileCache
from authwire.caches._codec import SEALED_VERSION

pytestmark = pytest.mark.integration

PROCS = Path(__file__).with_name("_cache_procs.py")


@pytest.fixture
def server() -> Iterator[TokenServer]:
    with TokenServer(ttl=3.0) as running:
        yield running


def spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``_cache_procs.py`` with ``args``."""
    return subprocess.Popen(
        [sys.executable, str(PROCS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for(predicate: Any, what: str, timeout: float = 60.0) -> None:
    """Poll ``predicate`` until true (the timeout only guards against a hang)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def finish(procs: Sequence[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    """Each process's JSON result (failing with its stderr if it failed)."""
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def run_herd(
    server: TokenServer,
    cache: str,
    sync: Path,
    workers: int,
    generations: int,
    env: dict[str, str] | None = None,
) -> Any:
    """Start ``workers`` herd processes together (with ``env``); return their results."""
    procs = [
        spawn("herd", cache, server.url + "/token", str(sync), str(generations), env=env)
        for _ in range(workers)
    ]
    try:
        wait_for(
            lambda: (
                len(list(sync.glob("ready-*"))) == workers
                or any(p.poll() is not None for p in procs)
            ),
            "the workers to start",
            timeout=150,
        )
        (sync / "go").touch()
        return finish(procs)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                proc.communicate()


def sealing(encrypted: bool) -> tuple[dict[str, str] | None, CacheCipher | None]:
    """The herd's environment and the cipher it will use: a fresh key, or none."""
    if not encrypted:
        return None, None
    key = CacheCipher.generate_key()
    return dict(os.environ, AUTHWIRE_CACHE_KEY=key), CacheCipher(key)


#: Runs a herd test once on a plain cache and once on an encrypting one.
ENCRYPTED = pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])


def assert_one_request_per_expiry(
    server: TokenServer, results: list[dict[str, Any]], generations: int
) -> None:
    """The endpoint issued each token once, and the processes used the same tokens in turn."""
    # The first worker done saw every generation; the others saw the same tokens in the
    # same order (a worker starved of CPU on a loaded machine may have missed one).
    order = max((r["tokens"] for r in results), key=len)
    assert len(order) == generations
    for result in results:
        seen = result["tokens"]
        assert seen == [t for t in order if t in seen], (seen, order)
    # One request for the first token, then exactly one per expiry.
    assert server.count("token") == generations
    fetched = [e["token"] for r in results for e in r["events"] if e["outcome"] == "fetched"]
    assert Counter(fetched) == Counter(order)
    assert server.count("api_401") == 0
    assert sum(r["unauthorized"] for r in results) == 0


@pytest.mark.slow
@ENCRYPTED
def test_eight_processes_share_one_token_request_per_expiry(
    server: TokenServer, tmp_path: Path, encrypted: bool
) -> None:
    """8 processes on one FileCache, 3-second tokens, 3 expiries: 4 token requests, no 401.

    Encrypted, the same holds, and the file holds the last token sealed.
    """
    folder = tmp_path / "cache"
    sync = tmp_path / "sync"
    sync.mkdir()
    env, cipher = sealing(encrypted)
    results = run_herd(server, f"file:{folder}", sync, workers=8, generations=4, env=env)
    assert_one_request_per_expiry(server, results, generations=4)
    # The file holds the last token, private to the user.
    (file,) = folder.glob("*.json")
    assert file.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert not list(folder.glob("*.corrupt-*"))  # no process refused another's entry
    if cipher is not None:
        assert json.loads(file.read_bytes())["v"] == SEALED_VERSION
        assert FileCache(folder, encryption=cipher).get(file.stem) is not None


class StallingProxy:
    """A loopback HTTP proxy for the token endpoint that never answers its first request.

    The first client to ask is thereby caught mid-refresh for as long as the test needs,
    however slow the machine; every later request is forwarded to the real endpoint.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.requests = 0
        self.release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    proxy.requests += 1
                    first = proxy.requests == 1
                if first:
                    proxy.release.wait(60)
                    self.send_error(503)
                    return
                forwarded = urllib.request.Request(
                    proxy.target, data=body, method="POST", headers=dict(self.headers.items())
                )
                try:
                    with urllib.request.urlopen(forwarded, timeout=10) as answer:
                        status, data = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    status, data = error.code, error.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def __enter__(self) -> StallingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def sigkill_handover(
    server: TokenServer,
    spec: str,
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    while_a_refreshes: Callable[[], object] = lambda: None,
) -> tuple[dict[str, Any], int]:
    """A refreshes through a ``StallingProxy``, B queues behind it, A is SIGKILLed.

    Checks that B waited for A instead of asking the endpoint itself, and calls
    ``while_a_refreshes`` once A's token request is in flight.

    Returns:
        B's JSON result and the number of token requests the proxy saw.
    """
    sync_a, sync_b = tmp_path / "a", tmp_path / "b"
    sync_a.mkdir()
    sync_b.mkdir()
    b: subprocess.Popen[str] | None = None
    with StallingProxy(server.url + "/token") as proxy:
        a = spawn("once", spec, proxy.url, str(sync_a), env=env)
        try:
            wait_for(lambda: proxy.requests == 1, "A's token request")
            while_a_refreshes()
            b = spawn("once", spec, proxy.url, str(sync_b), env=env)
            wait_for(lambda: any(sync_b.glob("ready-*")), "B to start")
            time.sleep(0.5)  # give B the time to queue on the lock
            # B waits for A's refresh instead of asking the endpoint itself.
            assert proxy.requests == 1
            assert b.poll() is None
            os.kill(a.pid, signal.SIGKILL)
            a.communicate()
            # B takes over once the dead holder's lock is free (a lease: once it expires).
            (result,) = finish([b])
        finally:
            for proc in (a, b):
                if proc is not None and proc.returncode is None:
                    proc.kill()
                    proc.communicate()
    return result, proxy.requests


@pytest.mark.slow
def test_sigkilled_refresher_hands_over_to_a_waiter(server: TokenServer, tmp_path: Path) -> None:
    """A refresher killed mid-request frees the lock; the waiter fetches; the file stays valid."""
    folder = tmp_path / "cache"
    result, proxy_requests = sigkill_handover(server, f"file:{folder}", tmp_path)
    assert [e["outcome"] for e in result["events"]] == ["fetched"]
    assert proxy_requests == 2
    assert server.count("token") == 1  # B's; A's never reached the endpoint
    cached = FileCache(folder).get(next(folder.glob("*.json")).stem)
    assert cached is not None
    assert result["token"] == result["events"][0]["token"]
    assert not list(folder.glob("*.corrupt-*"))


def test_kill9_during_writes_never_corrupts_or_loses_a_refresh_token(tmp_path: Path) -> None:
    """200 writers SIGKILLed mid-rotation: zero corrupt reads, zero lost refresh tokens."""
    folder = tmp_path / "cache"
    farm = spawn("kill9", str(folder), "200", "4")
    (result,) = finish([farm])
    assert result["rounds"] == 200
    assert result["corrupt_reads"] == 0
    assert result["lost"] == 0
    assert result["corrupt_files"] == []
    # The kills did land mid-write (temp files left behind) and between write and
    # acknowledgement, and the writers did make progress.
    assert result["temp_files"] > 0
    assert result["writes"] > 0
    assert result["final_seq"] >= result["writes"]
    token = FileCache(folder).get("aw1-kill9")
    assert token is not None
    assert token.refresh_token == f"rt-{result['final_seq']}"
