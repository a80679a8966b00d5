"""A minimal OpenID provider on 127.0.0.1: discovery, token and revocation endpoints.

For tests of what a credential does with what discovery tells it (endpoints over plain
http, ``authorization_response_iss_parameter_supported``). The document names the token
endpoint and whatever ``State.metadata`` adds; the token endpoint answers every grant
with a fresh Bearer token, a refresh token and an (unverifiable) ID token; the revocation
endpoint answers 200. Every request is counted as ``"<METHOD> <path>"``.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.servers._base import BackgroundServer, JSONHandler, LoopbackServer

__all__ = ["ProviderServer", "ProviderState"]


@dataclass
class ProviderState:
    """The discovery document's additions and what the provider saw."""

    #: Added to (or replacing parts of) the discovery document.
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Whether token responses carry an ``id_token``.
    id_token: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, Any] = field(default_factory=dict)


class _Handler(JSONHandler):
    server: LoopbackServer[ProviderState]

    def _base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _count(self) -> ProviderState:
        state = self.server.state
        with state.lock:
            state.counts[f"{self.command} {self.path.split('?')[0]}"] += 1
        return state

    def do_GET(self) -> None:
        state = self._count()
        if self.path != "/.well-known/openid-configuration":
            return self._send(404, {"error": "not_found"})
        base = self._base()
        self._send(200, {"issuer": base, "token_endpoint": f"{base}/token", **state.metadata})

    def do_POST(self) -> None:
        self._body()
        state = self._count()
        if self.path == "/revoke":
            return self._send(200, b"")
        answer = {
            "access_token": "at-" + secrets.token_urlsafe(12),
            "token_type": "Bearer",
            "expires_in": 300,
            "refresh_token": "rt-" + secrets.token_urlsafe(12),
        }
        if state.id_token:
            answer["id_token"] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"
        self._send(200, answer)


class ProviderServer(BackgroundServer[ProviderState]):
    """Runs the provider on a free loopback port in a background thread."""

    def __init__(self) -> None:
        super().__init__(ProviderState(), _Handler, name="provider-server")
