"""``FileCache``: tokens on disk, shared by every process of one user on one machine.

One file per key, named by the key (a hash of the client's identity, never a secret).
The folder is created 0700 and every file 0600; a file is never written in place: the
new content goes to a temporary file in the same folder, is flushed to disk (``fsync``)
and then renamed over the old one (``os.replace``), so a reader sees either the old
token or the new one, never half of either, even if the writer is killed mid-write.

Refreshes are serialised across processes by a ``filelock`` lock file per key: the
``TokenManager`` takes it, re-reads the file (another process may have refreshed while it
waited), and only then asks the token endpoint. The kernel drops the lock when its holder
dies, so a killed refresher never blocks the others.

With ``encryption=CacheCipher(...)`` each file holds the token sealed with AES-256-GCM,
bound to its cache key: a file planted, altered or copied from another key is refused
(moved aside, logged, fetched again), and a plain-JSON file left from before encryption
was turned on is removed and fetched again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from authwire._core.token import Token
from authwire._fork import forget as _forget_fork
from authwire._fork import register as _register_fork
from authwire._log import logger
from authwire.caches._codec import UnreadableEntry, decode_entry, encode_entry
from authwire.caches.base import CacheLock, TokenCache
from authwire.errors import CacheError, ConfigurationError

if TYPE_CHECKING:
    from filelock import BaseFileLock

    from authwire.caches.cipher import CacheCipher

__all__ = ["FileCache", "default_cache_dir"]

#: Seconds a waiter blocks on another process's refresh before going ahead without the lock.
DEFAULT_LOCK_TIMEOUT: Final = 60.0
#: Temporary files older than this (seconds) are leftovers of a killed writer and removed.
STALE_TEMP_AGE: Final = 60.0

_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")
_POSIX: Final = os.name == "posix"


def default_cache_dir() -> Path:
    """The per-user cache folder: ``platformdirs.user_cache_dir("authwire")``.

    Raises:
        ConfigurationError: If ``platformdirs`` is not installed (``authwire[files]``).
    """
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - an install without the extra
        raise ConfigurationError(
            "FileCache() without a path needs platformdirs: pip install 'authwire[files]'"
        ) from None
    return Path(platformdirs.user_cache_dir("authwire", appauthor=False))


def _loose(mode: int) -> bool:
    """Whether group or others have any access."""
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


class _FileLock:
    """One key's cross-process refresh lock over ``filelock``. Strictly private.

    ``thread_local=False`` because async callers take the lock in one worker thread and
    release it in another.
    """

    __slots__ = ("__weakref__", "_lock", "_path", "_timeout", "held")

    def __init__(self, path: Path, timeout: float | None) -> None:
        self._path = path
        self._timeout = timeout
        self._lock: BaseFileLock = self._new()
        self.held = False

    def _new(self) -> BaseFileLock:
        from filelock import FileLock

        timeout = -1 if self._timeout is None else self._timeout
        return FileLock(str(self._path), timeout=timeout, mode=0o600, thread_local=False)

    def _after_fork_in_child(self) -> None:
        """In a forked child: this lock is the parent's (its holder is a parent's thread).

        The child forgets it without unlocking: the lock belongs to an open file
        description shared with the parent, and unlocking it here would unlock it for the
        parent too, mid-refresh. The child's copy of the descriptor is closed, so the
        kernel frees the lock when the parent releases it or dies; the child then waits
        for it like any other process. (Recent filelock releases do this themselves.)
        """
        if not self.held:
            return
        self.held = False
        old, self._lock = self._lock, self._new()
        if hasattr(old, "_reset_after_fork_in_child"):  # filelock knows about fork
            return
        context: Any = getattr(old, "_context", None)
        fd = getattr(context, "lock_file_fd", None)
        if isinstance(fd, int):
            context.lock_file_fd = None
            context.lock_counter = 0
            with contextlib.suppress(OSError):
                os.close(fd)

    def acquire(self) -> bool:
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout:
            # Availability first: a stuck (not dead) refresher must not stop every process.
            logger.warning(
                "waited %ss for the refresh lock %s; going ahead without it",
                self._timeout,
                self._path,
            )
            return False
        except OSError as exc:
            raise CacheError(
                f"cannot open the cache lock file {self._path}: {exc.strerror}",
                location=str(self._path),
            ) from exc
        self.held = True
        _register_fork(self)
        return True

    def release(self) -> None:
        if self.held:
            self.held = False
            _forget_fork(self)
            self._lock.release()


class FileCache(TokenCache):
    """Tokens in files under a private folder, shared by all processes of the user.

    Args:
        path: The folder. ``None`` (default) uses the user cache folder from
            ``platformdirs`` (``~/.cache/authwire`` on Linux). Created 0700 if missing.
        lock_timeout: Seconds a process waits for another's refresh before going ahead
            without the lock (logged as a warning). ``None`` waits forever. Default 60.
        encryption: A ``CacheCipher`` to seal every file with (AES-256-GCM, bound to its
            cache key), so that the files hold no readable token and a planted or altered
            file is refused. ``None`` (default) stores plain JSON. Every process sharing
            the folder must be given the same keys.

    Raises:
        CacheError: If the folder is readable or writable by group or others (the message
            says which ``chmod`` fixes it), or cannot be created.
        ConfigurationError: For a ``lock_timeout`` that is not positive.

    Example:
        >>> import authwire
        >>> cred = authwire.ClientCredentials(  # doctest: +SKIP
        ...     "https://login.example.com/oauth2/token",
        ...     client_id="svc", client_secret="s3cr3t",
        ...     cache=authwire.FileCache(),
        ... )
    """

    blocking = True

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
        encryption: CacheCipher | None = None,
    ) -> None:
        if lock_timeout is not None and lock_timeout <= 0:
            raise ConfigurationError("lock_timeout must be > 0 seconds (or None to wait forever)")
        self.path = Path(path).expanduser() if path is not None else default_cache_dir()
        self.lock_timeout = lock_timeout
        self.encryption = encryption
        self._check_mutex = threading.Lock()
        self._ensure_dir()
        _register_fork(self)

    def _after_fork_in_child(self) -> None:
        """In a forked child: a new mutex (a parent's thread may have held it)."""
        self._check_mutex = threading.Lock()

    def __repr__(self) -> str:
        if self.encryption is None:
            return f"FileCache(path={str(self.path)!r})"
        return f"FileCache(path={str(self.path)!r}, encryption={self.encryption!r})"

    def describe(self) -> str:
        """The folder the tokens are kept in (and whether they are encrypted)."""
        sealed = ", encrypted" if self.encryption is not None else ""
        return f"file ({self.path}{sealed})"

    # -- files ---------------------------------------------------------------------------

    def _ensure_dir(self) -> None:
        """Create the folder 0700, or refuse an existing one that others can read."""
        with self._check_mutex:
            try:
                self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
                st = self.path.stat()
            except FileExistsError:
                raise CacheError(
                    f"the token cache path {self.path} is not a folder", location=str(self.path)
                ) from None
            except OSError as exc:
                raise CacheError(
                    f"cannot create the token cache folder {self.path}: {exc.strerror}",
                    location=str(self.path),
                ) from exc
            if not stat.S_ISDIR(st.st_mode):
                raise CacheError(
                    f"the token cache path {self.path} is not a folder", location=str(self.path)
                )
            if _POSIX:
                if st.st_uid != os.geteuid():
                    raise CacheError(
                        f"the token cache folder {self.path} belongs to another user "
                        f"(uid {st.st_uid}); use a folder of your own",
                        location=str(self.path),
                    )
                if _loose(st.st_mode):
                    raise CacheError(
                        f"the token cache folder {self.path} is accessible by group or others "
                        f"(mode {stat.S_IMODE(st.st_mode):04o}); tokens there could be read by "
                        f"other users. Fix it with: chmod 700 '{self.path}'",
                        location=str(self.path),
                    )

    def _name(self, key: str) -> str:
        if _SAFE_NAME.fullmatch(key):
            return key
        # Keys are meant to be hashes already; anything else is hashed to a safe name.
        return "k-" + hashlib.sha256(key.encode()).hexdigest()[:40]

    def file_for(self, key: str) -> Path:
        """The file that holds ``key``'s token."""
        return self.path / (self._name(key) + ".json")

    def _read(self, file: Path) -> tuple[bytes, os.stat_result] | None:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(file, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CacheError(
                f"cannot read the token cache file {file}: {exc.strerror}", location=str(file)
            ) from exc
        try:
            st = os.fstat(fd)
            if _POSIX and _loose(st.st_mode):
                raise CacheError(
                    f"the token cache file {file} is accessible by group or others "
                    f"(mode {stat.S_IMODE(st.st_mode):04o}). Fix it with: chmod 600 '{file}'",
                    location=str(file),
                )
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
            return b"".join(chunks), st
        finally:
            os.close(fd)

    def _move_aside(self, file: Path, st: os.stat_result, why: str, *, keep: bool = True) -> None:
        """Move a corrupt file out of the way (kept for inspection), unless replaced since.

        With ``keep=False`` the file is removed instead: a plain-JSON token found by an
        encrypting cache is not kept readable beside the sealed ones.
        """
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = file.with_name(f"{file.name}.corrupt-{stamp}-{os.getpid()}")
        try:
            now = os.stat(file, follow_symlinks=False)
            if (now.st_ino, now.st_dev) != (st.st_ino, st.st_dev):
                return  # another process already wrote a good one
            if keep:
                os.replace(file, target)
            else:
                os.unlink(file)
        except FileNotFoundError:
            return
        except OSError as exc:
            logger.warning("could not move the corrupt cache file %s aside: %s", file, exc)
            return
        logger.warning(
            "token cache file %s was unreadable (%s); %s, fetching a new token",
            file,
            why,
            f"moved to {target.name}" if keep else "removed",
        )

    def get(self, key: str) -> Token | None:
        """The token under ``key``, or ``None`` if absent or corrupt (moved aside).

        Raises:
            CacheError: If the file is accessible by group or others, or unreadable.
        """
        file = self.file_for(key)
        found = self._read(file)
        if found is None:
            return None
        raw, st = found
        try:
            return decode_entry(raw, key, self.encryption)
        except UnreadableEntry as exc:
            self._move_aside(file, st, str(exc), keep=not exc.plaintext)
            return None
        except (ValueError, UnicodeDecodeError) as exc:
            self._move_aside(file, st, type(exc).__name__)
            return None

    def set(self, key: str, token: Token) -> None:
        """Store ``token`` atomically (temp file, ``fsync``, ``os.replace``), mode 0600.

        Raises:
            CacheError: If the folder cannot be written.
        """
        file = self.file_for(key)
        data = encode_entry(token, key, self.encryption)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".{file.stem}.", suffix=".tmp")
        except OSError as exc:
            raise CacheError(
                f"cannot write to the token cache folder {self.path}: {exc.strerror}",
                location=str(self.path),
            ) from exc
        try:
            try:
                # mkstemp creates 0600 already; say so anyway in case of an odd umask/OS.
                if _POSIX:
                    os.fchmod(fd, 0o600)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, file)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise CacheError(
                f"cannot write the token cache file {file}: {exc.strerror}", location=str(file)
            ) from exc
        self._sync_dir()
        self._sweep(file.stem)

    def _sync_dir(self) -> None:
        """Make the rename itself durable (the folder entry), where the OS allows it."""
        if not _POSIX:
            return
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _sweep(self, stem: str) -> None:
        """Remove temp files a killed writer left behind (old enough to be nobody's)."""
        cutoff = time.time() - STALE_TEMP_AGE
        for leftover in self.path.glob(f".{stem}.*.tmp"):
            with contextlib.suppress(OSError):
                if leftover.stat(follow_symlinks=False).st_mtime < cutoff:
                    leftover.unlink()

    def delete(self, key: str) -> None:
        """Forget ``key`` (remove its file)."""
        with contextlib.suppress(FileNotFoundError):
            self.file_for(key).unlink()

    def discard(self, key: str, token: Token) -> bool:
        """Remove ``key``'s file only if it still holds ``token``, under the key's lock."""
        lock = self.lock(key)
        lock.acquire()
        try:
            return super().discard(key, token)
        finally:
            lock.release()

    def clear(self) -> None:
        """Remove every token file in the folder.

        Lock files stay: removing one that another process holds would let a third
        process lock a new file of the same name while the first still refreshes.
        """
        for file in self.path.glob("*.json"):
            with contextlib.suppress(OSError):
                file.unlink()

    def lock(self, key: str) -> CacheLock:
        """A cross-process lock for ``key``'s refresh (a ``filelock`` lock file, 0600)."""
        return _FileLock(self.path / (self._name(key) + ".lock"), self.lock_timeout)

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "lock_timeout": self.lock_timeout, "encryption": self.encryption}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self.lock_timeout = state["lock_timeout"]
        self.encryption = state.get("encryption")
        self._check_mutex = threading.Lock()
        self._ensure_dir()
        _register_fork(self)
