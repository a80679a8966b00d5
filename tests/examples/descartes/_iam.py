"""A Descartes-Labs-style identity service on 127.0.0.1: refresh tokens in, JWTs out.

Not a mock: a threaded HTTP server (``tests.servers._base``) that knows its clients'
refresh tokens, issues unsigned JWTs whose ``aud`` is the client id, counts every request
and serves an API that needs one of its live tokens.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.servers._base import BackgroundServer, JSONHandler, LoopbackServer

from authwire.testing import make_jwt

__all__ = ["CLIENT_ID", "REFRESH_TOKEN", "IamServer"]

CLIENT_ID = "ZOBAi4UROl5gKZIpxxlwOEfx8KpqXf2c"
REFRESH_TOKEN = "rt-b70B_ozH6CaV23WQ-" + "toFQ8CaujGHDs"  # a throwaway test value


@dataclass
class State:
    ttl: float = 3600.0
    clients: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: REFRESH_TOKEN})
    tokens: dict[str, float] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    forms: list[dict[str, str]] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(JSONHandler):
    server: LoopbackServer[State]

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        state = self.server.state
        with state.lock:
            state.counts[f"{self.command} {path}"] += 1
        if path == "/token":
            return self._token(dict(parse_qsl(body.decode())))
        if path == "/api":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            with state.lock:
                expires_at = state.tokens.get(token)
            if expires_at is None or expires_at < time.time():
                return self._send(401, {"error": "invalid token"})
            return self._send(200, {"ok": True})
        self._send(404, {"error": "not found"})

    def _token(self, form: dict[str, str]) -> None:
        state = self.server.state
        with state.lock:
            state.forms.append({k: v for k, v in form.items() if k != "refresh_token"})
            if state.fail_next:
                state.fail_next -= 1
                return self._send(503, {"error": "temporarily_unavailable"})
            known = state.clients.get(form.get("client_id", ""))
        if form.get("grant_type") != "refresh_token" or known != form.get("refresh_token"):
            return self._send(400, {"error": "invalid_grant"})
        client = form["client_id"]
        token = make_jwt(
            {
                "aud": client,
                "sub": f"user|{client}",
                "org": "acme",
                "groups": ["analysts", "acme:catalog-admin"],
                "exp": int(time.time() + state.ttl),
                "jti": secrets.token_hex(8),
            }
        )
        with state.lock:
            state.tokens[token] = time.time() + state.ttl
        self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": state.ttl})


class IamServer(BackgroundServer[State]):
    """Runs the identity service on a free loopback port."""

    def __init__(self) -> None:
        super().__init__(State(), Handler, name="iam-server")

    def token_requests(self) -> int:
        """How many token requests arrived."""
        return self.count("POST /token")

    def forms(self) -> list[dict[str, Any]]:
        """The token requests' forms (refresh tokens left out)."""
        with self.state.lock:
            return list(self.state.forms)
