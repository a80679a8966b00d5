"""A tiny protected API on 127.0.0.1 for the demo: a resource server, as a company runs one.

It accepts the identity provider's JWT access tokens, checked with PyJWT against the
provider's published keys (JWKS): signature, ``typ`` ``at+jwt``, ``iss``, ``aud`` and
``exp``. Like a real API it keeps a deny list of token ids (``jti``) that its operator
revoked, and answers those with ``401`` and ``WWW-Authenticate: Bearer
error="invalid_token"``. It counts its answers by status, so the demo can show what
happened by the server's own numbers, and it reports a fingerprint of the token it saw
(the first 12 hex digits of its SHA-256), never the token.

Usage::

    api = ProtectedApi(issuer, audience=issuer + "/api", jwks_uri=issuer + "/jwks").start()
    try:
        print(api.url)          # http://127.0.0.1:<port>
        api.deny(jti)           # the operator revokes one token
        api.answers[401]        # how many requests were refused
    finally:
        api.stop()
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

__all__ = ["ProtectedApi", "fingerprint"]


def fingerprint(secret: str) -> str:
    """A short, non-reversible name for a token: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


class ProtectedApi:
    """A loopback API that accepts JWT access tokens from one issuer for one audience.

    Args:
        issuer: The identity provider; tokens must carry it as ``iss``.
        audience: The API's resource identifier; tokens must carry it as ``aud``.
        jwks_uri: Where the provider publishes its signing keys.
    """

    def __init__(self, issuer: str, *, audience: str, jwks_uri: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys = jwt.PyJWKClient(jwks_uri, cache_keys=True)
        self._denied: set[str] = set()
        self._lock = threading.Lock()
        #: Answers given, by status code.
        self.answers: Counter[int] = Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The API's base URL."""
        assert self._server is not None, "start() the API first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def deny(self, jti: str) -> None:
        """Revoke one token at the API: requests carrying it get ``401`` from now on."""
        with self._lock:
            self._denied.add(jti)

    def check(self, authorization: str) -> dict[str, Any]:
        """The verified claims of the bearer token in an ``Authorization`` header.

        Raises:
            jwt.InvalidTokenError: The token is missing, malformed, expired, not for this
                API, not from the issuer, or on the deny list.
        """
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise jwt.InvalidTokenError("no bearer token")
        if jwt.get_unverified_header(token).get("typ") != "at+jwt":
            raise jwt.InvalidTokenError("not an access token (typ)")
        key = self._keys.get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256", "PS256", "ES256"],
            audience=self.audience,
            issuer=self.issuer,
            options={"require": ["exp", "iss", "aud", "jti"]},
        )
        with self._lock:
            if claims["jti"] in self._denied:
                raise jwt.InvalidTokenError("token revoked")
        claims["token"] = fingerprint(token)
        return claims

    def _record(self, status: int) -> None:
        with self._lock:
            self.answers[status] += 1

    def start(self) -> ProtectedApi:
        """Serve on a free port of 127.0.0.1 from a background thread."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode(errors="replace") if length else ""
                try:
                    claims = api.check(self.headers.get("Authorization", ""))
                except jwt.PyJWTError as exc:
                    status = 401
                    # The reason is PyJWT's message, which never quotes the token.
                    answer: dict[str, Any] = {"error": "invalid_token", "reason": str(exc)}
                else:
                    status = 200
                    answer = {
                        "ok": True,
                        "method": self.command,
                        "path": self.path,
                        "sub": claims.get("sub"),
                        "client_id": claims.get("client_id"),
                        "scope": claims.get("scope"),
                        "token": claims["token"],
                        "body": body,
                    }
                api._record(status)
                data = json.dumps(answer).encode()
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo narrates instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ProtectedApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
