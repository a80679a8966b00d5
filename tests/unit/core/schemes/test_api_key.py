"""``ApiKey``: a key in a header, a query parameter or a cookie."""

from __future__ import annotations

import pytest

from authwire import ApiKey, ConfigurationError, Secret
from authwire._core.flow import SyncStepper
from authwire._core.http import HttpResponse
from authwire._core.schemes.base import RequestInfo


def test_default_is_the_x_api_key_header() -> None:
    """With no placement the key goes in X-API-Key."""
    attempt = ApiKey("k-1").fast_attempt(0)
    assert dict(attempt.headers) == {"X-API-Key": "k-1"}
    assert not attempt.params
    assert not attempt.cookies


def test_header_with_prefix() -> None:
    """prefix= puts text before the key in the header."""
    attempt = ApiKey(Secret("k-2"), header="Authorization", prefix="Token").fast_attempt(0)
    assert dict(attempt.headers) == {"Authorization": "Token k-2"}


def test_query_placement() -> None:
    """query= adds a query parameter and no header."""
    key = ApiKey("k-3", query="api_key")
    attempt = key.fast_attempt(0)
    assert dict(attempt.params) == {"api_key": "k-3"}
    assert not attempt.headers
    assert key.param_names == frozenset({"api_key"})
    assert key.header_names == frozenset()


def test_cookie_placement() -> None:
    """cookie= adds a cookie, and the Cookie header is what a redirect must strip."""
    key = ApiKey("k-4", cookie="session_key")
    assert dict(key.fast_attempt(0).cookies) == {"session_key": "k-4"}
    assert key.header_names == frozenset({"cookie"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": ""}, "non-empty"),
        ({"key": "k", "header": "X", "query": "q"}, "one of"),
        ({"key": "k", "query": "q", "prefix": "Token"}, "prefix"),
    ],
)
def test_bad_arguments(kwargs: dict[str, str], message: str) -> None:
    """An empty key, two placements, or a prefix off a header are configuration errors."""
    with pytest.raises(ConfigurationError, match=message):
        ApiKey(**kwargs)


def test_a_401_is_not_answered() -> None:
    """The key is sent once; a 401 is the caller's to see."""
    stepper: SyncStepper[object] = SyncStepper(
        ApiKey("k").auth_flow(RequestInfo("GET", "https://a.example/"))
    )
    assert stepper.start() is not None
    assert stepper.send(HttpResponse(401)) is None


def test_repr_hides_the_key() -> None:
    """The repr names the placement, never the key."""
    text = repr(ApiKey("key-very-secret-1", query="api_key"))
    assert "key-very-secret-1" not in text
    assert "api_key" in text
