"""The cache's token codec: versioned JSON that round-trips and refuses anything else."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import json_values, tokens

from authwire import Token
from authwire.caches._codec import decode_token, encode_token

_json_keys = st.text(max_size=10)


@given(
    token=tokens,
    refresh=st.none() | st.text(min_size=1, max_size=20),
    scope=st.none() | st.text(min_size=1, max_size=20),
    extra=st.dictionaries(_json_keys, json_values, max_size=4),
)
def test_any_token_round_trips(
    token: Token, refresh: str | None, scope: str | None, extra: dict[str, object]
) -> None:
    """encode then decode gives back an equal token, extra fields included."""
    full = Token(
        token.access_token,
        expires_at=token.expires_at,
        issued_at=token.issued_at,
        refresh_token=refresh,
        scope=scope,
        extra=extra,
    )
    back = decode_token(encode_token(full))
    assert back == full
    assert dict(back.extra) == extra


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'{"v": 2, "access_token": "a"}',
        b'{"v": 1}',
        b'{"v": 1, "access_token": ""}',
        b'{"v": 1, "access_token": "a", "expires_at": "soon"}',
        b'{"v": 1, "access_token": "a", "expires_at": true}',
        b'{"v": 1, "access_token": "a", "expires_at": 1e999}',
        b'{"v": 1, "access_token": "a", "extra": [1]}',
        b'{"v": 1, "access_token": "a", "refresh_token": 5}',
    ],
)
def test_anything_else_is_a_value_error(raw: bytes) -> None:
    """Other versions and malformed objects raise ValueError (caches treat it as corrupt)."""
    with pytest.raises(ValueError, match=r"token|Expecting|version"):
        decode_token(raw)


@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bytes_give_a_token_or_value_error(raw: bytes) -> None:
    """Whatever is in a cache entry, decoding gives a Token or a ValueError, never a crash."""
    try:
        token = decode_token(raw)
    except ValueError:
        return
    assert isinstance(token, Token)
