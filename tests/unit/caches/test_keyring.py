"""KeyringCache on a real keyring backend (keyrings.alt's file keyring), and without one."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail, null
from keyrings.alt.file import PlaintextKeyring

from authwire import CacheError, ConfigurationError, FileCache, KeyringCache, Token
from authwire._core.flow import Flow
from authwire.caches._codec import decode_token
from authwire.credentials.base import ManagedCredential
from authwire.testing import FakeClock

KEY = "aw1-00112233445566778899"


@pytest.fixture
def backend(tmp_path: Path) -> PlaintextKeyring:
    """keyrings.alt's file-backed keyring, writing under tmp_path."""
    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring.cfg")
    return ring


@pytest.fixture
def selected(backend: PlaintextKeyring) -> Iterator[PlaintextKeyring]:
    """``backend`` as keyring's process-wide choice (restored afterwards)."""
    before = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def test_round_trip_through_the_keyring(backend: PlaintextKeyring, tmp_path: Path) -> None:
    """A token stored is read back equal, and lives in the keyring under service and key."""
    cache = KeyringCache(backend=backend, path=tmp_path / "locks")
    token = Token("at", expires_at=5.0, refresh_token="rt", scope="s")
    assert cache.get(KEY) is None
    cache.set(KEY, token)
    assert cache.get(KEY) == token
    raw = backend.get_password("authwire", KEY)
    assert raw is not None
    assert decode_token(raw) == token
    assert not list((tmp_path / "locks").glob("*.json"))  # no token files beside the keyring
    cache.delete(KEY)
    assert cache.get(KEY) is None
    cache.delete(KEY)  # deleting what is not there is fine


def test_the_service_name_separates_caches(backend: PlaintextKeyring, tmp_path: Path) -> None:
    """Two services on one keyring keep separate tokens under one key."""
    a = KeyringCache("app-a", backend=backend, path=tmp_path)
    b = KeyringCache("app-b", backend=backend, path=tmp_path)
    a.set(KEY, Token("at-a"))
    assert b.get(KEY) is None
    assert "app-a" in a.describe()
    assert "PlaintextKeyring" in repr(a)


def test_keyrings_own_selection_is_used_by_default(
    selected: PlaintextKeyring, tmp_path: Path
) -> None:
    """Without backend=, the backend keyring selected is the one written to."""
    cache = KeyringCache(path=tmp_path)
    cache.set(KEY, Token("at"))
    assert selected.get_password("authwire", KEY) is not None


def test_a_corrupt_entry_is_removed_and_reads_as_absent(
    backend: PlaintextKeyring, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry that is not a token reads as absent (logged) and is deleted."""
    backend.set_password("authwire", KEY, "{not json")
    cache = KeyringCache(backend=backend, path=tmp_path)
    with caplog.at_level(logging.WARNING, "authwire"):
        assert cache.get(KEY) is None
    assert backend.get_password("authwire", KEY) is None
    assert "unreadable" in caplog.text


@pytest.mark.parametrize("unusable", [fail.Keyring(), null.Keyring()])
def test_no_usable_backend_raises_a_clear_error(unusable: object, tmp_path: Path) -> None:
    """keyring's fail/null backends are refused, with how to install or select one."""
    with pytest.raises(CacheError) as info:
        KeyringCache(backend=unusable, path=tmp_path)
    message = str(info.value)
    assert "keyrings.alt" in message
    assert "PYTHON_KEYRING_BACKEND" in message
    assert "fallback='file'" in message


def test_the_file_fallback_is_used_only_when_asked_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """fallback='file' keeps tokens in a private FileCache, with a warning and in describe()."""
    with caplog.at_level(logging.WARNING, "authwire"):
        cache = KeyringCache(backend=fail.Keyring(), fallback="file", path=tmp_path / "fb")
    assert "falling back to a FileCache" in caplog.text
    assert "fallback" in cache.describe()
    cache.set(KEY, Token("at"))
    assert cache.get(KEY) == Token("at")
    assert FileCache(tmp_path / "fb").get(KEY) == Token("at")
    cache.delete(KEY)
    assert cache.get(KEY) is None


def test_a_working_backend_ignores_the_fallback(backend: PlaintextKeyring, tmp_path: Path) -> None:
    """fallback='file' changes nothing while the keyring works."""
    cache = KeyringCache(backend=backend, fallback="file", path=tmp_path)
    cache.set(KEY, Token("at"))
    assert cache.fallback is None
    assert backend.get_password("authwire", KEY) is not None


def test_fallback_must_be_file_or_none(backend: PlaintextKeyring) -> None:
    """Any other fallback is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        KeyringCache(backend=backend, fallback="memory")  # type: ignore[arg-type]


def test_refreshes_lock_across_instances(backend: PlaintextKeyring, tmp_path: Path) -> None:
    """The keyring has no lock: per-key lock files serialise refreshes instead."""
    first = KeyringCache(backend=backend, path=tmp_path).lock(KEY)
    second = KeyringCache(backend=backend, path=tmp_path, lock_timeout=0.05).lock(KEY)
    assert first.acquire() is True
    assert second.acquire() is False
    first.release()
    assert second.acquire() is True
    second.release()


class _Counted(ManagedCredential):
    """A credential whose grant makes tokens locally and counts them (no network)."""

    def __init__(self, cache: KeyringCache, clock: FakeClock) -> None:
        self.fetches = 0
        super().__init__(cache=cache, clock=clock)

    def __repr__(self) -> str:
        return "Counted()"

    def _identity(self) -> Mapping[str, Any]:
        return {"grant": "counted"}

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        self.fetches += 1
        now = self._clock()
        return Token(f"at-{self.fetches}", expires_at=now + 60, issued_at=now)
        yield  # a generator that needs no request


def test_credentials_share_tokens_through_the_keyring(
    backend: PlaintextKeyring, tmp_path: Path, clock: FakeClock
) -> None:
    """A second credential (a second process's worth) reads the first one's token back."""
    first = _Counted(KeyringCache(backend=backend, path=tmp_path), clock)
    second = _Counted(KeyringCache(backend=backend, path=tmp_path), clock)
    assert first.get_token() == second.get_token()
    assert (first.fetches, second.fetches) == (1, 0)
    assert backend.get_password("authwire", first.cache_key) is not None
