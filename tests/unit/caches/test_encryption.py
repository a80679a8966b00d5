"""Sealed cache entries: CacheCipher, the version-2 codec, and an encrypting FileCache."""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keyrings.alt.file import PlaintextKeyring
from tests.leakcheck import SecretPlanter, assert_no_secret, capture_logs
from tests.strategies import tokens

from authwire import CacheCipher, ConfigurationError, FileCache, Secret, Token
from authwire._core.flow import Flow
from authwire.caches._codec import (
    SEALED_VERSION,
    UnreadableEntry,
    decode_entry,
    encode_entry,
    encode_token,
)
from authwire.credentials.base import ManagedCredential
from authwire.testing import FakeClock

KEY = "aw1-0123456789abcdef"
OTHER_KEY = "aw1-fedcba9876543210"


@pytest.fixture
def key_text() -> str:
    """A fresh random key as base64 text."""
    return CacheCipher.generate_key()


@pytest.fixture
def cipher(key_text: str) -> CacheCipher:
    """A cipher over ``key_text``."""
    return CacheCipher(key_text)


def sealed(raw: bytes) -> dict[str, Any]:
    """The envelope of a sealed entry, as a dict."""
    envelope = json.loads(raw)
    assert isinstance(envelope, dict)
    return envelope


def b64(data: bytes) -> str:
    """Unpadded URL-safe base64, as in the envelope."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    """The bytes of an envelope field."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- the codec ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(token=tokens, refresh=st.none() | st.text(min_size=1, max_size=30))
def test_any_token_round_trips_sealed(token: Token, refresh: str | None) -> None:
    """Sealed then opened under the same cache key, any token comes back equal."""
    cipher = CacheCipher(bytes(range(32)))
    full = Token(
        token.access_token,
        expires_at=token.expires_at,
        issued_at=token.issued_at,
        refresh_token=refresh,
    )
    raw = encode_entry(full, KEY, cipher)
    assert sealed(raw)["v"] == SEALED_VERSION
    assert decode_entry(raw, KEY, cipher) == full


def test_a_sealed_entry_holds_no_token_text(cipher: CacheCipher) -> None:
    """Neither the access nor the refresh token can be read from the stored bytes."""
    token = Token("at-visible-5f2c", refresh_token="rt-visible-9a1e", scope="read")
    raw = encode_entry(token, KEY, cipher)
    assert_no_secret(raw.decode(), "at-visible-5f2c", "rt-visible-9a1e")
    assert set(sealed(raw)) == {"v", "alg", "kid", "iv", "ct"}
    # A fresh nonce each time: the same token never seals to the same bytes.
    assert encode_entry(token, KEY, cipher) != raw


def test_every_changed_byte_of_nonce_or_ciphertext_is_refused(cipher: CacheCipher) -> None:
    """Flipping any one bit of the nonce, the ciphertext or the tag fails authentication."""
    raw = encode_entry(Token("at", refresh_token="rt"), KEY, cipher)
    envelope = sealed(raw)
    for field in ("iv", "ct"):
        data = unb64(envelope[field])
        for i in range(len(data)):
            changed = bytearray(data)
            changed[i] ^= 0x01
            forged = json.dumps({**envelope, field: b64(bytes(changed))}).encode()
            with pytest.raises(UnreadableEntry, match=r"failed authentication|nonce"):
                decode_entry(forged, KEY, cipher)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("kid", "00000000", "does not have"),
        ("kid", 7, "malformed"),
        ("alg", "A128GCM", "not an encrypted"),
        ("v", 3, "not an encrypted"),
        ("iv", "***", "malformed"),
        ("iv", b64(b"short"), "nonce"),
        ("ct", None, "malformed"),
    ],
)
def test_a_changed_header_is_refused(
    cipher: CacheCipher, field: str, value: object, reason: str
) -> None:
    """A changed version, algorithm, key id or field encoding is refused, never a crash."""
    envelope = sealed(encode_entry(Token("at"), KEY, cipher))
    forged = json.dumps({**envelope, field: value}).encode()
    with pytest.raises(UnreadableEntry, match=reason):
        decode_entry(forged, KEY, cipher)


