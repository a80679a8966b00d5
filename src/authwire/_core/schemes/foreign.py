"""``ForeignAuth``: another library's auth handler as one part of a ``+`` chain.

Strictly private. A ``requests.auth.AuthBase`` or an ``httpx.Auth`` written by a user
(or by an SDK) can join a chain with authwire's own schemes: ``ApiKey(...) + MyAuth()``.
The core cannot run it (it knows neither library): the part carries the handler and
attaches nothing itself, and the integration that understands the handler runs it, in
the chain's order, after the origin check every authwire scheme gets. An integration that
does not understand it refuses the chain with a ``ConfigurationError`` at construction.

The libraries are recognised without being imported: a handler can only be an instance
of ``requests.auth.AuthBase`` if ``requests`` is already loaded.
"""

from __future__ import annotations

import sys
from typing import Literal

from authwire._core.flow import Attempt, SchemeFlow
from authwire._core.schemes.base import AuthScheme, RequestInfo

__all__ = ["ForeignAuth", "foreign_kind", "foreign_parts"]

Kind = Literal["requests", "httpx"]

#: What a foreign part attaches through the core: nothing (its integration runs it).
_NOTHING = Attempt()


def foreign_kind(handler: object) -> Kind | None:
    """``"requests"`` or ``"httpx"`` for another library's auth handler, else ``None``."""
    requests = sys.modules.get("requests")
    base = getattr(getattr(requests, "auth", None), "AuthBase", None)
    if isinstance(base, type) and isinstance(handler, base):
        return "requests"
    httpx = sys.modules.get("httpx")
    base = getattr(httpx, "Auth", None)
    if isinstance(base, type) and isinstance(handler, base):
        return "httpx"
    return None


class ForeignAuth(AuthScheme):
    """A ``requests`` or ``httpx`` auth handler as a part of a chain.

    Args:
        handler: The handler, run by the integration for its library.
        kind: ``"requests"`` or ``"httpx"``: the library the handler belongs to.

    The headers it adds are not known in advance; integrations record them as it runs
    and strip them when a redirect leaves the bound origin. Plain ``http://`` is refused
    except to loopback (what it sends may well be a secret).
    """

    header_names: frozenset[str] = frozenset()

    def __init__(self, handler: object, kind: Kind) -> None:
        self.handler = handler
        self.kind: Kind = kind

    def __repr__(self) -> str:
        return f"ForeignAuth({type(self.handler).__name__}, {self.kind})"

    def fast_attempt(self, now: float) -> Attempt | None:
        """Nothing to attach through the core: the integration runs the handler."""
        return _NOTHING

    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """Attach nothing and answer nothing: the handler answers its own challenges."""
        yield first if first is not None else _NOTHING


def foreign_parts(scheme: AuthScheme) -> tuple[ForeignAuth, ...]:
    """The foreign parts of ``scheme`` (itself, or the parts of a ``+`` chain), in order."""
    from authwire._core.schemes.combined import CombinedAuth

    parts = scheme.parts if isinstance(scheme, CombinedAuth) else (scheme,)
    return tuple(p for p in parts if isinstance(p, ForeignAuth))
