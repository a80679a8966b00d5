"""Tokens to and from JSON, versioned.

Strictly private. Version 1 is a JSON object with ``"v": 1``: the token in plain JSON.
Version 2 is a *sealed* entry, written by a cache given a ``CacheCipher``::

    {"v": 2, "alg": "A256GCM", "kid": "<key id>", "iv": "<nonce>", "ct": "<ciphertext>"}

``iv`` and ``ct`` are unpadded URL-safe base64; ``ct`` is the version-1 JSON encrypted
with AES-256-GCM (tag appended). The associated data binds the header (version,
algorithm, key id) and the entry's cache key, so a sealed value copied under another
cache key does not authenticate.

A reader meeting another version, a malformed object, or an entry it may not accept
(plain JSON where it requires sealed entries, a sealed one it has no key for, one that
fails authentication) raises ``ValueError`` (``UnreadableEntry`` with a secret-free
reason for the last group), which caches treat as a corrupt entry (moved aside or
deleted, and fetched again), never as a crash.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import TYPE_CHECKING, Any, Final

from authwire._core.token import Token

if TYPE_CHECKING:
    from authwire.caches.cipher import CacheCipher

__all__ = [
    "FORMAT_VERSION",
    "SEALED_VERSION",
    "UnreadableEntry",
    "decode_entry",
    "decode_token",
    "encode_entry",
    "encode_token",
]

#: The version written by ``encode_token``: the token as plain JSON.
FORMAT_VERSION: Final = 1
#: The version of a sealed entry (``encode_entry`` with a cipher).
SEALED_VERSION: Final = 2
#: The only algorithm of version 2.
_ALG: Final = "A256GCM"


class UnreadableEntry(ValueError):
    """An entry this cache may not accept; the message is a reason free of secrets."""

    def __init__(self, reason: str, *, plaintext: bool = False) -> None:
        super().__init__(reason)
        #: Whether the entry was a plain (version-1) token refused by an encrypting cache.
        self.plaintext = plaintext


def encode_token(token: Token) -> bytes:
    """``token`` as version-1 JSON bytes."""
    data: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "access_token": token.access_token,
        "token_type": token.token_type,
        "expires_at": token.expires_at,
        "refresh_token": token.refresh_token,
        "scope": token.scope,
        "id_token": token.id_token,
        "issued_at": token.issued_at,
        "refresh_expires_at": token.refresh_expires_at,
        "extra": dict(token.extra),
    }
    return json.dumps(data, separators=(",", ":"), default=str).encode()


def _opt(data: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ValueError(f"cached token: {name} has the wrong type")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cached token: {name} is not finite")
    return value


def _time(data: dict[str, Any], name: str) -> float | None:
    value = _opt(data, name, (int, float))
    if value is None:
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond the float range: 10**400
        raise ValueError(f"cached token: {name} is out of range") from None


def decode_token(raw: bytes | str) -> Token:
    """The token in version-1 JSON.

    Raises:
        ValueError: For anything that is not a version-1 token object (so also for JSON
            nested too deeply to decode and for times beyond the float range).
    """
    return _from_object(_load(raw))


def _load(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:  # hostile nesting: "[[[[..."
        raise ValueError("cached token: nested too deeply") from None


def _from_object(data: Any) -> Token:
    if not isinstance(data, dict) or data.get("v") != FORMAT_VERSION:
        raise ValueError("not a version-1 authwire token")
    access_token = data.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ValueError("cached token: no access_token")
    token_type = _opt(data, "token_type", str) or "Bearer"
    extra = data.get("extra") or {}
    if not isinstance(extra, dict):
        raise ValueError("cached token: extra is not an object")
    return Token(
        access_token=access_token,
        token_type=token_type,
        expires_at=_time(data, "expires_at"),
        refresh_token=_opt(data, "refresh_token", str),
        scope=_opt(data, "scope", str),
        id_token=_opt(data, "id_token", str),
        extra=extra,
        issued_at=_time(data, "issued_at"),
        refresh_expires_at=_time(data, "refresh_expires_at"),
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise UnreadableEntry("a malformed sealed entry")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise UnreadableEntry("a malformed sealed entry") from None


def _associated_data(kid: str, key: str) -> bytes:
    # Everything a reader trusts besides the ciphertext: the header and the cache key.
    return f"authwire-cache\x00{SEALED_VERSION}\x00{_ALG}\x00{kid}\x00{key}".encode()


def encode_entry(token: Token, key: str, cipher: CacheCipher | None) -> bytes:
    """What a cache stores for ``token`` under ``key``: plain JSON, or sealed with ``cipher``."""
    data = encode_token(token)
    if cipher is None:
        return data
    kid, nonce, sealed = cipher.seal(data, _associated_data(cipher.key_ids[0], key))
    envelope = {"v": SEALED_VERSION, "alg": _ALG, "kid": kid, "iv": _b64(nonce), "ct": _b64(sealed)}
    return json.dumps(envelope, separators=(",", ":")).encode()


def decode_entry(raw: bytes | str, key: str, cipher: CacheCipher | None) -> Token:
    """The token a cache stored under ``key``.

    With a ``cipher``, only a version-2 entry sealed for ``key`` with one of its keys is
    accepted; without one, only a version-1 entry.

    Raises:
        UnreadableEntry: For an entry of the wrong kind for this cache, or one that fails
            authentication.
        ValueError: For anything else that is not a token.
    """
    data = _load(raw)
    version = data.get("v") if isinstance(data, dict) else None
    if cipher is None:
        if version == SEALED_VERSION:
            raise UnreadableEntry("the entry is encrypted and this cache has no encryption key")
        return _from_object(data)
    if version == FORMAT_VERSION:
        raise UnreadableEntry(
            "the entry is not encrypted and this cache accepts only encrypted entries",
            plaintext=True,
        )
    if version != SEALED_VERSION or data.get("alg") != _ALG:
        raise UnreadableEntry("not an encrypted authwire token")
    kid = data.get("kid")
    if not isinstance(kid, str):
        raise UnreadableEntry("a malformed sealed entry")
    nonce, sealed = _unb64(data.get("iv")), _unb64(data.get("ct"))
    try:
        plain = cipher.open(kid, nonce, sealed, _associated_data(kid, key))
    except ValueError as exc:  # the cipher's reasons hold no secret
        raise UnreadableEntry(str(exc)) from None
    return decode_token(plain)
