"""``Token``: frozen, redacted, claims read unverified, lifetime and expiry."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given
from tests.leakcheck import assert_no_secret, plant
from tests.strategies import tokens

from authwire import Token
from authwire._core.token import decode_jwt_claims
from authwire.testing import FakeClock, make_jwt, make_token


def test_repr_and_str_never_show_any_token() -> None:
    """repr and str show type, expiry and scope, never the access, refresh or ID token."""
    access, refresh, id_token = plant("at"), plant("rt"), plant("idt")
    token = Token(access, expires_at=5.0, refresh_token=refresh, scope="a b", id_token=id_token)
    for text in (repr(token), str(token), f"{token}", repr([token])):
        assert_no_secret(text, access, refresh, id_token)
        assert "expires_at=5.0" in text
        assert "scope='a b'" in text


@given(tokens)
def test_repr_never_contains_the_access_token(token: Token) -> None:
    """For any token, the repr hides the access token."""
    text = repr(token)
    assert "access_token='***'" in text
    assert f"'{token.access_token}'" not in text


def test_token_is_frozen() -> None:
    """Fields cannot be reassigned and ``extra`` cannot be changed."""
    token = Token("abc", extra={"tenant": "t1"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.access_token = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        token.extra["tenant"] = "t2"  # type: ignore[index]
    assert token.extra["tenant"] == "t1"


def test_extra_is_copied_not_shared() -> None:
    """Changing the dict a Token was built from does not change the Token."""
    source = {"tenant": "t1"}
    token = Token("abc", extra=source)
    source["tenant"] = "t2"
    assert token.extra["tenant"] == "t1"


@pytest.mark.parametrize(
    ("given_type", "stored"),
    [
        ("bearer", "Bearer"),
        ("BEARER", "Bearer"),
        ("DPoP", "DPoP"),
        ("dpop", "DPoP"),
        ("mac", "mac"),
    ],
)
def test_bearer_token_type_is_normalised(given_type: str, stored: str) -> None:
    """Any spelling of bearer becomes ``Bearer``; other types are kept as sent."""
    assert Token("abc", token_type=given_type).token_type == stored


def test_claims_are_read_unverified() -> None:
    """``claims`` decodes a JWT payload without checking any signature."""
    jwt = make_jwt({"sub": "svc", "exp": 1_700_000_600, "scp": ["a"]})
    forged = jwt.rsplit(".", 1)[0] + ".not-a-real-signature"
    assert Token(jwt).claims == {"sub": "svc", "exp": 1_700_000_600, "scp": ["a"]}
    assert Token(forged).claims["sub"] == "svc"


def test_id_claims_come_from_the_id_token() -> None:
    """``id_claims`` reads the ID token; no ID token gives ``{}``."""
    id_token = make_jwt({"sub": "alice", "email": "a@example.org"})
    assert Token("opaque", id_token=id_token).id_claims["email"] == "a@example.org"
    assert Token("opaque").id_claims == {}


@pytest.mark.parametrize(
    "value",
    [
        "opaque-token",
        "a.b",
        "a.b.c.d",
        "x.!!!not-base64!!!.y",
        "x." + "W10" + ".y",  # payload is a JSON list
        "x." + "bm90IGpzb24" + ".y",  # payload is not JSON
        "",
    ],
)
def test_non_jwt_values_have_no_claims(value: str) -> None:
    """Anything that is not a JWT with a JSON object payload has no claims (never raises)."""
    assert decode_jwt_claims(value) == {}


def test_lifetime_and_expiry() -> None:
    """``lifetime``, ``expires_in`` and ``is_expired`` follow issued_at and expires_at."""
    clock = FakeClock(1000.0)
    token = make_token(expires_in=60, clock=clock)
    assert token.lifetime == 60
    assert token.expires_in(1030.0) == 30
    assert not token.is_expired(1059.999)
    assert token.is_expired(1060.0)
    assert token.expires_in(1070.0) == -10


def test_token_without_expiry_never_expires() -> None:
    """A token without ``expires_at`` has no lifetime and never counts as expired."""
    token = Token("abc")
    assert token.lifetime is None
    assert token.expires_in(1e12) is None
    assert not token.is_expired(1e12)


def test_scopes_is_a_set() -> None:
    """``scopes`` splits the scope string into a set."""
    assert Token("abc", scope="read  write read").scopes == frozenset({"read", "write"})
    assert Token("abc").scopes == frozenset()


def test_pickle_round_trip_is_equal() -> None:
    """A token pickles (extra included) and unpickles to an equal token."""
    token = Token("abc", expires_at=9.0, refresh_token="r", extra={"k": [1, 2]}, issued_at=1.0)
    clone = pickle.loads(pickle.dumps(token))  # noqa: S301 (our own bytes)
    assert clone == token
    assert clone.extra["k"] == [1, 2]
    assert hash(clone) == hash(token)
