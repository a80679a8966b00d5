"""``RedisCache``: tokens in Redis, shared by every process on every host of a fleet.

Tokens are stored as versioned JSON with a TTL (the token's lifetime, or its refresh
token's). Refreshes are serialised by a *lease*: a Redis key set with ``NX`` and an
expiry, holding a random *fencing value*, renewed by its holder while it refreshes.
The holder's write of the new token is a Lua script that stores it only if the lease
still holds that value, so a holder that stalled past its lease (a pause, a partition;
another host has taken over) cannot overwrite a newer token. A holder that dies stops
renewing: its lease expires and the next waiter takes over.

Redis is a cache, not a dependency of the API: if it cannot be reached, every
operation logs a warning and degrades (a miss, no lock, no write), and callers fetch
tokens from the endpoint directly until it is back.

Anyone who can read the Redis keys can read plain-JSON tokens, and anyone who can write
them can plant a token that every credential of that identity will then use. With
``encryption=CacheCipher(...)`` each entry is sealed with AES-256-GCM and bound to its
cache key: planted, altered, moved or plain entries are refused (deleted, logged,
fetched again).
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from typing import TYPE_CHECKING, Any, Final

from authwire._core.token import Token
from authwire._fork import register as _register_fork
from authwire._log import logger
from authwire.caches._codec import UnreadableEntry, decode_entry, encode_entry
from authwire.caches.base import CacheLock, TokenCache
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    from redis import Redis

    from authwire.caches.cipher import CacheCipher

__all__ = ["RedisCache"]

#: Default lease on a key's refresh, in seconds; renewed while its holder lives.
DEFAULT_LEASE: Final = 10.0
#: Default seconds a host waits for another host's refresh before going ahead alone.
DEFAULT_WAIT: Final = 60.0
#: Longest TTL given to an entry (tokens without expiry, refresh tokens without one).
DEFAULT_MAX_TTL: Final = 30 * 24 * 3600.0
#: Seconds between two "Redis is down" warnings from one cache.
_WARN_EVERY: Final = 30.0

# KEYS[1] lease, KEYS[2] token; ARGV[1] fencing value, ARGV[2] data, ARGV[3] ttl ms.
_FENCED_SET: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
# KEYS[1] token; ARGV[1] the exact value read.
_COMPARE_DELETE: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class _Lease:
    """One key's lease lock in Redis. Strictly private.

    ``thread_local=False``: async callers acquire in one worker thread and release in
    another. While held, a daemon thread renews the lease every third of its length, so
    a live holder keeps it however long its refresh takes, and a dead one (whose threads
    died with it) loses it one lease after its last renewal.
    """

    __slots__ = ("_cache", "_key", "_lock", "_stop", "fence")

    def __init__(self, cache: RedisCache, key: str) -> None:
        self._cache = cache
        self._key = key
        self._lock: Any = None
        self._stop = threading.Event()
        self.fence: bytes | None = None

    def _renew(self, lock: Any) -> None:
        from redis.exceptions import LockError, RedisError

        cache = self._cache
        while not self._stop.wait(cache.lease / 3):
            try:
                lock.extend(cache.lease, replace_ttl=True)
            except LockError:
                logger.warning(
                    "lost the refresh lease on %s (it expired or was taken over); the new "
                    "token will not overwrite a newer one",
                    cache.describe(),
                )
                return
            except RedisError as exc:
                cache._degraded("renew the refresh lease", exc)

    def acquire(self) -> bool:
        from redis.exceptions import RedisError

        cache = self._cache
        lock = cache.client.lock(
            cache._lease_key(self._key),
            timeout=cache.lease,
            sleep=0.05,
            blocking=True,
            blocking_timeout=cache.wait_timeout,
            thread_local=False,
        )
        fence = uuid.uuid4().hex.encode()
        try:
            held = bool(lock.acquire(token=fence))
        except RedisError as exc:
            cache._degraded("take the refresh lease", exc)
            return False
        if not held:
            logger.warning(
                "waited %ss for the refresh lease on %s; going ahead without it",
                cache.wait_timeout,
                cache.describe(),
            )
            return False
        self._lock, self.fence = lock, fence
        cache._hold(self._key, self)
        self._stop.clear()
        threading.Thread(
            target=self._renew, args=(lock,), name="authwire-lease", daemon=True
        ).start()
        return True

    def release(self) -> None:
        from redis.exceptions import LockError, RedisError

        lock, self._lock = self._lock, None
        if lock is None:
            return
        self._stop.set()
        self._cache._unhold(self._key, self)
        try:
            lock.release()
        except LockError:
            logger.warning(
                "the refresh lease on %s was lost before it was released (expired or taken over)",
                self._cache.describe(),
            )
        except RedisError as exc:
            self._cache._degraded("release the refresh lease", exc)


class RedisCache(TokenCache):
    """Tokens in Redis with a TTL, and a lease so one host refreshes for the whole fleet.

    Args:
        url_or_client: A ``redis://`` / ``rediss://`` URL, or a ``redis.Redis`` client.
        prefix: Prepended to every key authwire writes. Default ``"authwire:"``.
        lease: Seconds of a key's refresh lease. Its holder renews it every third of
            that while it refreshes; if the holder dies, another host takes over at most
            this long after. Default 10.
        wait_timeout: Seconds a host waits for another's refresh before going ahead
            without the lease (logged). Default 60.
        socket_timeout: Seconds for connecting and for each command, when given a URL;
            small, so an unreachable Redis degrades quickly. Default 2.
        max_ttl: Longest TTL in seconds, for tokens without expiry and refresh tokens
            without one. Default 30 days.
        encryption: A ``CacheCipher`` to seal every entry with (AES-256-GCM, bound to its
            cache key), so that Redis holds no readable token and an entry written by
            anyone without the key is refused. ``None`` (default) stores plain JSON.
            Every host sharing the prefix must be given the same keys.

    Raises:
        ConfigurationError: For a non-positive ``lease``, ``wait_timeout``,
            ``socket_timeout`` or ``max_ttl``, or a malformed URL.

    Example:
        >>> cache = RedisCache("redis://cache.internal:6379/0", prefix="billing:")  # doctest: +SKIP
    """

    blocking = True

    def __init__(
        self,
        url_or_client: str | Redis,
        *,
        prefix: str = "authwire:",
        lease: float = DEFAULT_LEASE,
        wait_timeout: float = DEFAULT_WAIT,
        socket_timeout: float = 2.0,
        max_ttl: float = DEFAULT_MAX_TTL,
        encryption: CacheCipher | None = None,
    ) -> None:
        for name, value in (
            ("lease", lease),
            ("wait_timeout", wait_timeout),
            ("socket_timeout", socket_timeout),
            ("max_ttl", max_ttl),
        ):
            if value is not None and value <= 0:
                raise ConfigurationError(f"{name} must be > 0 seconds")
        if isinstance(url_or_client, str):
            try:
                import redis
            except ImportError:  # pragma: no cover - an install without the extra
                raise ConfigurationError(
                    "RedisCache needs redis-py: pip install 'authwire[redis]'"
                ) from None
            try:
                self.client: Redis = redis.Redis.from_url(
                    url_or_client,
                    socket_timeout=socket_timeout,
                    socket_connect_timeout=socket_timeout,
                )
            except ValueError as exc:
                raise ConfigurationError(f"not a Redis URL: {exc}") from None
            # Our own client: its connections are closed with close(), or when the cache
            # is collected, never left to the garbage collector as open sockets.
            self._closer: weakref.finalize[Any, Any] | None = weakref.finalize(
                self, self.client.close
            )
        else:
            self.client = url_or_client
            self._closer = None
        self.prefix = prefix
        self.lease = lease
        self.wait_timeout = wait_timeout
        self.max_ttl = max_ttl
        self.encryption = encryption
        self._held: dict[str, _Lease] = {}
        self._mutex = threading.Lock()
        self._last_warning = -_WARN_EVERY
        _register_fork(self)

    def _after_fork_in_child(self) -> None:
        """In a forked child: new mutex, no lease held.

        A lease the parent holds stays the parent's: it renews it, releases it, and the
        child waits for it like any other host would. redis-py itself drops the
        connections the child inherited (its pool checks the process id).
        """
        self._mutex = threading.Lock()
        self._held = {}

    def __repr__(self) -> str:
        sealed = "" if self.encryption is None else f", encryption={self.encryption!r}"
        return f"RedisCache({self._where()!r}, prefix={self.prefix!r}{sealed})"

    def _where(self) -> str:
        # From the pool's parameters, not the URL: the URL may hold a password.
        try:
            kwargs = self.client.connection_pool.connection_kwargs
        except AttributeError:
            return "redis"
        if "path" in kwargs:
            return f"unix:{kwargs['path']}"
        return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"

    def close(self) -> None:
        """Close the connections of the client this cache made from a URL.

        A client you passed in is yours to close; this leaves it open.
        """
        if self._closer is not None:
            self._closer()

    def describe(self) -> str:
        """Which Redis and prefix (no password), and whether entries are encrypted."""
        sealed = ", encrypted" if self.encryption is not None else ""
        return f"redis ({self._where()}, prefix {self.prefix!r}{sealed})"

    def _token_key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _lease_key(self, key: str) -> str:
        return f"{self.prefix}{key}:lease"

    def _degraded(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        with self._mutex:
            if now - self._last_warning < _WARN_EVERY:
                return
            self._last_warning = now
        logger.warning(
            "Redis token cache %s unavailable (could not %s: %s); fetching tokens directly",
            self._where(),
            what,
            type(exc).__name__,
        )

    def _hold(self, key: str, lease: _Lease) -> None:
        with self._mutex:
            self._held[key] = lease

    def _unhold(self, key: str, lease: _Lease) -> None:
        with self._mutex:
            if self._held.get(key) is lease:
                del self._held[key]

    def _ttl_ms(self, token: Token) -> int:
        horizon = token.expires_at
        if token.refresh_token is not None:
            horizon = token.refresh_expires_at
        ttl = self.max_ttl if horizon is None else min(horizon - time.time(), self.max_ttl)
        return int(ttl * 1000)

    # -- the interface -------------------------------------------------------------------

    def get(self, key: str) -> Token | None:
        """The token under ``key``; ``None`` if absent, corrupt (deleted) or Redis is down."""
        from redis.exceptions import RedisError

        name = self._token_key(key)
        try:
            raw = self.client.get(name)
        except RedisError as exc:
            self._degraded("read", exc)
            return None
        if raw is None:
            return None
        try:
            return decode_entry(raw, key, self.encryption)
        except (ValueError, UnicodeDecodeError) as exc:
            # An UnreadableEntry's reason is secret-free; other errors show only their type.
            why = str(exc) if isinstance(exc, UnreadableEntry) else type(exc).__name__
            logger.warning(
                "token cache entry in %s was unreadable (%s); deleted, fetching a new token",
                self.describe(),
                why,
            )
            try:
                self.client.eval(_COMPARE_DELETE, 1, name, raw)
            except RedisError as err:
                self._degraded("delete", err)
            return None

    def set(self, key: str, token: Token) -> None:
        """Store ``token`` with a TTL; while holding the lease, only if it still holds."""
        from redis.exceptions import RedisError

        ttl = self._ttl_ms(token)
        name = self._token_key(key)
        with self._mutex:
            lease = self._held.get(key)
        try:
            if ttl <= 0:
                self.client.delete(name)
                return
            data = encode_entry(token, key, self.encryption)
            if lease is None or lease.fence is None:
                self.client.set(name, data, px=ttl)
                return
            stored = self.client.eval(
                _FENCED_SET, 2, self._lease_key(key), name, lease.fence, data, ttl
            )
        except RedisError as exc:
            self._degraded("write", exc)
            return
        if not stored:
            logger.warning(
                "the refresh lease on %s expired before the new token was stored; another "
                "host has taken over, so its token is kept (lease=%ss is too short)",
                self.describe(),
                self.lease,
            )

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        from redis.exceptions import RedisError

        try:
            self.client.delete(self._token_key(key))
        except RedisError as exc:
            self._degraded("delete", exc)

    def discard(self, key: str, token: Token) -> bool:
        """Forget ``key`` only if it still holds ``token`` (atomic compare-and-delete)."""
        from redis.exceptions import RedisError

        name = self._token_key(key)
        try:
            raw = self.client.get(name)
            if raw is None:
                return False
            try:
                held = decode_entry(raw, key, self.encryption)
            except (ValueError, UnicodeDecodeError):
                held = None
            if held is not None and held.access_token != token.access_token:
                return False
            return bool(self.client.eval(_COMPARE_DELETE, 1, name, raw))
        except RedisError as exc:
            self._degraded("delete", exc)
            return False

    def lock(self, key: str) -> CacheLock:
        """The lease on ``key``'s refresh, shared by every host using this Redis and prefix."""
        return _Lease(self, key)
