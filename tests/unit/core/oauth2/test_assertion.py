"""JWT client assertions and private_key_jwt / client_secret_jwt requests (RFC 7523)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from authwire import ClientCredentials, ConfigurationError, MemoryCache, Secret
from authwire._core.http import HttpRequest
from authwire._core.oauth2.assertion import (
    CLIENT_ASSERTION_TYPE,
    build_assertion,
    client_assertion_claims,
    load_signing_key,
)
from authwire._core.oauth2.client_auth import AuthMethod, ClientAuth
from authwire._core.oauth2.token_request import TokenEndpoint, build_token_request

URL = "https://login.example.com/oauth2/token"
NOW = 1_700_000_000.0


def pem(key: Any) -> str:
    data: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return data.decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def form(request: HttpRequest) -> dict[str, str]:
    assert request.body is not None
    return dict(parse_qsl(request.body.decode()))


def decode(token: str, key: Any, alg: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=[alg], audience=URL, options={"verify_exp": False}
    )
    return claims


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_rsa_pem_signs_with_chosen_algorithm(rsa_key: rsa.RSAPrivateKey, alg: str) -> None:
    """A PEM RSA key signs RS256 by default or PS256 when asked; the kid is in the header."""
    key = load_signing_key(pem(rsa_key), algorithm=None if alg == "RS256" else alg, kid="k9")
    assert key.algorithm == alg
    token = build_assertion(client_assertion_claims("svc", URL, NOW), key)
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": "k9", "typ": "JWT"}
    claims = decode(token, rsa_key.public_key(), alg)
    assert claims["iss"] == claims["sub"] == "svc"
    assert claims["exp"] - claims["iat"] == 60
    assert claims["iat"] == int(NOW)


def test_ec_jwk_with_kid_and_alg(ec_key: ec.EllipticCurvePrivateKey) -> None:
    """A private JWK (as JSON text) brings its own kid; P-256 signs ES256."""
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key))
    key = load_signing_key(json.dumps({**jwk, "kid": "ec-1"}))
    assert (key.algorithm, key.kid) == ("ES256", "ec-1")
    token = build_assertion(client_assertion_claims("svc", URL, NOW), key)
    assert decode(token, ec_key.public_key(), "ES256")["aud"] == URL


def test_jti_is_fresh_per_assertion() -> None:
    """Every assertion gets a new jti (replay protection)."""
    jtis = {client_assertion_claims("svc", URL, NOW)["jti"] for _ in range(100)}
    assert len(jtis) == 100


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda r, e: "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", "could not"),
        (lambda r, e: '{"kty": "EC"', "neither PEM nor"),
        (lambda r, e: json.loads(jwt.algorithms.ECAlgorithm.to_jwk(e.public_key())), "public"),
        (lambda r, e: pem(e), "cannot sign with RS256"),
        (lambda r, e: pem(r), "not one of"),
    ],
)
def test_bad_keys_are_configuration_errors(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey, make: Any, message: str
) -> None:
    """Unreadable, public-only or mismatched keys are refused at construction, key unshown."""
    alg = {"cannot sign with RS256": "RS256", "not one of": "HS256"}.get(message)
    raw = make(rsa_key, ec_key)
    with pytest.raises(ConfigurationError, match=message) as info:
        load_signing_key(raw, algorithm=alg)
    if isinstance(raw, str) and "PRIVATE KEY" in raw and "nope" not in raw:
        assert raw.splitlines()[1] not in str(info.value)


def test_private_key_jwt_request(ec_key: ec.EllipticCurvePrivateKey) -> None:
    """private_key_jwt puts client_id, assertion type and a signed assertion in the form."""
    client = ClientAuth(
        "svc", method=AuthMethod.PRIVATE_KEY_JWT, signing_key=load_signing_key(pem(ec_key))
    )
    request = build_token_request(TokenEndpoint(URL, client), "client_credentials", now=NOW)
    fields = form(request)
    assert "Authorization" not in request.headers
    assert fields["client_id"] == "svc"
    assert fields["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert decode(fields["client_assertion"], ec_key.public_key(), "ES256")["sub"] == "svc"
    assert fields["client_assertion"] in [s.reveal() for s in request.secrets]
    assert fields["client_assertion"] not in repr(request)


def test_client_secret_jwt_request() -> None:
    """client_secret_jwt signs HS256 with the secret, which is never sent itself."""
    secret = "s" * 40
    client = ClientAuth("svc", Secret(secret), AuthMethod.CLIENT_SECRET_JWT)
    request = build_token_request(TokenEndpoint(URL, client), "client_credentials", now=NOW)
    fields = form(request)
    assert secret not in (request.body or b"").decode()
    assert "client_secret" not in fields
    claims = decode(fields["client_assertion"], secret.encode(), "HS256")
    assert (claims["iss"], claims["aud"]) == ("svc", URL)


def test_credential_defaults_to_private_key_jwt_with_a_key(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    """A grant given private_key= uses private_key_jwt, and its repr hides the key."""
    key_text = pem(rsa_key)
    cred = ClientCredentials(URL, client_id="svc", private_key=key_text, cache=MemoryCache())
    assert cred._endpoint.client.method is AuthMethod.PRIVATE_KEY_JWT
    assert key_text.splitlines()[1] not in repr(cred)
    with pytest.raises(ConfigurationError, match="needs a private_key"):
        ClientCredentials(URL, client_id="svc", auth_method="private_key_jwt")
    with pytest.raises(ConfigurationError, match="needs cert"):
        ClientCredentials(URL, client_id="svc", auth_method="tls_client_auth")
