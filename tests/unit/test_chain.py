"""CredentialChain, EnvironmentCredential and default_credential(): who gives the token."""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.leakcheck import SecretPlanter

import authwire
from authwire import (
    ClientCredentials,
    ConfigurationError,
    Credential,
    CredentialChain,
    CredentialUnavailable,
    EnvironmentCredential,
    InteractionRequired,
    StaticToken,
    Token,
    TokenRequestError,
)
from authwire.config import load_config


class Source(Credential):
    """A credential that counts its calls and either gives a token or raises."""

    def __init__(self, name: str, result: Token | Exception) -> None:
        self.name = name
        self.result = result
        self.calls = 0
        self.invalidated: list[Token] = []

    def __repr__(self) -> str:
        return f"Source({self.name!r})"

    def get_token(self) -> Token:
        self.calls += 1
        if isinstance(self.result, Exception):
            raise self.result
        return self.result

    async def aget_token(self) -> Token:
        return self.get_token()

    def invalidate(self, token: Token) -> bool:
        self.invalidated.append(token)
        return True


@pytest.fixture(autouse=True)
def _no_default_override() -> Iterator[None]:
    authwire.set_default_credential(None)
    yield
    authwire.set_default_credential(None)


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point AUTHWIRE_CONFIG at a file that does not exist."""
    path = tmp_path / "missing.toml"
    monkeypatch.setenv("AUTHWIRE_CONFIG", str(path))
    return path


# -- CredentialChain -----------------------------------------------------------------------


def test_unavailable_sources_pass_on_to_the_next() -> None:
    """The first source with a token wins; unavailable ones before it are skipped."""
    first = Source("first", CredentialUnavailable("nothing here"))
    second = Source("second", Token("at-2"))
    third = Source("third", Token("at-3"))
    chain = CredentialChain([first, second, third])
    assert chain.get_token() == Token("at-2")
    assert chain.chosen is second
    assert (first.calls, second.calls, third.calls) == (1, 1, 0)


def test_the_chosen_source_is_kept_for_later_calls() -> None:
    """After the first success the chain asks only the source that answered."""
    first = Source("first", CredentialUnavailable("nothing here"))
    second = Source("second", Token("at-2"))
    chain = CredentialChain([first, second])
    for _ in range(3):
        chain.get_token()
    assert (first.calls, second.calls) == (1, 3)


def test_a_failing_source_stops_the_chain() -> None:
    """A source that fails (not merely unavailable) raises; later sources are not tried."""
    refused = TokenRequestError(url="https://idp/token", status=401, error="invalid_client")
    failing = Source("failing", refused)
    later = Source("later", Token("at"))
    with pytest.raises(TokenRequestError) as info:
        CredentialChain([failing, later]).get_token()
    assert info.value is refused
    assert later.calls == 0


def test_nothing_found_lists_every_source_and_why() -> None:
    """With every source unavailable, the error names each and its reason, in order."""
    chain = CredentialChain(
        [
            Source("a", CredentialUnavailable("no variables")),
            Source("b", InteractionRequired("no saved login; run `authwire login`")),
        ],
        name="mine",
    )
    with pytest.raises(CredentialUnavailable) as info:
        chain.get_token()
    err = info.value
    assert err.attempts == (
        ("Source('a')", "no variables"),
        ("Source('b')", "no saved login; run `authwire login`"),
    )
    assert str(err).splitlines() == [
        "mine: no credential found",
        "  - Source('a'): no variables",
        "  - Source('b'): no saved login; run `authwire login`",
    ]
    assert pickle.loads(pickle.dumps(err)) == err  # noqa: S301 (our own bytes)


def test_a_nested_chain_reports_one_line() -> None:
    """An inner chain's own list is summarised by its first line in the outer one."""
    inner = CredentialChain([Source("x", CredentialUnavailable("none"))], name="inner")
    with pytest.raises(CredentialUnavailable) as info:
        CredentialChain([inner], name="outer").get_token()
    assert info.value.attempts == (("inner([Source('x')])", "inner: no credential found"),)


