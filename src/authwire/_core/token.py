"""``Token``: an access token and what came with it.

Strictly private; re-exported as ``authwire.Token``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from authwire._core.redact import REDACTED

__all__ = ["Token", "decode_jwt_claims", "unusable_type_reason"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_CANONICAL_TYPES: Mapping[str, str] = MappingProxyType({"bearer": "Bearer", "dpop": "DPoP"})


def unusable_type_reason(token_type: str) -> str:
    """Why a token of ``token_type`` is not sent (RFC 6749 section 7.1), for error messages.

    A client must not use a token whose type it does not understand: sending a ``MAC`` or
    proof-of-possession token as a bearer token hands it to whoever reads the request.
    """
    shown = token_type[:40]
    if token_type.lower() == "dpop":
        return (
            "token_type 'DPoP' is bound to a key and needs a proof on every request; "
            "create the credential with dpop=True"
        )
    return (
        f"token_type {shown!r} is not one authwire can send: it sends Bearer tokens, and "
        "DPoP tokens with dpop=True (RFC 6749 section 7.1: a client does not use a token "
        "type it does not understand)"
    )


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, decoded **without verifying** its signature.

    For expiry and display only: authwire never treats a token as valid because it decoded.
    Returns ``{}`` for anything that is not a JWS compact serialization with a JSON payload.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):  # RecursionError: hostile nesting
        return {}
    return claims if isinstance(claims, dict) else {}


@dataclass(frozen=True, slots=True)
class Token:
    """An access token with its type, expiry and companions. Immutable.

    Its ``repr`` never shows the access, refresh or ID token.

    Attributes:
        access_token: The token sent to APIs.
        token_type: ``"Bearer"`` or ``"DPoP"`` (normalised from any case), or what the server
            said.
        expires_at: Expiry in epoch seconds, or ``None`` if the server gave none.
        refresh_token: The refresh token, if any.
        scope: The granted scope (space-separated), if the server said.
        id_token: The OpenID Connect ID token, if any.
        extra: Every other field of the token response.
        issued_at: Local time the token was received (epoch seconds); with ``expires_at`` it
            gives the token's lifetime, which shrinks the refresh windows for short tokens.
        refresh_expires_at: When the refresh token expires, if the server said
            (``refresh_expires_in``).

    Example:
        >>> t = Token("abc", expires_at=1_700_000_600.0, issued_at=1_700_000_000.0)
        >>> t
        Token(token_type='Bearer', expires_at=1700000600.0, access_token='***')
    """

    access_token: str
    token_type: str = "Bearer"
    expires_at: float | None = None
    refresh_token: str | None = None
    scope: str | None = None
    id_token: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    issued_at: float | None = None
    refresh_expires_at: float | None = None

    def __post_init__(self) -> None:
        # RFC 6749 section 5.1: token_type is case-insensitive; keep the canonical spellings.
        canonical = _CANONICAL_TYPES.get(self.token_type.lower())
        if canonical is not None and self.token_type != canonical:
            object.__setattr__(self, "token_type", canonical)
        if not isinstance(self.extra, MappingProxyType):
            object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def __repr__(self) -> str:
        parts = [f"token_type={self.token_type!r}", f"expires_at={self.expires_at!r}"]
        if self.scope is not None:
            parts.append(f"scope={self.scope!r}")
        parts.append(f"access_token={REDACTED!r}")
        if self.refresh_token is not None:
            parts.append(f"refresh_token={REDACTED!r}")
        if self.id_token is not None:
            parts.append(f"id_token={REDACTED!r}")
        return f"Token({', '.join(parts)})"

    __str__ = __repr__

    def __hash__(self) -> int:
        return hash((self.access_token, self.token_type, self.expires_at))

    def __reduce__(self) -> tuple[Any, ...]:
        # MappingProxyType does not pickle; rebuild from a plain dict.
        return (
            _rebuild_token,
            (
                self.access_token,
                self.token_type,
                self.expires_at,
                self.refresh_token,
                self.scope,
                self.id_token,
                dict(self.extra),
                self.issued_at,
                self.refresh_expires_at,
            ),
        )

    @property
    def claims(self) -> dict[str, Any]:
        """The access token's JWT claims, **unverified**; ``{}`` for an opaque token."""
        return decode_jwt_claims(self.access_token)

    @property
    def id_claims(self) -> dict[str, Any]:
        """The ID token's claims, **unverified**; ``{}`` without an ID token."""
        return decode_jwt_claims(self.id_token) if self.id_token else {}

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scope as a set of strings."""
        return frozenset(self.scope.split()) if self.scope else frozenset()

    def expires_in(self, now: float) -> float | None:
        """Seconds until expiry at ``now`` (negative once expired), or ``None`` if unknown."""
        return None if self.expires_at is None else self.expires_at - now

    def is_expired(self, now: float) -> bool:
        """True once ``now`` has reached ``expires_at``; a token without expiry never is."""
        return self.expires_at is not None and now >= self.expires_at

    @property
    def lifetime(self) -> float | None:
        """Seconds between receipt and expiry, when both are known."""
        if self.expires_at is None or self.issued_at is None:
            return None
        return self.expires_at - self.issued_at


def _rebuild_token(*args: Any) -> Token:
    return Token(*args)
