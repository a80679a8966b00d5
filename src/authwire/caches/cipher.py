"""``CacheCipher``: authenticated encryption of the tokens a shared cache stores.

A ``FileCache`` or ``RedisCache`` given ``encryption=CacheCipher(...)`` stores each token
sealed with AES-256-GCM under a 32-byte key, the entry's cache key bound in as associated
data. Whoever can read the store (a Redis user, the file's owner, a backup) sees no
token, and whoever can write it cannot plant one: an entry sealed without the key, or
copied from under another cache key, fails authentication and is refused like a corrupt
entry. The envelope itself is part of the versioned codec (``authwire.caches._codec``).

``cryptography`` is imported when a cipher is made, never by ``import authwire``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from authwire._core.redact import Secret
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["ENV_VAR", "KEY_BYTES", "CacheCipher", "KeyMaterial"]

#: The environment variable ``CacheCipher.from_env()`` reads by default.
ENV_VAR: Final = "AUTHWIRE_CACHE_KEY"
#: Length of an encryption key in bytes (AES-256).
KEY_BYTES: Final = 32
#: Length of the random nonce of each sealed entry in bytes (96 bits, as GCM prefers).
NONCE_BYTES: Final = 12
#: The keyring service and user name ``CacheCipher.from_keyring()`` reads by default.
DEFAULT_KEYRING_SERVICE: Final = "authwire"
DEFAULT_KEYRING_USER: Final = "cache-key"

#: A key as accepted by ``CacheCipher``: 32 raw bytes, or their base64 (standard or
#: URL-safe, padded or not), either one optionally wrapped in ``Secret``.
KeyMaterial: TypeAlias = "str | bytes | Secret[str] | Secret[bytes]"

_SEPARATORS: Final = re.compile(r"[\s,]+")
_KEY_ID: Final = re.compile(r"[0-9a-f]{8}")


def _key_bytes(material: KeyMaterial) -> bytes:
    """The 32 key bytes of ``material``; the error never shows the key."""
    value: Any = material.reveal() if isinstance(material, Secret) else material
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, str):
        text = value.strip()
        padded = text + "=" * (-len(text) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                "a cache encryption key given as text must be base64 of 32 bytes "
                "(make one with CacheCipher.generate_key())"
            ) from None
    else:
        raise ConfigurationError(
            f"a cache encryption key must be bytes or base64 text, not {type(value).__name__}"
        )
    if len(raw) != KEY_BYTES:
        raise ConfigurationError(
            f"a cache encryption key must be {KEY_BYTES} bytes (AES-256), this one has "
            f"{len(raw)} (make one with CacheCipher.generate_key())"
        )
    return raw


def _key_id(raw: bytes) -> str:
    """A short public name of a key: 8 hex digits of a domain-separated SHA-256.

    Stored in each envelope so that a reader picks the right key at once during a
    rotation; a one-way hash of 256 random bits reveals nothing of the key.
    """
    return hashlib.sha256(b"authwire-cache-key-id:" + raw).hexdigest()[:8]


def _aesgcm() -> type[AESGCM]:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:  # pragma: no cover - an install without cryptography
        raise ConfigurationError(
            "cache encryption needs cryptography: pip install 'authwire[encryption]'"
        ) from None
    return AESGCM


class CacheCipher:
    """AES-256-GCM for cache entries, with key rotation: the first key seals, every key opens.

    Give it to a shared cache: ``FileCache(encryption=cipher)``,
    ``RedisCache(url, encryption=cipher)``. Every process sharing the cache must be given
    the same keys; an entry the cipher cannot open (sealed with an unknown key, tampered
    with, moved from another cache key, or stored in plain JSON) is ignored, logged and
    fetched again.

    To rotate, put the new key first and keep the old one after it until every entry
    sealed with it has expired (at most the cache's longest TTL): ``CacheCipher(new, old)``.

    Args:
        key: The key new entries are sealed with: 32 random bytes, or their base64 text
            (standard or URL-safe; ``generate_key()`` makes one), optionally as a
            ``Secret``.
        *previous: Older keys, still accepted when reading.

    Raises:
        ConfigurationError: For a key that is not 32 bytes (the message gives its length,
            never the key), or if ``cryptography`` is not installed.

    Example:
        >>> import authwire
        >>> cipher = authwire.CacheCipher.from_env()  # doctest: +SKIP
        >>> cache = authwire.RedisCache("redis://cache:6379/0", encryption=cipher)  # doctest: +SKIP
    """

    __slots__ = ("_aeads", "_keys", "_sealing_id")

    def __init__(self, key: KeyMaterial, *previous: KeyMaterial) -> None:
        aesgcm = _aesgcm()
        keys: list[tuple[str, Secret[bytes]]] = []
        for material in (key, *previous):
            raw = _key_bytes(material)
            keys.append((_key_id(raw), Secret(raw)))
        self._keys = tuple(keys)
        self._sealing_id = keys[0][0]
        # Key ids are 32 bits: two keys could share one, so each id maps to a list.
        self._aeads: dict[str, list[AESGCM]] = {}
        for kid, secret in keys:
            self._aeads.setdefault(kid, []).append(aesgcm(secret.reveal()))

    @classmethod
    def from_env(cls, name: str = ENV_VAR) -> CacheCipher:
        """The keys in the environment variable ``name``.

        The variable holds one base64 key, or several separated by commas or spaces, the
        one that seals first (``"NEW,OLD"`` during a rotation).

        Args:
            name: The variable. Default ``AUTHWIRE_CACHE_KEY``.

        Raises:
            ConfigurationError: If the variable is unset or empty, or holds a bad key.
        """
        return cls._from_text(os.environ.get(name), f"the environment variable {name}")

    @classmethod
    def from_keyring(
        cls,
        service: str = DEFAULT_KEYRING_SERVICE,
        username: str = DEFAULT_KEYRING_USER,
        *,
        backend: Any = None,
    ) -> CacheCipher:
        """The keys stored in the OS keyring (same text format as ``from_env``).

        Store one first, e.g. ``keyring set authwire cache-key`` and paste the output of
        ``CacheCipher.generate_key()``.

        Args:
            service: The keyring service name. Default ``"authwire"``.
            username: The keyring user name. Default ``"cache-key"``.
            backend: A ``keyring`` backend to read instead of the one ``keyring`` selects.

        Raises:
            ConfigurationError: If ``keyring`` is not installed, the entry is missing, or
                it holds a bad key.
        """
        try:
            import keyring
        except ImportError:  # pragma: no cover - an install without the extra
            raise ConfigurationError(
                "CacheCipher.from_keyring needs keyring: pip install 'authwire[keyring]'"
            ) from None
        ring = backend if backend is not None else keyring.get_keyring()
        text = ring.get_password(service, username)
        return cls._from_text(text, f"the keyring entry {service}/{username}")

    @classmethod
    def _from_text(cls, text: str | None, where: str) -> CacheCipher:
        parts = [p for p in _SEPARATORS.split(text or "") if p]
        if not parts:
            raise ConfigurationError(
                f"no cache encryption key in {where} (make one with CacheCipher.generate_key())"
            )
        try:
            return cls(*(Secret(p) for p in parts))
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None

    @staticmethod
    def generate_key() -> str:
        """A new random key as URL-safe base64 text (32 bytes from ``secrets``).

        Example:
            >>> len(CacheCipher.generate_key())
            44
        """
        return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The public ids of the keys (8 hex digits each), the sealing key's first."""
        return tuple(kid for kid, _ in self._keys)

    def __repr__(self) -> str:
        return f"CacheCipher(key_ids={self.key_ids!r})"

    def __reduce__(self) -> tuple[Any, tuple[Secret[bytes], ...]]:
        # For processes handed a cache by pickling; the pickle holds the keys, as it must.
        return (CacheCipher, tuple(secret for _, secret in self._keys))

    def seal(self, plaintext: bytes, associated_data: bytes) -> tuple[str, bytes, bytes]:
        """Encrypt and authenticate ``plaintext`` with the first key.

        Args:
            plaintext: The bytes to protect.
            associated_data: Bytes authenticated but not stored (the entry's identity):
                ``open`` must be given the same.

        Returns:
            The key id, the random nonce, and the ciphertext with its 16-byte tag.
        """
        nonce = os.urandom(NONCE_BYTES)
        aead = self._aeads[self._sealing_id][0]
        return self._sealing_id, nonce, aead.encrypt(nonce, plaintext, associated_data)

    def open(self, key_id: str, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
        """The plaintext of a sealed value, if it authenticates under one of the keys.

        Raises:
            ValueError: If no key has ``key_id``, or the value does not authenticate (a
                wrong key, a changed byte, other associated data).
        """
        from cryptography.exceptions import InvalidTag

        candidates = self._aeads.get(key_id)
        if not candidates:
            # The id comes from the entry: named only if it looks like one (no log injection).
            shown = f" (key id {key_id})" if _KEY_ID.fullmatch(key_id) else ""
            raise ValueError(f"sealed with a key this cache does not have{shown}")
        if len(nonce) != NONCE_BYTES:
            raise ValueError("the sealed entry's nonce has the wrong length")
        for aead in candidates:
            try:
                return aead.decrypt(nonce, ciphertext, associated_data)
            except InvalidTag:
                continue
        raise ValueError(
            "the sealed entry failed authentication (changed, or stored under another key)"
        )
