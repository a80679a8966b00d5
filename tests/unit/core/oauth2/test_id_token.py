"""ID token validation against a JWKS (OIDC Core 3.1.3.7), with keys made in the test."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from authwire import InvalidTokenResponse
from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire._core.oauth2.id_token import verify_id_token, verify_id_token_flow
from authwire.testing import FakeClock

ISSUER = "https://login.example.com"
CLIENT = "cli"
NOW = 1_700_000_000.0


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks_of(key: Any, kid: str = "k1") -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**public, "kid": kid, "use": "sig", "alg": "RS256"}]}


def id_token(key: Any, kid: str = "k1", alg: str = "RS256", **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": CLIENT,
        "iat": int(NOW),
        "exp": int(NOW) + 300,
        "nonce": "n-123",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def check(token: str, jwks: dict[str, Any], now: float = NOW, nonce: str | None = "n-123") -> Any:
    return verify_id_token(token, jwks, issuer=ISSUER, client_id=CLIENT, now=now, nonce=nonce)


def test_valid_token_gives_claims(key: rsa.RSAPrivateKey) -> None:
    """A well-signed token for this client, issuer and nonce yields its claims."""
    claims = check(id_token(key), jwks_of(key))
    assert (claims["sub"], claims["nonce"]) == ("alice", "n-123")


@pytest.mark.parametrize(
    ("overrides", "now", "reason"),
    [
        ({"iss": "https://evil.example"}, NOW, "iss is not"),
        ({"aud": "other-client"}, NOW, "aud does not contain"),
        ({"aud": [CLIENT, "other"]}, NOW, "azp"),
        ({"nonce": "replayed"}, NOW, "nonce does not match"),
        ({"nonce": None}, NOW, "nonce does not match"),
        ({}, NOW + 300 + 61, "expired"),
        ({"sub": None}, NOW, "'sub' missing"),
    ],
)
def test_each_claim_is_checked(
    key: rsa.RSAPrivateKey, overrides: dict[str, Any], now: float, reason: str
) -> None:
    """Wrong iss, aud, azp, nonce, an expired token or a missing claim are each rejected."""
    with pytest.raises(InvalidTokenResponse, match=reason):
        check(id_token(key, **overrides), jwks_of(key), now=now)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iat": int(NOW) + 86_400}, "issued in the future"),
        ({"nbf": int(NOW) + 86_400}, "not valid yet"),
        ({"iat": int(NOW) + 61}, "issued in the future"),
        ({"nbf": int(NOW) + 61}, "not valid yet"),
        ({"iat": "yesterday"}, "iat is not a time"),
        ({"iat": None}, "'iat' missing"),
        ({"nbf": True}, "nbf is not a time"),
        ({"nbf": 10**400}, "nbf is not a time"),
    ],
)
def test_a_token_from_the_future_is_rejected(
    key: rsa.RSAPrivateKey, overrides: dict[str, Any], reason: str
) -> None:
    """iat or nbf more than the 60 s leeway ahead (or not a time) is rejected."""
    with pytest.raises(InvalidTokenResponse, match=reason):
        check(id_token(key, **overrides), jwks_of(key))


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_iat_and_nbf_use_leeway(key: rsa.RSAPrivateKey, claim: str) -> None:
    """Up to 60 s of clock skew ahead on iat or nbf is tolerated."""
    token = id_token(key, **{claim: int(NOW) + 60})
    assert check(token, jwks_of(key))["sub"] == "alice"


def test_expiry_uses_leeway(key: rsa.RSAPrivateKey) -> None:
    """Up to 60 s past exp is tolerated (clock skew)."""
    assert check(id_token(key), jwks_of(key), now=NOW + 300 + 59)["sub"] == "alice"


def test_nonce_not_checked_when_none_was_sent(key: rsa.RSAPrivateKey) -> None:
    """A refresh's ID token (no nonce sent) is accepted without one."""
    assert check(id_token(key, nonce=None), jwks_of(key), nonce=None)["sub"] == "alice"


def test_signature_by_another_key_is_rejected(key: rsa.RSAPrivateKey) -> None:
    """A token signed by a key not in the JWKS (same kid) fails the signature check."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidTokenResponse, match="bad signature"):
        check(id_token(other), jwks_of(key))


def test_none_and_hmac_algorithms_are_refused(key: rsa.RSAPrivateKey) -> None:
    """alg=none and HS256 (signed with the public key as secret) never pass."""
    unsigned = jwt.encode({"iss": ISSUER}, None, algorithm="none")
    with pytest.raises(InvalidTokenResponse, match="not accepted"):
        check(unsigned, jwks_of(key))
    hmac_token = jwt.encode({"iss": ISSUER}, "k" * 32, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(InvalidTokenResponse, match="not accepted"):
        check(hmac_token, jwks_of(key))


def test_unknown_kid_refetches_the_jwks_once() -> None:
    """A kid missing from the cached JWKS triggers one fresh fetch (key rotation)."""
    old, new = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def jwks(k: Any, kid: str) -> bytes:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(k.public_key()))
        return json.dumps({"keys": [{**public, "kid": kid}]}).encode()

    url = "https://login.example.com/keys-rotation"
    clock = FakeClock(NOW)
    answer = HttpResponse(200, Headers({"Content-Type": "application/json"}), jwks(old, "a"), url)
    flow = verify_id_token_flow(
        id_token(old, kid="a", alg="ES256"), url, issuer=ISSUER, client_id=CLIENT, clock=clock
    )
    assert isinstance(next(flow), HttpRequest)
    with pytest.raises(StopIteration):
        flow.send(answer)
    # Same URL, token signed by a new key: the cached set lacks "b", so it is fetched again.
    flow = verify_id_token_flow(
        id_token(new, kid="b", alg="ES256"), url, issuer=ISSUER, client_id=CLIENT, clock=clock
    )
    request = next(flow)
    assert isinstance(request, HttpRequest)
    assert request.url == url
    rotated = HttpResponse(200, Headers({}), jwks(new, "b"), url)
    with pytest.raises(StopIteration) as stop:
        flow.send(rotated)
    assert stop.value.value["sub"] == "alice"
