"""Profiles: the TOML file, the active profile, and ProfileCredential's saved logins."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tests.leakcheck import assert_no_secret
from tests.servers.token_server import CLIENT_ID, CLIENT_SECRET, PASSWORD, USER, TokenServer

import authwire
from authwire import (
    ConfigurationError,
    CredentialUnavailable,
    FileCache,
    InteractionRequired,
    ProfileCredential,
    Token,
)
from authwire._event import RefreshEvent
from authwire.config import Profile, active_profile_name, config_path, load_config


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` and return it."""
    path.write_text(text)
    return path


PROFILES = """\
default_profile = "billing"

[profiles.billing]
issuer = "https://login.example.com"
client_id = "billing-cli"
grant = "device_code"
scopes = ["billing.read", "offline_access"]
cache = "keyring"
color = "blue"

[profiles.ci]
token_url = "https://login.example.com/oauth2/token"
client_id = "ci-bot"
grant = "client_credentials"
scopes = "deploy read"
client_secret_env = "CI_BOT_SECRET"
audience = "https://api.example.com"
"""


# -- the file -------------------------------------------------------------------------------


def test_config_path_comes_from_the_environment_or_the_user_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AUTHWIRE_CONFIG wins; otherwise config.toml in platformdirs' user config folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "authwire" / "config.toml"
    monkeypatch.setenv("AUTHWIRE_CONFIG", str(tmp_path / "mine.toml"))
    assert config_path() == tmp_path / "mine.toml"


def test_a_missing_file_is_no_config(tmp_path: Path) -> None:
    """load_config returns None when the file does not exist."""
    assert load_config(tmp_path / "none.toml") is None


def test_profiles_are_parsed(tmp_path: Path) -> None:
    """Every documented setting is read; scopes as a list or a string; unknown keys kept."""
    config = load_config(write(tmp_path / "c.toml", PROFILES))
    assert config is not None
    assert config.default_profile == "billing"
    billing, ci = config.profiles["billing"], config.profiles["ci"]
    assert billing == Profile(
        name="billing",
        issuer="https://login.example.com",
        client_id="billing-cli",
        grant="device_code",
        scopes=("billing.read", "offline_access"),
        cache="keyring",
        extra={"color": "blue"},
    )
    assert ci.scopes == ("deploy", "read")
    assert ci.scope == "deploy read"
    assert ci.grant == "client_credentials"
    assert ci.client_secret_env == "CI_BOT_SECRET"
    assert ci.audience == "https://api.example.com"


def test_the_active_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AUTHWIRE_PROFILE, else default_profile, else "default"."""
    config = load_config(write(tmp_path / "c.toml", PROFILES))
    assert config is not None
    assert active_profile_name() == "default"
    assert active_profile_name(config) == "billing"
    assert config.get().name == "billing"
    monkeypatch.setenv("AUTHWIRE_PROFILE", "ci")
    assert config.get().name == "ci"
    assert config.get("billing").name == "billing"
    with pytest.raises(ConfigurationError, match=r"no profile 'nope'.*billing, ci"):
        config.get("nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[profiles.a\nclient_id = 1", r"not valid TOML.*line 1"),
        ('[profiles.a]\nclient_id = "x"\ntoken_url = "https://x"\nclient_secret = "s"', "secret"),
        ('[profiles.a]\nclient_id = "x"\ntoken_url = "https://x"\npassword = "p"', "secret"),
        ('[profiles.a]\ntoken_url = "https://x"', "needs client_id"),
        ('[profiles.a]\nclient_id = "x"', "exactly one of token_url and issuer"),
        (
            '[profiles.a]\nclient_id = "x"\ntoken_url = "https://x"\nissuer = "https://x"',
            "exactly one",
        ),
        ('[profiles.a]\nclient_id = "x"\ntoken_url = "https://x"\ngrant = "magic"', "grant"),
        ('[profiles.a]\nclient_id = "x"\ntoken_url = "https://x"\ncache = "disk"', "cache"),
        ('[profiles.a]\nclient_id = ""\ntoken_url = "https://x"', "non-empty string"),
        ('[profiles.a]\nclient_id = "x"\ntoken_url = "https://x"\nscopes = [1]', "scopes"),
        ('client_id = "x"', "unknown top-level"),
        ("profiles = 3", "must be tables"),
        ("default_profile = 3", "default_profile"),
        ("[profiles]\na = 1", r"\[profiles\.a\] must be a table"),
    ],
)
def test_malformed_files_are_configuration_errors(tmp_path: Path, text: str, message: str) -> None:
    """Each mistake gives a ConfigurationError naming the file and what to fix."""
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigurationError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_a_secret_in_the_file_is_not_repeated_in_the_error(tmp_path: Path) -> None:
    """Refusing a secret in a profile never echoes the secret."""
    path = write(
        tmp_path / "c.toml",
        '[profiles.a]\nclient_id = "x"\ntoken_url = "https://x"\nclient_secret = "sup3r-s3cret"',
    )
    with pytest.raises(ConfigurationError) as info:
        load_config(path)
    assert_no_secret(str(info.value), "sup3r-s3cret")


def test_cache_keys_name_the_profile_and_client_never_a_secret(tmp_path: Path) -> None:
    """A profile's login key differs by profile and client and holds no secret."""
    a = Profile(name="a", client_id="x", token_url="https://x")
    b = Profile(name="b", client_id="x", token_url="https://x")
    assert a.cache_key != b.cache_key
    assert a.cache_key.startswith("aw1-")
    assert "secret" not in str(a.identity())


