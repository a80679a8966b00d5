"""``TokenManager``: single-flight refresh for threads and asyncio/trio tasks at once.

The decisions are made by the pure ``TokenLifecycle``; this shell adds a mutex held only
for those decisions, a *flight* (the one refresh in progress, which any number of
threads and tasks wait on), the cache and its cross-process lock, and the drivers that
run the credential's grant flow. A sync and an async caller share one flight; sync
callers wait on a ``threading.Event``, async callers on a future woken from whichever
thread finishes, so the event loop is never blocked. No lock is ever held while a
user's request is in flight.

Every caller has its own deadline (``deadline=``): a refresher runs its grant flow within
it, and a waiter waits at most that long, whatever the refresher does. A refresher still
running past its own deadline (stuck in a blocking call) no longer holds the others: the
next caller starts exactly one new flight.

A cache is an optimisation, never a dependency: if its ``get``, ``lock`` or ``set``
fails, the refresh goes on without it (a direct fetch, with a logged warning and the
failure in the ``RefreshEvent``). On the async path every cache call and every wait for
a cache's lock runs in a worker thread or is awaited, so the loop never blocks on
another thread's refresh. A forked child starts clean (``authwire._fork``): no flight,
new mutexes, no token-endpoint client shared with the parent.
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from authwire._core.clock import Clock, system_clock
from authwire._core.deadline import Deadline, within
from authwire._core.flow import Flow, drive_async, drive_sync
from authwire._core.lifecycle import Action, TokenLifecycle, token_fingerprint
from authwire._core.policy import Freshness, RefreshPolicy
from authwire._core.token import Token
from authwire._event import RefreshEvent
from authwire._fork import register as _register_fork
from authwire._log import logger
from authwire.caches.base import CacheLock, TokenCache
from authwire.credentials._sender import AsyncSender, Sender, discard_inherited
from authwire.errors import AuthwireError, ConfigurationError

__all__ = ["TokenManager"]

#: Seconds past a refresher's deadline after which waiters stop waiting for it and one of
#: them starts a new flight (the refresher's own bound may overshoot by a read).
STALE_GRACE = 1.0


class _Flight:
    """The refresh in progress, and everyone waiting for it. Strictly private."""

    __slots__ = (
        "_callbacks",
        "_mutex",
        "done",
        "error",
        "failure",
        "loop_thread",
        "stale_at",
        "takeover",
        "token",
    )

    def __init__(self, loop_thread: int | None, stale_at: float = math.inf) -> None:
        self.done = threading.Event()
        self.token: Token | None = None
        self.error: BaseException | None = None
        self.failure: BaseException | None = None  # the refresh's error, even if a fallback hid it
        self.loop_thread = loop_thread  # the thread of an async refresher's event loop
        self.stale_at = stale_at  # monotonic time from which waiters give up on it
        self.takeover = False  # replaces a stuck flight, which may still hold the cache lock
        self._mutex = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[], None]) -> None:
        with self._mutex:
            if not self.done.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def finish(self, token: Token | None, error: BaseException | None) -> None:
        with self._mutex:
            self.token, self.error = token, error
            self.done.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def outcome(self) -> Token | None:
        """The token, or raise the refresher's error; ``None`` if the refresher gave up."""
        if self.error is not None:
            raise self.error
        return self.token

    def orphan(self) -> None:
        """In a forked child: the refresher is a thread of the parent; give up for it.

        The mutex and event are new (a parent's thread may have held them at the fork),
        and the waiters of the forking thread's own event loop, if any, wake and retry.
        """
        self._mutex = threading.Lock()
        self.done = threading.Event()
        with contextlib.suppress(Exception):
            self.finish(None, None)


R = TypeVar("R")
SenderFactory = Callable[[], Sender]
AsyncSenderFactory = Callable[[], AbstractAsyncContextManager[AsyncSender]]