def test_another_key_id_is_not_echoed_unless_it_looks_like_one(cipher: CacheCipher) -> None:
    """A key id read from the entry is named in the reason only if it is 8 hex digits."""
    envelope = sealed(encode_entry(Token("at"), KEY, cipher))
    forged = json.dumps({**envelope, "kid": "x\n\u001b[31mforged"}).encode()
    with pytest.raises(UnreadableEntry) as caught:
        decode_entry(forged, KEY, cipher)
    assert "forged" not in str(caught.value)


def test_a_wrong_key_is_refused(cipher: CacheCipher) -> None:
    """An entry sealed with one key does not open with another."""
    raw = encode_entry(Token("at"), KEY, CacheCipher(CacheCipher.generate_key()))
    with pytest.raises(UnreadableEntry, match="does not have"):
        decode_entry(raw, KEY, cipher)


def test_a_wrong_key_under_a_forged_key_id_is_refused(cipher: CacheCipher) -> None:
    """Sealed with an attacker's key but labelled with the cache's key id: refused."""
    attacker = CacheCipher(CacheCipher.generate_key())
    envelope = sealed(encode_entry(Token("at-attacker"), KEY, attacker))
    forged = json.dumps({**envelope, "kid": cipher.key_ids[0]}).encode()
    with pytest.raises(UnreadableEntry, match="failed authentication"):
        decode_entry(forged, KEY, cipher)


def test_a_value_moved_to_another_cache_key_is_refused(cipher: CacheCipher) -> None:
    """The cache key is authenticated: a sealed value copied under another key is refused."""
    raw = encode_entry(Token("at-alice"), KEY, cipher)
    assert decode_entry(raw, KEY, cipher).access_token == "at-alice"
    with pytest.raises(UnreadableEntry, match="failed authentication"):
        decode_entry(raw, OTHER_KEY, cipher)


def test_a_plain_entry_is_refused_by_an_encrypting_reader(cipher: CacheCipher) -> None:
    """Plain version-1 JSON (written before encryption, or planted) is refused as plaintext."""
    with pytest.raises(UnreadableEntry, match="not encrypted") as caught:
        decode_entry(encode_token(Token("at-planted")), KEY, cipher)
    assert caught.value.plaintext is True


def test_a_sealed_entry_is_refused_by_a_plain_reader(cipher: CacheCipher) -> None:
    """A cache without a key says why it cannot use a sealed entry."""
    raw = encode_entry(Token("at"), KEY, cipher)
    with pytest.raises(UnreadableEntry, match="no encryption key") as caught:
        decode_entry(raw, KEY, None)
    assert caught.value.plaintext is False


def test_without_a_cipher_the_codec_is_version_1() -> None:
    """No cipher: the entry is the plain version-1 JSON, as before."""
    token = Token("at", refresh_token="rt")
    assert encode_entry(token, KEY, None) == encode_token(token)
    assert decode_entry(encode_token(token), KEY, None) == token


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_give_a_value_error_for_an_encrypting_reader(raw: bytes) -> None:
    """Whatever bytes are stored, an encrypting reader raises ValueError, never anything else."""
    with pytest.raises(ValueError, match=r"."):
        decode_entry(raw, KEY, CacheCipher(bytes(32)))


# -- keys and rotation -------------------------------------------------------------------


def test_rotation_the_first_key_seals_and_every_key_opens(key_text: str) -> None:
    """CacheCipher(new, old) opens entries of both and seals with the new one only."""
    old, new_text = CacheCipher(key_text), CacheCipher.generate_key()
    rotated = CacheCipher(new_text, key_text)
    before = encode_entry(Token("at-old"), KEY, old)
    assert decode_entry(before, KEY, rotated).access_token == "at-old"
    after = encode_entry(Token("at-new"), KEY, rotated)
    assert sealed(after)["kid"] == rotated.key_ids[0] == CacheCipher(new_text).key_ids[0]
    assert decode_entry(after, KEY, CacheCipher(new_text)).access_token == "at-new"
    with pytest.raises(UnreadableEntry):
        decode_entry(after, KEY, old)  # not sealed with the old key
    with pytest.raises(UnreadableEntry):
        decode_entry(before, KEY, CacheCipher(new_text))  # the old key retired


