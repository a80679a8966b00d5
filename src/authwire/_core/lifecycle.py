"""The pure state of one credential's token: who refreshes, who waits, what is invalid.

Strictly private. ``TokenLifecycle`` is a small state machine with no locks and no I/O;
``authwire.manager.TokenManager`` calls it under its own lock and does the waiting and the
fetching. Keeping the decisions here lets the tests step every interleaving by hand.

The rules:

* absent or MANDATORY token, nobody refreshing  -> this caller refreshes (``Action.REFRESH``)
* absent or MANDATORY token, a refresh running  -> wait for it (``Action.WAIT``)
* ADVISORY token, nobody refreshing             -> this caller refreshes, but may fall back
  to the valid token if that fails (``Action.REFRESH``)
* ADVISORY token, a refresh running              -> use the valid token (``Action.USE``)
* FRESH token                                    -> use it
* after a failed advisory refresh, calls use the valid token without retrying until a
  back-off has passed, so a dead identity provider does not slow every request.
* ``invalidate(token)`` is compare-and-invalidate: only the token now held is dropped; a
  token another caller already replaced is left alone, so one 401 seen by many callers
  causes one refresh.
"""

from __future__ import annotations

import enum
import hashlib
from collections import deque
from dataclasses import dataclass, field

from authwire._core.policy import Freshness, RefreshPolicy, Schedule
from authwire._core.token import Token

__all__ = ["Action", "Decision", "TokenLifecycle", "token_fingerprint"]

#: Back-off after a failed advisory refresh, doubled on each failure, at most the cap.
ADVISORY_RETRY_BASE = 5.0
ADVISORY_RETRY_CAP = 60.0


def token_fingerprint(token: Token) -> str:
    """A short, non-reversible name for a token, for logs and rejected-token bookkeeping."""
    return hashlib.sha256(token.access_token.encode()).hexdigest()[:12]


class Action(enum.Enum):
    """What a caller must do."""

    USE = "use"
    REFRESH = "refresh"
    WAIT = "wait"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one ``get_token`` call.

    Attributes:
        action: What to do.
        token: The token to use (``USE``), or the token being replaced (``REFRESH``).
        reason: Why a refresh is needed: ``absent``, ``expired``, ``mandatory``,
            ``advisory`` or ``invalidated``.
        fallback: For ``REFRESH`` in the advisory window: the token to use if it fails.
    """

    action: Action
    token: Token | None = None
    reason: str = ""
    fallback: Token | None = None


@dataclass(slots=True)
class TokenLifecycle:
    """The mutable, lock-free state of one credential's token. Not thread-safe by design.

    Attributes:
        policy: The refresh policy.
        token: The token held, or ``None``.
        schedule: ``token``'s schedule.
        refreshing: Whether a refresh is running.
        generation: Incremented whenever ``token`` changes; lets fast paths notice.
    """

    policy: RefreshPolicy
    token: Token | None = None
    schedule: Schedule | None = None
    refreshing: bool = False
    generation: int = 0
    invalidated_reason: str = ""
    advisory_retry_at: float = 0.0
    advisory_failures: int = 0
    rejected: deque[str] = field(default_factory=lambda: deque(maxlen=16))

    def decide(self, now: float) -> Decision:
        """What a caller arriving at ``now`` must do."""
        token, schedule = self.token, self.schedule
        if token is None or schedule is None:
            reason = self.invalidated_reason or "absent"
            if self.refreshing:
                return Decision(Action.WAIT, reason=reason)
            return Decision(Action.REFRESH, reason=reason)
        freshness = schedule.decide(now)
        if freshness is Freshness.FRESH:
            return Decision(Action.USE, token)
        if freshness is Freshness.ADVISORY:
            if self.refreshing or now < self.advisory_retry_at:
                return Decision(Action.USE, token)
            return Decision(Action.REFRESH, token, "advisory", fallback=token)
        reason = "expired" if token.is_expired(now) else "mandatory"
        if self.refreshing:
            return Decision(Action.WAIT, token, reason)
        return Decision(Action.REFRESH, token, reason)

    def begin(self) -> None:
        """A caller starts refreshing (after ``decide`` said ``REFRESH``)."""
        self.refreshing = True

    def succeed(self, token: Token, u: float = 0.0) -> None:
        """The refresh produced ``token``; ``u`` in [0, 1) draws its jitter."""
        self.token = token
        self.schedule = self.policy.schedule(token, u)
        self.refreshing = False
        self.generation += 1
        self.invalidated_reason = ""
        self.advisory_failures = 0
        self.advisory_retry_at = 0.0

    def fail(self, now: float, fallback: Token | None, u: float = 0.0) -> Token | None:
        """The refresh failed at ``now``. Returns the token to use instead, if any.

        ``fallback`` (the advisory token held, or a still-valid one read from a cache) is
        used only while it is before its mandatory window; the next attempt is then
        deferred by a back-off so a dead identity provider does not slow every request.
        """
        self.refreshing = False
        if fallback is None:
            return None
        schedule = self.schedule if self.token is fallback else self.policy.schedule(fallback, u)
        if schedule is None or schedule.decide(now) is Freshness.MANDATORY:
            return None
        if self.token is not fallback:
            self.token, self.schedule = fallback, schedule
            self.generation += 1
        self.advisory_failures += 1
        delay = min(ADVISORY_RETRY_BASE * 2 ** (self.advisory_failures - 1), ADVISORY_RETRY_CAP)
        # Never defer past the mandatory window: from there callers must wait anyway.
        self.advisory_retry_at = min(now + delay, schedule.must_refresh_at)
        return fallback

    def abandon(self) -> None:
        """The refreshing caller went away (cancelled) without an outcome."""
        self.refreshing = False

    def invalidate(self, token: Token, reason: str = "invalidated") -> bool:
        """Drop ``token`` if it is the one held (compare-and-invalidate).

        Returns:
            True if the held token was dropped; False if another caller already replaced it.
        """
        self.rejected.append(token_fingerprint(token))
        held = self.token
        if held is None or held.access_token != token.access_token:
            return False
        self.token = None
        self.schedule = None
        self.generation += 1
        self.invalidated_reason = reason
        return True

    def is_rejected(self, token: Token) -> bool:
        """Whether ``token`` was invalidated recently (a cache must not hand it back)."""
        return token_fingerprint(token) in self.rejected
