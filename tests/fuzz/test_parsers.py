"""Fuzzing every parser that reads what a server or a disk sends (issue 10, item 3).

One property for each target: any input gives a clean parse or one of the target's
documented ``AuthwireError`` subclasses, never another exception; the error pickles and
holds no planted secret (a value authwire knows is secret: a client secret, a password);
what a parse returns is usable (finite times, strings where strings are promised).

Budgets: ``EXAMPLES`` examples per target (Hypothesis, no deadline), about 20 s for the
module on one core. Bounded time and memory on huge inputs are in ``test_huge_inputs.py``.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.leakcheck import assert_no_secret, plant
from tests.strategies import (
    echoes,
    hostile_json,
    json_bodies,
    jwt_like,
    numberish,
    responses,
    retry_after_values,
    token_answers,
    www_authenticate_values,
)

from authwire import DigestAuth
from authwire._core.flow import Attempt, SyncStepper
from authwire._core.http import Headers, HttpResponse, parse_retry_after
from authwire._core.oauth2.device import parse_device_authorization_response
from authwire._core.oauth2.discovery import discovery_url, parse_discovery_response
from authwire._core.oauth2.dpop import is_nonce_challenge
from authwire._core.oauth2.id_token import verify_id_token
from authwire._core.oauth2.token_response import parse_token_response
from authwire._core.schemes.base import RequestInfo
from authwire._core.schemes.challenge import parse_challenges
from authwire._core.schemes.negotiate import _token as negotiate_token
from authwire._core.token import Token, decode_jwt_claims
from authwire.caches import FileCache
from authwire.caches._codec import decode_token
from authwire.credentials.login_endpoint import LoginEndpoint, parse_login_response
from authwire.errors import (
    AuthwireError,
    ConfigurationError,
    InvalidTokenResponse,
    TokenRequestError,
)

#: Examples per target.
EXAMPLES = 250

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Planted once per run: long and random, so finding it anywhere can only be a leak.
SECRET = plant("fuzz-secret")
NOW = 1_700_000_000.0
TOKEN_URL = "https://idp.example/oauth2/token"

E = TypeVar("E", bound=AuthwireError)
R = TypeVar("R")


def judged(call: Callable[[], R], allowed: tuple[type[AuthwireError], ...]) -> R | AuthwireError:
    """``call()``'s result, or the documented error it raised, checked; anything else fails."""
    try:
        return call()
    except allowed as exc:
        error = exc
    assert type(error) in allowed, f"undocumented subclass {type(error).__name__}"
    clone = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert str(clone) == str(error)
    for text in (str(error), repr(error), repr(vars(error)), repr(error.args)):
        assert_no_secret(text, SECRET)
    return error


def _finite_or_none(value: float | None) -> bool:
    return value is None or math.isfinite(value)


# -- token responses --------------------------------------------------------------------

_echo = echoes(SECRET)
_token_bodies = json_bodies(token_answers(SECRET), _echo)


@FUZZ
@given(responses(_token_bodies))
@example(HttpResponse(200, Headers({}), b'{"access_token": "a", "expires_in": NaN}'))
@example(HttpResponse(200, Headers({}), b'{"access_token": "a", "expires_in": 1e308}'))
@example(HttpResponse(200, Headers({}), b'{"access_token": "a", "expires_in": -1e308}'))
@example(
    HttpResponse(200, Headers({}), b'{"access_token": "a", "refresh_expires_in": "-Infinity"}')
)
@example(HttpResponse(400, Headers({"Retry-After": "1e309"}), b'{"error": "slow_down"}'))
# Found by this fuzzer: a body cut short inside an echoed secret kept its start.
@example(HttpResponse(401, Headers({}), b'{"error_description": "bad ' + SECRET[:-6].encode()))
@example(HttpResponse(599, Headers({}), b'{"refresh_token": "got \'' + SECRET.encode()[:20]))
def test_token_response(response: HttpResponse) -> None:
    """Token, TokenRequestError or InvalidTokenResponse; finite times; no echoed secret."""
    result = judged(
        lambda: parse_token_response(response, received_at=NOW, url=TOKEN_URL, secrets=(SECRET,)),
        (TokenRequestError, InvalidTokenResponse),
    )
    if isinstance(result, Token):
        assert result.access_token
        assert isinstance(result.access_token, str)
        assert _finite_or_none(result.expires_at)
        assert _finite_or_none(result.refresh_expires_at)
    elif isinstance(result, TokenRequestError):
        assert _finite_or_none(result.retry_after)
        assert result.retry_after is None or result.retry_after >= 0


