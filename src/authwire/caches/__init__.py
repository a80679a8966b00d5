"""Token caches: where tokens live between requests, processes and hosts."""

from authwire.caches.base import CacheLock, TokenCache, cache_key
from authwire.caches.memory import MemoryCache

__all__ = ["CacheLock", "MemoryCache", "TokenCache", "cache_key"]
