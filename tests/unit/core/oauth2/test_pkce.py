"""PKCE S256, state and nonce, and the authorization response checks (RFC 7636, 6749, 9207)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authwire import InteractionRequired
from authwire._core.oauth2.pkce import (
    build_authorization_url,
    make_code_verifier,
    make_state,
    parse_authorization_response,
    s256_challenge,
)

AUTHZ = "https://login.example.com/authorize?tenant=t1"


def test_rfc7636_appendix_b_vector() -> None:
    """The S256 challenge of the RFC's example verifier is the RFC's challenge."""
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_and_states_are_fresh_and_well_formed() -> None:
    """Verifiers are 43-128 unreserved characters; states differ every time."""
    verifiers = {make_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert set(verifier) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        )
    assert len({make_state() for _ in range(50)}) == 50


def test_authorization_url_carries_pkce_state_and_nonce() -> None:
    """The URL keeps the endpoint's own query and adds every required parameter."""
    request = build_authorization_url(
        AUTHZ,
        client_id="cli",
        redirect_uri="http://127.0.0.1:5555/callback",
        scope="openid api",
        extra={"login_hint": "alice", "state": "ignored"},
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
    assert query["tenant"] == "t1"
    assert query["response_type"] == "code"
    assert query["client_id"] == "cli"
    assert query["redirect_uri"] == "http://127.0.0.1:5555/callback"
    assert query["code_challenge"] == s256_challenge(request.code_verifier)
    assert query["code_challenge_method"] == "S256"
    assert query["state"] == request.state  # extra= cannot override the state
    assert query["nonce"] == request.nonce
    assert query["scope"] == "openid api"
    assert query["login_hint"] == "alice"
    assert request.code_verifier not in request.url
    assert request.state not in repr(request)


def test_matching_state_gives_the_code() -> None:
    """A redirect with the right state and issuer yields its code."""
    request = build_authorization_url(
        AUTHZ, client_id="c", redirect_uri="http://127.0.0.1:1/callback", scope=None
    )
    query = {"code": "abc", "state": request.state, "iss": "https://login.example.com"}
    assert parse_authorization_response(query, request, issuer="https://login.example.com") == "abc"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"code": "abc", "state": "forged"}, "state does not match"),
        ({"code": "abc"}, "state does not match"),
        ({"error": "access_denied", "state": "forged"}, "state does not match"),
        ({"error": "access_denied", "error_description": "no", "state": None}, "access_denied"),
        ({"code": "abc", "state": None, "iss": "https://evil.example"}, "another issuer"),
        ({"state": None}, "no code"),
    ],
)
def test_bad_redirects_are_rejected(query: dict[str, str | None], message: str) -> None:
    """A forged state is rejected first; errors, wrong issuers and missing codes too."""
    request = build_authorization_url(
        AUTHZ, client_id="c", redirect_uri="http://127.0.0.1:1/callback", scope=None
    )
    filled = {k: (request.state if v is None else v) for k, v in query.items()}
    with pytest.raises(InteractionRequired, match=message):
        parse_authorization_response(filled, request, issuer="https://login.example.com")


@pytest.mark.parametrize(
    ("iss", "require_iss", "accepted"),
    [
        (None, True, False),  # RFC 9207 section 2.4: advertised, so a missing iss is refused
        (None, False, True),  # not advertised: older providers send none
        ("https://login.example.com", True, True),
        ("https://login.example.com/", True, True),  # the trailing-slash spelling
        ("https://evil.example", True, False),
        ("https://evil.example", False, False),
    ],
)
def test_iss_required_when_the_provider_advertises_it(
    iss: str | None, require_iss: bool, accepted: bool
) -> None:
    """With require_iss a redirect without iss is rejected; a matching iss always passes."""
    request = build_authorization_url(
        AUTHZ, client_id="c", redirect_uri="http://127.0.0.1:1/callback", scope=None
    )
    query = {"code": "abc", "state": request.state}
    if iss is not None:
        query["iss"] = iss
    parse = lambda: parse_authorization_response(  # noqa: E731
        query, request, issuer="https://login.example.com", require_iss=require_iss
    )
    if accepted:
        assert parse() == "abc"
    else:
        with pytest.raises(InteractionRequired, match="RFC 9207"):
            parse()


@given(
    st.dictionaries(
        st.sampled_from(["code", "state", "error", "error_description", "iss", "x"]),
        st.text(max_size=30),
        max_size=6,
    )
)
def test_any_redirect_gives_a_code_or_interaction_required(query: dict[str, str]) -> None:
    """Any query the browser brings back yields a code only with the right state."""
    request = build_authorization_url(
        AUTHZ, client_id="c", redirect_uri="http://127.0.0.1:1/callback", scope=None
    )
    try:
        code = parse_authorization_response(query, request, issuer="https://login.example.com")
    except InteractionRequired:
        return
    assert code == query["code"]
    assert query["state"] == request.state