def test_keys_given_as_raw_bytes_base64_or_secret_are_the_same_key() -> None:
    """32 raw bytes, standard or URL-safe base64 (padded or not) and Secret agree."""
    raw = bytes(range(200, 232))
    forms: list[Any] = [
        raw,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        Secret(base64.b64encode(raw).decode()),
        Secret(raw),
    ]
    ids = {CacheCipher(form).key_ids for form in forms}
    assert len(ids) == 1
    entry = encode_entry(Token("at"), KEY, CacheCipher(forms[0]))
    for form in forms:
        assert decode_entry(entry, KEY, CacheCipher(form)).access_token == "at"


@pytest.mark.parametrize(
    "bad",
    [b"short", bytes(31), bytes(33), "not base64 at all!", base64.b64encode(bytes(16)).decode()],
)
def test_a_key_of_the_wrong_size_is_a_configuration_error(bad: str | bytes) -> None:
    """Anything but 32 bytes is refused at construction; the message never shows the key."""
    with pytest.raises(ConfigurationError, match="32 bytes") as caught:
        CacheCipher(bad)
    text = bad if isinstance(bad, str) else base64.b64encode(bad).decode()
    if len(text) > 8:
        assert text not in str(caught.value)


def test_the_key_is_in_no_repr_error_or_log(planted_secrets: SecretPlanter) -> None:
    """repr, str, describe and the warning for a refused entry never hold the key."""
    key_text = CacheCipher.generate_key()
    cipher = CacheCipher(Secret(key_text))
    raw = encode_entry(Token("at"), KEY, cipher)
    texts: list[str] = [repr(cipher), str(cipher)]
    try:
        decode_entry(raw, OTHER_KEY, cipher)
    except UnreadableEntry as exc:
        texts.append(str(exc))
    try:
        CacheCipher(key_text[:-6])
    except ConfigurationError as exc:
        texts.append(str(exc))
    raw_key = base64.urlsafe_b64decode(key_text)
    for text in texts:
        assert_no_secret(text, key_text)
        assert raw_key.hex() not in text
    assert repr(cipher) == f"CacheCipher(key_ids=({cipher.key_ids[0]!r},))"
    assert all(isinstance(v, Secret) for _, v in cipher._keys)


def test_pickles_with_its_keys(cipher: CacheCipher) -> None:
    """A cipher handed to another process by pickling opens what the original sealed."""
    copy = pickle.loads(pickle.dumps(cipher))  # noqa: S301 (our own bytes)
    assert copy.key_ids == cipher.key_ids
    assert decode_entry(encode_entry(Token("at"), KEY, cipher), KEY, copy).access_token == "at"


def test_from_env_reads_one_key_or_a_rotation(
    monkeypatch: pytest.MonkeyPatch, key_text: str
) -> None:
    """AUTHWIRE_CACHE_KEY holds one key, or several (new first) separated by commas or spaces."""
    monkeypatch.setenv("AUTHWIRE_CACHE_KEY", key_text)
    assert CacheCipher.from_env().key_ids == CacheCipher(key_text).key_ids
    older = CacheCipher.generate_key()
    monkeypatch.setenv("AUTHWIRE_CACHE_KEY", f" {key_text}, {older}\n")
    assert CacheCipher.from_env().key_ids == CacheCipher(key_text, older).key_ids
    monkeypatch.setenv("MY_KEY", older)
    assert CacheCipher.from_env("MY_KEY").key_ids == CacheCipher(older).key_ids


