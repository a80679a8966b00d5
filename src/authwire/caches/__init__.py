"""Token caches: where tokens live between requests, processes and hosts.

The caches are imported on first use (PEP 562), so that a credential, which needs only
``TokenCache``, loads neither the file, keyring nor Redis cache (``RedisCache`` alone
costs the import of ``uuid`` and ``platform``, about 15 ms).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from authwire.caches.base import CacheLock, TokenCache, cache_key
    from authwire.caches.cipher import CacheCipher
    from authwire.caches.file import FileCache
    from authwire.caches.keyring import KeyringCache
    from authwire.caches.memory import MemoryCache
    from authwire.caches.redis import RedisCache

__all__ = [
    "CacheCipher",
    "CacheLock",
    "FileCache",
    "KeyringCache",
    "MemoryCache",
    "RedisCache",
    "TokenCache",
    "cache_key",
]

_EXPORTS: dict[str, str] = {
    "CacheCipher": "authwire.caches.cipher",
    "CacheLock": "authwire.caches.base",
    "FileCache": "authwire.caches.file",
    "KeyringCache": "authwire.caches.keyring",
    "MemoryCache": "authwire.caches.memory",
    "RedisCache": "authwire.caches.redis",
    "TokenCache": "authwire.caches.base",
    "cache_key": "authwire.caches.base",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'authwire.caches' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
