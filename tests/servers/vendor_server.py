"""A real vendor-style login server and protected API on 127.0.0.1, for tests.

Not a mock: a threaded HTTP/1.1 server that behaves like two real vendor logins and an
API that accepts their tokens, with real lifetimes, revocation and counters, so tests
assert counts (logins per expiry, 401s seen, retries).

Endpoints:
    POST /sharing/rest/generateToken   ArcGIS-style: form ``username``, ``password``,
                                       ``client`` (``referer`` or ``requestip``), ``referer``,
                                       ``expiration`` (minutes), ``f=json`` -> JSON
                                       ``{token, expires (epoch ms), ssl}``; bad credentials
                                       give HTTP 200 with an ``{"error": {...}}`` body, as
                                       ArcGIS does.
    POST /api/v3/user_login            JSON ``{"login", "password"}`` ->
                                       ``{"data": {"access_token", "expires_in"}}``; 401 if wrong.
    POST /api/jwt_login                JSON ``{"username", "password"}`` -> ``{"jwt": <JWT>}``,
                                       expiry only in the JWT's ``exp`` claim.
    ANY  /data                         needs a valid token (``Authorization: Bearer``,
                                       ``X-Esri-Authorization: Bearer`` or ``?token=``) and, for
                                       referer-bound tokens, the same ``Referer``; else 401.
    ANY  /flaky?key=K&fail=N&status=S  fails N times per key with S (``Retry-After: 0``), then 200.
    ANY  /echo                         echoes headers and query, records them in ``seen``.
    ANY  /redirect?to=URL              302 to URL.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.servers._base import BackgroundServer, JSONHandler, LoopbackServer

USER, PASSWORD = "gis-user", "gis-pass-4e1f"  # throwaway test credentials, never real ones


@dataclass
class Issued:
    expires_at: float
    referer: str | None


@dataclass
class State:
    ttl: float = 3.0
    tokens: dict[str, Issued] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    seen: list[dict[str, Any]] = field(default_factory=list)
    logins: list[dict[str, Any]] = field(default_factory=list)
    expired_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class Handler(JSONHandler):
    server: LoopbackServer[State]

    def _issue(self, lifetime: float, referer: str | None = None) -> tuple[str, float]:
        state = self.server.state
        token = "vt-" + secrets.token_urlsafe(24)
        expires_at = time.time() + lifetime
        with state.lock:
            state.tokens[token] = Issued(expires_at, referer)
        return token, expires_at

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        query = dict(parse_qsl(url.query))
        state = self.server.state
        with state.lock:
            state.counts[f"{self.command} {url.path}"] += 1
        if url.path == "/sharing/rest/generateToken":
            return self._generate_token(body)
        if url.path == "/api/v3/user_login":
            return self._user_login(body)
        if url.path == "/api/jwt_login":
            return self._jwt_login(body)
        if url.path == "/data":
            return self._data(query)
        if url.path == "/flaky":
            return self._flaky(query)
        if url.path == "/echo":
            record = {
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "query": query,
                "method": self.command,
            }
            with state.lock:
                state.seen.append(record)
            return self._send(200, record)
        if url.path == "/redirect":
            return self._send(302, b"", {"Location": query["to"]})
        self._send(404, {"error": "not_found"})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _dispatch

    # -- logins ------------------------------------------------------------------------

    def _generate_token(self, body: bytes) -> None:
        state = self.server.state
        form = dict(parse_qsl(body.decode()))
        with state.lock:
            state.counts["login"] += 1
            state.logins.append({k: v for k, v in form.items() if k != "password"})
        if (form.get("username"), form.get("password")) != (USER, PASSWORD):
            # ArcGIS answers a failed login with HTTP 200 and an error object.
            return self._send(
                200,
                {
                    "error": {
                        "code": 400,
                        "message": "Unable to generate token.",
                        "details": ["Invalid username or password."],
                    }
                },
            )
        referer = form.get("referer") if form.get("client", "referer") == "referer" else None
        minutes = float(form.get("expiration", "60"))
        token, expires_at = self._issue(min(minutes * 60, state.ttl), referer)
        self._send(200, {"token": token, "expires": int(expires_at * 1000), "ssl": False})

    def _user_login(self, body: bytes) -> None:
        state = self.server.state
        try:
            data = json.loads(body)
        except ValueError:
            return self._send(400, {"error": "body must be JSON"})
        with state.lock:
            state.counts["login"] += 1
            state.logins.append({k: v for k, v in data.items() if k != "password"})
        if (data.get("login"), data.get("password")) != (USER, PASSWORD):
            return self._send(401, {"error": "invalid login or password"})
        token, _ = self._issue(state.ttl)
        self._send(200, {"data": {"access_token": token, "expires_in": state.ttl}})

    def _jwt_login(self, body: bytes) -> None:
        state = self.server.state
        data = json.loads(body)
        with state.lock:
            state.counts["login"] += 1
        if (data.get("username"), data.get("password")) != (USER, PASSWORD):
            return self._send(401, {"error": "invalid login"})
        exp = int(time.time() + state.ttl)
        token = _jwt({"sub": USER, "exp": exp, "jti": secrets.token_hex(8)})
        with state.lock:
            state.tokens[token] = Issued(exp, None)
        self._send(200, {"jwt": token})

    # -- the protected API -------------------------------------------------------------

    def _data(self, query: dict[str, str]) -> None:
        state = self.server.state
        token = query.get("token", "")
        for header in ("Authorization", "X-Esri-Authorization"):
            value = self.headers.get(header, "")
            if value.lower().startswith("bearer "):
                token = value[7:]
        with state.lock:
            issued = state.tokens.get(token)
            now = time.time()
            valid = issued is not None and now < issued.expires_at
            if issued is not None and not valid:
                state.expired_seen += 1
            if valid and issued is not None and issued.referer is not None:
                valid = self.headers.get("Referer") == issued.referer
            state.counts["data_ok" if valid else "data_401"] += 1
        if not valid:
            return self._send(
                401,
                {"error": "invalid_token"},
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        self._send(200, {"ok": True})

    def _flaky(self, query: dict[str, str]) -> None:
        state = self.server.state
        key = f"flaky:{query.get('key', '')}"
        with state.lock:
            state.counts[key] += 1
            seen = state.counts[key]
        if seen <= int(query.get("fail", "1")):
            status = int(query.get("status", "503"))
            return self._send(status, {"error": "busy"}, {"Retry-After": "0"})
        self._send(200, {"ok": True, "attempts": seen})


class VendorServer(BackgroundServer[State]):
    """Runs the vendor server on a free loopback port in a background thread.

    Args:
        ttl: Lifetime of issued tokens in seconds (the ArcGIS ``expiration`` may shorten it).
    """

    def __init__(self, ttl: float = 3.0) -> None:
        super().__init__(State(ttl=ttl), Handler, name="vendor-server")

    def reset(self) -> None:
        with self.state.lock:
            self.state.counts.clear()
            self.state.seen.clear()
            self.state.logins.clear()
            self.state.expired_seen = 0
