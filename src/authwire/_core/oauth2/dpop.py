"""DPoP: proof-of-possession for access tokens (RFC 9449).

Strictly private. A ``DPoPKey`` holds an ES256 key pair; every token request and every
resource request carries a fresh proof JWT signed with it (``htm``, ``htu``, ``iat``, a
random ``jti``, ``ath`` at resources, and the server's ``nonce`` once one is known). A
server that wants a nonce answers ``use_dpop_nonce`` with a ``DPoP-Nonce`` header; the
request is then signed again with that nonce and sent once more (sections 8 and 9).
Nonces are remembered per origin, so later requests carry them from the start.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from authwire._core.flow import Attempt, Call, SchemeFlow
from authwire._core.http import Headers, HttpRequest, HttpResponse, json_or_none
from authwire._core.origin import Origin
from authwire._core.schemes.base import AuthScheme, RequestInfo
from authwire._core.schemes.bearer import TokenSource
from authwire._core.token import Token, unusable_type_reason
from authwire.errors import ConfigurationError, InvalidTokenResponse

__all__ = ["DPoPAuth", "DPoPKey", "htu_of", "is_nonce_challenge"]

#: The only algorithm authwire signs proofs with (the one every server supports).
DPOP_ALG: Final = "ES256"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def htu_of(url: str) -> str:
    """The ``htu`` of ``url``: without query and fragment (RFC 9449 section 4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def is_nonce_challenge(response: HttpResponse) -> bool:
    """Whether ``response`` asks for a DPoP nonce (token endpoint or resource)."""
    if not response.headers.get("dpop-nonce"):
        return False
    if response.status == 401:
        return any(
            "use_dpop_nonce" in value for value in response.headers.get_all("www-authenticate")
        )
    if response.status == 400:
        data = json_or_none(response.body)
        return isinstance(data, dict) and data.get("error") == "use_dpop_nonce"
    return False


class DPoPKey:
    """An ES256 key pair that binds tokens to this client, and the nonces servers gave.

    Args:
        private_key: A ``cryptography`` P-256 private key, or ``None`` (default) for a
            fresh one. The key lives in memory only; tokens bound to it are useless to
            anyone without it.
    """

    def __init__(self, private_key: Any = None) -> None:
        try:
            import jwt
            from cryptography.hazmat.primitives.asymmetric import ec
        except ImportError:
            raise ConfigurationError("DPoP needs PyJWT: pip install 'authwire[jwt]'") from None
        if private_key is None:
            private_key = ec.generate_private_key(ec.SECP256R1())
        if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
            private_key.curve, ec.SECP256R1
        ):
            raise ConfigurationError("a DPoP key must be an EC P-256 private key (ES256)")
        self._jwt = jwt
        self._key = private_key
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key()))
        self.public_jwk: dict[str, str] = {k: public[k] for k in ("kty", "crv", "x", "y")}
        # RFC 7638 thumbprint: the required members in lexicographic order, no spaces.
        canonical = json.dumps(self.public_jwk, sort_keys=True, separators=(",", ":"))
        self.thumbprint = _b64(hashlib.sha256(canonical.encode()).digest())
        self._nonces: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DPoPKey(jkt={self.thumbprint!r})"

    def proof(self, method: str, url: str, now: float, *, access_token: str | None = None) -> str:
        """A fresh proof for ``method url`` (with ``ath`` for ``access_token``)."""
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": htu_of(url),
            "iat": int(now),
        }
        nonce = self.nonce_for(url)
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            claims["ath"] = _b64(hashlib.sha256(access_token.encode("ascii")).digest())
        token: str = self._jwt.encode(
            claims,
            self._key,
            algorithm=DPOP_ALG,
            headers={"typ": "dpop+jwt", "jwk": self.public_jwk},
        )
        return token

    def nonce_for(self, url: str) -> str | None:
        """The last nonce the server at ``url``'s origin gave, if any."""
        with self._lock:
            return self._nonces.get(str(Origin.of(url)))

    def remember(self, url: str, response: HttpResponse) -> None:
        """Keep the ``DPoP-Nonce`` a response from ``url`` carried (section 8.2)."""
        nonce = response.headers.get("dpop-nonce")
        if nonce:
            with self._lock:
                self._nonces[str(Origin.of(url))] = nonce

    def sign(self, request: HttpRequest, now: float) -> HttpRequest:
        """``request`` with a fresh ``DPoP`` header (a token request: no ``ath``)."""
        proof = self.proof(request.method, request.url, now)
        pairs = [(k, v) for k, v in request.headers.items_raw() if k.lower() != "dpop"]
        return request.replace(headers=Headers([*pairs, ("DPoP", proof)]))


class DPoPAuth(AuthScheme):
    """Sends a DPoP-bound token with a proof on every request (RFC 9449 section 7).

    A token the server issued as plain ``Bearer`` (it ignored the proof) is sent as a
    bearer token; a token of any other type is refused with ``InvalidTokenResponse``.
    A 401 that asks for a nonce is answered once with the nonce; any other 401
    invalidates the token, fetches a new one and replays once, as for bearer tokens.

    Args:
        source: The credential that provides tokens.
        key: The key the credential's tokens are bound to.
        clock: The wall clock, for the proofs' ``iat``.
    """

    header_names = frozenset({"authorization", "dpop"})
    requires_secure = True

    def __init__(self, source: TokenSource, key: DPoPKey, clock: Callable[[], float]) -> None:
        self.source = source
        self.key = key
        self._clock = clock

    def __repr__(self) -> str:
        return f"DPoPAuth({self.source!r}, {self.key!r})"

    def attempt_for(self, token: Token, request: RequestInfo) -> Attempt:
        """The attempt that sends ``token`` for ``request``."""
        if token.token_type != "DPoP":  # Token spells Bearer and DPoP canonically
            if token.token_type != "Bearer":
                raise InvalidTokenResponse(reason=unusable_type_reason(token.token_type))
            return Attempt(headers={"Authorization": f"Bearer {token.access_token}"}, state=token)
        proof = self.key.proof(
            request.method, request.url, self._clock(), access_token=token.access_token
        )
        return Attempt(
            headers={"Authorization": f"DPoP {token.access_token}", "DPoP": proof}, state=token
        )

    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """Send the token with a proof; answer a nonce challenge or a 401 once each."""
        source = self.source
        if first is None:
            token: Token = yield Call(source.get_token, source.aget_token)
            first = self.attempt_for(token, request)
        sent: Token = first.state
        response: HttpResponse = yield first
        self.key.remember(request.url, response)
        if response.status != 401 or not request.can_replay:
            return
        if is_nonce_challenge(response):
            response = yield self.attempt_for(sent, request)
            self.key.remember(request.url, response)
            if response.status != 401:
                return
        yield Call(source.invalidate, source.ainvalidate, (sent,))
        fresh: Token = yield Call(source.get_token, source.aget_token)
        if fresh.access_token == sent.access_token:
            return
        yield self.attempt_for(fresh, request)
