"""A real OAuth-style token endpoint and protected API on 127.0.0.1, for tests and the demo.

Not a mock: a threaded HTTP/1.1 server (keep-alive, Content-Length and chunked bodies)
that issues random tokens with a real lifetime, rejects expired and revoked ones, and
counts what it sees, so tests can assert counts (token requests per expiry, 401s).

Endpoints:
    POST /token            client_credentials, refresh_token and password grants;
                           ``server.mode`` makes it misbehave on purpose.
    ANY  /api[/...]        needs a valid bearer token; echoes what it saw.
    ANY  /both             needs a valid bearer token AND the API key in X-API-Key.
    ANY  /apikey           needs the API key in X-API-Key, ?api_key= or a cookie.
    ANY  /basic            needs Basic alice:s3cret!
    ANY  /digest           needs Digest alice:s3cret! (MD5 or SHA-256 via ?alg=, stale nonces)
    ANY  /redirect?to=URL  redirects (``&status=307`` to keep the method and body)
    ANY  /echo             echoes headers and query, records them in ``server.seen``;
                           ``?status=401&challenge=Bearer`` answers with that status and
                           ``WWW-Authenticate`` instead of 200
    ANY  /guarded-redirect?to=URL
                           redirects a request with a valid bearer token (in
                           ``Authorization`` or ``X-Auth-Token``); 401 without one
    ANY  /public           no authentication

Requests in absolute form (``GET http://host/path``) are served like any other, so the
server doubles as a plain-http forward proxy for tests that must not resolve ``host``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.servers._base import BackgroundServer, JSONHandler, LoopbackServer

CLIENT_ID = "svc"
CLIENT_SECRET = "svc-secret-7f3a9c"  # a throwaway test secret, never a real one
USER, PASSWORD = "alice", "s3cret!"
API_KEY = "key-5d1e8b0a"


@dataclass
class Issued:
    expires_at: float
    client_id: str
    scope: str | None


@dataclass
class State:
    ttl: float = 3.0
    mode: str | None = None
    refresh_rotates: bool = True
    tokens: dict[str, Issued] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    seen: list[dict[str, Any]] = field(default_factory=list)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    nonces: dict[str, float] = field(default_factory=dict)
    nonce_lifetime: float = 60.0
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    api_key: str = API_KEY
    #: Reject every token at ``/api`` and ``/both`` (to prove a second 401 is not retried).
    reject_all: bool = False
    #: Seconds each token request takes (widens any race between refreshing callers).
    token_delay: float = 0.0
    #: ``time.monotonic()`` at which each token request arrived.
    token_times: list[float] = field(default_factory=list)
    token_user_agents: list[str] = field(default_factory=list)
    token_inflight: int = 0
    token_inflight_max: int = 0
    #: Fingerprints of the tokens ``/api`` and ``/both`` accepted.
    tokens_used: set[str] = field(default_factory=set)
    #: For each request refused because its token had expired: seconds since expiry.
    expired_uses: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The ``token_type`` the token endpoint gives its tokens.
    token_type: str = "bearer"


class Handler(JSONHandler):
    server: LoopbackServer[State]

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        path = url.path
        query = dict(parse_qsl(url.query))
        state = self.server.state
        with state.lock:
            state.counts[f"{self.command} {path}"] += 1
        if path == "/token":
            return self._token(body)
        if path == "/api" or path.startswith("/api/"):
            return self._api(body)
        if path == "/both":
            return self._api(body, need_key=True)
        if path == "/apikey":
            return self._apikey(query)
        if path == "/basic":
            return self._basic()
        if path == "/digest":
            return self._digest(query)
        if path == "/redirect":
            status = int(query.get("status", "302"))
            return self._send(status, b"", {"Location": query["to"]})
        if path == "/echo":
            record = {
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "query": query,
                "method": self.command,
                "body": body.decode("latin-1"),
            }
            with state.lock:
                state.seen.append(record)
            challenge = {"WWW-Authenticate": query["challenge"]} if "challenge" in query else None
            return self._send(int(query.get("status", "200")), record, challenge)
        if path == "/guarded-redirect":
            return self._guarded_redirect(query["to"])
        if path == "/public":
            return self._send(200, {"ok": True})
        if path == "/slow":
            time.sleep(float(query.get("s", "5")))
            return self._send(200, {"ok": True})
        self._send(404, {"error": "not_found"})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch

    # -- the token endpoint ------------------------------------------------------------

    def _client(self, form: dict[str, str]) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            from urllib.parse import unquote_plus

            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            cid, secret = unquote_plus(cid), unquote_plus(secret)
        else:
            cid, secret = form.get("client_id", ""), form.get("client_secret", "")
        state = self.server.state
        return cid if (cid, secret) == (state.client_id, state.client_secret) else None

    def _token(self, body: bytes) -> None:
        state = self.server.state
        with state.lock:
            state.token_inflight += 1
            state.token_inflight_max = max(state.token_inflight_max, state.token_inflight)
        try:
            self._token_request(body)
        finally:
            with state.lock:
                state.token_inflight -= 1

    def _token_request(self, body: bytes) -> None:
        state = self.server.state
        form = dict(parse_qsl(body.decode()))
        with state.lock:
            state.counts["token"] += 1
            state.token_times.append(time.monotonic())
            state.token_user_agents.append(self.headers.get("User-Agent", ""))
            state.token_forms.append({k: v for k, v in form.items() if k != "client_secret"})
            mode = state.mode
            delay = state.token_delay
        if delay:
            time.sleep(delay)
        if mode is not None and self._misbehave(mode, form):
            return
        client = self._client(form)
        if client is None:
            return self._send(
                401,
                {"error": "invalid_client", "error_description": "client authentication failed"},
                {"WWW-Authenticate": 'Basic realm="token"'},
            )
        grant = form.get("grant_type")
        refresh = None
        if grant == "client_credentials":
            pass
        elif grant == "password":
            if (form.get("username"), form.get("password")) != (USER, PASSWORD):
                return self._send(
                    400, {"error": "invalid_grant", "error_description": "bad user credentials"}
                )
            refresh = "rt-" + secrets.token_urlsafe(16)
        elif grant == "refresh_token":
            with state.lock:
                owner = state.refresh_tokens.get(form.get("refresh_token", ""))
                if owner is None:
                    return self._send(
                        400,
                        {"error": "invalid_grant", "error_description": "unknown refresh token"},
                    )
                if state.refresh_rotates:
                    del state.refresh_tokens[form["refresh_token"]]
            refresh = (
                "rt-" + secrets.token_urlsafe(16)
                if state.refresh_rotates
                else form["refresh_token"]
            )
        else:
            return self._send(400, {"error": "unsupported_grant_type"})
        token = "at-" + secrets.token_urlsafe(24)
        with state.lock:
            state.tokens[token] = Issued(time.time() + state.ttl, client, form.get("scope"))
            if refresh:
                state.refresh_tokens[refresh] = client
        payload: dict[str, Any] = {
            "access_token": token,
            "token_type": state.token_type,
            "expires_in": state.ttl,
        }
        if form.get("scope"):
            payload["scope"] = form["scope"]
        if refresh:
            payload["refresh_token"] = refresh
        self._send(200, payload, {"Cache-Control": "no-store"})

    def _misbehave(self, mode: str, form: dict[str, str]) -> bool:
        state = self.server.state
        if mode == "html":
            self._send(
                502,
                "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
                ctype="text/html",
            )
        elif mode == "html200":
            self._send(200, "<html><body>Please log in</body></html>", ctype="text/html")
        elif mode == "not_json":
            self._send(200, "ok", ctype="text/plain")
        elif mode == "json_list":
            self._send(200, b"[1, 2, 3]")
        elif mode == "missing_access_token":
            self._send(200, {"token_type": "Bearer", "expires_in": 60})
        elif mode == "wrong_types":
            self._send(200, {"access_token": 12345, "token_type": "Bearer"})
        elif mode == "expires_in_garbage":
            self._send(200, {"access_token": "at-x", "token_type": "Bearer", "expires_in": "soon"})
        elif mode == "expires_in_string":
            token = "at-" + secrets.token_urlsafe(24)
            with state.lock:
                state.tokens[token] = Issued(time.time() + state.ttl, CLIENT_ID, None)
            self._send(
                200,
                {"access_token": token, "token_type": "Bearer", "expires_in": str(int(state.ttl))},
            )
        elif mode == "echo_secret":
            echoed = f"{self.headers.get('Authorization', '')} {form}"
            self._send(
                400,
                {"error": "invalid_client", "error_description": f"rejected credentials: {echoed}"},
            )
        elif mode == "echo_secret_html":
            self._send(
                500,
                f"<html><pre>{self.headers.get('Authorization', '')} "
                f"client_secret={state.client_secret}</pre></html>",
                ctype="text/html",
            )
        elif mode == "slow":
            time.sleep(3)
            return False
        elif mode in ("rate_limit_once", "error_500_once"):
            with state.lock:
                state.mode = None
            if mode == "rate_limit_once":
                self._send(429, {"error": "rate_limited"}, {"Retry-After": "0"})
            else:
                self._send(503, "<html>busy</html>", ctype="text/html")
        elif mode == "down":
            self._send(503, "<html>maintenance</html>", ctype="text/html")
        else:
            return False
        return True

    # -- protected resources -----------------------------------------------------------

    def _api(self, body: bytes, need_key: bool = False) -> None:
        state = self.server.state
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        fingerprint = hashlib.sha256(token.encode()).hexdigest()[:12]
        with state.lock:
            issued = state.tokens.get(token)
            valid = (
                issued is not None
                and time.time() < issued.expires_at
                and not state.reject_all
                and (not need_key or self.headers.get("X-API-Key") == state.api_key)
            )
            state.counts["api_ok" if valid else "api_401"] += 1
            if valid:
                state.tokens_used.add(fingerprint)
            elif issued is not None and time.time() >= issued.expires_at:
                state.expired_uses.append(time.time() - issued.expires_at)
        if not valid:
            return self._send(
                401,
                {"error": "invalid_token"},
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        self._send(
            200,
            {
                "ok": True,
                "token": fingerprint,
                "body_length": len(body),
                "method": self.command,
                "body": body.decode("latin-1"),
            },
        )

    def _guarded_redirect(self, target: str) -> None:
        state = self.server.state
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        token = token or self.headers.get("X-Auth-Token", "").removeprefix("Bearer ")
        with state.lock:
            issued = state.tokens.get(token)
            valid = issued is not None and time.time() < issued.expires_at
            state.counts["guarded_ok" if valid else "guarded_401"] += 1
        if not valid:
            return self._send(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
        self._send(302, b"", {"Location": target})

    def _apikey(self, query: dict[str, str]) -> None:
        cookies = self.headers.get("Cookie", "")
        key = self.server.state.api_key
        ok = (
            self.headers.get("X-API-Key") == key
            or query.get("api_key") == key
            or f"api_key={key}" in cookies.replace(" ", "").split(";")
        )
        self._send(200 if ok else 401, {"ok": ok})

    def _basic(self) -> None:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        ok = self.headers.get("Authorization") == expected
        self._send(
            200 if ok else 401,
            {"ok": ok},
            None if ok else {"WWW-Authenticate": 'Basic realm="test"'},
        )

    def _digest(self, query: dict[str, str]) -> None:
        state = self.server.state
        alg = query.get("alg", "MD5")
        realm = "digest-realm"
        h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[alg]

        def H(s: str) -> str:
            return h(s.encode()).hexdigest()

        def challenge(stale: bool = False) -> None:
            nonce = secrets.token_hex(16)
            with state.lock:
                state.nonces[nonce] = time.time() + state.nonce_lifetime
                state.counts["digest_challenge"] += 1
            params = (
                f'realm="{realm}", qop="auth", nonce="{nonce}", opaque="op4que", algorithm={alg}'
            )
            if stale:
                params += ", stale=true"
            self._send(401, {"ok": False}, {"WWW-Authenticate": f"Digest {params}"})

        header = self.headers.get("Authorization", "")
        if not header.startswith("Digest "):
            return challenge()
        from authwire._core.schemes.challenge import parse_challenges

        params = parse_challenges([header])[0].params
        uri = params.get("uri", "")
        ha1 = H(f"{USER}:{realm}:{PASSWORD}")
        ha2 = H(f"{self.command}:{uri}")
        expected = H(
            f"{ha1}:{params.get('nonce')}:{params.get('nc')}:{params.get('cnonce')}:auth:{ha2}"
        )
        if params.get("username") != USER or params.get("response") != expected or uri != self.path:
            return challenge()
        with state.lock:
            nonce_expiry = state.nonces.get(params.get("nonce", ""))
        if nonce_expiry is None:
            return challenge()
        if time.time() > nonce_expiry:
            return challenge(stale=True)
        with state.lock:
            state.counts["digest_ok"] += 1
        self._send(200, {"ok": True, "alg": alg})


class TokenServer(BackgroundServer[State]):
    """Runs the server on a free loopback port in a background thread."""

    def __init__(self, ttl: float = 3.0) -> None:
        super().__init__(State(ttl=ttl), Handler, name="token-server")

    # -- test controls -----------------------------------------------------------------

    def reset(self) -> None:
        with self.state.lock:
            self.state.counts.clear()
            self.state.seen.clear()
            self.state.token_forms.clear()
            self.state.token_times.clear()
            self.state.token_user_agents.clear()
            self.state.tokens_used.clear()
            self.state.expired_uses.clear()
            self.state.token_inflight_max = 0
            self.state.mode = None
            self.state.reject_all = False

    def set_mode(self, mode: str | None) -> None:
        """Make the token endpoint misbehave (see ``Handler._misbehave``) or behave again."""
        with self.state.lock:
            self.state.mode = mode

    def token_times(self) -> list[float]:
        """``time.monotonic()`` of each token request so far."""
        with self.state.lock:
            return list(self.state.token_times)

    def issued_tokens(self) -> list[str]:
        """Every access token issued and not revoked (for leak checks)."""
        with self.state.lock:
            return list(self.state.tokens)
