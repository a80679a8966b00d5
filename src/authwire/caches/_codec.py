"""Tokens to and from JSON, versioned.

Strictly private. Version 1 is a JSON object with ``"v": 1``; a reader meeting another
version or a malformed object raises ``ValueError``, which caches treat as a corrupt
entry (moved aside and fetched again), never as a crash.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

from authwire._core.token import Token

__all__ = ["FORMAT_VERSION", "decode_token", "encode_token"]

#: The version written by ``encode_token``.
FORMAT_VERSION: Final = 1


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
    try:
        data = json.loads(raw)
    except RecursionError:  # hostile nesting: "[[[[..."
        raise ValueError("cached token: nested too deeply") from None
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
