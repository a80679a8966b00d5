"""FileCache: permissions, atomic writes, healing corrupt files, locks, and the manager."""

from __future__ import annotations

import logging
import os
import pickle
import stat
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from tests.leakcheck import SecretPlanter, assert_no_secret

from authwire import CacheError, ClientCredentials, ConfigurationError, FileCache, Token
from authwire._core.flow import Flow
from authwire._event import RefreshEvent
from authwire.caches._codec import encode_token
from authwire.credentials.base import ManagedCredential
from authwire.testing import FakeClock

KEY = "aw1-0123456789abcdef"


def mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


class Counted(ManagedCredential):
    """A credential whose grant makes tokens locally and counts them (no network)."""

    def __init__(self, cache: FileCache, clock: FakeClock, **options: Any) -> None:
        self.fetches = 0
        self.replaced: list[Token | None] = []
        super().__init__(cache=cache, clock=clock, **options)

    def __repr__(self) -> str:
        return "Counted()"

    def _identity(self) -> Mapping[str, Any]:
        return {"grant": "counted"}

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        self.fetches += 1
        self.replaced.append(replacing)
        now = self._clock()
        return Token(
            f"at-{self.fetches}",
            expires_at=now + 60,
            issued_at=now,
            refresh_token=f"rt-{self.fetches}",
        )
        yield  # a generator that needs no request


def test_folder_is_created_0700_and_files_0600(tmp_path: Path) -> None:
    """A new cache folder is private, and so is every token file."""
    cache = FileCache(tmp_path / "a" / "b")
    assert mode(tmp_path / "a" / "b") == 0o700
    cache.set(KEY, Token("at", expires_at=1.0))
    assert mode(cache.file_for(KEY)) == 0o600
    assert cache.file_for(KEY).name == f"{KEY}.json"


