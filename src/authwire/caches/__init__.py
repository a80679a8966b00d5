"""Token caches: where tokens live between requests, processes and hosts."""

from authwire.caches.base import CacheLock, TokenCache, cache_key
from authwire.caches.file import FileCache
from authwire.caches.keyring import KeyringCache
from authwire.caches.memory import MemoryCache
from authwire.caches.redis import RedisCache

__all__ = [
    "CacheLock",
    "FileCache",
    "KeyringCache",
    "MemoryCache",
    "RedisCache",
    "TokenCache",
    "cache_key",
]
