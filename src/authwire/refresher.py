"""``Refresher``: background refresh, so no request ever waits for a token.

A credential refreshes its token when a request finds it inside the advisory window, and
that request waits for the token endpoint. A ``Refresher`` refreshes it earlier, on a
daemon thread or an event-loop task, while requests keep using the current token: the
new one simply replaces it. ``next_refresh_in()`` says how long until the next refresh.

The decisions (``next_refresh_in``, the back-off after a failure) are pure functions of
the clock and the held token; ``step()`` does one round, so tests drive it with a
``FakeClock`` and no thread at all.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from typing import Any, Final

from authwire._core.clock import Clock, system_clock
from authwire._core.policy import RefreshPolicy
from authwire._core.token import Token
from authwire._log import logger
from authwire.credentials.base import Credential
from authwire.errors import AuthwireError, ConfigurationError

__all__ = ["Refresher"]

#: Seconds waited when the token never expires: the refresher just idles.
_IDLE: Final = 3600.0
#: The most seconds a refresh is moved ahead of the earliest advisory moment.
MAX_MARGIN: Final = 10.0


class Refresher:
    """Keeps a credential's token fresh in the background.

    The token is refreshed a little before the earliest moment a request could find it
    due (the start of the advisory window, jitter included; for a one-hour token with the
    default windows, 340 s before expiry), so requests always find a fresh token. A
    failed refresh is retried with exponential back-off while the current token stays in
    use.

    Use it as a context manager (a daemon thread)::

        with authwire.Refresher(cred):
            ...

    or on asyncio (``async with authwire.Refresher(cred):``), or on trio with
    ``nursery.start_soon(refresher.run_async)``.

    Args:
        credential: The credential to keep fresh. Credentials with a ``TokenManager``
            (``ClientCredentials``, ``LoginEndpoint``, ``CommandCredential``...) are
            refreshed ahead of time while the current token stays in use; others are
            simply asked for a token when theirs is due.
        retry_delay: Seconds before the first retry after a failed refresh; doubled for
            each further failure, up to ``max_retry_delay``. Default 5.
        max_retry_delay: The longest wait between failed attempts. Default 60.
        min_interval: The shortest wait between two rounds, so a server handing out
            already-due tokens cannot make the refresher spin. Default 1.
        clock: The wall clock. Default: the credential's own.
        on_error: Called with the error of each failed refresh (after it is logged).

    Raises:
        ConfigurationError: For a negative or zero delay, or something not a credential.
    """

    def __init__(
        self,
        credential: Credential,
        *,
        retry_delay: float = 5.0,
        max_retry_delay: float = 60.0,
        min_interval: float = 1.0,
        clock: Clock | None = None,
        on_error: Callable[[AuthwireError], None] | None = None,
    ) -> None:
        if not isinstance(credential, Credential):
            raise ConfigurationError(
                f"Refresher needs an authwire credential, not {type(credential).__name__}"
            )
        for name, value in (
            ("retry_delay", retry_delay),
            ("max_retry_delay", max_retry_delay),
            ("min_interval", min_interval),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigurationError(f"{name} must be > 0 seconds")
        self.credential = credential
        self.retry_delay = float(retry_delay)
        self.max_retry_delay = float(max(max_retry_delay, retry_delay))
        self.min_interval = float(min_interval)
        self._manager: Any = getattr(credential, "manager", None)
        if not hasattr(self._manager, "refresh_ahead"):
            self._manager = None
        self._clock: Clock = clock or getattr(credential, "_clock", None) or system_clock
        self._policy: RefreshPolicy = (
            self._manager.policy if self._manager is not None else RefreshPolicy()
        )
        self._on_error = on_error
        self._failures = 0
        self._retry_at = 0.0
        self._token: Token | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self.refreshes = 0
        """How many refreshes this refresher made (successful ones)."""
        self.failures = 0
        """How many of its refreshes failed."""

    def __repr__(self) -> str:
        return f"Refresher({self.credential!r})"

    # -- decisions ---------------------------------------------------------------------

    def _held(self) -> Token | None:
        if self._manager is not None:
            token: Token | None = self._manager.current
            return token
        return self._token

    def refresh_at(self, token: Token) -> float:
        """When ``token`` is refreshed: just before any request could find it due.

        That is a margin before the earliest start of its advisory window (jitter
        included). The margin is the jitter's span again (a tenth of the advisory window by
        default), at most ``MAX_MARGIN`` seconds.
        """
        schedule = self._policy.schedule(token, 1.0)
        earliest = schedule.refresh_at
        if token.expires_at is None or not math.isfinite(earliest):
            return earliest
        span = self._policy.schedule(token, 0.0).refresh_at - earliest
        return earliest - min(span, MAX_MARGIN)

    def next_refresh_in(self) -> float | None:
        """Seconds until the next refresh; ``0`` if due now, ``None`` if never.

        ``None`` means the token has no expiry: it is replaced only if a server rejects it.
        """
        now = self._clock()
        if self._failures and now < self._retry_at:
            return self._retry_at - now
        token = self._held()
        if token is None:
            return 0.0
        if token.expires_at is None:
            return None
        return max(self.refresh_at(token) - now, 0.0)

    def _wait_after(self, refreshed: bool) -> float:
        if not refreshed:
            return max(self._retry_at - self._clock(), self.min_interval)
        wait = self.next_refresh_in()
        return _IDLE if wait is None else max(wait, self.min_interval)

    def _succeeded(self, before: Token | None, after: Token) -> bool:
        if self._manager is not None and before is not None and after is before:
            # refresh_ahead handed back the held token: the refresh failed (already logged)
            # or another caller is refreshing; either way, try again after a back-off.
            self._failed(None)
            return False
        self._token = after
        self._failures = 0
        self.refreshes += 1
        return True

    def _failed(self, error: AuthwireError | None) -> None:
        self._failures += 1
        self.failures += 1
        delay = min(self.retry_delay * 2 ** (self._failures - 1), self.max_retry_delay)
        self._retry_at = self._clock() + delay
        if error is not None:
            logger.warning(
                "background refresh failed for %r (retrying in %.1fs): %s",
                self.credential,
                delay,
                error,
            )
            if self._on_error is not None:
                try:
                    self._on_error(error)
                except Exception:  # a broken hook must not stop the refresher
                    logger.exception("Refresher on_error hook raised")

    # -- one round ---------------------------------------------------------------------

    def step(self) -> float:
        """Refresh if due; return the seconds to wait before the next round."""
        wait = self.next_refresh_in()
        if wait is None:
            return _IDLE
        if wait > 0:
            return wait
        before = self._held()
        try:
            if self._manager is not None:
                after = self._manager.refresh_ahead()
            else:
                after = self.credential.get_token()
        except AuthwireError as exc:
            self._failed(exc)
            return self._wait_after(False)
        return self._wait_after(self._succeeded(before, after))

    async def astep(self) -> float:
        """``step`` for asyncio and trio: the refresh never blocks the event loop."""
        wait = self.next_refresh_in()
        if wait is None:
            return _IDLE
        if wait > 0:
            return wait
        before = self._held()
        try:
            if self._manager is not None:
                after = await self._manager.arefresh_ahead()
            else:
                after = await self.credential.aget_token()
        except AuthwireError as exc:
            self._failed(exc)
            return self._wait_after(False)
        return self._wait_after(self._succeeded(before, after))

    # -- a daemon thread ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the background thread or task is running."""
        thread, task = self._thread, self._task
        return (thread is not None and thread.is_alive()) or (task is not None and not task.done())

    def start(self) -> Refresher:
        """Start refreshing on a daemon thread (the first token is fetched at once).

        Raises:
            ConfigurationError: If it is already running.
        """
        if self.running:
            raise ConfigurationError("this Refresher is already running")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"authwire-refresher-{id(self):x}", daemon=True
        )
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.step()
            except Exception:  # never die silently: log, back off, go on
                logger.exception("background refresh of %r raised", self.credential)
                wait = self.max_retry_delay
            self._stop.wait(wait if math.isfinite(wait) else _IDLE)

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the thread and wait up to ``timeout`` seconds for a refresh in progress."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Refresher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- an event-loop task ------------------------------------------------------------

    async def run_async(self) -> None:
        """Refresh forever on the running event loop (asyncio or trio); cancel to stop."""
        from authwire._aio import RUNTIME

        while True:
            try:
                wait = await self.astep()
            except Exception:  # never die silently: log, back off, go on
                logger.exception("background refresh of %r raised", self.credential)
                wait = self.max_retry_delay
            await RUNTIME.sleep(wait)

    async def __aenter__(self) -> Refresher:
        """Start refreshing in an asyncio task (on trio use ``run_async`` in a nursery).

        Raises:
            ConfigurationError: Outside asyncio, or if it is already running.
        """
        import sniffio

        if sniffio.current_async_library() != "asyncio":
            raise ConfigurationError(
                "async with Refresher(...) needs asyncio; on trio use "
                "nursery.start_soon(refresher.run_async)"
            )
        if self.running:
            raise ConfigurationError("this Refresher is already running")
        self._task = asyncio.get_running_loop().create_task(self.run_async())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    async def astop(self) -> None:
        """Cancel the asyncio task and wait for it to end."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait({task})  # raises only if *we* are cancelled meanwhile
