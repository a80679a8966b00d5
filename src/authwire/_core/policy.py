"""When to refresh a token: the advisory and mandatory windows.

Strictly private. After botocore and google-auth: a token inside the *advisory* window is
refreshed by the first caller, who falls back to the still-valid token if that fails;
inside the *mandatory* window (or expired) a caller must get a new token or an error.

Both windows shrink for short-lived tokens (advisory at most half the lifetime, mandatory
at most a tenth), so a 60-second token is not refreshed on every call, and a random jitter
(a fraction of the advisory window, drawn once per token) keeps a fleet from refreshing in
lockstep. A token that arrives already expired (``expires_in`` of ``0`` or less, a
misconfigured provider) is used for a floor of ``min_lifetime`` seconds rather than
refetched at every call. Decisions are pure: ``schedule(token, u)`` is computed once per token, and
``Schedule.decide(now)`` is two float comparisons, cheap enough for every request.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Final

from authwire._core.token import Token

__all__ = [
    "DEFAULT_ADVISORY",
    "DEFAULT_MANDATORY",
    "DEFAULT_MIN_LIFETIME",
    "Freshness",
    "RefreshPolicy",
    "Schedule",
]

#: Seconds before expiry at which the first caller refreshes (advisory window).
DEFAULT_ADVISORY: Final = 300.0
#: Seconds before expiry inside which no caller may use the token (mandatory window).
DEFAULT_MANDATORY: Final = 30.0
#: Seconds a token that arrived already expired is used before a new one is asked for.
DEFAULT_MIN_LIFETIME: Final = 10.0
#: Largest share of the advisory window added at random to spread a fleet's refreshes.
DEFAULT_JITTER: Final = 0.1


class Freshness(enum.Enum):
    """Where a token stands at a given time."""

    FRESH = "fresh"
    """Use it."""
    ADVISORY = "advisory"
    """Still valid; the first caller should refresh, others keep using it."""
    MANDATORY = "mandatory"
    """Too close to expiry (or expired, or absent): a new token is needed."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """The two moments that matter for one token.

    Attributes:
        refresh_at: From here on the token is in the advisory window.
        must_refresh_at: From here on it is in the mandatory window.
    """

    refresh_at: float
    must_refresh_at: float

    def decide(self, now: float) -> Freshness:
        """The token's freshness at ``now``."""
        if now < self.refresh_at:
            return Freshness.FRESH
        if now < self.must_refresh_at:
            return Freshness.ADVISORY
        return Freshness.MANDATORY


#: The schedule of a token that never expires: refreshed only when a server rejects it.
NEVER: Final = Schedule(math.inf, math.inf)


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    """How early tokens are refreshed. An immutable value.

    Args:
        advisory: Seconds before expiry at which refreshing starts (the ``leeway=`` of
            credentials). ``0`` disables proactive refresh: the token is used until the
            mandatory window. Default 300.
        mandatory: Seconds before expiry after which the token is no longer used.
            ``0`` uses a token until the second it expires. Default 30.
        jitter: Largest fraction of the advisory window by which a token's refresh is
            moved earlier at random. ``0`` disables jitter. Default 0.1.
        min_lifetime: Seconds a token whose lifetime is ``0`` or less (it arrived
            expired) is used after receipt before it is due. ``0`` makes it due at once
            (a token request per call). Default 10.

    Raises:
        ValueError: If a window is negative or ``jitter`` is not within [0, 1].
    """

    advisory: float = DEFAULT_ADVISORY
    mandatory: float = DEFAULT_MANDATORY
    jitter: float = DEFAULT_JITTER
    min_lifetime: float = DEFAULT_MIN_LIFETIME

    def __post_init__(self) -> None:
        if self.advisory < 0 or self.mandatory < 0:
            raise ValueError("refresh windows must be >= 0 seconds")
        if not 0 <= self.min_lifetime < math.inf:
            raise ValueError("min_lifetime must be >= 0 seconds")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def schedule(self, token: Token, u: float = 0.0) -> Schedule:
        """The refresh schedule of ``token``.

        Args:
            token: The token; without ``expires_at`` it is never refreshed proactively.
            u: A random number in [0, 1) drawn once per token; scales the jitter.
        """
        expires_at = token.expires_at
        if expires_at is None:
            return NEVER
        advisory, mandatory = self.advisory, self.mandatory
        lifetime = token.lifetime
        if lifetime is not None and lifetime <= 0 and token.issued_at is not None:
            # Arrived expired: use it for the floor, then fetch anew (no advisory phase).
            due = token.issued_at + self.min_lifetime
            return Schedule(due, due)
        if lifetime is not None and lifetime > 0:
            advisory = min(advisory, lifetime / 2)
            mandatory = min(mandatory, lifetime / 10)
        advisory = max(advisory, mandatory)
        early = advisory * self.jitter * min(max(u, 0.0), 1.0)
        return Schedule(expires_at - advisory - early, expires_at - mandatory)

    def decide(self, token: Token | None, now: float, u: float = 0.0) -> Freshness:
        """Freshness of ``token`` at ``now`` (``None`` counts as MANDATORY)."""
        if token is None:
            return Freshness.MANDATORY
        return self.schedule(token, u).decide(now)
