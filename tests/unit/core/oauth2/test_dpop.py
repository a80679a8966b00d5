"""DPoP proofs and the nonce dance (RFC 9449), stepped by hand."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

import jwt
import pytest

from authwire import DPoPKey, InvalidTokenResponse, RetryPolicy, Secret, Token, TokenRequestError
from authwire._core.flow import Attempt, Call
from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire._core.oauth2.assertion import load_signing_key
from authwire._core.oauth2.client_auth import AuthMethod, ClientAuth
from authwire._core.oauth2.dpop import DPoPAuth, htu_of
from authwire._core.oauth2.grants import token_flow
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire._core.schemes.base import RequestInfo

URL = "https://api.example.com/orders?page=2#top"
TOKEN_URL = "https://login.example.com/token"
NOW = 1_700_000_000.0
NO_RETRY = RetryPolicy(retries=0)


def verify(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a proof, checked against the key embedded in it."""
    header = jwt.get_unverified_header(proof)
    public = jwt.PyJWK(header["jwk"], "ES256").key
    claims: dict[str, Any] = jwt.decode(proof, public, algorithms=["ES256"])
    return header, claims


def test_proof_claims_and_header() -> None:
    """A resource proof has typ, public jwk, htm, htu without query, iat, jti and ath."""
    key = DPoPKey()
    proof = key.proof("get", URL, NOW, access_token="at-123")
    header, claims = verify(proof)
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == "ES256"
    assert "d" not in header["jwk"]
    assert claims["htm"] == "GET"
    assert claims["htu"] == "https://api.example.com/orders"
    assert claims["iat"] == int(NOW)
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"at-123").digest()).rstrip(b"=")
    assert claims["ath"] == expected.decode()
    assert key.proof("GET", URL, NOW) != key.proof("GET", URL, NOW)  # fresh jti each time


def test_thumbprint_is_rfc7638() -> None:
    """The jkt is the SHA-256 of the canonical public JWK (crv, kty, x, y)."""
    key = DPoPKey()
    jwk = key.public_jwk
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]},
        separators=(",", ":"),
    ).encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=")
    assert key.thumbprint == digest.decode()
    assert repr(key) == f"DPoPKey(jkt={key.thumbprint!r})"


def test_htu_drops_query_and_fragment() -> None:
    """htu keeps scheme, host, port and path only."""
    assert htu_of("https://a.example:8443/p/q?x=1#f") == "https://a.example:8443/p/q"


def endpoint(key: DPoPKey | None, **client: Any) -> TokenEndpoint:
    return TokenEndpoint(TOKEN_URL, ClientAuth("svc", Secret("svc-secret"), **client), dpop=key)


def test_token_endpoint_nonce_dance() -> None:
    """A 400 use_dpop_nonce is answered once, signed with the nonce; the nonce is kept."""
    key = DPoPKey()
    flow = token_flow(endpoint(key), "client_credentials", clock=lambda: NOW, retry=NO_RETRY)
    first = next(flow)
    assert "nonce" not in verify(first.headers["DPoP"])[1]
    challenge = HttpResponse(
        400,
        Headers({"DPoP-Nonce": "n-1", "Content-Type": "application/json"}),
        b'{"error": "use_dpop_nonce"}',
        TOKEN_URL,
    )
    second = flow.send(challenge)
    assert verify(second.headers["DPoP"])[1]["nonce"] == "n-1"
    ok = HttpResponse(
        200,
        Headers({"DPoP-Nonce": "n-2"}),
        b'{"access_token": "at", "token_type": "DPoP"}',
        TOKEN_URL,
    )
    with pytest.raises(StopIteration) as stop:
        flow.send(ok)
    assert stop.value.value.token_type == "DPoP"
    assert key.nonce_for(TOKEN_URL) == "n-2"
    assert key.nonce_for("https://other.example/") is None


def test_other_errors_are_not_retried() -> None:
    """A 400 without a nonce challenge is raised after one request."""
    flow = token_flow(endpoint(DPoPKey()), "client_credentials", clock=lambda: NOW, retry=NO_RETRY)
    next(flow)
    refused = HttpResponse(400, Headers({}), b'{"error": "invalid_grant"}', TOKEN_URL)
    with pytest.raises(TokenRequestError):
        flow.send(refused)


