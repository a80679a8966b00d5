"""Bearer tokens (RFC 6750 section 2.1) with refresh-and-replay on 401.

Strictly private. On a 401 the token that was *sent* is invalidated (compare-and-invalidate:
if another caller already replaced it, nothing is refreshed twice), a fresh token is
fetched, and the request is replayed once if it can be. A second 401 goes back to the
caller: never a loop. A source that hands back the same token (a static token) is not
replayed at all.
"""

from __future__ import annotations

from typing import Protocol

from authwire._core.flow import Attempt, Call, SchemeFlow
from authwire._core.schemes.base import AuthScheme, RequestInfo
from authwire._core.token import Token, unusable_type_reason
from authwire.errors import InvalidTokenResponse

__all__ = ["BearerAuth", "TokenSource"]


class TokenSource(Protocol):
    """What a bearer scheme needs of a credential."""

    def get_token(self) -> Token:
        """A valid token, fetching one if needed."""
        ...

    async def aget_token(self) -> Token:
        """``get_token`` for async code."""
        ...

    def invalidate(self, token: Token) -> bool:
        """Drop ``token`` if it is still the current one."""
        ...

    async def ainvalidate(self, token: Token) -> bool:
        """``invalidate`` for async code."""
        ...

    def peek(self, now: float) -> Token | None:
        """A fresh token already at hand (no I/O, no waiting), or ``None``."""
        ...


class BearerAuth(AuthScheme):
    """Sends a credential's token in a header; refreshes it and replays once on a 401.

    Args:
        source: The credential that provides tokens.
        header: The header to put the token in. Default ``Authorization``.
        prefix: What precedes the token in the header. ``None`` (default) uses ``Bearer``
            and refuses a token of any other type (a ``DPoP`` token needs ``dpop=True``);
            ``""`` sends the bare token, as some vendor APIs expect in their own headers;
            any other value is sent as given, whatever the token's type.

    Raises:
        InvalidTokenResponse: When sending, with ``prefix=None``, for a token whose
            ``token_type`` is not ``Bearer`` (RFC 6749 section 7.1).
    """

    requires_secure = True

    def __init__(
        self, source: TokenSource, *, header: str = "Authorization", prefix: str | None = None
    ) -> None:
        self.source = source
        self._peek = source.peek  # bound once: the hot path calls it on every request
        self.header = header
        self.prefix = prefix
        self.header_names = frozenset({header.lower()})
        self._cached: Attempt | None = None

    def __repr__(self) -> str:
        return f"BearerAuth({self.source!r}, header={self.header!r})"

    def attempt_for(self, token: Token) -> Attempt:
        """The attempt that sends ``token``."""
        prefix = self.prefix
        if prefix is None:
            if token.token_type != "Bearer":  # Token spells Bearer canonically
                raise InvalidTokenResponse(reason=unusable_type_reason(token.token_type))
            prefix = "Bearer"
        value = f"{prefix} {token.access_token}" if prefix else token.access_token
        return Attempt(headers={self.header: value}, state=token)

    def fast_attempt(self, now: float) -> Attempt | None:
        """The current token's attempt, if the credential has a fresh token at hand."""
        token = self._peek(now)
        if token is None:
            return None
        cached = self._cached
        if cached is not None and cached.state is token:
            return cached
        cached = self._cached = self.attempt_for(token)
        return cached

    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """Send the token; on a 401, refresh it and replay once."""
        source = self.source
        if first is None:
            token: Token = yield Call(source.get_token, source.aget_token)
            first = self.attempt_for(token)
        sent: Token = first.state
        response = yield first
        if response.status != 401 or not request.can_replay:
            return
        yield Call(source.invalidate, source.ainvalidate, (sent,))
        fresh: Token = yield Call(source.get_token, source.aget_token)
        if fresh.access_token == sent.access_token:
            return  # nothing new to offer: the 401 stands
        yield self.attempt_for(fresh)