def test_profile_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cache = file, file:<folder>, memory, keyring and redis:// make those caches."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    def make(cache: str) -> authwire.TokenCache:
        return Profile(name="p", client_id="x", token_url="https://x", cache=cache).make_cache()

    assert isinstance(make("file"), FileCache)
    folder = make(f"file:{tmp_path / 'own'}")
    assert isinstance(folder, FileCache)
    assert folder.path == tmp_path / "own"
    assert isinstance(make("memory"), authwire.MemoryCache)
    assert isinstance(make("redis://127.0.0.1:1/0"), authwire.RedisCache)
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring.cfg")
    before = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        cache = make("keyring")
    finally:
        keyring.set_keyring(before)
    assert isinstance(cache, authwire.KeyringCache)
    assert cache.backend is ring


# -- ProfileCredential ----------------------------------------------------------------------


def test_no_config_file_is_unavailable(tmp_path: Path) -> None:
    """Without a config file the profile source is unavailable (a chain moves on)."""
    cred = ProfileCredential(config=tmp_path / "none.toml")
    with pytest.raises(CredentialUnavailable, match="does not exist"):
        cred.get_token()


def test_an_implicit_missing_profile_is_unavailable_a_named_one_an_error(tmp_path: Path) -> None:
    """No active profile in the file: unavailable; a profile asked for by name: an error."""
    path = write(tmp_path / "c.toml", '[profiles.x]\nclient_id = "c"\ntoken_url = "https://x"\n')
    with pytest.raises(CredentialUnavailable, match="no profile 'default'"):
        ProfileCredential(config=path).get_token()
    with pytest.raises(ConfigurationError, match="no profile 'nope'"):
        ProfileCredential("nope", config=path).get_token()


def test_a_profile_without_a_saved_login_requires_interaction(tmp_path: Path) -> None:
    """No saved login: InteractionRequired telling which `authwire login` to run."""
    path = write(
        tmp_path / "c.toml",
        '[profiles.x]\nclient_id = "c"\ntoken_url = "https://x/token"\n'
        f'cache = "file:{tmp_path / "cache"}"\n',
    )
    with pytest.raises(InteractionRequired, match="authwire login --profile x"):
        ProfileCredential("x", config=path).get_token()


