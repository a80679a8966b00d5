"""The at-fork registry holds managers, caches and locks weakly: it keeps nothing alive."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from authwire import ClientCredentials, FileCache, MemoryCache
from authwire._fork import _live


def test_registered_objects_are_collected(tmp_path: Path) -> None:
    """A credential, its manager and caches are freed when dropped, though registered."""
    cache = MemoryCache()
    files = FileCache(tmp_path / "tokens")
    lock = files.lock("aw1-test")
    lock.acquire()
    cred = ClientCredentials("https://login.example.com/token", client_id="c", cache=cache)
    refs = [weakref.ref(x) for x in (cred.manager, cache, files, lock)]
    assert all(ref() in _live for ref in refs)  # all four are reset in a forked child
    lock.release()
    del cred, cache, files, lock
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None, None]
