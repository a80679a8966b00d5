"""Helpers for testing code that uses authwire (shipped as API, like stamina's).

Example:
    >>> from authwire.testing import FakeClock, make_token
    >>> clock = FakeClock(1_000.0)
    >>> token = make_token(expires_in=60, clock=clock)
    >>> clock.advance(61); token.is_expired(clock())
    True
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from typing import Any

from authwire._core.token import Token

__all__ = ["FakeClock", "make_jwt", "make_token"]


class FakeClock:
    """A wall clock that moves only when told to; pass it as ``clock=``.

    Args:
        now: The starting time in epoch seconds. Default 1,700,000,000.
    """

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        """The current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        self.now += seconds

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now})"


def make_jwt(claims: Mapping[str, Any]) -> str:
    """An **unsigned** JWT carrying ``claims`` (``alg: none``), for tests that read claims."""

    def part(data: Mapping[str, Any]) -> str:
        raw = json.dumps(dict(data), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def make_token(
    *,
    expires_in: float | None = 3600.0,
    clock: FakeClock | None = None,
    access_token: str | None = None,
    **fields: Any,
) -> Token:
    """A ``Token`` received now (by ``clock``) that expires in ``expires_in`` seconds.

    Args:
        expires_in: Lifetime in seconds; ``None`` for a token without expiry.
        clock: The clock that says "now". Default: a new ``FakeClock``.
        access_token: The token string. Default: random.
        **fields: Other ``Token`` fields (``refresh_token``, ``scope``, ...).
    """
    now = (clock or FakeClock())()
    return Token(
        access_token=access_token or secrets.token_urlsafe(24),
        expires_at=None if expires_in is None else now + expires_in,
        issued_at=now,
        **fields,
    )