@FUZZ
@given(jwt_like, st.booleans())
def test_jwt_access_token_expiry(access_token: str, expires_in: bool) -> None:
    """A JWT-looking access token without expires_in: its exp is read or ignored, never a crash."""
    claims = decode_jwt_claims(access_token)
    assert isinstance(claims, dict)
    body = {"access_token": access_token or "x", "token_type": "Bearer"}
    if expires_in:
        body["expires_in"] = "60"
    response = HttpResponse(200, Headers({}), json.dumps(body).encode())
    result = judged(
        lambda: parse_token_response(response, received_at=NOW, url=TOKEN_URL),
        (InvalidTokenResponse,),
    )
    if isinstance(result, Token):
        assert _finite_or_none(result.expires_at)
        assert isinstance(result.claims, dict)


# -- WWW-Authenticate --------------------------------------------------------------------


@FUZZ
@given(st.lists(www_authenticate_values, min_size=1, max_size=3))
@example(['Digest realm="a\\"b", nonce="n\\\\", qop="auth,auth-int"'])
@example(['Digest realm="unterminated, nonce=x'])
@example(["Negotiate", "Negotiate YII=, Basic realm=x"])
@example(['DPoP error="use_dpop_nonce", algs="ES256 RS256"'])
@example(['Bearer realm="r", error="invalid_token", Digest realm="d", nonce="n"'])
def test_www_authenticate(fields: list[str]) -> None:
    """Parsed into challenges; Digest answers once or stops; Negotiate and DPoP read it."""
    for challenge in parse_challenges(fields):
        assert challenge.scheme
        assert all(isinstance(v, str) for v in challenge.params.values())
    response = HttpResponse(
        401,
        Headers([("WWW-Authenticate", f) for f in fields] + [("DPoP-Nonce", "n")]),
    )
    assert isinstance(is_nonce_challenge(response), bool)
    token = negotiate_token(response, "Negotiate")
    assert token is None or isinstance(token, bytes)

    stepper: SyncStepper[Attempt] = SyncStepper(
        DigestAuth("user", SECRET).auth_flow(RequestInfo("GET", "https://h/p?q=1", True))
    )
    stepper.start()
    answers = 0
    answer = stepper.send(response)
    while answer is not None:  # the same 401 again and again: at most two replays
        answers += 1
        assert answers <= 2
        header = answer.headers["Authorization"]
        assert header.startswith("Digest ")
        assert_no_secret(header, SECRET)
        answer = stepper.send(response)


_PARAM_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,10}", fullmatch=True)
_PARAM_VALUE = st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=30)


@FUZZ
@given(
    st.sampled_from(["Digest", "Bearer", "DPoP", "X-Custom"]),
    st.lists(st.tuples(_PARAM_NAME, _PARAM_VALUE), min_size=1, max_size=6),
)
def test_quoted_strings_round_trip(scheme: str, params: list[tuple[str, str]]) -> None:
    """Every quoted-string value (with ``\\`` and ``\"`` escapes) comes back exactly."""
    quoted = ", ".join(
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in params
    )
    challenges = parse_challenges([f"{scheme} {quoted}, Basic realm=x"])
    assert [c.scheme for c in challenges] == [scheme, "Basic"]
    assert challenges[0].params == {name.lower(): value for name, value in params}


# -- discovery and device authorization ---------------------------------------------------

ISSUER = "https://idp.example/realms/x"
_DOC = st.fixed_dictionaries(
    {},
    optional={
        "issuer": st.sampled_from([ISSUER, ISSUER + "/", "https://evil.example"]) | hostile_json(),
        "token_endpoint": st.just("https://idp.example/token") | hostile_json(),
        "jwks_uri": hostile_json(),
        "device_authorization_endpoint": hostile_json(),
    },
)


@FUZZ
@given(responses(json_bodies(_DOC)))
def test_discovery_document(response: HttpResponse) -> None:
    """Metadata with a string token endpoint, or ConfigurationError."""
    response = HttpResponse(response.status, response.headers, response.body, discovery_url(ISSUER))
    result = judged(lambda: parse_discovery_response(response, ISSUER), (ConfigurationError,))
    if not isinstance(result, AuthwireError):
        assert isinstance(result.token_endpoint, str)


_DEVICE = st.fixed_dictionaries(
    {},
    optional={
        "device_code": st.just(SECRET) | hostile_json(),
        "user_code": st.text(max_size=10) | hostile_json(),
        "verification_uri": st.just("https://idp.example/device") | hostile_json(),
        "verification_uri_complete": hostile_json(),
        "expires_in": numberish,
        "interval": numberish,
        "error": st.sampled_from(["authorization_pending", "invalid_client"]) | _echo,
        "error_description": _echo | hostile_json(),
    },
)


