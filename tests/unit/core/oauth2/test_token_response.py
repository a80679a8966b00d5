"""``parse_token_response``: a Token, a TokenRequestError or an InvalidTokenResponse, always."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from tests.leakcheck import assert_no_secret, plant
from tests.strategies import token_responses

from authwire import InvalidTokenResponse, Token, TokenRequestError
from authwire._core.http import Headers, HttpResponse
from authwire._core.oauth2.token_response import parse_token_response

URL = "https://login.example.com/oauth2/token"
NOW = 1_700_000_000.0
JSON = Headers({"Content-Type": "application/json"})


def response(status: int, body: Any, headers: Headers = JSON) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, headers, raw, URL)


def parse(resp: HttpResponse, secrets: tuple[str, ...] = ()) -> Token:
    return parse_token_response(resp, received_at=NOW, url=URL, secrets=secrets)


def test_a_good_response_becomes_a_token() -> None:
    """Every RFC 6749 section 5.1 field lands in the Token; the rest goes to ``extra``."""
    token = parse(
        response(
            200,
            {
                "access_token": "at",
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": "rt",
                "scope": "a b",
                "id_token": "idt",
                "refresh_expires_in": 7200,
                "tenant": "t1",
            },
        )
    )
    assert token.access_token == "at"
    assert token.token_type == "Bearer"
    assert token.expires_at == NOW + 3600
    assert token.issued_at == NOW
    assert token.refresh_token == "rt"
    assert token.scope == "a b"
    assert token.id_token == "idt"
    assert token.refresh_expires_at == NOW + 7200
    assert dict(token.extra) == {"tenant": "t1"}


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [
        ({"access_token": "at", "expires_in": "3600"}, "expires_at", NOW + 3600),
        ({"access_token": "at", "expires_in": " 60 "}, "expires_at", NOW + 60),
        ({"access_token": "at", "expires_in": None}, "expires_at", None),
        ({"access_token": "at", "expires_in": -5}, "expires_at", NOW),
        ({"access_token": "at"}, "token_type", "Bearer"),
        ({"access_token": "at", "scope": ["a", "b"]}, "scope", "a b"),
        ({"access_token": "at", "refresh_expires_in": 0}, "refresh_expires_at", None),
        ({"access_token": "at", "refresh_token": ""}, "refresh_token", None),
    ],
)
def test_lenient_but_safe_readings(body: dict[str, Any], field: str, expected: object) -> None:
    """Numeric strings, a missing token_type and a scope list are accepted as servers send them."""
    assert getattr(parse(response(200, body)), field) == expected


@pytest.mark.parametrize("token_type", ["MAC", "mac", "N_A", "pop", "DPoP", "dpop", "Basic"])
def test_a_token_type_not_understood_is_refused(token_type: str) -> None:
    """RFC 6749 section 7.1: MAC, N_A, pop and DPoP (unless asked for) are refused by name."""
    with pytest.raises(InvalidTokenResponse, match="token_type") as info:
        parse(response(200, {"access_token": "at-mac-secret", "token_type": token_type}))
    assert token_type[:3] in info.value.reason
    assert "at-mac-secret" not in str(info.value.reason)


@pytest.mark.parametrize("token_type", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_in_any_case_is_accepted(token_type: str) -> None:
    """token_type is case-insensitive (RFC 6749 section 5.1) and stored as ``Bearer``."""
    token = parse(response(200, {"access_token": "at", "token_type": token_type}))
    assert token.token_type == "Bearer"


def test_accepted_token_types_are_the_callers() -> None:
    """token_types= widens what is accepted (DPoP with a key, N_A for token exchange)."""
    for token_type in ("DPoP", "N_A"):
        body = {"access_token": "at", "token_type": token_type}
        token = parse_token_response(
            response(200, body), received_at=NOW, url=URL, token_types=("Bearer", token_type)
        )
        assert token.token_type == token_type


def test_a_refused_token_type_echoing_a_secret_is_redacted() -> None:
    """A token_type that repeats the client secret does not carry it into the error."""
    with pytest.raises(InvalidTokenResponse) as info:
        parse(
            response(200, {"access_token": "at", "token_type": "cs-123456789"}),
            secrets=("cs-123456789",),
        )
    assert_no_secret(info.value, "cs-123456789")


def test_expiry_falls_back_to_the_jwt_exp_claim() -> None:
    """Without ``expires_in``, ``exp`` of a JWT access token gives the expiry."""
    from authwire.testing import make_jwt

    token = parse(response(200, {"access_token": make_jwt({"exp": NOW + 99})}))
    assert token.expires_at == NOW + 99


def test_form_encoded_response_is_read() -> None:
    """Old endpoints answering ``application/x-www-form-urlencoded`` still give a Token."""
    headers = Headers({"Content-Type": "application/x-www-form-urlencoded"})
    token = parse(response(200, b"access_token=at&expires_in=60&token_type=bearer", headers))
    assert token.access_token == "at"
    assert token.expires_at == NOW + 60


BAD_BODIES = [
    pytest.param(
        200, b"<!DOCTYPE html><html><body>Login</body></html>", "an HTML page", id="html-200"
    ),
    pytest.param(200, b"not json at all", "not JSON", id="non-json"),
    pytest.param(200, b"", "an empty body", id="empty"),
    pytest.param(200, b"[1, 2]", "JSON list", id="json-list"),
    pytest.param(200, b'"at"', "JSON str", id="json-string"),
    pytest.param(200, b"{}", "no access_token", id="missing-access-token"),
    pytest.param(200, b'{"access_token": 5}', "access_token is not a string", id="at-int"),
    pytest.param(200, b'{"access_token": ""}', "access_token is not a string", id="at-empty"),
    pytest.param(200, b'{"access_token": "a", "token_type": 1}', "token_type", id="type-int"),
    pytest.param(
        200, b'{"access_token": "a", "expires_in": "soon"}', "expires_in", id="exp-garbage"
    ),
    pytest.param(200, b'{"access_token": "a", "expires_in": true}', "expires_in", id="exp-bool"),
    pytest.param(200, b'{"access_token": "a", "expires_in": [3600]}', "expires_in", id="exp-list"),
    pytest.param(200, b'{"access_token": "a", "expires_in": "NaN"}', "expires_in", id="exp-nan"),
    pytest.param(200, b'{"access_token": "a", "refresh_token": 1}', "refresh_token", id="rt-int"),
    pytest.param(200, b'{"access_token": "a", "id_token": {}}', "id_token", id="idt-dict"),
    pytest.param(200, b'{"access_token": "a", "scope": 7}', "scope", id="scope-int"),
    pytest.param(
        200, b'{"access_token": "a", "refresh_expires_in": "x"}', "refresh_expires_in", id="rexp"
    ),
    pytest.param(302, b"", "unexpected HTTP status 302", id="redirect"),
    pytest.param(200, b"\xff\xfe\x00garbage", "not JSON", id="binary"),
    pytest.param(200, b"[" * 100_000, "not JSON", id="deep-nesting"),
]


@pytest.mark.parametrize(("status", "body", "reason"), BAD_BODIES)
def test_bad_bodies_are_invalid_token_responses(status: int, body: bytes, reason: str) -> None:
    """Each malformed success body is an InvalidTokenResponse saying what was wrong."""
    with pytest.raises(InvalidTokenResponse) as info:
        parse(response(status, body))
    err = info.value
    assert reason in err.reason
    assert err.status == status
    assert err.url == URL
    assert reason in str(err)


def test_html_error_page_is_a_token_request_error_with_a_snippet() -> None:
    """A 502 HTML page is a retryable TokenRequestError with a short one-line snippet."""
    page = b"<html>\n<head><title>502 Bad Gateway</title></head>\n" + b"x" * 5000 + b"</html>"
    with pytest.raises(TokenRequestError) as info:
        parse(response(502, page, Headers({"Content-Type": "text/html"})))
    err = info.value
    assert err.status == 502
    assert err.error is None
    assert err.retryable
    assert "502 Bad Gateway" in err.snippet
    assert "\n" not in err.snippet
    assert len(err.snippet) <= 200


def test_oauth_error_fields_are_kept() -> None:
    """error, error_description, error_uri and the status come from an RFC 6749 5.2 body."""
    body = {
        "error": "invalid_client",
        "error_description": "Client authentication failed",
        "error_uri": "https://docs.example.com/errors#invalid_client",
    }
    with pytest.raises(TokenRequestError) as info:
        parse(response(401, body))
    err = info.value
    assert (err.status, err.error) == (401, "invalid_client")
    assert err.error_description == "Client authentication failed"
    assert err.error_uri == "https://docs.example.com/errors#invalid_client"
    assert not err.retryable
    assert "invalid_client" in str(err)
    assert "Client authentication failed" in str(err)


def test_error_in_a_200_body_is_an_error() -> None:
    """A 200 whose JSON carries ``error`` is a refusal (some providers do this)."""
    with pytest.raises(TokenRequestError) as info:
        parse(response(200, {"error": "access_denied"}))
    assert info.value.status == 400
    assert info.value.error == "access_denied"


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (429, None, True),
        (500, None, True),
        (503, "temporarily_unavailable", True),
        (400, "temporarily_unavailable", True),
        (400, "invalid_grant", False),
        (401, "invalid_client", False),
        (403, None, False),
    ],
)
def test_retryable_follows_status_and_error(
    status: int, error: str | None, retryable: bool
) -> None:
    """``retryable`` is True for 429, 5xx and temporarily_unavailable, else False."""
    body = {"error": error} if error else {"message": "nope"}
    with pytest.raises(TokenRequestError) as info:
        parse(response(status, body))
    assert info.value.retryable is retryable


def test_retry_after_is_read() -> None:
    """A Retry-After on a refusal is kept on the error in seconds."""
    headers = Headers({"Content-Type": "application/json", "Retry-After": "12"})
    with pytest.raises(TokenRequestError) as info:
        parse(response(429, {"error": "slow_down"}, headers))
    assert info.value.retry_after == 12


def test_echoed_secrets_never_reach_the_error(planted_secrets: Any) -> None:
    """An endpoint echoing the client secret and a token back cannot leak them via the error."""
    secret, refresh = planted_secrets.new("cs"), planted_secrets.new("rt")
    body = {
        "error": f"invalid_client {secret}",
        "error_description": f"bad secret {secret} for refresh {refresh}",
        "error_uri": f"https://x.example/?client_secret={secret}",
        "access_token": "leaky-access-token-123",
    }
    with pytest.raises(TokenRequestError) as info:
        parse(response(400, body), secrets=(secret, refresh))
    err = info.value
    planted_secrets.check(str(err), repr(err), err.snippet, err.error_description, err.error_uri)
    assert "leaky-access-token-123" not in str(err)


def test_a_secret_cut_by_the_snippet_limit_is_still_removed() -> None:
    """A secret sitting across the snippet's length limit is redacted before truncation."""
    secret = plant("cs")
    body = ("x" * 190 + secret + "y" * 100).encode()
    with pytest.raises(TokenRequestError) as info:
        parse(response(500, body, Headers()), secrets=(secret,))
    assert_no_secret(info.value.snippet, secret)
    assert_no_secret(str(info.value), secret)


@settings(max_examples=300, deadline=None)
@given(token_responses())
def test_any_response_gives_a_token_or_an_authwire_error(resp: HttpResponse) -> None:
    """Whatever the status, headers and bytes, the parser returns a Token or raises ours."""
    error: InvalidTokenResponse | TokenRequestError | None = None
    try:
        token = parse(resp)
    except (InvalidTokenResponse, TokenRequestError) as exc:
        error = exc
    if error is not None:
        assert str(error)
        assert error.status is not None
    else:
        assert isinstance(token, Token)
        assert token.access_token
        assert 200 <= resp.status < 300


def test_hostile_jwt_nesting_is_not_a_crash() -> None:
    """An access token whose JWT payload nests 100,000 arrays gives a Token without claims."""
    import base64

    payload = base64.urlsafe_b64encode(b"[" * 100_000).decode().rstrip("=")
    token = parse(response(200, {"access_token": f"x.{payload}.y"}))
    assert token.expires_at is None
    assert token.claims == {}
