"""``AuthScheme``: the contract every authentication scheme follows.

Strictly private; re-exported as ``authwire.AuthScheme``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from authwire._core._value import Value
from authwire._core.flow import Attempt, SchemeFlow

__all__ = [
    "AuthLike",
    "AuthScheme",
    "RequestInfo",
    "SupportsAuthScheme",
    "as_scheme",
    "merge_attempts",
]


class RequestInfo(Value):
    """What a scheme may know of the user's request.

    Attributes:
        method: The method, upper case.
        url: The absolute URL.
        can_replay: Whether the body can be sent again (absent, bytes, or seekable). A
            scheme never asks to resend a request that cannot be replayed.
    """

    _fields = ("method", "url", "can_replay")
    __slots__ = _fields

    method: str
    url: str
    can_replay: bool

    def __init__(self, method: str, url: str, can_replay: bool = True) -> None:
        _set = object.__setattr__
        _set(self, "method", method)
        _set(self, "url", url)
        _set(self, "can_replay", can_replay)


class AuthScheme(abc.ABC):
    """Base of every authentication scheme (``ApiKey``, ``DigestAuth``, a bearer token...).

    A scheme's ``auth_flow`` yields ``Attempt``s (the credentials to attach) and receives
    the server's responses; integrations run it for requests and httpx alike. Schemes
    compose with ``+``: ``ApiKey(...) + ClientCredentials(...)`` applies both, in order.

    Attributes:
        header_names: Lower-case names of the headers the scheme may add. They are removed
            when a redirect leaves the origin.
        param_names: Query parameters the scheme may add.
        requires_secure: Whether the scheme sends secrets that must not travel over plain
            http (security rule 3).
    """

    header_names: frozenset[str] = frozenset({"authorization"})
    param_names: frozenset[str] = frozenset()
    requires_secure: bool = True

    def fast_attempt(self, now: float) -> Attempt | None:
        """Credentials that can be attached right now without I/O, or ``None``.

        Integrations call this on every request before anything else; a scheme that
        answers is then consulted again only if the response is a 401. Returning ``None``
        makes the integration run ``auth_flow`` from its start.
        """
        return None

    @abc.abstractmethod
    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """The scheme's flow over one request.

        Args:
            request: The request being authenticated.
            first: An attempt from ``fast_attempt`` that was already attached and sent;
                the flow must yield it first, unchanged, then carry on from its response.
        """

    def __add__(self, other: AuthLike | object) -> AuthScheme:
        from authwire._core.schemes.combined import CombinedAuth

        return CombinedAuth(self, as_scheme(other))

    def __radd__(self, other: AuthLike | object) -> AuthScheme:
        from authwire._core.schemes.combined import CombinedAuth

        return CombinedAuth(as_scheme(other), self)


@runtime_checkable
class SupportsAuthScheme(Protocol):
    """Something that can act as an auth scheme, such as a credential (as a bearer token)."""

    def as_scheme(self) -> AuthScheme:
        """The scheme that applies this object to requests."""
        ...


AuthLike = AuthScheme | SupportsAuthScheme


def as_scheme(auth: AuthLike | object) -> AuthScheme:
    """The scheme for ``auth``: a scheme as is, a credential as its bearer scheme.

    An ``authwire.requests.Auth`` or ``authwire.httpx.Auth`` gives the scheme it wraps;
    another library's handler (a ``requests.auth.AuthBase``, an ``httpx.Auth``) becomes a
    part that the integration for that library runs.

    Raises:
        TypeError: For anything else.
    """
    if isinstance(auth, AuthScheme):
        return auth
    if isinstance(auth, SupportsAuthScheme):
        return auth.as_scheme()
    wrapped = getattr(auth, "scheme", None)
    if isinstance(wrapped, AuthScheme) and type(auth).__module__.startswith("authwire."):
        return wrapped  # an authwire integration's own wrapper
    from authwire._core.schemes.foreign import ForeignAuth, foreign_kind

    kind = foreign_kind(auth)
    if kind is not None:
        return ForeignAuth(auth, kind)
    raise TypeError(
        f"expected an authwire credential or scheme, a requests.auth.AuthBase or an "
        f"httpx.Auth, got {type(auth).__name__}; wrap a plain token in authwire.StaticToken"
    )


def merge_attempts(attempts: list[Attempt], state: object = None) -> Attempt:
    """One attempt carrying every part's credentials; later parts win on a clash."""
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    cookies: dict[str, str] = {}
    for attempt in attempts:
        headers.update(attempt.headers)
        params.update(attempt.params)
        cookies.update(attempt.cookies)
    return Attempt(headers=headers, params=params, cookies=cookies, state=state)


def frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only copy of ``mapping`` (attempts are shared between threads)."""
    from types import MappingProxyType

    return MappingProxyType(dict(mapping))
