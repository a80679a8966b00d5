"""Async helpers that work on asyncio and trio alike.

Strictly private. The async paths need three things from whichever event loop runs them:
sleeping, running a blocking call in a worker thread, and waking up when another thread
(or another loop) finishes a refresh. ``sniffio`` tells which loop is running; trio is
imported only when it is the one.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import sniffio

__all__ = ["RUNTIME", "Runtime", "acquire_in_thread", "wait_event", "worker_pool"]

R = TypeVar("R")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def worker_pool() -> ThreadPoolExecutor:
    """Authwire's own small pool for blocking calls made on behalf of asyncio code.

    A dedicated pool means a refresh never queues behind an application's saturated
    default executor.
    """
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="authwire")
    return _pool


def _forget_pool_in_child() -> None:
    """A forked child gets a pool of its own: the parent's workers were not copied.

    An executor copied from the parent counts idle workers that do not exist in the
    child, queues every job for them and never runs one; a new pool starts threads.
    """
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_forget_pool_in_child)


class Runtime:
    """``AsyncRuntime`` for asyncio and trio. Stateless; use ``RUNTIME``."""

    async def sleep(self, seconds: float) -> None:
        """Sleep on the running loop."""
        if sniffio.current_async_library() == "trio":
            import trio

            await trio.sleep(seconds)
        else:
            await asyncio.sleep(seconds)

    async def run_blocking(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(*args)`` in a worker thread, with the caller's context variables.

        If the caller is cancelled, the call still runs to its end in its thread (a lock
        acquired there is then released by ``fn``'s own caller-provided cleanup).
        """
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        if sniffio.current_async_library() == "trio":
            import trio

            return await trio.to_thread.run_sync(call)
        return await asyncio.get_running_loop().run_in_executor(worker_pool(), call)


RUNTIME = Runtime()
"""The runtime used by every async path in authwire."""


async def wait_event(
    done: threading.Event,
    subscribe: Callable[[Callable[[], None]], None],
    timeout: float | None = None,
) -> bool:
    """Wait on the running loop until ``done`` is set by any thread, or ``timeout`` passes.

    ``subscribe(callback)`` must arrange for ``callback`` to be called (from any thread)
    once ``done`` is set, or at once if it already is. No worker thread is tied up while
    waiting, so a thousand waiting tasks cost a thousand futures, not a thousand threads.

    Returns:
        Whether ``done`` is set (``False``: the timeout passed first).
    """
    if done.is_set():
        return True
    if sniffio.current_async_library() == "trio":
        import trio

        token = trio.lowlevel.current_trio_token()
        event = trio.Event()

        def wake_trio() -> None:
            # RunFinishedError: the loop is gone; nobody is waiting any more.
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(event.set)

        subscribe(wake_trio)
        with trio.move_on_after(math.inf if timeout is None else timeout):
            await event.wait()
        return done.is_set()
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def resolve() -> None:
        if not future.done():
            future.set_result(None)

    def wake_asyncio() -> None:
        # RuntimeError: the loop is closed; nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(resolve)

    subscribe(wake_asyncio)
    # The timeout resolves the same future: one timer per waiter, and none of the extra
    # tasks and futures of ``wait_for``/``shield`` (which a thousand waiters woken at
    # once would pay for on the loop).
    timer = None if timeout is None else loop.call_later(max(timeout, 0.0), resolve)
    try:
        await future
    finally:
        if timer is not None:
            timer.cancel()
    return done.is_set()


async def acquire_in_thread(acquire: Callable[[], object], release: Callable[[], None]) -> None:
    """Acquire a blocking lock from async code without blocking the loop or leaking it.

    The acquisition runs in a worker thread. If the waiting task is cancelled, the lock
    is released as soon as the thread gets it, so a cancelled refresh never leaves a
    cross-process lock held.
    """
    if sniffio.current_async_library() == "trio":
        import trio

        # abandon_on_cancel=False (the default): trio waits for the thread, so the caller's
        # own try/finally releases the lock.
        await trio.to_thread.run_sync(acquire)
        return
    future: Future[object] = worker_pool().submit(acquire)
    try:
        await asyncio.wrap_future(future)
    except asyncio.CancelledError:

        def _release_late(f: Future[object]) -> None:
            if not f.cancelled() and f.exception() is None:
                release()

        future.add_done_callback(_release_late)
        raise