@FUZZ
@given(responses(json_bodies(_DEVICE, _echo)))
# Found by this fuzzer: the device endpoint's error fields were not redacted.
@example(
    HttpResponse(400, Headers({}), b'{"error": "x", "error_description": "%s"}' % SECRET.encode())
)
@example(HttpResponse(200, Headers({}), b'{"error": "%s"}' % SECRET.encode()))
def test_device_authorization(response: HttpResponse) -> None:
    """Codes with finite times, or TokenRequestError / InvalidTokenResponse without the secret."""
    result = judged(
        lambda: parse_device_authorization_response(
            response, received_at=NOW, url="https://idp.example/device", secrets=(SECRET,)
        ),
        (TokenRequestError, InvalidTokenResponse),
    )
    if not isinstance(result, AuthwireError):
        assert math.isfinite(result.expires_at)
        assert math.isfinite(result.interval)
        assert result.interval > 0
        assert SECRET not in repr(result)


# -- LoginEndpoint answers -----------------------------------------------------------------

_LOGIN_PATHS = st.sampled_from(["access_token", "token", "data.access_token", "a.b.c"])
_EXPIRY_PATHS = st.sampled_from([None, "expires", "expires_in", "data.expires_at", "x.y"])
_LOGIN = st.dictionaries(
    st.sampled_from(
        [
            "token",
            "access_token",
            "data",
            "expires",
            "expires_in",
            "expires_at",
            "expiration",
            "error",
            "message",
            "detail",
            "error_description",
        ]
    ),
    st.one_of(
        hostile_json(_echo),
        numberish,
        _echo,
        st.datetimes().map(lambda d: d.isoformat()),
        st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-01-01Z"]),
        st.fixed_dictionaries(
            {},
            optional={
                "access_token": st.text(max_size=8),
                "expires_at": numberish,
                "code": hostile_json(),
                "message": _echo,
                "details": st.lists(_echo | st.text(max_size=5), max_size=3),
            },
        ),
    ),
    max_size=6,
)


@FUZZ
@given(responses(json_bodies(_LOGIN, _echo)), _LOGIN_PATHS, _EXPIRY_PATHS)
@example(
    HttpResponse(200, Headers({}), b'{"token": "t", "expires": "0001-01-01T00:00:00+14:00"}'),
    "token",
    None,
)
def test_login_endpoint_answer(
    response: HttpResponse, token_path: str, expires_path: str | None
) -> None:
    """Token with a finite expiry, or TokenRequestError / InvalidTokenResponse, no password."""
    cred = LoginEndpoint(
        "https://vendor.example/login",
        "me",
        SECRET,
        token_path=token_path,
        expires_path=expires_path,
    )
    result = judged(
        lambda: parse_login_response(response, cred._spec, received_at=NOW),
        (TokenRequestError, InvalidTokenResponse),
    )
    if isinstance(result, Token):
        assert _finite_or_none(result.expires_at)


# -- Retry-After ------------------------------------------------------------------------------


@FUZZ
@given(retry_after_values)
def test_retry_after(value: str) -> None:
    """A finite wait of at least 0 seconds, or None."""
    wait = parse_retry_after(value, NOW)
    assert wait is None or (math.isfinite(wait) and wait >= 0)


# -- cache files -----------------------------------------------------------------------------

_CACHED = st.fixed_dictionaries(
    {
        "v": st.sampled_from([1, 1.0, 2, "1", True]),
        "access_token": st.text(max_size=8) | hostile_json(),
    },
    optional={
        name: st.one_of(
            hostile_json(),
            st.integers(),  # any size: a cache file is not a token response
            st.sampled_from([10**400, -(10**400), float("nan")]),
        )
        for name in (
            "expires_at",
            "issued_at",
            "refresh_expires_at",
            "token_type",
            "refresh_token",
            "scope",
            "id_token",
            "extra",
        )
    },
)
_CACHE_BYTES = json_bodies(_CACHED)


@FUZZ
@given(_CACHE_BYTES)
# Found by this fuzzer: OverflowError and RecursionError escaped the codec (and FileCache).
@example(b'{"v": 1, "access_token": "a", "expires_at": 1%s}' % (b"0" * 400))
@example(b'{"v": 1, "access_token": "a", "issued_at": -1%s}' % (b"0" * 400))
@example(b"[" * 5000)
def test_cache_codec(raw: bytes) -> None:
    """A token with finite times, or ValueError (the codec's documented 'corrupt')."""
    try:
        token = decode_token(raw)
    except ValueError:
        return
    assert token.access_token
    assert _finite_or_none(token.expires_at)
    assert _finite_or_none(token.issued_at)


