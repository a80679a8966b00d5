"""The multi-process thundering herd: token requests per expiry, authwire beside its peers.

``.venv/bin/python bench/herd.py [--procs 4] [--generations 4]`` (needs requirements-bench.txt
and, for the Redis row, ``redis-server``). Not run by the tests.

Every contender runs ``--procs`` processes that start together and call the loopback
test API (``tests/servers/token_server.py``) in a loop, each through its library's
persistent token cache, until each has used ``--generations`` distinct tokens (the first
one plus one per expiry). The token server counts the token requests; the target is one
per generation, however many processes share the cache:

* authwire ``FileCache`` (a ``filelock`` per key: one process refreshes, the others wait
  and re-read) and ``RedisCache`` (a fenced lease in a real ``redis-server``);
* requests-auth's ``JsonTokenFileCache`` (a shared JSON file, no lock around the refresh);
* MSAL's ``PersistedTokenCache`` from msal-extensions (``FilePersistence`` with its
  ``CrossPlatLock`` around each read and write, not around the token request).

Tokens live 3 seconds. MSAL treats any token within 5 minutes of expiry as expired, so
its server issues 303-second tokens: the same 3 seconds of use before MSAL refreshes.
MSAL needs an https authority with OpenID discovery: the workers route
``https://idp.bench.test/tenant`` to the loopback servers with a requests adapter.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.token_server import CLIENT_ID, CLIENT_SECRET, TokenServer  # noqa: E402

PROCS = ROOT / "tests" / "integration" / "_cache_procs.py"
MSAL_AUTHORITY = "https://idp.bench.test/tenant"


# -- workers (run as `python bench/herd.py worker KIND ...`) ------------------------------


def _peer_token_getter(kind: str, token_url: str, cache_file: str, discovery: str) -> Any:
    """A function returning an Authorization header value, through the peer's cache."""
    import requests

    if kind == "requests-auth":
        import requests_auth

        requests_auth.OAuth2.token_cache = requests_auth.JsonTokenFileCache(cache_file)
        # early_expiry: requests-auth's default (30 s) would treat 3-second tokens as
        # always expired; 1 s matches authwire's leeway in this run.
        auth = requests_auth.OAuth2ClientCredentials(
            token_url, CLIENT_ID, CLIENT_SECRET, early_expiry=1.0
        )

        def get_requests_auth() -> str:
            prepared = auth(requests.Request("GET", "http://x/").prepare())
            return str(prepared.headers["Authorization"])

        return get_requests_auth
    if kind == "msal":
        import msal
        from msal_extensions import FilePersistence, PersistedTokenCache

        session = requests.Session()
        session.mount("https://idp.bench.test/", _loopback_adapter(token_url, discovery))
        app = msal.ConfidentialClientApplication(
            CLIENT_ID,
            client_credential=CLIENT_SECRET,
            oidc_authority=MSAL_AUTHORITY,
            token_cache=PersistedTokenCache(FilePersistence(cache_file)),
            http_client=session,
        )

        def get_msal() -> str:
            result = app.acquire_token_for_client(["api/.default"])
            if "access_token" not in result:
                raise RuntimeError(
                    f"msal: {result.get('error')}: {result.get('error_description')}"
                )
            return f"Bearer {result['access_token']}"

        return get_msal
    raise SystemExit(f"unknown kind {kind!r}")


def _loopback_adapter(token_url: str, discovery: str) -> Any:
    from requests.adapters import HTTPAdapter

    class Loopback(HTTPAdapter):
        """Sends MSAL's https://idp.bench.test/tenant/... calls to the loopback servers."""

        def __init__(self, token_url: str, discovery: str) -> None:
            super().__init__()
            self.routes = {
                f"{MSAL_AUTHORITY}/.well-known/openid-configuration": discovery,
                f"{MSAL_AUTHORITY}/token": token_url,
            }

        def send(self, request: Any, **kwargs: Any) -> Any:
            url = request.url.split("?", 1)[0]
            request.url = self.routes.get(url, request.url)
            return super().send(request, **kwargs)

    return Loopback(token_url, discovery)


