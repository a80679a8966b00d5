"""authwire in five steps, against a real token endpoint and API on 127.0.0.1.

Run with ``make demo`` (or ``.venv/bin/python demo/demo.py``). The loopback server from
``tests/servers/token_server.py`` issues 6-second tokens and counts every token request
and every 401, so each step shows what authwire did by the server's own numbers:

1. a token is fetched (client credentials grant) on the first request;
2. later requests reuse it from the cache (the token-request count does not move);
3. inside the advisory window the next request refreshes it *before* it expires;
4. the server revokes every token: the request gets a 401, authwire refreshes and
   replays it once, and the caller sees a 200;
5. a wrong client secret gives a typed ``TokenRequestError``, with nothing secret in it,
   even when the server echoes the secret back.

Tokens and secrets are never printed: only short SHA-256 fingerprints, which the server
also reports, so you can see which token each request carried.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import httpx
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.servers.token_server

from tests.servers.token_server import CLIENT_ID, CLIENT_SECRET, TokenServer  # noqa: E402

import authwire  # noqa: E402
import authwire.httpx  # noqa: E402
import authwire.requests  # noqa: E402

TTL = 6.0  #: token lifetime the demo server grants, seconds
LEEWAY = 3.0  #: advisory window: refresh this many seconds before expiry


def step(number: int, title: str) -> None:
    print(f"\n== Step {number}: {title}")


def say(text: str) -> None:
    print(f"   {text}")


def expect(condition: bool, what: str) -> None:
    """Stop the demo (exit 1) if authwire did not do what the narration claims."""
    if not condition:
        raise SystemExit(f"demo check failed: {what}")


def on_refresh(event: authwire.RefreshEvent) -> None:
    """The ``on_refresh`` hook: why each refresh happened (events hold no secrets)."""
    if event.outcome == "failed":
        say(f"[on_refresh] refresh FAILED (reason={event.reason}): {event.error}")
        return
    left = (event.expires_at or 0) - time.time()
    say(
        f"[on_refresh] reason={event.reason!r} outcome={event.outcome!r} "
        f"new token {event.token}... (expires in {left:.1f}s, took {event.duration * 1000:.1f} ms)"
    )


def main() -> int:
    # authwire's own log lines (also secret-free), in line with the narration.
    logging.basicConfig(stream=sys.stdout, format="   [log] %(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    with TokenServer(ttl=TTL) as server:
        print(f"authwire {authwire.__version__} demo; token endpoint + API at {server.url}")
        print(f"tokens live {TTL:.0f}s; authwire refreshes {LEEWAY:.0f}s before expiry (leeway)")
        cred = authwire.ClientCredentials(
            f"{server.url}/token",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            scope="api.read",
            leeway=LEEWAY,
            cache=authwire.MemoryCache(),
            on_refresh=on_refresh,
        )
        say(f"credential: {cred!r}  (no secret in the repr)")
        session = requests.Session()
        session.auth = authwire.requests.Auth(cred)
        api = f"{server.url}/api"

        def call(label: str) -> requests.Response:
            response = session.get(api)
            seen = response.json().get("token", "-") if response.ok else "-"
            history = [r.status_code for r in response.history]
            say(
                f"{label}: HTTP {response.status_code}"
                + (f" after {history}" if history else "")
                + f", server saw token {seen}... | token requests so far: {server.count('token')}"
            )
            return response

        step(1, "the first request fetches a token (client credentials grant)")
        first = call("GET /api")
        expect(first.status_code == 200, "the first request succeeds")
        expect(server.count("token") == 1, "one token request for the first call")
        token = cred.get_token()
        say(f"the token, as authwire shows it: {token!r}")

        step(2, "later requests reuse the cached token: no new token request")
        for i in range(5):
            call(f"GET /api #{i + 2}")
        with httpx.Client(auth=authwire.httpx.Auth(cred)) as client:
            response = client.get(api)
            say(
                f"httpx.Client with the same credential: HTTP {response.status_code}, "
                f"token {response.json()['token']}... | token requests: {server.count('token')}"
            )
        expect(server.count("token") == 1, "the cached token is reused")

        step(3, f"proactive refresh: waiting until the token is {LEEWAY:.0f}s from expiry")
        wait = max(0.0, (token.expires_at or 0.0) - LEEWAY - time.time() + 0.2)
        say(f"sleeping {wait:.1f}s (the token is still valid; the server would accept it)")
        time.sleep(wait)
        call("GET /api")
        expect(server.count("token") == 2, "the advisory window causes one refresh")
        say("refreshed before expiry: the caller never saw an expired token or a 401")
        expect(server.count("api_401") == 0, "no 401 before the revocation")

        step(4, "the server revokes every token: 401 -> refresh -> replay")
        server.revoke_all()
        say("server: all tokens revoked")
        before_401 = server.count("api_401")
        replayed = session.post(api, data=b"order=42")
        history = [r.status_code for r in replayed.history]
        say(
            f"POST /api: HTTP {replayed.status_code}, history {history}, "
            f"replayed body {replayed.json()['body']!r}"
        )
        say(
            f"server counts: 401s seen {server.count('api_401') - before_401}, "
            f"token requests {server.count('token')} (one more, reason 'rejected')"
        )
        expect(replayed.status_code == 200, "the replayed request succeeds")
        expect(server.count("token") == 3, "one token request for the rejected token")
        expect(server.count("api_401") - before_401 == 1, "exactly one 401")

        step(5, "errors are typed and never contain a secret")
        wrong = authwire.ClientCredentials(
            f"{server.url}/token",
            client_id=CLIENT_ID,
            client_secret="wrong-secret-0a9f1c77",
            auth_method="client_secret_post",  # the secret travels in the form body
            cache=authwire.MemoryCache(),
            retries=0,
        )
        try:
            wrong.get_token()
        except authwire.TokenRequestError as exc:
            say(f"wrong secret -> {type(exc).__name__} (status {exc.status}, error {exc.error!r})")
            say(f"message: {exc}")
            expect("wrong-secret-0a9f1c77" not in str(exc), "no secret in the message")
        else:
            expect(False, "a wrong secret raises TokenRequestError")
        server.state.mode = "echo_secret"  # a careless server that echoes the secret back
        try:
            wrong.get_token()
        except authwire.TokenRequestError as exc:
            say("a server that echoes the credentials back in its error:")
            say(f"message: {exc}")
            say(f"snippet: {exc.snippet}")
            text = f"{exc} {exc.snippet} {exc!r}"
            expect("wrong-secret-0a9f1c77" not in text, "no secret in message, snippet or repr")
            say("the secret appears nowhere in the error (message, snippet, repr)")
        else:
            expect(False, "a wrong secret raises TokenRequestError")
        server.state.mode = None

        print(
            f"\nDone in {time.monotonic() - started:.1f}s: {server.count('api_ok')} API calls "
            f"served with 3 tokens, {server.count('api_401')} 401 seen and answered, "
            f"{server.count('token') - 3} token requests refused on purpose."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
