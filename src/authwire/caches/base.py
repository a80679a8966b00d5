"""The cache interface every token cache implements.

A cache maps a key (a hash of a client's identity, never a secret) to a ``Token``. Its
``lock(key)`` lets one refresher work while others wait: within a process for
``MemoryCache``, across processes for a file cache, across hosts for Redis. The
``TokenManager`` holds that lock only while it re-reads the cache and, if still needed,
fetches and stores a new token; never while a user's request is in flight.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, Protocol

from authwire._core.token import Token

__all__ = ["CacheLock", "NullLock", "TokenCache", "cache_key"]


class CacheLock(Protocol):
    """A lock around one key's refresh.

    A lock may also offer ``try_acquire() -> bool`` (take it only if free, at once): the
    async path then takes a free lock without a worker thread. Without it, async callers
    always wait for the lock in a worker thread.
    """

    def acquire(self) -> bool:
        """Block until held; return True once held."""
        ...

    def release(self) -> None:
        """Give the lock up."""
        ...


class NullLock:
    """A lock that is always free: for caches that only one process uses."""

    __slots__ = ()

    def acquire(self) -> bool:
        """Always held at once."""
        return True

    def try_acquire(self) -> bool:
        """Always held at once."""
        return True

    def release(self) -> None:
        """Nothing to release."""


class TokenCache(abc.ABC):
    """Base of every token cache.

    Attributes:
        blocking: Whether the methods do I/O; if so the async paths call them in a worker
            thread so the event loop never blocks.
    """

    blocking: bool = True

    @abc.abstractmethod
    def get(self, key: str) -> Token | None:
        """The token stored under ``key``, or ``None`` (also for an unreadable entry)."""

    @abc.abstractmethod
    def set(self, key: str, token: Token) -> None:
        """Store ``token`` under ``key``."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Forget ``key``."""

    def discard(self, key: str, token: Token) -> bool:
        """Forget ``key`` only if it still holds ``token`` (compare-and-delete).

        Returns:
            True if the entry was removed.
        """
        held = self.get(key)
        if held is not None and held.access_token == token.access_token:
            self.delete(key)
            return True
        return False

    def lock(self, key: str) -> CacheLock:
        """The lock that serialises refreshes of ``key`` among this cache's users."""
        return NullLock()

    def describe(self) -> str:
        """Where the cache keeps its tokens (for ``authwire status``); never a secret."""
        return type(self).__name__


def cache_key(identity: Mapping[str, Any]) -> str:
    """A stable key for a client identity: a SHA-256 of its canonical JSON.

    The identity must not hold secrets in the clear; hash a secret first (see
    ``secret_fingerprint``) so that two configurations differing only by their secret
    do not share tokens.
    """
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return "aw1-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def secret_fingerprint(secret: str | None) -> str | None:
    """A one-way fingerprint of a secret, for use inside a cache key."""
    if secret is None:
        return None
    return hashlib.sha256(b"authwire-cache-key:" + secret.encode()).hexdigest()[:16]


def identity_fingerprint(value: str | bytes, *, purpose: str) -> str:
    """A one-way, per-purpose fingerprint of a secret value, for use inside a cache key.

    HMAC-SHA256 keyed with a constant that names ``purpose`` (``"subject_token"``,
    ``"actor_token"``...), so the same value used for two purposes gives two unrelated
    fingerprints, and 128 bits of it: two different tokens never share a cache entry.
    The value itself never enters the identity.
    """
    key = b"authwire-cache-identity:" + purpose.encode()
    data = value.encode() if isinstance(value, str) else value
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:32]