def test_invalidate_goes_to_the_chosen_source() -> None:
    """A 401's invalidate reaches the source that gave the token (and none before it)."""
    chain = CredentialChain([Source("s", Token("at"))])
    assert chain.invalidate(Token("at")) is False  # nothing chosen yet
    token = chain.get_token()
    assert chain.invalidate(token) is True
    assert isinstance(chain.chosen, Source)
    assert chain.chosen.invalidated == [token]


def test_peek_is_the_chosen_sources() -> None:
    """peek() is None before a source is chosen, then the chosen source's."""
    chain = CredentialChain([StaticToken("abc")])
    assert chain.peek(0.0) is None
    chain.get_token()
    peeked = chain.peek(0.0)
    assert peeked is not None
    assert peeked.access_token == "abc"


@pytest.mark.anyio
async def test_async_chain_behaves_like_the_sync_one() -> None:
    """aget_token skips unavailable sources, keeps the chosen one, stops on failures."""
    first = Source("first", CredentialUnavailable("nothing"))
    second = Source("second", Token("at"))
    chain = CredentialChain([first, second])
    assert await chain.aget_token() == Token("at")
    assert await chain.aget_token() == Token("at")
    assert (first.calls, second.calls) == (1, 2)
    assert await chain.ainvalidate(Token("at")) is True
    with pytest.raises(CredentialUnavailable) as info:
        await CredentialChain([first]).aget_token()
    assert len(info.value.attempts) == 1
    with pytest.raises(ConfigurationError):
        await CredentialChain([Source("bad", ConfigurationError("broken"))]).aget_token()


def test_chain_arguments_are_checked() -> None:
    """An empty chain or a non-credential source is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        CredentialChain([])
    with pytest.raises(ConfigurationError):
        CredentialChain(["token"])  # type: ignore[list-item]


def test_a_chain_composes_like_any_credential() -> None:
    """A chain is a credential: it applies as a bearer token and composes with +."""
    scheme = CredentialChain([StaticToken("abc")]) + authwire.ApiKey("k", header="X-Key")
    assert isinstance(scheme, authwire.AuthScheme)


# -- EnvironmentCredential -----------------------------------------------------------------


def test_environment_without_variables_is_unavailable() -> None:
    """No AUTHWIRE_* variables: unavailable, saying which variables it looked for."""
    with pytest.raises(CredentialUnavailable, match="AUTHWIRE_TOKEN"):
        EnvironmentCredential().get_token()


def test_environment_token_is_a_static_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUTHWIRE_TOKEN gives a static bearer token, even beside client variables."""
    monkeypatch.setenv("AUTHWIRE_TOKEN", "tok-123")
    monkeypatch.setenv("AUTHWIRE_CLIENT_ID", "svc")
    cred = EnvironmentCredential()
    assert cred.get_token().access_token == "tok-123"
    assert isinstance(cred.credential, StaticToken)
    assert "tok-123" not in repr(cred)


def test_environment_client_variables_make_client_credentials(
    planted_secrets: SecretPlanter,
) -> None:
    """AUTHWIRE_CLIENT_ID/SECRET/TOKEN_URL/SCOPE describe a ClientCredentials client."""
    secret = planted_secrets.new("env-secret")
    cred = EnvironmentCredential(
        environ={
            "AUTHWIRE_CLIENT_ID": "svc",
            "AUTHWIRE_CLIENT_SECRET": secret,
            "AUTHWIRE_TOKEN_URL": "https://login.example.com/token",
            "AUTHWIRE_SCOPE": "a b",
        },
        leeway=10,
    )
    inner = cred.credential
    assert isinstance(inner, ClientCredentials)
    assert inner.client_id == "svc"
    assert inner.token_url == "https://login.example.com/token"
    assert inner.manager.policy.advisory == 10
    planted_secrets.check(repr(cred), repr(inner), cred.credential.cache_key)


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({"AUTHWIRE_CLIENT_ID": "svc"}, "AUTHWIRE_CLIENT_SECRET"),
        ({"AUTHWIRE_CLIENT_ID": "svc", "AUTHWIRE_CLIENT_SECRET": "s"}, "AUTHWIRE_TOKEN_URL"),
        ({"AUTHWIRE_TOKEN_URL": "https://x/token"}, "AUTHWIRE_CLIENT_ID"),
    ],
)
def test_a_half_set_environment_is_an_error_that_stops_the_chain(
    environ: dict[str, str], missing: str
) -> None:
    """Partial client variables raise ConfigurationError naming what is missing."""
    later = Source("later", Token("at"))
    chain = CredentialChain([EnvironmentCredential(environ=environ), later])
    with pytest.raises(ConfigurationError, match=missing):
        chain.get_token()
    assert later.calls == 0