def test_round_trip_and_absent(tmp_path: Path) -> None:
    """What is stored is read back equal; an unknown key is None."""
    cache = FileCache(tmp_path)
    token = Token("at", expires_at=2.5, refresh_token="rt", scope="a b", extra={"x": 1})
    assert cache.get(KEY) is None
    cache.set(KEY, token)
    assert cache.get(KEY) == token
    cache.delete(KEY)
    assert cache.get(KEY) is None
    cache.delete(KEY)  # deleting twice is fine


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    """Each write renames its temp file into place; nothing else stays in the folder."""
    cache = FileCache(tmp_path)
    for n in range(5):
        cache.set(KEY, Token(f"at-{n}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{KEY}.json"]


def test_a_write_replaces_the_file_rather_than_rewriting_it(tmp_path: Path) -> None:
    """A reader holding the old file keeps the old token whole (a new inode is swapped in)."""
    cache = FileCache(tmp_path)
    cache.set(KEY, Token("at-old"))
    with open(cache.file_for(KEY), "rb") as old:
        cache.set(KEY, Token("at-new"))
        assert b"at-old" in old.read()
    token = cache.get(KEY)
    assert token is not None
    assert token.access_token == "at-new"


@pytest.mark.parametrize("bits", [0o750, 0o705, 0o770, 0o701])
def test_a_folder_others_can_access_is_refused(tmp_path: Path, bits: int) -> None:
    """A group- or world-accessible folder is refused with the chmod that fixes it."""
    folder = tmp_path / "loose"
    folder.mkdir()
    folder.chmod(bits)
    with pytest.raises(CacheError, match=r"chmod 700") as info:
        FileCache(folder)
    assert str(folder) in str(info.value)
    assert info.value.location == str(folder)


@pytest.mark.parametrize("bits", [0o640, 0o604, 0o660])
def test_a_file_others_can_read_is_refused(tmp_path: Path, bits: int) -> None:
    """A token file readable by group or others is refused, never read."""
    cache = FileCache(tmp_path)
    cache.set(KEY, Token("at"))
    cache.file_for(KEY).chmod(bits)
    with pytest.raises(CacheError, match=r"chmod 600"):
        cache.get(KEY)


def test_a_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """A cache path that exists as a plain file is a clear CacheError."""
    (tmp_path / "f").write_text("")
    with pytest.raises(CacheError, match="not a folder"):
        FileCache(tmp_path / "f")


def test_a_symlinked_token_file_is_not_followed(tmp_path: Path) -> None:
    """A token file replaced by a symlink is refused (O_NOFOLLOW), not read through."""
    cache = FileCache(tmp_path / "c")
    target = tmp_path / "elsewhere.json"
    target.write_bytes(encode_token(Token("at-planted")))
    target.chmod(0o600)
    cache.file_for(KEY).symlink_to(target)
    with pytest.raises(CacheError):
        cache.get(KEY)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"v": 1, "access_token": "at", "expires_at": 12',  # truncated
        b'{"v": 99, "access_token": "at"}',  # a future format
        b'{"v": 1, "access_token": 5}',
        b"\xff\xfe\x00garbage",
        b"[]",
    ],
)
def test_a_corrupt_file_is_moved_aside_and_refetched(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """An unreadable file reads as absent, is kept as *.corrupt-<time>, and is then rewritten."""
    cache = FileCache(tmp_path)
    file = cache.file_for(KEY)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    with caplog.at_level(logging.WARNING, "authwire"):
        assert cache.get(KEY) is None
    assert not file.exists()
    (aside,) = tmp_path.glob(f"{KEY}.json.corrupt-*")
    assert aside.read_bytes() == content
    assert "moved to" in caplog.text
    cache.set(KEY, Token("at-new"))
    assert cache.get(KEY) == Token("at-new")


def test_a_corrupt_file_heals_through_a_credential(tmp_path: Path, clock: FakeClock) -> None:
    """A credential meeting a corrupt cache file fetches a new token instead of failing."""
    cache = FileCache(tmp_path)
    cred = Counted(cache, clock)
    file = cache.file_for(cred.cache_key)
    file.write_bytes(b'{"v": 1, "access_to')
    file.chmod(0o600)
    assert cred.get_token().access_token == "at-1"
    assert cache.get(cred.cache_key) == cred.get_token()


def test_keys_that_are_not_file_names_are_hashed(tmp_path: Path) -> None:
    """Keys with path characters become a hashed file name inside the folder."""
    cache = FileCache(tmp_path)
    for key in ("../escape", "a/b", ".hidden", "x" * 300):
        cache.set(key, Token("at"))
        file = cache.file_for(key)
        assert file.parent == tmp_path
        assert file.name.startswith("k-")
        assert cache.get(key) == Token("at")


def test_cache_files_hold_no_client_secret(tmp_path: Path, planted_secrets: SecretPlanter) -> None:
    """The file name is a hash of the identity; neither name nor content holds the secret."""
    secret = planted_secrets.new("client-secret")
    cred = ClientCredentials(
        "https://login.example.com/token",
        client_id="svc",
        client_secret=secret,
        cache=FileCache(tmp_path),
    )
    cred.manager.cache.set(cred.cache_key, Token("at"))
    (file,) = tmp_path.glob("*.json")
    assert file.stem == cred.cache_key
    assert_no_secret(file.name + file.read_text() + repr(cred.manager.cache), secret)


def test_discard_only_removes_the_token_it_was_given(tmp_path: Path) -> None:
    """Compare-and-delete: a newer token written by another process stays."""
    cache = FileCache(tmp_path)
    cache.set(KEY, Token("at-new"))
    assert cache.discard(KEY, Token("at-old")) is False
    assert cache.get(KEY) == Token("at-new")
    assert cache.discard(KEY, Token("at-new")) is True
    assert cache.get(KEY) is None


def test_the_lock_excludes_a_second_holder_until_released(tmp_path: Path) -> None:
    """Two caches on one folder (as two processes would be) take one key's lock in turn."""
    first = FileCache(tmp_path).lock(KEY)
    second = FileCache(tmp_path, lock_timeout=0.05).lock(KEY)
    assert first.acquire() is True
    assert second.acquire() is False  # timed out: the caller goes ahead, unlocked
    second.release()  # releasing a lock not held is a no-op
    first.release()
    assert second.acquire() is True
    second.release()
    assert mode(tmp_path / f"{KEY}.lock") == 0o600


def test_a_lock_taken_in_one_thread_is_released_in_another(tmp_path: Path) -> None:
    """Async callers acquire in a worker thread and release in another."""
    lock = FileCache(tmp_path).lock(KEY)
    taker = threading.Thread(target=lock.acquire)
    taker.start()
    taker.join()
    releaser = threading.Thread(target=lock.release)
    releaser.start()
    releaser.join()
    other = FileCache(tmp_path, lock_timeout=0.05).lock(KEY)
    assert other.acquire() is True
    other.release()


def test_lock_timeout_must_be_positive(tmp_path: Path) -> None:
    """A zero or negative lock_timeout is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        FileCache(tmp_path, lock_timeout=0)


def test_a_second_credential_reuses_the_first_ones_token(tmp_path: Path, clock: FakeClock) -> None:
    """Two credentials (two processes' worth) on one folder: one fetch, one cached read."""
    events: list[RefreshEvent] = []
    first = Counted(FileCache(tmp_path), clock, on_refresh=events.append)
    second = Counted(FileCache(tmp_path), clock, on_refresh=events.append)
    assert first.get_token() == second.get_token()
    assert (first.fetches, second.fetches) == (1, 0)
    assert [(e.reason, e.outcome) for e in events] == [("absent", "fetched"), ("absent", "cached")]


def test_an_expired_file_token_is_refreshed_with_its_refresh_token(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A token read back after a restart is replaced at expiry; the reason says expired."""
    events: list[RefreshEvent] = []
    cred = Counted(FileCache(tmp_path), clock, on_refresh=events.append)
    cred.get_token()
    clock.advance(120)
    restarted = Counted(FileCache(tmp_path), clock, on_refresh=events.append)
    restarted.get_token()  # the file's token is expired: fetch
    assert restarted.fetches == 1
    assert [e.reason for e in events] == ["absent", "absent"]
    clock.advance(120)
    token = restarted.get_token()
    assert [e.reason for e in events][-1] == "expired"
    assert restarted.replaced[-1] is not None
    assert token.refresh_token == "rt-2"


def test_a_rotated_refresh_token_is_on_disk_before_the_token_is_handed_out(
    tmp_path: Path, clock: FakeClock
) -> None:
    """By the time anyone can use a new token, the file already holds its refresh token."""
    cache = FileCache(tmp_path)
    on_disk: list[str | None] = []

    def look(event: RefreshEvent) -> None:
        stored = FileCache(tmp_path).get(cred.cache_key)
        on_disk.append(stored.refresh_token if stored else None)

    cred = Counted(cache, clock, on_refresh=look)
    assert cred.get_token().refresh_token == "rt-1"
    clock.advance(120)
    assert cred.get_token().refresh_token == "rt-2"
    assert on_disk == ["rt-1", "rt-2"]


@pytest.mark.anyio
async def test_async_callers_share_the_file_and_its_lock(tmp_path: Path, clock: FakeClock) -> None:
    """aget_token through a FileCache (blocking I/O in worker threads) fetches once."""
    first = Counted(FileCache(tmp_path), clock)
    second = Counted(FileCache(tmp_path), clock)
    assert await first.aget_token() == await second.aget_token()
    assert (first.fetches, second.fetches) == (1, 0)
    # The lock was released (from whichever worker thread): a third can take it at once.
    lock = FileCache(tmp_path, lock_timeout=0.05).lock(first.cache_key)
    assert lock.acquire() is True
    lock.release()


def test_pickles_to_the_same_folder(tmp_path: Path) -> None:
    """A FileCache crosses process pools (pickle) and keeps its folder and timeout."""
    cache = FileCache(tmp_path, lock_timeout=5)
    cache.set(KEY, Token("at"))
    copy = pickle.loads(pickle.dumps(cache))  # noqa: S301 (our own bytes)
    assert (copy.path, copy.lock_timeout) == (tmp_path, 5)
    assert copy.get(KEY) == Token("at")


def test_default_folder_is_the_user_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a path, tokens go to platformdirs' user cache folder, under authwire/."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = FileCache()
    assert cache.path == tmp_path / "authwire"
    assert mode(cache.path) == 0o700
    assert str(cache.path) in cache.describe()


def test_refresh_events_record_reason_outcome_and_duration(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Each refresh is an event: absent, advisory, mandatory, expired, rejected (a 401)."""
    events: list[RefreshEvent] = []
    cred = Counted(FileCache(tmp_path), clock, on_refresh=events.append, leeway=20, mandatory=5)
    token = cred.get_token()  # absent
    clock.advance(45)  # 15 s left: advisory window
    cred.get_token()
    clock.advance(57)  # 3 s left: mandatory window
    cred.get_token()
    clock.advance(61)  # expired
    token = cred.get_token()
    assert cred.invalidate(token)  # what a 401 does
    cred.get_token()
    assert [(e.reason, e.outcome) for e in events] == [
        ("absent", "fetched"),
        ("advisory", "fetched"),
        ("mandatory", "fetched"),
        ("expired", "fetched"),
        ("rejected", "fetched"),
    ]
    assert all(e.duration >= 0 and e.token and e.error is None for e in events)
    assert all("at-" not in repr(e) for e in events)  # fingerprints, never tokens


def test_clear_removes_tokens_but_keeps_lock_files(tmp_path: Path) -> None:
    """clear() forgets every token; a lock another process may hold is left in place."""
    cache = FileCache(tmp_path)
    cache.set(KEY, Token("at"))
    cache.set("aw1-other", Token("at"))
    lock = cache.lock(KEY)
    assert lock.acquire()
    cache.clear()
    assert cache.get(KEY) is None
    assert cache.get("aw1-other") is None
    assert (tmp_path / f"{KEY}.lock").exists()
    assert FileCache(tmp_path, lock_timeout=0.05).lock(KEY).acquire() is False
    lock.release()
