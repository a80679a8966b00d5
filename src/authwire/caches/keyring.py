"""``KeyringCache``: tokens in the operating system's keyring, through ``keyring``.

Each token is one keyring entry: the service is ``"authwire"`` (or yours), the user name
is the cache key (a hash of the client's identity), the password is the versioned token
JSON. A keyring has no locks of its own, so refreshes are serialised across processes
by the same per-key lock files as ``FileCache`` (in the user cache folder).

Where no usable backend exists (a headless server without a Secret Service, keyring's
``fail`` or ``null`` backend), the constructor raises ``CacheError`` saying how to get
one, or, only when asked with ``fallback="file"``, logs a warning and keeps the tokens in
a ``FileCache`` instead: visibly, never silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final, Literal

from authwire._core.token import Token
from authwire._log import logger
from authwire.caches._codec import decode_token, encode_token
from authwire.caches.base import CacheLock, TokenCache
from authwire.caches.file import DEFAULT_LOCK_TIMEOUT, FileCache
from authwire.errors import CacheError, ConfigurationError

__all__ = ["KeyringCache"]

#: The keyring service name entries are stored under by default.
DEFAULT_SERVICE: Final = "authwire"


def _backend_name(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _unusable(backend: Any) -> str | None:
    """Why ``backend`` cannot keep tokens, or ``None`` if it can."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring):
        return "keyring found no backend"
    if isinstance(backend, null.Keyring):
        return "the null backend stores nothing"
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return "keyring found no backend"
    return None


class KeyringCache(TokenCache):
    """Tokens in the OS keyring (macOS Keychain, Windows Credential Locker, Secret Service).

    Args:
        service: The keyring service name. Default ``"authwire"``.
        backend: A ``keyring`` backend to use instead of the one ``keyring`` selects
            (which honours ``PYTHON_KEYRING_BACKEND`` and keyring's own config).
        fallback: ``"file"`` to fall back, with a logged warning, to a ``FileCache`` when
            no usable backend exists. ``None`` (default) raises instead.
        path: The folder for lock files (and for the fallback's tokens). ``None``
            (default): the user cache folder.
        lock_timeout: As for ``FileCache``. Default 60.

    Raises:
        CacheError: If no usable backend exists and ``fallback`` is ``None``; the message
            says how to install or select one.
        ConfigurationError: For a ``fallback`` other than ``"file"`` or ``None``, or if the
            ``keyring`` package is missing (``pip install 'authwire[keyring]'``).

    Example:
        >>> cache = KeyringCache(fallback="file")  # doctest: +SKIP
        >>> cache.describe()  # doctest: +SKIP
        'keyring (keyring.backends.SecretService.Keyring, service authwire)'
    """

    blocking = True

    def __init__(
        self,
        service: str = DEFAULT_SERVICE,
        *,
        backend: Any = None,
        fallback: Literal["file"] | None = None,
        path: str | os.PathLike[str] | None = None,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        if fallback not in (None, "file"):
            raise ConfigurationError("KeyringCache(fallback=) must be 'file' or None")
        try:
            import keyring
        except ImportError:
            raise ConfigurationError(
                "KeyringCache needs the keyring package: pip install 'authwire[keyring]'"
            ) from None
        self.service = service
        self._files = FileCache(path, lock_timeout=lock_timeout)
        self.backend = backend if backend is not None else keyring.get_keyring()
        self.fallback: FileCache | None = None
        why = _unusable(self.backend)
        if why is not None:
            name = _backend_name(self.backend)
            if fallback is None:
                raise CacheError(
                    f"no usable keyring backend ({why}; selected: {name}). Install one (the "
                    "Secret Service on Linux desktops, or `pip install keyrings.alt` for a "
                    "file-based keyring), select one with PYTHON_KEYRING_BACKEND, or pass "
                    "KeyringCache(fallback='file') to keep tokens in a private file instead",
                    location=name,
                )
            self.fallback = self._files
            logger.warning(
                "no usable keyring backend (%s; selected: %s); falling back to a FileCache "
                "in %s as asked (fallback='file')",
                why,
                name,
                self._files.path,
            )

    def __repr__(self) -> str:
        return f"KeyringCache(service={self.service!r}, backend={_backend_name(self.backend)!r})"

    def describe(self) -> str:
        """The backend and service, or the fallback folder when falling back."""
        if self.fallback is not None:
            return f"{self.fallback.describe()} (fallback: no usable keyring backend)"
        return f"keyring ({_backend_name(self.backend)}, service {self.service})"

    def _error(self, what: str, exc: Exception) -> CacheError:
        return CacheError(
            f"the keyring ({_backend_name(self.backend)}) could not {what}: {type(exc).__name__}",
            location=self.service,
        )

    def get(self, key: str) -> Token | None:
        """The token under ``key``; ``None`` if absent or unreadable (then removed).

        Raises:
            CacheError: If the keyring refuses (locked, denied).
        """
        if self.fallback is not None:
            return self.fallback.get(key)
        from keyring.errors import KeyringError

        try:
            raw = self.backend.get_password(self.service, key)
        except KeyringError as exc:
            raise self._error("read a token", exc) from exc
        if raw is None:
            return None
        try:
            return decode_token(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            logger.warning(
                "keyring entry %s/%s was unreadable (%s); removed, fetching a new token",
                self.service,
                key,
                type(exc).__name__,
            )
            self.delete(key)
            return None

    def set(self, key: str, token: Token) -> None:
        """Store ``token`` under ``key``.

        Raises:
            CacheError: If the keyring refuses.
        """
        if self.fallback is not None:
            self.fallback.set(key, token)
            return
        from keyring.errors import KeyringError

        try:
            self.backend.set_password(self.service, key, encode_token(token).decode())
        except KeyringError as exc:
            raise self._error("store a token", exc) from exc

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        if self.fallback is not None:
            self.fallback.delete(key)
            return
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            self.backend.delete_password(self.service, key)
        except PasswordDeleteError:
            pass  # not there
        except KeyringError as exc:
            raise self._error("delete a token", exc) from exc

    def lock(self, key: str) -> CacheLock:
        """A cross-process lock file for ``key``'s refresh (the keyring has none)."""
        return self._files.lock(key)

    @property
    def lock_dir(self) -> Path:
        """The folder holding the lock files."""
        return self._files.path
