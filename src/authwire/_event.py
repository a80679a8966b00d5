"""``RefreshEvent``: one token refresh, for ``on_refresh=`` hooks and the logger.

Strictly private; re-exported as ``authwire.RefreshEvent``. Kept apart from ``_log`` so
that the integrations, which log, do not import ``dataclasses`` for an event only token
refreshes make.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RefreshEvent"]


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
        cache_error: Why the new token could not be written to the cache, if it could
            not (secret-free). The token is still used from memory, so ``outcome`` stays
            ``fetched``; the next refresh writes the cache again. A cache that could not
            be read or locked is named here too (``read: ...``, ``lock: ...``): the
            refresh went on without it.
    """

    credential: str
    reason: str
    outcome: str
    duration: float
    token: str | None = None
    expires_at: float | None = None
    error: str | None = None
    cache_error: str | None = None
