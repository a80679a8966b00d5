"""Processes for the cross-process cache proofs, run as scripts by the tests and ``bench/``.

``python tests/integration/_cache_procs.py herd CACHE TOKEN_URL SYNC_DIR GENERATIONS``
    One process of a thundering herd. It creates ``SYNC_DIR/ready-<pid>``, waits for
    ``SYNC_DIR/go`` (so every worker starts at once), then calls ``/api`` in a loop with
    its credential's current token until it has used ``GENERATIONS`` distinct tokens,
    and prints one JSON line: the tokens it used (the server's fingerprints, in order),
    its calls, the 401s it saw and its refresh events. The first worker done creates
    ``SYNC_DIR/stop``, which ends the others' loops too.

``python tests/integration/_cache_procs.py once CACHE TOKEN_URL SYNC_DIR``
    Creates ``SYNC_DIR/ready-<pid>`` and gets one token; prints its refresh events and
    the token's fingerprint.

``python tests/integration/_cache_procs.py kill9 FOLDER ROUNDS SEED``
    The kill -9 farm (single-threaded, so forking is safe): ``ROUNDS`` times it forks a
    writer that keeps rotating a refresh token in a ``FileCache`` (under the key's lock:
    read ``rt-N``, write ``rt-N+1``, report ``N+1`` through a pipe), SIGKILLs it after a
    random delay, then reads the cache. A read that is not a token, or a token older
    than the last write the writer reported done, is counted. Prints one JSON line.

``CACHE`` is ``file:<folder>`` or a ``redis://`` URL. With ``AUTHWIRE_CACHE_KEY`` set in
the environment, the cache seals its entries with ``CacheCipher.from_env()``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any

CLIENT_ID = "svc"
CLIENT_SECRET = "svc-secret-7f3a9c"  # the loopback token server's throwaway test secret
KEY = "aw1-kill9"


def make_cache(spec: str) -> Any:
    """The cache named by ``spec``."""
    import authwire

    cipher = authwire.CacheCipher.from_env() if os.environ.get("AUTHWIRE_CACHE_KEY") else None
    if spec.startswith("file:"):
        return authwire.FileCache(spec[5:], encryption=cipher)
    if spec.startswith("redis://"):
        # A short lease so the SIGKILL test sees the takeover soon.
        return authwire.RedisCache(
            spec,
            prefix="herd:",
            lease=float(os.environ.get("HERD_LEASE", "3")),
            encryption=cipher,
        )
    raise SystemExit(f"unknown cache spec {spec!r}")


def make_credential(spec: str, token_url: str, events: list[dict[str, Any]]) -> Any:
    """A ClientCredentials on the test server, sharing tokens through ``spec``."""
    import authwire

    return authwire.ClientCredentials(
        token_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        cache=make_cache(spec),
        # 3-second tokens: refresh in the last 1.5 s (the most a 3-second token allows),
        # so even a loaded machine does not send a token that expires on the way.
        leeway=1.5,
        retries=0,
        on_refresh=lambda e: events.append(
            {"reason": e.reason, "outcome": e.outcome, "token": e.token}
        ),
    )


def herd(spec: str, token_url: str, sync_dir: Path, generations: int) -> int:
    import requests

    events: list[dict[str, Any]] = []
    cred = make_credential(spec, token_url, events)
    api = token_url.rsplit("/", 1)[0] + "/api"
    session = requests.Session()
    (sync_dir / f"ready-{os.getpid()}").touch()
    go = sync_dir / "go"
    deadline = time.monotonic() + 180
    while not go.exists():
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.005)
    tokens: list[str] = []
    calls = unauthorized = 0
    stop = sync_dir / "stop"
    # Until this worker has used GENERATIONS tokens, or another has (then the last token
    # is fresh, and a worker that missed one generation on a loaded machine stops too
    # instead of asking for one more).
    while len(tokens) < generations and not stop.exists() and time.monotonic() < deadline:
        token = cred.get_token()
        response = session.get(api, headers={"Authorization": f"Bearer {token.access_token}"})
        calls += 1
        if response.status_code == 401:
            unauthorized += 1
            cred.invalidate(token)
            continue
        response.raise_for_status()
        seen = response.json()["token"]
        if not tokens or tokens[-1] != seen:
            tokens.append(seen)
        time.sleep(0.01)
    if len(tokens) >= generations:
        stop.touch()
    print(
        json.dumps(
            {"tokens": tokens, "calls": calls, "unauthorized": unauthorized, "events": events}
        ),
        flush=True,
    )
    return 0


def once(spec: str, token_url: str, sync_dir: Path) -> int:
    events: list[dict[str, Any]] = []
    cred = make_credential(spec, token_url, events)
    (sync_dir / f"ready-{os.getpid()}").touch()
    token = cred.get_token()
    fingerprint = hashlib.sha256(token.access_token.encode()).hexdigest()[:12]
    print(json.dumps({"token": fingerprint, "events": events}), flush=True)
    return 0


def _seq(token: Any) -> int:
    return int(token.refresh_token[3:]) if token is not None else 0


def _writer(folder: str, out: int) -> None:  # pragma: no cover - runs in a forked child
    from authwire import FileCache, Token

    cache = FileCache(folder)
    while True:
        lock = cache.lock(KEY)
        lock.acquire()
        try:
            n = _seq(cache.get(KEY)) + 1
            # A refresh that rotates the refresh token: the new one must be stored
            # before anyone may use it.
            cache.set(
                KEY,
                Token(f"at-{n}", expires_at=time.time() + 3600, refresh_token=f"rt-{n}"),
            )
        finally:
            lock.release()
        os.write(out, f"{n}\n".encode())


def kill9(folder: str, rounds: int, seed: int) -> int:
    from authwire import FileCache

    rng = random.Random(seed)
    cache = FileCache(folder)
    cache.delete(KEY)
    import filelock  # noqa: F401  (imported before forking, so writers start at once)

    corrupt_reads = lost = inflight_landed = 0
    acked_total = previous = 0
    for _ in range(rounds):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read_end)
            try:
                _writer(folder, write_end)
            finally:
                os._exit(1)
        os.close(write_end)
        # Let it write a few times, then kill it wherever it is (often mid-write).
        time.sleep(rng.uniform(0.001, 0.03))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        acked = 0
        buf = b""
        while select.select([read_end], [], [], 0)[0]:
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            buf += chunk
        os.close(read_end)
        lines = buf.split(b"\n")[:-1]  # a partial last line was not acknowledged
        if lines:
            acked = int(lines[-1])
            acked_total += len(lines)
        try:
            token = cache.get(KEY)
        except Exception:
            corrupt_reads += 1
            continue
        seq = _seq(token)
        if token is None and max(acked, previous) > 0:
            corrupt_reads += 1  # a token had been written; nothing readable is left
        elif token is not None and token.access_token != f"at-{seq}":
            corrupt_reads += 1  # a mix of two writes
        elif seq < max(acked, previous):
            lost += 1  # a completed write is gone: its refresh token is lost
        elif seq > acked and acked:
            inflight_landed += 1  # killed after the write, before it said so
        previous = max(previous, seq)
    final = cache.get(KEY)
    leftovers = sorted(p.name for p in Path(folder).iterdir() if ".corrupt-" in p.name)
    print(
        json.dumps(
            {
                "rounds": rounds,
                "writes": acked_total,
                "final_seq": _seq(final),
                "corrupt_reads": corrupt_reads,
                "lost": lost,
                "inflight_landed": inflight_landed,
                "corrupt_files": leftovers,
                "temp_files": sum(1 for p in Path(folder).iterdir() if p.suffix == ".tmp"),
            }
        ),
        flush=True,
    )
    return 0


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    if command == "herd":
        return herd(args[0], args[1], Path(args[2]), int(args[3]))
    if command == "once":
        return once(args[0], args[1], Path(args[2]))
    if command == "kill9":
        return kill9(args[0], int(args[1]), int(args[2]))
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
