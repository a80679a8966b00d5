"""One deadline per token acquisition.

Strictly private. The ``TokenManager`` starts a ``Deadline`` when a caller sets out to get
a token and makes it *current* (a context variable, so each thread and each asyncio or
trio task sees its own) while the grant flow runs. The senders cap every connect and read
timeout by the time left and check it between body chunks; the retry flow refuses a
back-off or ``Retry-After`` wait longer than what is left. The flows themselves stay free
of I/O: they only read the current deadline, as they read the clock.

Interactive waits (the user approving a device code, a browser login) are not counted:
the flows that wait for a person call ``restart_current()`` afterwards, so each
non-interactive stretch gets the whole deadline, and the interactive wait is bounded by
its own limit (the device code's expiry, ``login_timeout``).
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from typing import Final

from authwire._core.redact import redact_url
from authwire.errors import TokenEndpointTimeout

__all__ = ["DEFAULT_DEADLINE", "Deadline", "current", "restart_current", "within"]

#: Seconds one token acquisition may take with the default timeout (10 s) and retries (2):
#: credentials default to ``timeout`` times the number of attempts.
DEFAULT_DEADLINE: Final = 30.0

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "authwire_deadline", default=None
)


class Deadline:
    """A budget of seconds, measured on the monotonic clock. Strictly private.

    Args:
        seconds: The budget.
        monotonic: The clock (tests may pass their own).
    """

    __slots__ = ("_monotonic", "seconds", "started")

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self.started = monotonic()

    @property
    def at(self) -> float:
        """The monotonic time at which the budget is spent."""
        return self.started + self.seconds

    def left(self) -> float:
        """Seconds left (``0`` once spent, never negative)."""
        return max(0.0, self.at - self._monotonic())

    def elapsed(self) -> float:
        """Seconds since the budget started."""
        return self._monotonic() - self.started

    def expired(self) -> bool:
        """Whether the budget is spent."""
        return self._monotonic() >= self.at

    def restart(self) -> None:
        """Start the whole budget again (after an interactive wait)."""
        self.started = self._monotonic()

    def cap(self, timeout: float) -> float:
        """``timeout`` shortened to the time left (at least a millisecond, never zero)."""
        return max(0.001, min(timeout, self.left()))

    def error(
        self, url: str, reason: str, retry_after: float | None = None
    ) -> TokenEndpointTimeout:
        """The error for a spent budget; ``url`` is redacted here."""
        return TokenEndpointTimeout(
            url=redact_url(url) if url else "",
            reason=reason,
            elapsed=round(self.elapsed(), 3),
            deadline=self.seconds,
            retry_after=retry_after,
        )

    def check(self, url: str, doing: str) -> None:
        """Raise ``TokenEndpointTimeout`` if the budget is spent while ``doing`` something."""
        if self.expired():
            raise self.error(url, f"gave up {doing}")


def current() -> Deadline | None:
    """The deadline of the token acquisition running in this thread or task, if any."""
    return _CURRENT.get()


def restart_current() -> None:
    """Restart the current deadline, if any (flows call this after a person's wait)."""
    deadline = _CURRENT.get()
    if deadline is not None:
        deadline.restart()


@contextlib.contextmanager
def within(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Make ``deadline`` current for the ``with`` block (``None``: no deadline)."""
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)
