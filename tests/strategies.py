"""Hypothesis strategies shared by the property tests (attrs-style ``tests/strategies.py``)."""

from __future__ import annotations

import base64
import json
from typing import Any, Final

from hypothesis import strategies as st

from authwire._core.http import Headers, HttpResponse
from authwire._core.token import Token

__all__ = [
    "FLOAT_INT_LIMIT",
    "challenge_headers",
    "echoes",
    "hostile_json",
    "hostile_numbers",
    "json_bodies",
    "json_values",
    "jwt_like",
    "numberish",
    "responses",
    "retry_after_values",
    "statuses",
    "token_answers",
    "token_response_bodies",
    "token_responses",
    "tokens",
    "www_authenticate_values",
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


# -- fuzzing (issue 10, item 3): hostile values and the documents authwire parses ----------

#: Well past the largest integer a float holds (``float(n)`` raises ``OverflowError``
#: beyond 2**1024): lifetimes such as ``expires_in: 10**400`` must be judged, not crash.
FLOAT_INT_LIMIT: Final = 10**400

#: Numbers that break naive code: NaN, infinities, float limits, negatives, big integers.
hostile_numbers: st.SearchStrategy[int | float] = st.one_of(
    st.sampled_from(
        [
            0,
            -1,
            -5,
            1e308,
            -1e308,
            1.7976931348623157e308,
            5e-324,
            2**53 + 1,
            2**63,
            2**64,
            10**300,
            -(10**300),
            float("nan"),
            float("inf"),
            float("-inf"),
        ]
    ),
    st.floats(),
    st.integers(min_value=-FLOAT_INT_LIMIT, max_value=FLOAT_INT_LIMIT),
)

#: Numbers as JSON sends them, in strings too (``"expires_in": "3600"``, ``"NaN"``, ``"1e999"``).
numberish: st.SearchStrategy[Any] = st.one_of(
    hostile_numbers,
    hostile_numbers.map(repr),
    st.sampled_from(
        ["", " ", "3600", " 60 ", "1e999", "-1e999", "NaN", "nan", "inf", "0x10", "1_0"]
    ),
)


#: No extra leaves.
_NO_LEAVES: Final[st.SearchStrategy[Any]] = st.nothing()


def hostile_json(leaves: st.SearchStrategy[Any] = _NO_LEAVES) -> st.SearchStrategy[Any]:
    """Any JSON value, with hostile numbers and long or odd strings, plus ``leaves``.

    Args:
        leaves: More leaf values, e.g. strings holding a planted secret.
    """
    return st.recursive(
        st.none()
        | st.booleans()
        | hostile_numbers
        | st.text(max_size=40)
        | st.text(st.characters(codec="utf-8"), min_size=100, max_size=400)
        | leaves,
        lambda children: (
            st.lists(children, max_size=5)
            | st.dictionaries(st.text(max_size=12), children, max_size=5)
        ),
        max_leaves=12,
    )


def echoes(secret: str) -> st.SearchStrategy[str]:
    """Strings in which a server echoes ``secret`` back: alone, in a sentence, in a form."""
    from urllib.parse import quote, quote_plus

    return st.sampled_from(
        [
            secret,
            f"invalid client secret {secret}",
            f"client_secret={quote_plus(secret)}",
            f"got '{quote(secret, safe='')}' from you",
            f'{{"client_secret": "{secret}"}}',
        ]
    )


def json_bodies(
    objects: st.SearchStrategy[Any], leaves: st.SearchStrategy[Any] = _NO_LEAVES
) -> st.SearchStrategy[bytes]:
    """Bodies around ``objects``: JSON (NaN/Infinity allowed), cut short, as a form, or junk."""

    def dump(value: Any) -> bytes:
        return json.dumps(value, allow_nan=True).encode()

    return st.one_of(
        objects.map(dump),
        st.tuples(objects.map(dump), st.integers(min_value=0, max_value=400)).map(
            lambda pair: pair[0][: pair[1]]
        ),
        hostile_json(leaves).map(dump),
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: f"<html><body>{t}</body></html>".encode()),
        st.dictionaries(st.text(max_size=12), st.text(max_size=20) | leaves, max_size=5).map(
            lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode()
        ),
    )


def token_answers(secret: str) -> st.SearchStrategy[dict[str, Any]]:
    """Token-endpoint JSON objects, each field of any type, some echoing ``secret``."""
    leaves = echoes(secret)
    value = st.one_of(hostile_json(leaves), numberish, leaves, st.just(""))
    fields = _FIELDS | st.sampled_from(["interval", "expires_at", "token"]) | st.text(max_size=8)
    return st.dictionaries(fields, value, max_size=9)


