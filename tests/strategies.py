"""Hypothesis strategies shared by the property tests (attrs-style ``tests/strategies.py``)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from authwire._core.http import Headers, HttpResponse
from authwire._core.token import Token

__all__ = [
    "challenge_headers",
    "json_values",
    "statuses",
    "token_response_bodies",
    "token_responses",
    "tokens",
]

#: Any JSON value, small.
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)

_FIELDS = st.sampled_from(
    [
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "id_token",
        "refresh_expires_in",
        "error",
        "error_description",
        "error_uri",
    ]
)

#: JSON objects shaped like token responses, with every field of any type.
token_like_objects: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    _FIELDS | st.text(max_size=8), json_values, max_size=8
)

#: Bodies a token endpoint might send: token-like JSON, any JSON, HTML, or raw bytes.
token_response_bodies: st.SearchStrategy[bytes] = st.one_of(
    token_like_objects.map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: f"<html><body>{t}</body></html>".encode()),
    token_like_objects.map(
        lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode("utf-8", "replace")
    ),
)

#: HTTP statuses, common ones more often.
statuses: st.SearchStrategy[int] = st.one_of(
    st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502, 503]),
    st.integers(min_value=100, max_value=599),
)

_CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "text/html",
        "text/plain",
    ]
)


@st.composite
def token_responses(draw: st.DrawFn) -> HttpResponse:
    """Any response a token endpoint could give: status, content type, Retry-After, body."""
    headers: list[tuple[str, str]] = []
    if draw(st.booleans()):
        headers.append(("Content-Type", draw(_CONTENT_TYPES)))
    if draw(st.booleans()):
        headers.append(("Retry-After", draw(st.text(max_size=30))))
    return HttpResponse(draw(statuses), Headers(headers), draw(token_response_bodies))


_TOKEN_CHARS = st.characters(codec="ascii", categories=["L", "N"]) | st.sampled_from("-._~+/")

#: Valid tokens with and without expiry, lifetimes from a second to a day.
tokens: st.SearchStrategy[Token] = st.builds(
    lambda access, issued, lifetime: Token(
        access,
        expires_at=None if lifetime is None else issued + lifetime,
        issued_at=issued,
    ),
    st.text(_TOKEN_CHARS, min_size=1, max_size=40),
    st.floats(min_value=1e9, max_value=2e9),
    st.none() | st.floats(min_value=1.0, max_value=86_400.0),
)

_PARAM_NAMES = st.sampled_from(["realm", "nonce", "qop", "algorithm", "opaque", "stale", "x"])
_SCHEMES = st.sampled_from(["Digest", "Basic", "Bearer", "Negotiate", "NTLM", "X-Custom"])

#: ``WWW-Authenticate`` values, well-formed or not.
challenge_headers: st.SearchStrategy[str] = st.one_of(
    st.text(max_size=120),
    st.lists(
        st.tuples(
            _SCHEMES,
            st.lists(
                st.tuples(
                    _PARAM_NAMES,
                    st.text(max_size=15),
                    st.booleans(),
                ),
                max_size=4,
            ),
        ),
        min_size=1,
        max_size=3,
    ).map(
        lambda chs: ", ".join(
            scheme
            + " "
            + ", ".join(
                f'{name}="{value}"' if quoted else f"{name}={value}"
                for name, value, quoted in params
            )
            for scheme, params in chs
        )
    ),
)
