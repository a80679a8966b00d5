"""Every error authwire raises.

The hierarchy::

    AuthwireError                          base; every error is picklable and secret-free
    ├── ConfigurationError(ValueError)     bad arguments, raised at construction
    ├── InsecureTransportError             a secret about to go over plain http / to another origin
    ├── CredentialUnavailable              a source or chain had nothing; lists each source and why
    │   └── InteractionRequired            a login is needed (CLI or browser)
    ├── TokenEndpointError                 anything from the token endpoint; .url, .status
    │   ├── TokenRequestError              refused: .error, .error_description, .snippet
    │   ├── InvalidTokenResponse           not JSON, an HTML page, no access_token, wrong types
    │   └── TokenEndpointUnreachable       network failure or timeout; __cause__ holds why
    │       └── TokenEndpointTimeout       the token's deadline passed; .elapsed, .deadline
    ├── MutualAuthenticationError          the server failed Negotiate mutual authentication
    └── CacheError                         a cache could not be read or written

Fields are keyword-only and each message is built from them, so a message never carries
more than its fields, and fields are redacted before they are stored. Every class pickles
and unpickles to an equal error (``__reduce__``), so errors cross process pools.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

__all__ = [
    "AuthwireError",
    "CacheError",
    "ConfigurationError",
    "CredentialUnavailable",
    "InsecureTransportError",
    "InteractionRequired",
    "InvalidTokenResponse",
    "MutualAuthenticationError",
    "TokenEndpointError",
    "TokenEndpointTimeout",
    "TokenEndpointUnreachable",
    "TokenRequestError",
]

#: HTTP statuses after which a token request may succeed if tried again.
RETRYABLE_STATUSES: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
#: OAuth ``error`` codes after which a token request may succeed if tried again.
RETRYABLE_ERRORS: Final = frozenset({"temporarily_unavailable", "slow_down"})


def _safe_url(url: str) -> str:
    """``url`` without a userinfo password or secret query values (idempotent)."""
    if not url:
        return url
    from authwire._core.redact import redact_url

    return redact_url(url)


def _rebuild(cls: type[AuthwireError], state: dict[str, Any]) -> AuthwireError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class AuthwireError(Exception):
    """Base of every error authwire raises.

    Attributes:
        message: The human-readable message (also ``str(error)``); never holds a secret.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(self.__dict__)))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, AuthwireError)
        return self.__dict__ == other.__dict__

    __hash__ = Exception.__hash__


class ConfigurationError(AuthwireError, ValueError):
    """An argument is wrong or missing; raised at construction, before any request."""


class InsecureTransportError(AuthwireError):
    """A secret was about to be sent over plain ``http://`` or to an origin it is not bound to.

    Attributes:
        url: The (redacted) URL that was refused.
    """

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = _safe_url(url)


class CredentialUnavailable(AuthwireError):
    """A credential source had nothing to offer.

    Attributes:
        attempts: For a chain, ``(source, reason)`` for every source tried, in order.
    """

    def __init__(self, message: str, *, attempts: Sequence[tuple[str, str]] = ()) -> None:
        if attempts:
            lines = "\n".join(f"  - {source}: {reason}" for source, reason in attempts)
            message = f"{message}\n{lines}"
        super().__init__(message)
        self.attempts = tuple(attempts)


class InteractionRequired(CredentialUnavailable):
    """A person must log in again (``authwire login``, or a browser or device-code flow)."""


