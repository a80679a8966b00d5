"""``MemoryCache``: LRU bound, compare-and-delete, per-key refresh locks."""

from __future__ import annotations

import threading

import pytest

from authwire import ConfigurationError, MemoryCache, Token


def test_get_set_delete() -> None:
    """A stored token comes back under its key until deleted."""
    cache = MemoryCache()
    token = Token("a")
    assert cache.get("k") is None
    cache.set("k", token)
    assert cache.get("k") is token
    cache.delete("k")
    assert cache.get("k") is None
    cache.delete("k")  # deleting twice is fine


def test_lru_bound_drops_the_least_recently_used() -> None:
    """Beyond max_entries the least recently used key goes; a read counts as a use."""
    cache = MemoryCache(max_entries=2)
    cache.set("a", Token("1"))
    cache.set("b", Token("2"))
    cache.get("a")
    cache.set("c", Token("3"))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None
    assert len(cache) == 2


def test_unbounded_cache() -> None:
    """max_entries=None keeps every token."""
    cache = MemoryCache(max_entries=None)
    for i in range(3000):
        cache.set(str(i), Token(str(i)))
    assert len(cache) == 3000


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_bound_is_refused(bad: int) -> None:
    """max_entries below 1 is a configuration error."""
    with pytest.raises(ConfigurationError, match="max_entries"):
        MemoryCache(max_entries=bad)


def test_discard_is_compare_and_delete() -> None:
    """discard removes the entry only if it still holds that token."""
    cache = MemoryCache()
    cache.set("k", Token("new"))
    assert cache.discard("k", Token("old")) is False
    assert cache.get("k") == Token("new")
    assert cache.discard("k", Token("new")) is True
    assert cache.get("k") is None


def test_one_lock_per_key_shared_by_users() -> None:
    """Users of one key share its lock; other keys have their own, so they never queue."""
    cache = MemoryCache()
    a1, a2, b = cache.lock("a"), cache.lock("a"), cache.lock("b")
    assert a1 is a2
    assert a1 is not b
    assert a1.acquire()
    held_elsewhere = threading.Event()

    def other_key() -> None:
        assert b.acquire()
        held_elsewhere.set()
        b.release()

    t = threading.Thread(target=other_key)
    t.start()
    t.join()
    assert held_elsewhere.is_set()  # key b was free while key a was held
    a1.release()
    a2.acquire()
    a2.release()
    assert cache._locks == {}  # every user gave its share back


def test_locks_are_forgotten_when_unused() -> None:
    """A key's lock is dropped once every user released it, so tenants do not pile up."""
    cache = MemoryCache()
    for i in range(100):
        lock = cache.lock(f"tenant-{i}")
        lock.acquire()
        lock.release()
    assert cache._locks == {}


def test_same_key_lock_excludes() -> None:
    """While one user holds a key's lock, another user of that key waits."""
    cache = MemoryCache()
    first = cache.lock("k")
    first.acquire()
    second = cache.lock("k")
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(second._lock.acquire(blocking=False)))  # type: ignore[attr-defined]
    t.start()
    t.join()
    assert got == [False]
    first.release()
    assert second.acquire()
    second.release()


def test_repr_and_describe_hold_no_token() -> None:
    """The repr counts entries; it never shows a token."""
    cache = MemoryCache()
    cache.set("k", Token("tok-secret-123"))
    assert "tok-secret-123" not in repr(cache)
    assert "entries=1" in repr(cache)
    assert "memory" in cache.describe()