def test_token_url_and_issuer_together_are_refused() -> None:
    """AUTHWIRE_TOKEN_URL and AUTHWIRE_ISSUER both set is ambiguous: an error."""
    environ = {
        "AUTHWIRE_CLIENT_ID": "svc",
        "AUTHWIRE_CLIENT_SECRET": "s",
        "AUTHWIRE_TOKEN_URL": "https://x/token",
        "AUTHWIRE_ISSUER": "https://x",
    }
    with pytest.raises(ConfigurationError, match="not both"):
        EnvironmentCredential(environ=environ).get_token()


def test_environment_is_read_at_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment credential made before the variable is set still finds it."""
    cred = EnvironmentCredential()
    with pytest.raises(CredentialUnavailable):
        cred.get_token()
    monkeypatch.setenv("AUTHWIRE_TOKEN", "later")
    assert cred.get_token().access_token == "later"


# -- default_credential ---------------------------------------------------------------------


def test_default_credential_prefers_the_environment(
    monkeypatch: pytest.MonkeyPatch, no_config: Path
) -> None:
    """With AUTHWIRE_TOKEN set, the default credential gives it."""
    monkeypatch.setenv("AUTHWIRE_TOKEN", "from-env")
    assert authwire.default_credential().get_token().access_token == "from-env"


def test_default_credential_with_nothing_lists_both_sources(no_config: Path) -> None:
    """Nothing configured: the error lists the environment and the profile, with reasons."""
    cred = authwire.default_credential()
    assert repr(cred) == "default_credential([EnvironmentCredential(), ProfileCredential()])"
    with pytest.raises(CredentialUnavailable) as info:
        cred.get_token()
    sources = [source for source, _ in info.value.attempts]
    assert sources == ["EnvironmentCredential()", "ProfileCredential()"]
    assert str(no_config) in info.value.attempts[1][1]


def test_default_credential_falls_back_to_the_active_profiles_saved_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No environment: the active profile's fresh saved login is used without any request."""
    config = tmp_path / "config.toml"
    config.write_text(
        'default_profile = "work"\n'
        "[profiles.work]\n"
        'token_url = "https://login.example.com/token"\n'
        'client_id = "cli"\n'
        f'cache = "file:{tmp_path / "cache"}"\n'
    )
    monkeypatch.setenv("AUTHWIRE_CONFIG", str(config))
    profile = load_config(config)
    assert profile is not None
    saved = Token("at-saved", expires_at=time.time() + 3600, refresh_token="rt")
    profile.get().save_login(saved)
    assert authwire.default_credential().get_token() == saved


def test_set_default_credential_overrides_and_resets(no_config: Path) -> None:
    """set_default_credential(c) makes default_credential() return c; None restores the chain."""
    mine = StaticToken("mine")
    authwire.set_default_credential(mine)
    assert authwire.default_credential() is mine
    authwire.set_default_credential(None)
    assert isinstance(authwire.default_credential(), CredentialChain)
    with pytest.raises(ConfigurationError):
        authwire.set_default_credential("token")  # type: ignore[arg-type]
