"""``MemoryCache``: tokens in this process, bounded, with a lock per key."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Final

from authwire._core.token import Token
from authwire._fork import register as _register_fork
from authwire.caches.base import CacheLock, TokenCache
from authwire.errors import ConfigurationError

__all__ = ["DEFAULT_MEMORY_CACHE", "MemoryCache"]


class _KeyLock:
    """One key's refresh lock; the cache keeps it while anyone holds or waits on it."""

    __slots__ = ("_cache", "_key", "_lock", "users")

    def __init__(self, cache: MemoryCache, key: str) -> None:
        self._cache = cache
        self._key = key
        self._lock = threading.Lock()
        self.users = 0

    def acquire(self) -> bool:
        return self._lock.acquire()

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits (for the event loop's thread)."""
        return self._lock.acquire(blocking=False)

    def release(self) -> None:
        self._lock.release()
        self._cache._unuse(self._key, self)


class MemoryCache(TokenCache):
    """Tokens in memory, shared by every credential of this process that uses the cache.

    Least recently used entries are dropped beyond ``max_entries``. Refreshes lock per
    key, so ten thousand tenants' credentials never queue behind one another.

    Args:
        max_entries: The most tokens kept. ``None`` keeps every token. Default 1024.

    Raises:
        ConfigurationError: If ``max_entries`` is below 1.
    """

    blocking = False

    def __init__(self, max_entries: int | None = 1024) -> None:
        if max_entries is not None and max_entries < 1:
            raise ConfigurationError("max_entries must be at least 1 (or None for no bound)")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Token] = OrderedDict()
        self._mutex = threading.Lock()
        self._locks: dict[str, _KeyLock] = {}
        _register_fork(self)

    def _after_fork_in_child(self) -> None:
        """In a forked child: new mutex, no key locks (the parent's holders are not here).

        The tokens stay: they are as valid in the child as in the parent.
        """
        self._mutex = threading.Lock()
        self._locks = {}

    def __repr__(self) -> str:
        return f"MemoryCache(entries={len(self._entries)}, max_entries={self.max_entries})"

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Token | None:
        """The token under ``key``; marks it recently used."""
        with self._mutex:
            token = self._entries.get(key)
            if token is not None:
                self._entries.move_to_end(key)
            return token

    def set(self, key: str, token: Token) -> None:
        """Store ``token``, dropping the least recently used entry if full."""
        with self._mutex:
            self._entries[key] = token
            self._entries.move_to_end(key)
            if self.max_entries is not None:
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._mutex:
            self._entries.pop(key, None)

    def discard(self, key: str, token: Token) -> bool:
        """Forget ``key`` only if it still holds ``token``."""
        with self._mutex:
            held = self._entries.get(key)
            if held is not None and held.access_token == token.access_token:
                del self._entries[key]
                return True
            return False

    def clear(self) -> None:
        """Forget every token."""
        with self._mutex:
            self._entries.clear()

    def lock(self, key: str) -> CacheLock:
        """The per-key refresh lock (shared by every user of this cache and key)."""
        with self._mutex:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = _KeyLock(self, key)
            lock.users += 1
            return lock

    def _unuse(self, key: str, lock: _KeyLock) -> None:
        with self._mutex:
            lock.users -= 1
            if lock.users <= 0 and self._locks.get(key) is lock:
                del self._locks[key]

    def describe(self) -> str:
        """Always "memory"."""
        return "memory (this process)"


DEFAULT_MEMORY_CACHE: Final = MemoryCache()
"""The cache credentials share when given no ``cache=``."""
