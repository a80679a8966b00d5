"""authwire's logger and its refresh events.

Strictly private. Everything authwire logs goes through the ``authwire`` logger and is
built from values that hold no secret (token fingerprints, redacted URLs, reasons).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

__all__ = ["RefreshEvent", "logger"]

logger: Final = logging.getLogger("authwire")


@dataclass(frozen=True, slots=True)
class RefreshEvent:
    """One token refresh, as seen by ``on_refresh=`` hooks and the ``authwire`` logger.

    Attributes:
        credential: The credential's description (its repr, which holds no secret).
        reason: Why: ``absent``, ``expired``, ``mandatory``, ``advisory`` or ``rejected``
            (a server answered 401).
        outcome: ``fetched`` (new token from the endpoint), ``cached`` (another process
            or credential had already refreshed), ``fallback`` (refresh failed, the
            still-valid token is used) or ``failed``.
        duration: Seconds the refresh took.
        token: A fingerprint of the new token (not the token), if any.
        expires_at: The new token's expiry, if any.
        error: The error's message (secret-free), if the refresh failed.
    """

    credential: str
    reason: str
    outcome: str
    duration: float
    token: str | None = None
    expires_at: float | None = None
    error: str | None = None
