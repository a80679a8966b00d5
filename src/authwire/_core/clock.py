"""Time, injected.

Strictly private. Expiry is wall-clock time (epoch seconds) because tokens are shared
through caches across processes and hosts; tests inject ``authwire.testing.FakeClock``.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "system_clock"]


class Clock(Protocol):
    """Something that tells the time in epoch seconds."""

    def __call__(self) -> float:
        """The current time, in seconds since the epoch."""
        ...


system_clock: Clock = time.time
"""The real wall clock (``time.time``)."""