class TokenEndpointError(AuthwireError):
    """Something went wrong talking to a token endpoint.

    Attributes:
        url: The token endpoint (redacted).
        status: The HTTP status, or ``None`` when no response arrived.
        snippet: A short redacted excerpt of the response body.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        snippet: str = "",
    ) -> None:
        super().__init__(message)
        self.url = _safe_url(url)
        self.status = status
        self.snippet = snippet

    @property
    def retryable(self) -> bool:
        """Whether trying the same request again later may succeed."""
        return self.status in RETRYABLE_STATUSES


class TokenRequestError(TokenEndpointError):
    """The token endpoint refused the request (an HTTP error status).

    Attributes:
        error: The OAuth ``error`` code (RFC 6749 section 5.2), or ``None`` if the body had none.
        error_description: The endpoint's ``error_description``, redacted.
        error_uri: The endpoint's ``error_uri``.
        retry_after: Seconds the endpoint asked to wait (``Retry-After``), if it said.
    """

    def __init__(
        self,
        *,
        url: str,
        status: int,
        error: str | None = None,
        error_description: str | None = None,
        error_uri: str | None = None,
        snippet: str = "",
        retry_after: float | None = None,
    ) -> None:
        url = _safe_url(url)
        what = error or "no OAuth error code"
        message = f"token request refused: HTTP {status} ({what})"
        if error_description:
            message += f": {error_description}"
        elif snippet and not error:
            message += f"; body: {snippet}"
        if url:
            message += f" [{url}]"
        super().__init__(message, url=url, status=status, snippet=snippet)
        self.error = error
        self.error_description = error_description
        self.error_uri = error_uri
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """True for 429, 5xx and ``temporarily_unavailable`` (after google-auth)."""
        return self.status in RETRYABLE_STATUSES or self.error in RETRYABLE_ERRORS


class InvalidTokenResponse(TokenEndpointError):
    """The token endpoint answered, but not with a usable token response.

    Attributes:
        reason: What was wrong (not JSON, an HTML page, no ``access_token``, a wrong type).
    """

    def __init__(
        self,
        *,
        reason: str,
        url: str = "",
        status: int | None = None,
        snippet: str = "",
    ) -> None:
        url = _safe_url(url)
        message = f"invalid token response: {reason}"
        if status is not None:
            message += f" (HTTP {status})"
        if snippet:
            message += f"; body: {snippet}"
        if url:
            message += f" [{url}]"
        super().__init__(message, url=url, status=status, snippet=snippet)
        self.reason = reason


class TokenEndpointUnreachable(TokenEndpointError):
    """No response: connection refused, DNS failure, TLS failure or timeout.

    The transport's own exception is kept as ``__cause__``.

    Attributes:
        reason: A short description of the failure.
    """

    def __init__(self, *, url: str, reason: str) -> None:
        url = _safe_url(url)
        super().__init__(f"token endpoint unreachable: {reason} [{url}]", url=url)
        self.reason = reason

    @property
    def retryable(self) -> bool:
        """Network failures are always worth another try."""
        return True


class TokenEndpointTimeout(TokenEndpointUnreachable):
    """The token's deadline passed before the token endpoint gave an answer.

    One deadline covers a whole token acquisition: connecting, every read, every retry
    and every ``Retry-After`` wait (``deadline=`` on every credential). A drip-feeding
    endpoint, a hung one, retries that would run past it, or a ``Retry-After`` longer than
    the time left all end here, as does a caller that waited that long for another
    caller's request.

    Attributes:
        elapsed: Seconds spent before giving up.
        deadline: The deadline, in seconds.
        retry_after: The wait the endpoint asked for (``Retry-After``) when that wait
            was longer than the time left, else ``None``.
    """

    def __init__(
        self,
        *,
        url: str,
        reason: str,
        elapsed: float,
        deadline: float,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(url=url, reason=reason)
        where = f" [{url}]" if url else ""
        self.message = (
            f"token endpoint timed out after {elapsed:.1f} s (deadline {deadline:g} s): "
            f"{reason}{where}"
        )
        self.args = (self.message,)
        self.elapsed = elapsed
        self.deadline = deadline
        self.retry_after = retry_after


class MutualAuthenticationError(AuthwireError):
    """The server did not prove its identity during Negotiate (Kerberos) authentication.

    Attributes:
        url: The (redacted) URL of the response that failed the check.
    """

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = _safe_url(url)


class CacheError(AuthwireError):
    """A token cache could not be used (wrong permissions, unreachable, unwritable).

    A corrupt cache entry is not an error: it is moved aside and the token fetched again.

    Attributes:
        location: The file, key or URL of the cache, without credentials.
    """

    def __init__(self, message: str, *, location: str = "") -> None:
        super().__init__(message)
        self.location = location
