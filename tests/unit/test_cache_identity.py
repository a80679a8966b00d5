"""Cache keys: every field that changes the token changes the key, and nothing else does.

Two credentials whose cache keys are equal share one cached token (in the process-wide
``MemoryCache``, a ``FileCache`` or a ``RedisCache``). So a key must take in everything
that makes another token (the endpoint, the client, its secret or key, the user, the
subject token of an exchange, the assertion...) and no secret in the clear. The property
test builds pairs of credentials of every type that differ in one identity-bearing field
and asserts distinct keys, and pairs that differ only in how tokens are fetched (timeouts,
windows, hooks) and asserts equal keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import authwire
from authwire import (
    AuthorizationCode,
    ClientCredentials,
    CommandCredential,
    ConfigurationError,
    DeviceCode,
    DPoPKey,
    JwtBearer,
    LoginEndpoint,
    MemoryCache,
    PasswordGrant,
    RefreshTokenGrant,
    Secret,
    StaticToken,
    TokenExchange,
)
from authwire.credentials.base import Credential, ManagedCredential

TOKEN_URL = "https://login.example.com/token"


def _ec_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


#: Throwaway keys, made per run: never a key file in the repository.
KEYS = [_ec_pem() for _ in range(3)]
DPOP_KEYS = [DPoPKey() for _ in range(3)]

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_TEXT = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() == s and "\0" not in s)
_URL = st.builds(lambda host, path: f"https://{host}.example.com/{path}", _WORD, _WORD)
_SCOPE = st.lists(_WORD, min_size=1, max_size=4).map(" ".join)
_PARAMS = st.dictionaries(_WORD, _TEXT, min_size=1, max_size=3)


@dataclass
class Case:
    """One credential type: how to build it, its identity fields and its neutral fields."""

    build: Callable[..., Credential]
    base: Mapping[str, Any]
    #: Fields that make another token: two values give two keys.
    identity: dict[str, st.SearchStrategy[Any]]
    #: Fields that do not: any two values give one key.
    neutral: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)


def _oauth2_identity(secret: bool = True) -> dict[str, st.SearchStrategy[Any]]:
    """The identity fields every OAuth 2 grant shares (``_where`` is token_url/issuer)."""
    fields: dict[str, st.SearchStrategy[Any]] = {
        "_where": st.one_of(
            _URL.map(lambda url: ("token_url", url)), _URL.map(lambda url: ("issuer", url))
        ),
        "client_id": _TEXT,
        "scope": _SCOPE,
        "audience": _TEXT,
        "resource": st.lists(_URL, min_size=1, max_size=2),
        "extra_params": _PARAMS,
        "dpop": st.sampled_from(DPOP_KEYS),
        "_client_auth": st.one_of(
            st.tuples(st.just("client_secret_basic"), _TEXT),
            st.tuples(st.just("client_secret_post"), _TEXT),
            st.tuples(st.just("client_secret_jwt"), _TEXT.map(lambda s: s * 4)),
            st.tuples(st.just("private_key_jwt"), st.sampled_from(KEYS)),
        ),
    }
    if secret:
        fields["client_secret"] = _TEXT
    return fields


_MANAGED_NEUTRAL: dict[str, st.SearchStrategy[Any]] = {
    "timeout": st.floats(min_value=0.5, max_value=60),
    "leeway": st.sampled_from([None, 0.0, 60.0, 300.0]),
    "retries": st.integers(min_value=0, max_value=5),
    "cache": st.sampled_from([None, "memory"]),
    "on_refresh": st.sampled_from([None, print]),
}
_OAUTH2_NEUTRAL: dict[str, st.SearchStrategy[Any]] = {
    **_MANAGED_NEUTRAL,
    "allow_insecure": st.booleans(),
}
_USER_NEUTRAL = {**_OAUTH2_NEUTRAL, "verify_id_token": st.booleans()}


def _static_or_string(kind: str, token: str) -> Any:
    if kind == "str":
        return token
    if kind == "secret":
        return Secret(token)
    if kind == "static":
        return StaticToken(token)
    # A credential whose own key changes with the "token" (its client secret).
    return ClientCredentials(TOKEN_URL, client_id="user-source", client_secret=token)


#: A subject or actor: a token string, a ``Secret``, a ``StaticToken``, or a credential.
_PART = st.tuples(st.sampled_from(["str", "secret", "static", "credential"]), _TEXT).map(
    lambda kt: (kt[0], kt[1])
)

CASES: dict[str, Case] = {
    "ClientCredentials": Case(
        ClientCredentials,
        {"client_id": "svc", "client_secret": "s"},
        _oauth2_identity(),
        _OAUTH2_NEUTRAL,
    ),
    "PasswordGrant": Case(
        PasswordGrant,
        {"client_id": "cli", "username": "alice", "password": "pw"},
        {**_oauth2_identity(), "username": _TEXT, "password": _TEXT},
        _USER_NEUTRAL,
    ),
    "RefreshTokenGrant": Case(
        RefreshTokenGrant,
        {"client_id": "cli", "refresh_token": "rt"},
        {**_oauth2_identity(), "refresh_token": _TEXT},
        {**_OAUTH2_NEUTRAL, "refresh_expires_at": st.floats(min_value=0, max_value=2e9)},
    ),
    "AuthorizationCode": Case(
        AuthorizationCode,
        {"client_id": "cli"},
        {
            **_oauth2_identity(),
            "authorization_params": _PARAMS,
            "authorization_url": _URL,
        },
        {
            **_USER_NEUTRAL,
            "open_browser": st.booleans(),
            "redirect_port": st.integers(min_value=0, max_value=65535),
            "login_timeout": st.floats(min_value=1, max_value=600),
        },
    ),
    "DeviceCode": Case(
        DeviceCode,
        {"client_id": "cli"},
        {**_oauth2_identity(), "device_authorization_url": _URL},
        {**_USER_NEUTRAL, "poll_interval": st.sampled_from([None, 0.0, 5.0])},
    ),
    "JwtBearer": Case(
        JwtBearer,
        {"client_id": "svc", "assertion_key": KEYS[0], "subject": "robot"},
        {
            **_oauth2_identity(),
            "assertion_key": st.sampled_from(KEYS),
            "subject": _TEXT,
            "assertion_issuer": _TEXT,
            "assertion_audience": _URL,
            "assertion_claims": _PARAMS,
        },
        _OAUTH2_NEUTRAL,
    ),
    "JwtBearer(assertion=str)": Case(
        JwtBearer,
        {"client_id": "svc", "assertion": "eyJ.a.b"},
        {**_oauth2_identity(), "assertion": _TEXT, "cache_identity": _TEXT},
        _OAUTH2_NEUTRAL,
    ),
    "JwtBearer(assertion=function)": Case(
        JwtBearer,
        {"client_id": "svc", "assertion": lambda: "eyJ.a.b", "cache_identity": "svc@prod"},
        {**_oauth2_identity(), "cache_identity": _TEXT, "subject": _TEXT},
        # Which function is no part of the key: the name given says whose it is.
        {**_OAUTH2_NEUTRAL, "assertion": st.sampled_from([lambda: "x", lambda: "y"])},
    ),
    "TokenExchange": Case(
        TokenExchange,
        # With an actor: actor_token_type is sent (and identity-bearing) only with one.
        {"client_id": "gw", "client_secret": "s", "subject": "alice-token", "actor": "gw-token"},
        {
            **_oauth2_identity(),
            "subject": _PART,
            "actor": _PART,
            "subject_token_type": _URL,
            "actor_token_type": _URL,
            "requested_token_type": _URL,
        },
        _OAUTH2_NEUTRAL,
    ),
    "LoginEndpoint": Case(
        LoginEndpoint,
        {"url": TOKEN_URL, "username": "alice", "password": "pw"},
        {
            "url": _URL,
            "username": _TEXT,
            "password": _TEXT,
            "extra_fields": _PARAMS,
            "headers": _PARAMS.map(lambda d: {f"x-{k}": v for k, v in d.items()}),
            "token_path": _WORD,
            "username_field": _WORD,
            "password_field": _WORD,
        },
        {
            **_MANAGED_NEUTRAL,
            "body": st.sampled_from(["form", "json"]),
            "header": st.sampled_from(["Authorization", "X-Token"]),
            "prefix": st.sampled_from([None, "", "Token"]),
            "expires_path": st.sampled_from([None, "expires_in", "data.exp"]),
        },
    ),
    "CommandCredential": Case(
        CommandCredential,
        {"command": ["token-helper"]},
        {
            "command": st.lists(_TEXT, min_size=1, max_size=3),
            "env": _PARAMS,
            "cwd": _WORD.map(lambda w: f"/tmp/{w}"),
        },
        {
            "leeway": st.sampled_from([None, 0.0, 60.0]),
            "default_lifetime": st.sampled_from([None, 60.0, 3600.0]),
            "cache": st.sampled_from([None, "memory"]),
        },
    ),
}


def _kwargs(case: Case, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments: the case's base with ``changes`` applied."""
    kwargs = dict(case.base)
    if "command" not in kwargs and "url" not in kwargs:
        kwargs["token_url"] = TOKEN_URL
    for name, value in changes.items():
        if name == "_where":
            kwargs.pop("token_url", None)
            kwargs.pop("issuer", None)
            kwargs[value[0]] = value[1]
        elif name == "_client_auth":
            method, secret = value
            kwargs["auth_method"] = method
            kwargs.pop("client_secret", None)
            kwargs["private_key" if method == "private_key_jwt" else "client_secret"] = secret
        elif name in ("subject", "actor") and isinstance(value, tuple):
            kwargs[name] = _static_or_string(*value)
        elif name == "cache":
            kwargs[name] = MemoryCache() if value == "memory" else None
        else:
            kwargs[name] = value
    if kwargs.get("assertion") is not None:
        kwargs.pop("assertion_key", None)
    return kwargs


