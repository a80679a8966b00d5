"""The error tree: exported, picklable, messages built from fields, causes kept."""

from __future__ import annotations

import inspect
import pickle

import pytest

import authwire
import authwire.errors as errors_module
from authwire import (
    AuthwireError,
    CacheError,
    ConfigurationError,
    CredentialUnavailable,
    InsecureTransportError,
    InteractionRequired,
    InvalidTokenResponse,
    MutualAuthenticationError,
    TokenEndpointError,
    TokenEndpointTimeout,
    TokenEndpointUnreachable,
    TokenRequestError,
)

URL = "https://login.example.com/token"

#: One instance of every error class, built from fields as authwire builds them.
EXAMPLES: list[AuthwireError] = [
    AuthwireError("base"),
    ConfigurationError("client_id is required"),
    InsecureTransportError("refusing to send credentials", url="http://api.example.com/"),
    CredentialUnavailable("no credential found", attempts=[("env", "AUTHWIRE_TOKEN not set")]),
    InteractionRequired("log in again", attempts=[("profile default", "expired")]),
    TokenEndpointError("endpoint failed", url=URL, status=500, snippet="oops"),
    TokenRequestError(
        url=URL,
        status=400,
        error="invalid_grant",
        error_description="refresh token expired",
        error_uri="https://docs.example.com/e",
        snippet='{"error": "invalid_grant"}',
        retry_after=3.0,
    ),
    InvalidTokenResponse(reason="expected a JSON object, got an HTML page", url=URL, status=200),
    TokenEndpointUnreachable(url=URL, reason="ConnectError: refused"),
    TokenEndpointTimeout(
        url=URL,
        reason="Retry-After 29 s is longer than the 3.2 s left",
        elapsed=26.8,
        deadline=30.0,
        retry_after=29.0,
    ),
    MutualAuthenticationError("server did not prove its identity", url="https://k.example/"),
    CacheError("cache file is world-readable", location="/home/u/.cache/authwire/x.json"),
]


def test_every_error_class_is_exported_and_covered() -> None:
    """Every error class in authwire.errors is exported from authwire and has an example here."""
    classes = {
        obj
        for _, obj in inspect.getmembers(errors_module, inspect.isclass)
        if issubclass(obj, AuthwireError)
    }
    assert {type(e) for e in EXAMPLES} == classes
    for cls in classes:
        assert getattr(authwire, cls.__name__) is cls
        assert cls.__name__ in authwire.__all__
        assert cls.__name__ in errors_module.__all__


def test_the_tree_matches_the_design() -> None:
    """The hierarchy is the one drawn in STYLE.md, with ValueError under ConfigurationError."""
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(InteractionRequired, CredentialUnavailable)
    for cls in (TokenRequestError, InvalidTokenResponse, TokenEndpointUnreachable):
        assert issubclass(cls, TokenEndpointError)
    for example in EXAMPLES:
        assert isinstance(example, AuthwireError)


@pytest.mark.parametrize("err", EXAMPLES, ids=lambda e: type(e).__name__)
def test_pickle_round_trip_is_equal(err: AuthwireError) -> None:
    """Each error pickles and unpickles to an equal error with the same message and fields."""
    clone = pickle.loads(pickle.dumps(err))  # noqa: S301 (our own bytes)
    assert type(clone) is type(err)
    assert clone == err
    assert str(clone) == str(err)
    assert clone.__dict__ == err.__dict__


@pytest.mark.parametrize("err", EXAMPLES, ids=lambda e: type(e).__name__)
def test_message_is_str_and_args(err: AuthwireError) -> None:
    """str(error) is its message, non-empty, and the only argument."""
    assert str(err) == err.message
    assert err.message
    assert err.args == (err.message,)


def test_token_request_error_message_is_built_from_fields() -> None:
    """Status, error code, description and URL make the message; fields are kept as given."""
    err = TokenRequestError(url=URL, status=401, error="invalid_client", error_description="bad")
    assert str(err) == f"token request refused: HTTP 401 (invalid_client): bad [{URL}]"
    assert (err.status, err.error, err.error_description, err.url) == (
        401,
        "invalid_client",
        "bad",
        URL,
    )
    bare = TokenRequestError(url=URL, status=502, snippet="<html>Bad Gateway</html>")
    assert "no OAuth error code" in str(bare)
    assert "Bad Gateway" in str(bare)


def test_credential_unavailable_lists_every_source() -> None:
    """A chain's error names each source and why it was skipped."""
    err = CredentialUnavailable(
        "no credential", attempts=[("env", "AUTHWIRE_TOKEN not set"), ("profile", "no cache")]
    )
    assert "env: AUTHWIRE_TOKEN not set" in str(err)
    assert "profile: no cache" in str(err)
    assert err.attempts == (("env", "AUTHWIRE_TOKEN not set"), ("profile", "no cache"))


@pytest.mark.parametrize(
    ("err", "retryable"),
    [
        (TokenRequestError(url=URL, status=429), True),
        (TokenRequestError(url=URL, status=503), True),
        (TokenRequestError(url=URL, status=400, error="temporarily_unavailable"), True),
        (TokenRequestError(url=URL, status=400, error="invalid_grant"), False),
        (InvalidTokenResponse(reason="x", url=URL, status=200), False),
        (TokenEndpointUnreachable(url=URL, reason="timeout"), True),
        (TokenEndpointTimeout(url=URL, reason="drip", elapsed=1.5, deadline=1.5), True),
    ],
)
def test_retryable(err: TokenEndpointError, retryable: bool) -> None:
    """retryable follows google-auth: 429, 5xx, temporarily_unavailable, network failures."""
    assert err.retryable is retryable


def test_cause_is_kept_through_raise_from() -> None:
    """A transport failure raised with ``from`` keeps the transport error as ``__cause__``."""
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as exc:
            raise TokenEndpointUnreachable(url=URL, reason="ConnectionRefusedError") from exc
    except TokenEndpointUnreachable as err:
        caught = err
    assert isinstance(caught.__cause__, ConnectionRefusedError)
    assert caught.retryable


def test_errors_are_hashable_and_unequal_across_classes() -> None:
    """Errors hash (they go in sets) and errors of different classes never compare equal."""
    a = TokenEndpointError("x", url=URL)
    b = InsecureTransportError("x", url=URL)
    assert a != b
    assert len({a, b}) == 2


def test_timeout_names_the_endpoint_and_how_long_it_tried() -> None:
    """A TokenEndpointTimeout is a TokenEndpointUnreachable whose message says how long."""
    err = TokenEndpointTimeout(url=URL, reason="reading the response", elapsed=1.52, deadline=1.5)
    assert isinstance(err, TokenEndpointUnreachable)
    assert str(err) == (
        f"token endpoint timed out after 1.5 s (deadline 1.5 s): reading the response [{URL}]"
    )
    assert (err.elapsed, err.deadline, err.retry_after, err.url) == (1.52, 1.5, None, URL)