_CACHE_DIR = Path(tempfile.mkdtemp(prefix="authwire-fuzz-"))
os.chmod(_CACHE_DIR, 0o700)


@FUZZ
@given(_CACHE_BYTES)
@example(b'{"v": 1, "access_token": "a", "expires_at": 1%s}' % (b"0" * 400))
@example(b"[" * 5000)
def test_file_cache_reads_a_corrupt_file(raw: bytes) -> None:
    """FileCache.get of any file content: a token or None (the file moved aside), never a crash."""
    cache = FileCache(_CACHE_DIR / "c")
    file = cache.file_for("k")
    cache.set("k", Token("seed", expires_at=NOW + 60))
    file.write_bytes(raw)
    got = cache.get("k")
    if got is None:
        assert not file.exists()  # healed: moved aside, the next fetch rewrites it
    for aside in file.parent.glob(f"{file.name}.corrupt-*"):
        aside.unlink()


@pytest.fixture(scope="module", autouse=True)
def _remove_cache_dir() -> Any:
    yield
    import shutil

    shutil.rmtree(_CACHE_DIR, ignore_errors=True)


# -- ID tokens ---------------------------------------------------------------------------


@functools.cache
def _signer() -> tuple[Any, dict[str, Any]]:
    """An EC P-256 key made at test time and its JWKS."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    return key, {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "ES256"}]}


def _sign(claims: dict[str, Any], headers: dict[str, Any]) -> str:
    """A compact JWS signed with ES256, whatever its header says (PyJWT's ``encode`` refuses
    odd headers and claims, which is what the fuzzer must send)."""
    from jwt.algorithms import ECAlgorithm

    def part(value: Any) -> str:
        raw = json.dumps(value, allow_nan=True).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    signing_input = f"{part({'alg': 'ES256', 'kid': 'k1', **headers})}.{part(claims)}"
    signature = ECAlgorithm(ECAlgorithm.SHA256).sign(signing_input.encode(), _signer()[0])
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


_CLAIM = st.one_of(hostile_json(), numberish)
_ID_CLAIMS = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.just(ISSUER) | _CLAIM,
        "sub": st.just("alice") | _CLAIM,
        "aud": st.sampled_from(["cli", ["cli", "other"], []]) | _CLAIM,
        "exp": st.sampled_from([NOW + 600, NOW - 600, 10**400, float("nan")]) | _CLAIM,
        "iat": st.just(NOW) | _CLAIM,
        "nonce": st.just("n-1") | _CLAIM,
        "azp": st.just("cli") | _CLAIM,
    },
)
_ID_HEADERS = st.fixed_dictionaries(
    {},
    optional={"kid": st.just("k1") | hostile_json(), "alg": hostile_json(), "typ": hostile_json()},
)


@FUZZ
@given(_ID_CLAIMS, _ID_HEADERS, st.none() | st.just("n-1"))
# Found by this fuzzer: a NaN exp passed as never expired; 10**400 and an unhashable alg
# escaped as OverflowError and TypeError.
@example({"iss": ISSUER, "sub": "a", "aud": "cli", "exp": float("nan"), "iat": NOW}, {}, None)
@example({"iss": ISSUER, "sub": "a", "aud": "cli", "exp": 10**400, "iat": NOW}, {}, None)
@example({"iss": ISSUER, "sub": "a", "aud": "cli", "exp": NOW + 60, "iat": NOW}, {"alg": []}, None)
def test_id_token(claims: dict[str, Any], headers: dict[str, Any], nonce: str | None) -> None:
    """A signed ID token with any claims: verified claims or InvalidTokenResponse."""
    token = _sign(claims, headers)
    jwks = _signer()[1]
    for candidate in (token, token[:-3] + "AAA", token.rsplit(".", 1)[0] + "."):
        result = judged(
            lambda t=candidate: verify_id_token(
                t, jwks, issuer=ISSUER, client_id="cli", now=NOW, nonce=nonce
            ),
            (InvalidTokenResponse,),
        )
        if not isinstance(result, AuthwireError):
            assert candidate == token
            exp = result["exp"]
            assert isinstance(exp, int | float)
            assert math.isfinite(exp)
            assert exp > NOW - 60


@FUZZ
@given(jwt_like)
def test_id_token_junk(token: str) -> None:
    """Any compact-JWS-looking string: InvalidTokenResponse, never another exception."""
    judged(
        lambda: verify_id_token(token, _signer()[1], issuer=ISSUER, client_id="cli", now=NOW),
        (InvalidTokenResponse,),
    )