def _key(case: Case, changes: Mapping[str, Any]) -> str:
    credential = case.build(**_kwargs(case, changes))
    assert isinstance(credential, ManagedCredential)
    return credential.cache_key


def _distinct(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    def differ(pair: tuple[Any, Any]) -> bool:
        a, b = pair
        if isinstance(a, tuple) and isinstance(b, tuple) and a[0] in ("str", "secret", "static"):
            # A token given as a string, a Secret or a StaticToken is the same token.
            return a[1] != b[1] or (b[0] == "credential") != (a[0] == "credential")
        return bool(a is not b and a != b)

    return st.tuples(strategy, strategy).filter(differ)


#: Every (credential type, identity field) pair, so each is exercised on every run.
IDENTITY_FIELDS = [(name, f) for name, case in sorted(CASES.items()) for f in sorted(case.identity)]


@pytest.mark.parametrize(("name", "field_name"), IDENTITY_FIELDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_identity_field_changes_the_key(
    name: str, field_name: str, data: st.DataObject
) -> None:
    """Two credentials of one type differing in one identity-bearing field never share a key."""
    case = CASES[name]
    a, b = data.draw(_distinct(case.identity[field_name]), label="values")
    assert _key(case, {field_name: a}) != _key(case, {field_name: b})


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_neutral_fields_keep_the_key(name: str, data: st.DataObject) -> None:
    """Same identity, any timeouts, windows, retries, hooks or cache object: one key."""
    case = CASES[name]
    chosen = data.draw(st.sets(st.sampled_from(sorted(case.identity)), max_size=3))
    same = {f: data.draw(case.identity[f], label=f) for f in sorted(chosen)}
    first = {f: data.draw(s, label=f) for f, s in case.neutral.items()}
    second = {f: data.draw(s, label=f) for f, s in case.neutral.items()}
    assert _key(case, {**same, **first}) == _key(case, {**same, **second})


# -- TokenExchange: one user's exchanged token is never another's ----------------------------


@pytest.mark.parametrize("role", ["subject", "actor"])
@pytest.mark.parametrize("kind", ["str", "secret", "static", "credential"])
def test_alice_and_bob_subjects_have_two_keys(role: str, kind: str) -> None:
    """Exchanging alice's or bob's token (or acting as either) never gives one cache key."""

    def exchange(token: str) -> TokenExchange:
        parts = {"subject": "gateway-token", role: _static_or_string(kind, token)}
        return TokenExchange(TOKEN_URL, client_id="gw", client_secret="s", **parts)

    alice, bob = exchange("alice-token"), exchange("bob-token")
    assert alice.cache_key != bob.cache_key
    assert exchange("alice-token").cache_key == alice.cache_key


def test_the_token_is_not_in_the_identity() -> None:
    """The cache identity holds a keyed fingerprint of a subject token, never the token."""
    token = "eyJ-alice-subject-token-3f9a"
    cred = TokenExchange(TOKEN_URL, client_id="gw", subject=token, actor=StaticToken(token))
    text = json.dumps(cred._identity(), default=str)
    assert token not in text
    assert "alice" not in text


def test_subject_and_actor_fingerprints_differ_for_one_token() -> None:
    """A token as subject and the same token as actor are two configurations."""
    one = TokenExchange(TOKEN_URL, client_id="gw", subject="t1", actor="t2")
    two = TokenExchange(TOKEN_URL, client_id="gw", subject="t2", actor="t1")
    assert one.cache_key != two.cache_key


def test_a_subject_credential_without_identity_is_never_shared() -> None:
    """A chain or environment subject has no identity: each exchange gets its own key."""
    env = {"AUTHWIRE_TOKEN": "alice-token"}
    subject = authwire.EnvironmentCredential(environ=env)
    one = TokenExchange(TOKEN_URL, client_id="gw", subject=subject)
    two = TokenExchange(TOKEN_URL, client_id="gw", subject=subject)
    assert one.cache_key != two.cache_key


def test_string_subject_and_actor_are_held_as_secrets() -> None:
    """vars(TokenExchange) holds no subject or actor token in the clear."""
    cred = TokenExchange(TOKEN_URL, client_id="gw", subject="alice-token", actor="gw-token")
    assert isinstance(vars(cred)["_subject"], Secret)
    assert isinstance(vars(cred)["_actor"], Secret)
    assert "alice-token" not in repr(vars(cred))
    assert "gw-token" not in repr(vars(cred))


@pytest.mark.parametrize("empty", ["", Secret("")])
def test_empty_subject_or_actor_is_refused(empty: Any) -> None:
    """An empty token as subject or actor is a configuration error, not a request."""
    with pytest.raises(ConfigurationError, match="subject"):
        TokenExchange(TOKEN_URL, client_id="gw", subject=empty)
    with pytest.raises(ConfigurationError, match="actor"):
        TokenExchange(TOKEN_URL, client_id="gw", subject="t", actor=empty)


# -- JwtBearer -------------------------------------------------------------------------------


def test_assertion_function_needs_an_identity() -> None:
    """assertion=<function> without cache_identity= or subject= is refused, with the fix."""
    with pytest.raises(ConfigurationError, match="cache_identity="):
        JwtBearer(TOKEN_URL, client_id="svc", assertion=lambda: "eyJ.a.b")


def test_two_assertion_functions_with_two_identities_have_two_keys() -> None:
    """Two service accounts' assertion functions, named apart, never share a token."""
    one = JwtBearer(TOKEN_URL, client_id="svc", assertion=lambda: "a", cache_identity="sa-1")
    two = JwtBearer(TOKEN_URL, client_id="svc", assertion=lambda: "b", cache_identity="sa-2")
    by_subject = JwtBearer(TOKEN_URL, client_id="svc", assertion=lambda: "b", subject="sa-2")
    assert len({one.cache_key, two.cache_key, by_subject.cache_key}) == 3


def test_string_assertion_is_held_as_a_secret() -> None:
    """vars(JwtBearer) holds no assertion in the clear; the request still carries it."""
    from authwire._core.flow import Call

    cred = JwtBearer(TOKEN_URL, client_id="svc", assertion="eyJ-the-assertion")
    assert isinstance(vars(cred)["_assertion"], Secret)
    assert "eyJ-the-assertion" not in repr(vars(cred))
    flow = cred._token_flow(None)
    step = next(flow)
    assert isinstance(step, Call)
    request = flow.send(step.fn(*step.args))
    assert b"assertion=eyJ-the-assertion" in request.body


# -- ClientCertificate (tls_client_auth) -------------------------------------------------------


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two throwaway client certificates (cert and key in one PEM file each)."""
    trustme = pytest.importorskip("trustme")
    folder = tmp_path_factory.mktemp("certs")
    ca = trustme.CA()
    files = []
    for name in ("one", "two"):
        path = folder / f"{name}.pem"
        issued = ca.issue_cert(f"{name}.example")
        path.write_bytes(issued.private_key_pem.bytes() + issued.cert_chain_pems[0].bytes())
        files.append(path)
    return files


def test_two_client_certificates_have_two_keys(cert_files: list[Path]) -> None:
    """tls_client_auth clients differing only by certificate never share (bound) tokens."""

    def client(path: Path) -> ClientCredentials:
        return ClientCredentials(TOKEN_URL, client_id="tls-client", cert=str(path))

    one, two = client(cert_files[0]), client(cert_files[1])
    assert one.cache_key != two.cache_key
    assert client(cert_files[0]).cache_key == one.cache_key


# -- environment and profile credentials -----------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "other"),
    [
        ("AUTHWIRE_CLIENT_ID", "svc-2"),
        ("AUTHWIRE_CLIENT_SECRET", "secret-2"),
        ("AUTHWIRE_TOKEN_URL", "https://other.example.com/token"),
        ("AUTHWIRE_SCOPE", "api.write"),
    ],
)
def test_environment_credentials_differing_in_one_variable_have_two_keys(
    variable: str, other: str
) -> None:
    """The environment's client is keyed by every variable that describes it."""
    environ = {
        "AUTHWIRE_CLIENT_ID": "svc",
        "AUTHWIRE_CLIENT_SECRET": "secret-1",
        "AUTHWIRE_TOKEN_URL": TOKEN_URL,
        "AUTHWIRE_SCOPE": "api.read",
    }

    def key(env: dict[str, str]) -> str:
        credential = authwire.EnvironmentCredential(environ=env).credential
        assert isinstance(credential, ManagedCredential)
        return credential.cache_key

    assert key(environ) != key({**environ, variable: other})
    assert key(environ) == key(dict(environ))


_PROFILE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": _WORD,
    "client_id": _TEXT,
    "token_url": _URL,
    "issuer": _URL,
    "grant": st.sampled_from(["authorization_code", "device_code", "client_credentials"]),
    "scopes": st.lists(_WORD, min_size=1, max_size=3).map(tuple),
    "audience": _TEXT,
}


@pytest.mark.parametrize("field_name", sorted(_PROFILE_FIELDS))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_profiles_differing_in_one_field_have_two_keys(
    field_name: str, data: st.DataObject
) -> None:
    """A saved login is keyed by the profile's name, endpoint, client, grant, scope, audience."""
    from authwire.config._profiles import Profile

    a, b = data.draw(_distinct(_PROFILE_FIELDS[field_name]))
    base = {"name": "default", "client_id": "cli", "issuer": "https://login.example.com"}
    one = Profile(**{**base, field_name: a})
    two = Profile(**{**base, field_name: b})
    assert one.cache_key != two.cache_key
    assert Profile(**{**base, field_name: a}).cache_key == one.cache_key