def test_from_env_without_the_variable_or_with_a_bad_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset variable or a bad key raises ConfigurationError naming the variable only."""
    with pytest.raises(ConfigurationError, match="AUTHWIRE_CACHE_KEY"):
        CacheCipher.from_env()
    monkeypatch.setenv("AUTHWIRE_CACHE_KEY", "c2hvcnQta2V5LXZhbHVl")
    with pytest.raises(ConfigurationError, match=r"AUTHWIRE_CACHE_KEY.*32 bytes") as caught:
        CacheCipher.from_env()
    assert "c2hvcnQta2V5LXZhbHVl" not in str(caught.value)


def test_from_keyring(tmp_path: Path, key_text: str) -> None:
    """The key can live in the OS keyring (here keyrings.alt's file keyring)."""
    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring.cfg")
    with pytest.raises(ConfigurationError, match="authwire/cache-key"):
        CacheCipher.from_keyring(backend=ring)
    ring.set_password("authwire", "cache-key", key_text)
    assert CacheCipher.from_keyring(backend=ring).key_ids == CacheCipher(key_text).key_ids
    ring.set_password("svc", "k", key_text)
    assert (
        CacheCipher.from_keyring("svc", "k", backend=ring).key_ids == CacheCipher(key_text).key_ids
    )


def test_caches_and_the_cipher_class_do_not_import_cryptography() -> None:
    """import authwire, and naming FileCache, RedisCache or CacheCipher, loads no cryptography."""
    code = (
        "import sys, authwire\n"
        "authwire.FileCache, authwire.RedisCache, authwire.CacheCipher\n"
        "print('cryptography' in sys.modules)\n"
        "authwire.CacheCipher(bytes(32))\n"
        "print('cryptography' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]


# -- an encrypting FileCache -------------------------------------------------------------


class Counted(ManagedCredential):
    """A credential whose grant makes tokens locally and counts them (no network)."""

    def __init__(self, cache: FileCache, clock: FakeClock) -> None:
        self.fetches = 0
        super().__init__(cache=cache, clock=clock)

    def __repr__(self) -> str:
        return "Counted()"

    def _identity(self) -> Mapping[str, Any]:
        return {"grant": "counted"}

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        self.fetches += 1
        now = self._clock()
        return Token(
            f"at-{self.fetches}",
            expires_at=now + 60,
            issued_at=now,
            refresh_token=f"rt-{self.fetches}",
        )
        yield  # a generator that needs no request


def plant_file(file: Path, content: bytes) -> None:
    """Write ``content`` as a 0600 cache file, as an attacker with the user's rights could."""
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, content)
    os.close(fd)


def test_an_encrypting_file_cache_round_trips_and_hides_tokens(
    tmp_path: Path, cipher: CacheCipher, planted_secrets: SecretPlanter
) -> None:
    """Stored sealed, read back equal; the file holds neither token."""
    at, rt = planted_secrets.new("at"), planted_secrets.new("rt")
    cache = FileCache(tmp_path, encryption=cipher)
    cache.set(KEY, Token(at, expires_at=5.0, refresh_token=rt))
    assert cache.get(KEY) == Token(at, expires_at=5.0, refresh_token=rt)
    content = cache.file_for(KEY).read_bytes()
    assert sealed(content)["v"] == SEALED_VERSION
    planted_secrets.check(content.decode(), repr(cache), cache.describe())
    assert "encrypted" in cache.describe()


def test_a_planted_plain_file_is_removed_and_refetched(
    tmp_path: Path, cipher: CacheCipher, clock: FakeClock
) -> None:
    """A plain-JSON token planted (or left from before) is not used: one fetch, file removed."""
    cache = FileCache(tmp_path, encryption=cipher)
    cred = Counted(cache, clock)
    file = cache.file_for(cred.cache_key)
    plant_file(file, encode_token(Token("at-planted", expires_at=clock() + 3600)))
    with capture_logs() as logs:
        assert cred.get_token().access_token == "at-1"
    assert cred.fetches == 1
    assert not list(tmp_path.glob("*.corrupt-*"))  # no plain token kept beside the sealed ones
    assert sealed(file.read_bytes())["v"] == SEALED_VERSION
    warning = "\n".join(logs.texts())
    assert "not encrypted" in warning
    assert "removed" in warning
    assert "at-planted" not in warning


def test_a_file_sealed_for_another_key_is_moved_aside_and_refetched(
    tmp_path: Path, cipher: CacheCipher, clock: FakeClock
) -> None:
    """bob's sealed file copied over alice's is refused: one fetch, the forgery kept aside."""
    cache = FileCache(tmp_path, encryption=cipher)
    cred = Counted(cache, clock)
    cache.set(OTHER_KEY, Token("at-bob", expires_at=clock() + 3600))
    file = cache.file_for(cred.cache_key)
    plant_file(file, cache.file_for(OTHER_KEY).read_bytes())
    with capture_logs() as logs:
        assert cred.get_token().access_token == "at-1"
    assert cred.fetches == 1
    (aside,) = tmp_path.glob("*.corrupt-*")
    assert aside.name.startswith(file.name)
    assert "failed authentication" in "\n".join(logs.texts())


def test_a_file_sealed_with_another_key_is_refetched(
    tmp_path: Path, cipher: CacheCipher, clock: FakeClock
) -> None:
    """A file sealed by someone with another key (a planted token) is not used."""
    cred = Counted(FileCache(tmp_path, encryption=cipher), clock)
    attacker = FileCache(tmp_path, encryption=CacheCipher(CacheCipher.generate_key()))
    attacker.set(cred.cache_key, Token("at-attacker", expires_at=clock() + 3600))
    assert cred.get_token().access_token == "at-1"
    assert cred.fetches == 1


def test_a_tampered_file_is_refetched(
    tmp_path: Path, cipher: CacheCipher, clock: FakeClock
) -> None:
    """One changed ciphertext byte in the file: refused, fetched again, never raised."""
    cache = FileCache(tmp_path, encryption=cipher)
    cred = Counted(cache, clock)
    assert cred.get_token().access_token == "at-1"
    file = cache.file_for(cred.cache_key)
    envelope = sealed(file.read_bytes())
    data = bytearray(unb64(envelope["ct"]))
    data[3] ^= 0x80
    plant_file(file, json.dumps({**envelope, "ct": b64(bytes(data))}).encode())
    assert cache.get(cred.cache_key) is None
    other = Counted(cache, clock)  # a fresh credential of the same identity
    assert other.get_token().access_token == "at-1"
    assert other.fetches == 1


def test_a_rotated_file_cache_reads_old_entries_and_writes_new(
    tmp_path: Path, key_text: str, clock: FakeClock
) -> None:
    """After a rotation the old entry is still used (no fetch); new writes use the new key."""
    Counted(FileCache(tmp_path, encryption=CacheCipher(key_text)), clock).get_token()
    new = CacheCipher.generate_key()
    rotated = FileCache(tmp_path, encryption=CacheCipher(new, key_text))
    cred = Counted(rotated, clock)
    assert cred.get_token().access_token == "at-1"
    assert cred.fetches == 0
    rotated.set(KEY, Token("at"))
    assert sealed(rotated.file_for(KEY).read_bytes())["kid"] == CacheCipher(new).key_ids[0]


def test_a_plain_file_cache_meeting_a_sealed_file_refetches(
    tmp_path: Path, cipher: CacheCipher, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A process without the key refetches (and says why) rather than crashing."""
    Counted(FileCache(tmp_path, encryption=cipher), clock).get_token()
    cred = Counted(FileCache(tmp_path), clock)
    with caplog.at_level(logging.WARNING, "authwire"):
        assert cred.get_token().access_token == "at-1"
    assert cred.fetches == 1
    assert "no encryption key" in caplog.text


def test_an_encrypting_file_cache_pickles_with_its_cipher(
    tmp_path: Path, cipher: CacheCipher
) -> None:
    """A pickled FileCache keeps its folder and its keys."""
    cache = FileCache(tmp_path, encryption=cipher)
    cache.set(KEY, Token("at"))
    copy = pickle.loads(pickle.dumps(cache))  # noqa: S301 (our own bytes)
    assert copy.encryption is not None
    assert copy.encryption.key_ids == cipher.key_ids
    assert copy.get(KEY) == Token("at")