def responses(
    bodies: st.SearchStrategy[bytes],
    headers: st.SearchStrategy[list[tuple[str, str]]] | None = None,
) -> st.SearchStrategy[HttpResponse]:
    """Responses with any status, an optional content type and Retry-After, and ``bodies``."""
    extra = headers if headers is not None else st.just([])

    @st.composite
    def build(draw: st.DrawFn) -> HttpResponse:
        pairs: list[tuple[str, str]] = list(draw(extra))
        if draw(st.booleans()):
            pairs.append(("Content-Type", draw(_CONTENT_TYPES)))
        if draw(st.booleans()):
            pairs.append(("Retry-After", draw(retry_after_values)))
        return HttpResponse(draw(statuses), Headers(pairs), draw(bodies))

    return build()


#: ``Retry-After`` values: seconds (odd ones included), HTTP dates (odd years), junk.
retry_after_values: st.SearchStrategy[str] = st.one_of(
    st.text(max_size=40),
    numberish.map(str),
    st.sampled_from(
        [
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Mon, 01 Jan 0001 00:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 +2400",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Thu, 01 Jan 1970 00:00:00 -0000",
            "99999999999999999999999",
            "-0",
            "1e309",
        ]
    ),
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
)

_QUOTABLE = st.text(max_size=20) | st.sampled_from(['a\\"b', "a,b", "x\\", "\\\\", "a\\", '"', ""])


def _quoted_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_AUTH_SCHEMES = st.sampled_from(
    ["Digest", "Basic", "Bearer", "DPoP", "Negotiate", "NTLM", "digest", "X-Custom"]
)
_AUTH_PARAMS = st.sampled_from(
    [
        "realm",
        "nonce",
        "qop",
        "algorithm",
        "opaque",
        "stale",
        "userhash",
        "charset",
        "error",
        "error_description",
        "scope",
        "algs",
        "nextnonce",
        "x",
    ]
)
_PARAM_VALUES = st.one_of(
    _QUOTABLE,
    st.sampled_from(
        [
            "auth",
            "auth-int",
            "auth,auth-int",
            "MD5",
            "MD5-sess",
            "SHA-256",
            "SHA-256-sess",
            "SHA-512-256",
            "sha-512-256-SESS",
            "SHA-1",
            "true",
            "FALSE",
            "UTF-8",
            "invalid_token",
            "use_dpop_nonce",
            "ES256 RS256",
        ]
    ),
)


@st.composite
def _one_challenge(draw: st.DrawFn) -> str:
    scheme = draw(_AUTH_SCHEMES)
    if draw(st.integers(0, 4)) == 0:  # token68 (Negotiate, NTLM)
        return f"{scheme} {draw(st.from_regex(r'[A-Za-z0-9._~+/-]{0,40}={0,2}', fullmatch=True))}"
    params = draw(st.lists(st.tuples(_AUTH_PARAMS, _PARAM_VALUES, st.booleans()), max_size=6))
    text = ", ".join(
        f"{name}={_quoted_string(value) if quoted else value}" for name, value, quoted in params
    )
    return f"{scheme} {text}".rstrip()


#: ``WWW-Authenticate`` field values: well-formed challenges (quoted-string escapes, token68,
#: several per field), the same cut short, and raw text.
www_authenticate_values: st.SearchStrategy[str] = st.one_of(
    st.lists(_one_challenge(), min_size=1, max_size=4).map(", ".join),
    st.tuples(
        st.lists(_one_challenge(), min_size=1, max_size=3).map(", ".join), st.integers(0, 80)
    ).map(lambda pair: pair[0][: pair[1]]),
    challenge_headers,
    st.text(st.characters(codec="latin-1"), max_size=200),
)

_B64 = st.binary(max_size=300).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="))


def _b64_json(value: Any) -> str:
    raw = json.dumps(value, allow_nan=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: Compact JWS-looking strings: a JSON header and claims (``exp`` any number), junk parts,
#: wrong part counts.
jwt_like: st.SearchStrategy[str] = st.one_of(
    st.tuples(
        st.fixed_dictionaries(
            {},
            optional={"alg": st.sampled_from(["RS256", "none", "HS256", "ES256"]) | hostile_json()},
        ).map(_b64_json),
        st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "exp": numberish | hostile_json(),
                    "iat": numberish,
                    "sub": st.text(max_size=10),
                    "aud": st.text(max_size=5) | st.lists(st.text(max_size=5), max_size=3),
                },
            ),
            hostile_json(),
        ).map(_b64_json)
        | _B64,
        _B64,
    ).map(".".join),
    st.lists(_B64 | st.text(max_size=20), max_size=5).map(".".join),
    st.text(max_size=60),
)