def test_retries_sign_fresh_proofs_and_assertions() -> None:
    """After a 503 the retry carries a new DPoP proof and a new client assertion (new jti)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    signing = load_signing_key(ec.generate_private_key(ec.SECP256R1()))
    ep = TokenEndpoint(
        TOKEN_URL,
        ClientAuth("svc", method=AuthMethod.PRIVATE_KEY_JWT, signing_key=signing),
        dpop=DPoPKey(),
    )
    flow = token_flow(ep, "client_credentials", clock=lambda: NOW, retry=RetryPolicy(backoff=0))
    first = next(flow)
    second = flow.send(HttpResponse(503, Headers({}), b"busy", TOKEN_URL))
    assert isinstance(second, HttpRequest)
    proofs = [verify(r.headers["DPoP"])[1]["jti"] for r in (first, second)]
    assertions = [
        jwt.decode(
            dict(parse_qsl((r.body or b"").decode()))["client_assertion"],
            options={"verify_signature": False},
        )["jti"]
        for r in (first, second)
    ]
    assert proofs[0] != proofs[1]
    assert assertions[0] != assertions[1]


class Source:
    """A token source that counts calls (the real credentials are tested against a server)."""

    def __init__(self, *tokens: Token) -> None:
        self.tokens = list(tokens)
        self.invalidated: list[Token] = []

    def get_token(self) -> Token:
        return self.tokens[0]

    async def aget_token(self) -> Token:
        return self.tokens[0]

    def invalidate(self, token: Token) -> bool:
        self.invalidated.append(token)
        self.tokens.pop(0)
        return True

    async def ainvalidate(self, token: Token) -> bool:
        return self.invalidate(token)

    def peek(self, now: float) -> Token | None:
        return None


def step(flow: Any, value: Any = None, first: bool = False) -> Any:
    """Advance the scheme flow past Call operations, running them."""
    op = next(flow) if first else flow.send(value)
    while isinstance(op, Call):
        op = flow.send(op.fn(*op.args))
    return op


def test_resource_nonce_then_refresh_each_once() -> None:
    """At a resource: a nonce 401 is answered once; another 401 refreshes and replays once."""
    old = Token(access_token="at-old", token_type="DPoP")
    new = Token(access_token="at-new", token_type="DPoP")
    source = Source(old, new)
    scheme = DPoPAuth(source, DPoPKey(), lambda: NOW)
    flow = scheme.auth_flow(RequestInfo("POST", URL))
    attempt = step(flow, first=True)
    assert isinstance(attempt, Attempt)
    assert attempt.headers["Authorization"] == "DPoP at-old"
    nonce_challenge = HttpResponse(
        401,
        Headers({"DPoP-Nonce": "rn-1", "WWW-Authenticate": 'DPoP error="use_dpop_nonce"'}),
        b"",
        URL,
    )
    attempt = step(flow, nonce_challenge)
    assert verify(attempt.headers["DPoP"])[1]["nonce"] == "rn-1"
    attempt = step(flow, HttpResponse(401, Headers({}), b"", URL))
    assert attempt.headers["Authorization"] == "DPoP at-new"
    assert source.invalidated == [old]
    with pytest.raises(StopIteration):
        flow.send(HttpResponse(401, Headers({}), b"", URL))


def test_bearer_token_is_sent_as_bearer() -> None:
    """A server that ignored DPoP and issued a Bearer token gets it back as Bearer."""
    source = Source(Token(access_token="plain", token_type="Bearer"))
    flow = DPoPAuth(source, DPoPKey(), lambda: NOW).auth_flow(RequestInfo("GET", URL))
    attempt = step(flow, first=True)
    assert dict(attempt.headers) == {"Authorization": "Bearer plain"}


@pytest.mark.parametrize("token_type", ["MAC", "N_A", "pop"])
def test_a_token_of_another_type_is_refused(token_type: str) -> None:
    """Neither Bearer nor DPoP: refused with InvalidTokenResponse, not sent at all."""
    source = Source(Token(access_token="other-secret", token_type=token_type))
    flow = DPoPAuth(source, DPoPKey(), lambda: NOW).auth_flow(RequestInfo("GET", URL))
    with pytest.raises(InvalidTokenResponse, match=f"token_type '{token_type}'") as info:
        step(flow, first=True)
    assert "other-secret" not in str(info.value)


@pytest.mark.parametrize(
    ("token_type", "dpop", "accepted"),
    [
        ("DPoP", True, "DPoP"),
        ("dpop", True, "DPoP"),
        ("Bearer", True, "Bearer"),
        ("DPoP", False, None),  # a bound token without the key: no way to prove it
        ("MAC", True, None),
    ],
)
def test_token_endpoint_types_follow_the_key(
    token_type: str, dpop: bool, accepted: str | None
) -> None:
    """DPoP answers are accepted only from a request that carried a DPoP proof."""
    key = DPoPKey() if dpop else None
    flow = token_flow(endpoint(key), "client_credentials", clock=lambda: NOW, retry=NO_RETRY)
    next(flow)
    answer = HttpResponse(
        200,
        Headers({"Content-Type": "application/json"}),
        json.dumps({"access_token": "at-typed", "token_type": token_type}).encode(),
        TOKEN_URL,
    )
    if accepted is None:
        with pytest.raises(InvalidTokenResponse, match="token_type"):
            flow.send(answer)
        return
    with pytest.raises(StopIteration) as stop:
        flow.send(answer)
    assert stop.value.value.token_type == accepted
