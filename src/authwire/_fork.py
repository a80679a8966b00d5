"""Forked children start clean. Strictly private.

A process that forks (gunicorn ``--preload``, Celery prefork, ``multiprocessing`` with
the fork start method) copies every lock and every refresh in progress into the child,
but none of the threads that would release or finish them. Without help, the child's
first ``get_token()`` waits forever for a flight that only exists in the parent, or for
a mutex held by a thread that was not copied.

Objects holding such state register here (weakly: a registration never keeps anything
alive) and implement ``_after_fork_in_child()``; one ``os.register_at_fork`` hook calls
them in the child, on its only thread, before the child runs anything else. Each resets
only its own state: new mutexes, no flight, no held lease or lock file, no pooled
connection shared with the parent. Tokens already held stay: they are as valid in the
child as in the parent.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from typing import Protocol

__all__ = ["ForkAware", "forget", "register"]


class ForkAware(Protocol):
    """An object with process-local state to reset in a forked child."""

    def _after_fork_in_child(self) -> None:
        """Reset the state the parent's threads held (runs in the child, single-threaded)."""
        ...


_live: weakref.WeakSet[ForkAware] = weakref.WeakSet()
_live_mutex = threading.Lock()


def register(obj: ForkAware) -> None:
    """Reset ``obj`` in every forked child for as long as it lives."""
    with _live_mutex:
        _live.add(obj)


def forget(obj: ForkAware) -> None:
    """Stop resetting ``obj`` (it no longer holds anything process-local)."""
    with _live_mutex:
        _live.discard(obj)


def _after_fork_in_child() -> None:
    global _live_mutex
    # The parent's threads may have held the registry's own mutex at the fork.
    _live_mutex = threading.Lock()
    for obj in list(_live):
        # One object's failure must not stop the others from resetting.
        with contextlib.suppress(Exception):
            obj._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