def test_a_client_credentials_profile_needs_its_secret_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client_credentials profile reads its secret from the named variable, else unavailable."""
    path = write(tmp_path / "c.toml", PROFILES)
    with pytest.raises(CredentialUnavailable, match="CI_BOT_SECRET is not set"):
        ProfileCredential("ci", config=path).get_token()
    monkeypatch.setenv("CI_BOT_SECRET", "ci-s3cret")
    inner = ProfileCredential("ci", config=path).credential
    assert isinstance(inner, authwire.ClientCredentials)
    assert inner.client_id == "ci-bot"
    assert "ci-s3cret" not in repr(inner)


@pytest.fixture
def server() -> Iterator[TokenServer]:
    with TokenServer(ttl=3.0) as running:
        yield running


def login(server: TokenServer) -> Token:
    """A real login on the test server (password grant): an access and a refresh token."""
    body = requests.post(
        server.url + "/token",
        data={"grant_type": "password", "username": USER, "password": PASSWORD},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    ).json()
    return Token(
        body["access_token"],
        expires_at=time.time() + body["expires_in"],
        issued_at=time.time(),
        refresh_token=body["refresh_token"],
    )


@pytest.fixture
def profile_file(tmp_path: Path, server: TokenServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SVC_SECRET", CLIENT_SECRET)
    return write(
        tmp_path / "config.toml",
        'default_profile = "svc"\n'
        "[profiles.svc]\n"
        f'token_url = "{server.url}/token"\n'
        f'client_id = "{CLIENT_ID}"\n'
        'grant = "password"\n'
        'client_secret_env = "SVC_SECRET"\n'
        f'cache = "file:{tmp_path / "cache"}"\n',
    )


@pytest.mark.integration
def test_a_saved_login_is_refreshed_and_the_rotated_token_saved_first(
    server: TokenServer, profile_file: Path, tmp_path: Path
) -> None:
    """An expired saved login refreshes once; the rotated refresh token is saved before use."""
    config = load_config(profile_file)
    assert config is not None
    profile = config.get()
    first = login(server)
    profile.save_login(
        Token(first.access_token, expires_at=time.time() - 1, refresh_token=first.refresh_token)
    )
    saved_at_refresh: list[str | None] = []

    def on_refresh(event: RefreshEvent) -> None:
        stored = profile.load_login()
        saved_at_refresh.append(stored.refresh_token if stored else None)

    token = ProfileCredential(config=profile_file, on_refresh=on_refresh).get_token()
    assert token.refresh_token is not None
    assert token.refresh_token != first.refresh_token  # the server rotates
    assert saved_at_refresh == [token.refresh_token]
    assert server.count("token") == 2  # the login, then one refresh
    # Another instance (another process, a later run) reuses the saved login as is.
    assert ProfileCredential(config=profile_file).get_token() == token
    assert server.count("token") == 2
    # The cache holds the client id's login, never the client secret.
    (file,) = (tmp_path / "cache").glob("*.json")
    assert_no_secret(file.name + file.read_text(), CLIENT_SECRET)
    api = requests.get(
        server.url + "/api", headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10
    )
    assert api.status_code == 200


@pytest.mark.integration
def test_a_refused_saved_login_requires_interaction(
    server: TokenServer, profile_file: Path
) -> None:
    """A refresh token the server no longer knows raises InteractionRequired (chain moves on)."""
    config = load_config(profile_file)
    assert config is not None
    config.get().save_login(Token("at-old", expires_at=time.time() - 1, refresh_token="rt-gone"))
    with pytest.raises(InteractionRequired, match="invalid_grant"):
        ProfileCredential(config=profile_file).get_token()
    chain = authwire.CredentialChain(
        [ProfileCredential(config=profile_file), authwire.StaticToken("fallback")]
    )
    assert chain.get_token().access_token == "fallback"
    assert server.count("token") == 2


@pytest.mark.anyio
async def test_async_callers_get_the_saved_login_too(tmp_path: Path) -> None:
    """aget_token reads the profile (in a worker thread) and returns its fresh saved login."""
    path = write(
        tmp_path / "c.toml",
        '[profiles.x]\nclient_id = "c"\ntoken_url = "https://x/token"\n'
        f'cache = "file:{tmp_path / "cache"}"\n',
    )
    config = load_config(path)
    assert config is not None
    saved = Token("at-saved", expires_at=time.time() + 3600, refresh_token="rt")
    config.get("x").save_login(saved)
    assert await ProfileCredential("x", config=path).aget_token() == saved
    with pytest.raises(CredentialUnavailable):
        await ProfileCredential(config=tmp_path / "none.toml").aget_token()


class ReadRecordingCache(FileCache):
    """A real FileCache that records the thread of every ``get``."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.readers: list[int] = []

    def get(self, key: str) -> Token | None:
        """Record the calling thread, then read the file."""
        self.readers.append(threading.get_ident())
        return super().get(key)


@pytest.mark.integration
@pytest.mark.anyio
async def test_async_refresh_of_a_saved_login_reads_no_file_on_the_loop(
    server: TokenServer, profile_file: Path, tmp_path: Path
) -> None:
    """aget_token refreshing an expired saved login reads the cache in worker threads only."""
    config = load_config(profile_file)
    assert config is not None
    first = login(server)
    config.get().save_login(
        Token(first.access_token, expires_at=time.time() - 1, refresh_token=first.refresh_token)
    )
    cache = ReadRecordingCache(tmp_path / "cache")
    token = await ProfileCredential(config=profile_file, cache=cache).aget_token()
    assert token.refresh_token not in (None, first.refresh_token)  # refreshed, rotated
    assert server.count("token") == 2  # the login, then one refresh
    assert cache.readers  # the saved login was read...
    assert threading.get_ident() not in cache.readers  # ...never on the event loop's thread