class TokenManager:
    """Owns one credential's token: memory copy, cache, refresh policy and single flight.

    Args:
        fetch: Makes the grant flow that obtains a new token.
        key: The cache key of the credential's identity.
        cache: Where tokens are shared with other credentials, processes or hosts.
        policy: When tokens are refreshed.
        sender: Makes the sync sender for token requests.
        async_sender: Makes an async sender (a context manager) for token requests.
        name: A secret-free description for logs and events.
        clock: The wall clock.
        on_refresh: Called with a ``RefreshEvent`` after every refresh attempt.
        deadline: Seconds one caller may spend getting a token (fetching or waiting for
            another caller's fetch); ``None`` for no bound.
    """

    def __init__(
        self,
        *,
        fetch: Callable[[Token | None], Flow[Token]],
        key: str,
        cache: TokenCache,
        policy: RefreshPolicy,
        sender: SenderFactory,
        async_sender: AsyncSenderFactory,
        name: str,
        clock: Clock = system_clock,
        on_refresh: Callable[[RefreshEvent], None] | None = None,
        on_token: Callable[[Token], None] | None = None,
        deadline: float | None = None,
    ) -> None:
        self._fetch = fetch
        self.key = key
        self.cache = cache
        self._sender_factory = sender
        self._async_sender = async_sender
        self._sender: Sender | None = None
        self.name = name
        self._clock = clock
        self._on_refresh = on_refresh
        self._on_token = on_token
        self.deadline = deadline
        self._life = TokenLifecycle(policy)
        self._mutex = threading.Lock()
        self._flight: _Flight | None = None
        # (token, fresh until): read without the mutex on every request.
        self._snapshot: tuple[Token, float] | None = None
        # The cache entry the refresh in progress read, as a 1-tuple (``None``: no read),
        # so that flows reading ``stored()`` do no cache I/O of their own.
        self._read: tuple[Token | None] | None = None
        _register_fork(self)

    def _after_fork_in_child(self) -> None:
        """Start clean in a forked child: no flight, a new mutex, a sender of our own."""
        self._mutex = threading.Lock()
        flight, self._flight = self._flight, None
        if flight is not None:
            self._life.abandon()
            flight.orphan()
        self._read = None
        sender, self._sender = self._sender, None
        if sender is not None:
            discard_inherited(sender)

    @property
    def policy(self) -> RefreshPolicy:
        """The refresh policy."""
        return self._life.policy

    # -- the hot path ------------------------------------------------------------------

    def peek(self, now: float) -> Token | None:
        """The current token if it is fresh at ``now``; no lock, no I/O."""
        snapshot = self._snapshot
        if snapshot is not None and now < snapshot[1]:
            return snapshot[0]
        return None

    @property
    def current(self) -> Token | None:
        """The token held in memory, fresh or not (for ``status`` displays)."""
        return self._life.token

    # -- hooks for credentials -----------------------------------------------------------

    def use_senders(self, sender: SenderFactory, async_sender: AsyncSenderFactory) -> None:
        """Send token requests through other clients from now on.

        For credentials whose endpoint needs a TLS setup of their own (a client
        certificate, a CA bundle). A sync sender already made is dropped.

        Args:
            sender: Makes the sync sender.
            async_sender: Makes an async sender (a context manager), once per refresh.
        """
        with self._mutex:
            self._sender_factory = sender
            self._async_sender = async_sender
            self._sender = None

    @contextlib.contextmanager
    def open_sender(self) -> Iterator[Sender]:
        """A sync sender of its own for one exchange besides refreshes (revocation).

        Closed on exit, unless it is the user's own client.
        """
        sender = self._sender_factory()
        try:
            yield sender
        finally:
            close = getattr(sender, "close", None)
            if close is not None:
                close()

    def open_async_sender(self) -> AbstractAsyncContextManager[AsyncSender]:
        """An async sender for one exchange besides refreshes (revocation)."""
        return self._async_sender()

    def stored(self) -> Token | None:
        """The newest token known, for flows that build on it (a refresh token to use).

        The token held in memory; else, during a refresh, the cache entry that refresh
        read (no I/O: safe inside a flow on an event loop); else the cache's entry, read
        now. A cache that fails to answer gives ``None`` (logged), never an error.
        """
        snapshot = self._snapshot
        if snapshot is not None:
            return snapshot[0]
        read = self._read
        if read is not None:
            return read[0]
        return self._read_cache()[0]

    async def astored(self) -> Token | None:
        """``stored()`` for async code: a cache read runs in a worker thread."""
        snapshot = self._snapshot
        if snapshot is not None:
            return snapshot[0]
        read = self._read
        if read is not None:
            return read[0]
        return (await self._cache_call(self._read_cache))[0]

    # -- deciding ----------------------------------------------------------------------

    def _decide(
        self, loop_thread: int | None
    ) -> tuple[Action, Token | None, str, Token | None, _Flight | None]:
        with self._mutex:
            decision = self._life.decide(self._clock())
            if decision.action is Action.USE:
                return decision.action, decision.token, "", None, None
            action = decision.action
            if action is Action.WAIT:
                stuck = self._flight
                if stuck is None or time.monotonic() < stuck.stale_at:
                    return action, decision.token, decision.reason, None, stuck
                # The refresher is past its deadline: this caller starts the one new flight.
                logger.warning(
                    "token refresh for %s is past its deadline; starting a new one", self.name
                )
                action = Action.REFRESH
            self._life.begin()
            flight = self._flight = self._new_flight(loop_thread)
            flight.takeover = action is not decision.action
            return action, decision.token, decision.reason, decision.fallback, flight

    def _new_flight(self, loop_thread: int | None) -> _Flight:
        deadline = self.deadline
        stale_at = math.inf if deadline is None else time.monotonic() + deadline + STALE_GRACE
        return _Flight(loop_thread, stale_at)

    def _own_deadline(self) -> Deadline | None:
        return None if self.deadline is None else Deadline(self.deadline)

    def _wait_time(self, flight: _Flight, own: Deadline | None) -> float | None:
        """How long a waiter waits before looking again (``None``: no bound).

        Its own time left, or until the flight goes stale, whichever is first.
        """
        if own is None:
            return None
        return max(0.0, min(own.left(), flight.stale_at - time.monotonic()))

    def _waited_too_long(self, own: Deadline | None) -> None:
        if own is not None and own.expired():
            raise own.error("", f"waited for another caller's token request for {self.name}")

    def _still_refreshing(self, flight: _Flight) -> None:
        """Keep ``refreshing`` set while a newer flight runs (mutex held)."""
        if self._flight is not None and self._flight is not flight:
            self._life.begin()

    def _publish(self, token: Token) -> None:
        """Adopt ``token`` (mutex held)."""
        self._life.succeed(token, random.random())  # noqa: S311 (jitter, not crypto)
        schedule = self._life.schedule
        assert schedule is not None
        self._snapshot = (token, schedule.refresh_at)

    def _usable_cached(self, cached: Token | None, replacing: Token | None) -> Token | None:
        if cached is None or self._life.is_rejected(cached):
            return None
        if replacing is not None and cached.access_token == replacing.access_token:
            return None
        if self.policy.decide(cached, self._clock()) is not Freshness.FRESH:
            return None
        return cached

    def _finish(
        self,
        flight: _Flight,
        reason: str,
        started: float,
        token: Token | None,
        outcome: str,
        error: BaseException | None,
        fallback: Token | None,
        cache_error: str | None = None,
    ) -> Token:
        """Record a refresh's outcome, wake the waiters, return the token to use or raise."""
        used: Token | None = None
        with self._mutex:
            if token is not None:
                self._publish(token)
                used = token
            elif error is not None:
                used = self._life.fail(self._clock(), fallback, random.random())  # noqa: S311
                if used is not None:
                    outcome = "fallback"
                    self._snapshot = (used, self._life.advisory_retry_at)
            if self._flight is flight:
                self._flight = None
            self._still_refreshing(flight)
        flight.failure = error
        flight.finish(used, None if used is not None else error)
        self._report(reason, outcome, started, used, error, cache_error)
        if used is None:
            assert error is not None
            raise error
        if token is not None and self._on_token is not None:
            self._on_token(token)
        return used

    def _abandon(self, flight: _Flight) -> None:
        """The refresher was interrupted (cancelled): free the flight so a waiter takes over."""
        with self._mutex:
            self._life.abandon()
            if self._flight is flight:
                self._flight = None
            self._still_refreshing(flight)
        flight.finish(None, None)

    def _report(
        self,
        reason: str,
        outcome: str,
        started: float,
        token: Token | None,
        error: BaseException | None,
        cache_error: str | None = None,
    ) -> None:
        event = RefreshEvent(
            credential=self.name,
            reason=reason,
            outcome=outcome if error is None or outcome == "fallback" else "failed",
            duration=time.monotonic() - started,
            token=token_fingerprint(token) if token is not None else None,
            expires_at=token.expires_at if token is not None else None,
            error=str(error) if error is not None else None,
            cache_error=cache_error,
        )
        if event.outcome == "failed":
            logger.warning("token refresh failed for %s (%s): %s", self.name, reason, event.error)
        elif event.outcome == "fallback":
            logger.warning(
                "token refresh failed for %s (%s); using the still-valid token: %s",
                self.name,
                reason,
                event.error,
            )
        else:
            logger.info(
                "token %s for %s (%s) in %.3fs, expires_at=%s",
                event.outcome,
                self.name,
                reason,
                event.duration,
                event.expires_at,
                extra={"authwire_event": event},
            )
        if self._on_refresh is not None:
            try:
                self._on_refresh(event)
            except Exception:  # a broken hook must not break authentication
                logger.exception("on_refresh hook raised")

    # -- sync --------------------------------------------------------------------------

    @staticmethod
    def _cache_failure(exc: Exception) -> str:
        """A secret-free description of a failed cache write.

        authwire's own errors are written secret-free; any other exception is named by
        its type only, as its message might hold a connection URL with a password.
        """
        if isinstance(exc, AuthwireError):
            return f"{type(exc).__name__}: {exc}"
        return type(exc).__name__

    def _cache_trouble(self, what: str, exc: Exception) -> str:
        """Log that the cache failed to ``what``; the refresh goes on without it."""
        failure = f"{what}: {self._cache_failure(exc)}"
        logger.warning(
            "token cache %s failed for %s (could not %s); fetching the token directly",
            self.cache.describe(),
            self.name,
            failure,
        )
        return failure

    def _read_cache(self) -> tuple[Token | None, str | None]:
        """The cache's entry, or ``None`` and the failure's description if it failed."""
        try:
            return self.cache.get(self.key), None
        except Exception as exc:  # any cache's failure: fetch directly instead
            return None, self._cache_trouble("read", exc)

    def _take_lock(self) -> tuple[CacheLock | None, str | None]:
        """The cache's refresh lock, acquired; ``None`` and why if the cache cannot lock.

        A lock that times out waiting (``acquire()`` returns False) is still returned:
        its cache has logged that it goes ahead without it, and ``release()`` is a no-op.
        """
        try:
            lock = self.cache.lock(self.key)
            lock.acquire()
        except Exception as exc:  # any cache's failure: refresh without the lock
            return None, self._cache_trouble("lock", exc)
        return lock, None

    async def _atake_lock(self) -> tuple[CacheLock | None, str | None]:
        """``_take_lock`` without blocking the loop.

        Taken at once if the lock offers ``try_acquire()`` and is free; otherwise the
        wait happens in a worker thread (another thread or process may hold the lock for
        a whole refresh), and a lock won after this task was cancelled is released.
        """
        from authwire._aio import acquire_in_thread

        try:
            lock = self.cache.lock(self.key)
            try_acquire = getattr(lock, "try_acquire", None)
            if try_acquire is None or not try_acquire():
                await acquire_in_thread(lock.acquire, lock.release)
        except Exception as exc:  # any cache's failure: refresh without the lock
            return None, self._cache_trouble("lock", exc)
        return lock, None

    @staticmethod
    def _troubles(*failures: str | None) -> str | None:
        found = [failure for failure in failures if failure is not None]
        return "; ".join(found) if found else None

    def _store(self, token: Token) -> str | None:
        """Write a freshly fetched ``token`` to the cache; the failure's description, if any.

        A failed write never loses the token: the server may already have invalidated
        the refresh token it replaces, so the token is adopted from memory anyway.
        """
        try:
            self.cache.set(self.key, token)
        except Exception as exc:  # any cache's failure: the token must not be lost
            failure = self._cache_failure(exc)
            logger.warning(
                "token for %s was fetched but could not be stored in %s (%s); it is used "
                "from memory and the next refresh writes the cache again",
                self.name,
                self.cache.describe(),
                failure,
            )
            return failure
        return None

    def _sync_sender(self) -> Sender:
        sender = self._sender
        if sender is None:
            # Made outside the mutex: a new client loads CA certificates (tens of ms),
            # and an event loop deciding under the same mutex must not wait for that.
            made = self._sender_factory()
            with self._mutex:
                if self._sender is None:
                    self._sender = made
                sender = self._sender
            if sender is not made:
                close = getattr(made, "close", None)
                if close is not None:
                    close()
        return sender

    def get_token(self) -> Token:
        """A valid token: the held one, one another caller is fetching, or a new one.

        Raises:
            TokenEndpointError: The refresh failed and no valid token is left.
            AuthwireError: Any other failure of the credential.
        """
        snapshot = self._snapshot
        if snapshot is not None and self._clock() < snapshot[1]:
            return snapshot[0]
        own = self._own_deadline()
        while True:
            action, token, reason, fallback, flight = self._decide(None)
            if action is Action.USE:
                assert token is not None
                return token
            assert flight is not None
            if action is Action.WAIT:
                if flight.loop_thread == threading.get_ident():
                    raise ConfigurationError(
                        "get_token() was called on an event loop's thread while aget_token() "
                        "is refreshing the same credential on that loop; call aget_token() "
                        "from async code (waiting here would deadlock)"
                    )
                if not flight.done.wait(self._wait_time(flight, own)):
                    self._waited_too_long(own)
                    continue  # the refresher is past its deadline: look again
                result = flight.outcome()
                if result is not None:
                    return result
                continue  # the refresher gave up (cancelled): try again
            return self._lead_sync(flight, reason, token, fallback, own)

    def _lead_sync(
        self,
        flight: _Flight,
        reason: str,
        replacing: Token | None,
        fallback: Token | None,
        own: Deadline | None = None,
    ) -> Token:
        started = time.monotonic()
        token: Token | None = None
        outcome, error = "fetched", None
        cache_error: str | None = None
        try:
            # A takeover does not queue behind the stuck flight's cache lock.
            lock, lock_error = (None, None) if flight.takeover else self._take_lock()
            try:
                entry, read_error = self._read_cache()
                cached = self._usable_cached(entry, replacing)
                if cached is not None:
                    token, outcome = cached, "cached"
                else:
                    if fallback is None:
                        fallback = self._valid_cached(entry, replacing)
                    self._read = (entry,)
                    try:
                        with within(own or self._own_deadline()):
                            token = drive_sync(self._fetch(replacing), self._sync_sender().send)
                    finally:
                        self._read = None
                    # Stored before it is handed out: a rotated refresh token is on disk
                    # first. A failed write is reported, and the token used anyway.
                    cache_error = self._store(token)
                cache_error = self._troubles(cache_error, lock_error, read_error)
            finally:
                if lock is not None:
                    lock.release()
        except AuthwireError as exc:
            error = exc
        except BaseException:
            self._abandon(flight)
            raise
        return self._finish(flight, reason, started, token, outcome, error, fallback, cache_error)

    def _valid_cached(self, cached: Token | None, replacing: Token | None) -> Token | None:
        """The cache entry ``cached``, if still short of its mandatory window, as a fallback."""
        if cached is None or self._life.is_rejected(cached):
            return None
        if replacing is not None and cached.access_token == replacing.access_token:
            cached = replacing
        if self.policy.decide(cached, self._clock()) is Freshness.MANDATORY:
            return None
        return cached

    def _begin_ahead(self) -> tuple[_Flight | None, Token | None]:
        """Start a refresh of a still-usable token, unless one is running or it is unusable."""
        with self._mutex:
            token, schedule = self._life.token, self._life.schedule
            if (
                self._flight is not None
                or token is None
                or schedule is None
                or schedule.decide(self._clock()) is Freshness.MANDATORY
            ):
                return None, None
            self._life.begin()
            flight = self._flight = self._new_flight(None)
            return flight, token

    def refresh_ahead(self) -> Token:
        """Refresh now, before the token is due, while every caller keeps using it.

        For background refreshers (``authwire.Refresher``): the held token stays in use
        until the new one is published, so no caller waits. If a refresh is running, or
        there is no usable token, this is ``get_token()``.

        Raises:
            AuthwireError: The refresh failed; the held token stays in use until its
                mandatory window.
        """
        flight, current = self._begin_ahead()
        if flight is None:
            return self.get_token()
        token = self._lead_sync(flight, "ahead", current, current)
        if flight.failure is not None:
            raise flight.failure
        return token

    async def arefresh_ahead(self) -> Token:
        """``refresh_ahead`` for asyncio and trio."""
        flight, current = self._begin_ahead()
        if flight is None:
            return await self.aget_token()
        token = await self._lead_async(flight, "ahead", current, current)
        if flight.failure is not None:
            raise flight.failure
        return token

    def invalidate(self, token: Token, reason: str = "rejected") -> bool:
        """Drop ``token`` if it is still the current one (compare-and-invalidate).

        The cache entry is dropped too if it still holds ``token``.

        Returns:
            True if the token was current and is now dropped.
        """
        with self._mutex:
            dropped = self._life.invalidate(token, reason)
            if dropped:
                self._snapshot = None
        self._discard(token)
        return dropped

    def _discard(self, token: Token) -> None:
        try:
            self.cache.discard(self.key, token)
        except Exception as exc:  # a broken cache must not stop the refresh that follows
            self._cache_trouble("drop a rejected token", exc)

    def clear(self) -> None:
        """Forget the held token and its cache entry (a logout)."""
        self._forget()
        self.cache.delete(self.key)

    async def aclear(self) -> None:
        """``clear`` for async code (the cache is written in a worker thread)."""
        self._forget()
        await self._cache_call(self.cache.delete, self.key)

    def _forget(self) -> None:
        with self._mutex:
            token = self._life.token
            if token is not None:
                self._life.invalidate(token, "absent")
            self._snapshot = None

    # -- async -------------------------------------------------------------------------

    async def aget_token(self) -> Token:
        """``get_token`` for asyncio and trio; never blocks the event loop."""
        snapshot = self._snapshot
        if snapshot is not None and self._clock() < snapshot[1]:
            return snapshot[0]
        own = self._own_deadline()
        while True:
            action, token, reason, fallback, flight = self._decide(threading.get_ident())
            if action is Action.USE:
                assert token is not None
                return token
            assert flight is not None
            if action is Action.WAIT:
                from authwire._aio import wait_event  # not at import: it loads asyncio

                if not await wait_event(
                    flight.done, flight.subscribe, self._wait_time(flight, own)
                ):
                    self._waited_too_long(own)
                    continue
                result = flight.outcome()
                if result is not None:
                    return result
                continue
            return await self._lead_async(flight, reason, token, fallback, own)

    async def _cache_call(self, fn: Callable[..., R], *args: object) -> R:
        if self.cache.blocking:
            from authwire._aio import RUNTIME

            return await RUNTIME.run_blocking(fn, *args)
        return fn(*args)

    async def _lead_async(
        self,
        flight: _Flight,
        reason: str,
        replacing: Token | None,
        fallback: Token | None,
        own: Deadline | None = None,
    ) -> Token:
        # The event-loop helpers load asyncio: imported here, on the async refresh path,
        # so that a manager serving only threads never imports it.
        from authwire._aio import RUNTIME

        started = time.monotonic()
        token: Token | None = None
        outcome, error = "fetched", None
        cache_error: str | None = None
        try:
            # A takeover does not queue behind the stuck flight's cache lock.
            lock, lock_error = (None, None) if flight.takeover else await self._atake_lock()
            try:
                entry, read_error = await self._cache_call(self._read_cache)
                usable = self._usable_cached(entry, replacing)
                if usable is not None:
                    token, outcome = usable, "cached"
                else:
                    if fallback is None:
                        fallback = self._valid_cached(entry, replacing)
                    self._read = (entry,)
                    try:
                        with within(own or self._own_deadline()):
                            async with self._async_sender() as sender:
                                token = await drive_async(
                                    self._fetch(replacing), sender.send, RUNTIME
                                )
                    finally:
                        self._read = None
                    cache_error = await self._cache_call(self._store, token)
                cache_error = self._troubles(cache_error, lock_error, read_error)
            finally:
                if lock is not None:
                    if self.cache.blocking:
                        await RUNTIME.run_blocking(lock.release)
                    else:
                        lock.release()
        except AuthwireError as exc:
            error = exc
        except BaseException:  # cancelled: let a waiter take over
            self._abandon(flight)
            raise
        return self._finish(flight, reason, started, token, outcome, error, fallback, cache_error)

    async def ainvalidate(self, token: Token, reason: str = "rejected") -> bool:
        """``invalidate`` for async code (cache I/O runs in a worker thread)."""
        with self._mutex:
            dropped = self._life.invalidate(token, reason)
            if dropped:
                self._snapshot = None
        await self._cache_call(self._discard, token)
        return dropped