def worker(kind: str, token_url: str, cache_file: str, sync: Path, generations: int) -> int:
    import requests

    discovery = os.environ.get("HERD_DISCOVERY", "")
    get_header = _peer_token_getter(kind, token_url, cache_file, discovery)
    api = token_url.rsplit("/", 1)[0] + "/api"
    session = requests.Session()
    (sync / f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 90
    while not (sync / "go").exists():
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.005)
    tokens: list[str] = []
    calls = unauthorized = 0
    while len(tokens) < generations and time.monotonic() < deadline:
        response = session.get(api, headers={"Authorization": get_header()})
        calls += 1
        if response.status_code == 401:
            unauthorized += 1
            continue
        response.raise_for_status()
        seen = response.json()["token"]
        if not tokens or tokens[-1] != seen:
            tokens.append(seen)
        time.sleep(0.01)
    print(json.dumps({"tokens": tokens, "calls": calls, "unauthorized": unauthorized}))
    return 0


# -- the run -----------------------------------------------------------------------------


class _Discovery(BaseHTTPRequestHandler):
    """Serves MSAL's OpenID discovery document (issuer = the authority)."""

    def do_GET(self) -> None:
        body = json.dumps(
            {
                "issuer": MSAL_AUTHORITY,
                "authorization_endpoint": f"{MSAL_AUTHORITY}/authorize",
                "token_endpoint": f"{MSAL_AUTHORITY}/token",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _herd(argv: list[list[str]], sync: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    procs = [
        subprocess.Popen(a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for a in argv
    ]
    try:
        deadline = time.monotonic() + 90
        while len(list(sync.glob("ready-*"))) < len(procs):
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        (sync / "go").touch()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                raise RuntimeError(f"worker failed:\n{err[-2000:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                proc.communicate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--only", help="comma-separated subset of the rows")
    args = parser.parse_args()
    procs, generations = args.procs, args.generations
    rows = ["authwire FileCache", "authwire RedisCache", "requests-auth JsonTokenFileCache",
            "MSAL PersistedTokenCache"]  # fmt: skip
    if args.only:
        rows = [
            r for r in rows if any(o.strip().lower() in r.lower() for o in args.only.split(","))
        ]
    discovery_server = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    threading.Thread(target=discovery_server.serve_forever, daemon=True).start()
    discovery = f"http://127.0.0.1:{discovery_server.server_address[1]}/"
    env = dict(os.environ, HERD_DISCOVERY=discovery)
    print(f"{procs} processes, {generations} token generations (3 expiries of 3-second tokens)")
    print(f"{'cache':36} {'token requests':>15} {'per expiry':>11} {'401s':>5}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)
        redis = None
        for n, row in enumerate(rows):
            sync = work / f"sync-{n}"
            sync.mkdir()
            ttl = 303.0 if row.startswith("MSAL") else 3.0
            with TokenServer(ttl=ttl) as server:
                url = server.url + "/token"
                if row == "authwire FileCache":
                    cmd = [sys.executable, str(PROCS), "herd", f"file:{work / 'aw'}", url]
                    argv = [[*cmd, str(sync), str(generations)]] * procs
                elif row == "authwire RedisCache":
                    try:
                        from tests.integration._redis import RedisServer

                        redis = RedisServer(work).start()
                    except Exception as exc:  # no redis-server here
                        print(f"{row:36} skipped: {exc}")
                        continue
                    cmd = [sys.executable, str(PROCS), "herd", redis.url, url]
                    argv = [[*cmd, str(sync), str(generations)]] * procs
                else:
                    kind = "requests-auth" if row.startswith("requests-auth") else "msal"
                    cache_file = str(work / f"{kind}.json")
                    cmd = [sys.executable, __file__, "worker", kind, url, cache_file]
                    argv = [[*cmd, str(sync), str(generations)]] * procs
                try:
                    results = _herd(argv, sync, env)
                except Exception as exc:
                    print(f"{row:36} failed: {exc}")
                    continue
                finally:
                    if redis is not None:
                        redis.stop()
                        redis = None
                requests_made = server.count("token")
                per = requests_made / generations
                unauthorized = sum(r["unauthorized"] for r in results)
                print(f"{row:36} {requests_made:>15} {per:>11.2f} {unauthorized:>5}")
    discovery_server.shutdown()
    print("target: 1.00 per expiry (one request for the first token, then one per expiry)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        a = sys.argv[2:]
        sys.exit(worker(a[0], a[1], a[2], Path(a[3]), int(a[4])))
    main()
