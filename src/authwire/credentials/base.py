"""``Credential``: the base of every token source, and ``ManagedCredential`` for grants."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any, Literal

from authwire._core.clock import Clock, system_clock
from authwire._core.flow import Flow
from authwire._core.policy import DEFAULT_MANDATORY, DEFAULT_MIN_LIFETIME, RefreshPolicy
from authwire._core.retry import DEFAULT_RETRY, RetryPolicy
from authwire._core.schemes.base import AuthLike, AuthScheme, as_scheme
from authwire._core.schemes.bearer import BearerAuth
from authwire._core.token import Token
from authwire._event import RefreshEvent
from authwire._log import logger
from authwire.caches.base import TokenCache, cache_key
from authwire.credentials._sender import MAX_BODY
from authwire.errors import ConfigurationError

__all__ = ["Credential", "ManagedCredential"]


class Credential(abc.ABC):
    """Base of every credential: something that provides tokens.

    A credential is usable wherever authwire takes auth (``authwire.requests.Auth(cred)``,
    ``authwire.httpx.Auth(cred)``), where it sends its token as a bearer token, and it
    composes with schemes and other credentials with ``+``.
    """

    @abc.abstractmethod
    def get_token(self) -> Token:
        """A valid token, fetched or refreshed if needed (blocking).

        Raises:
            AuthwireError: If no token can be had; see the subclass.
        """

    @abc.abstractmethod
    async def aget_token(self) -> Token:
        """A valid token, for asyncio or trio code; never blocks the event loop."""

    def invalidate(self, token: Token) -> bool:
        """Report that a server rejected ``token``; the next call gets a new one.

        Compare-and-invalidate: if ``token`` was already replaced, nothing happens.

        Returns:
            True if ``token`` was the current token and is now dropped.
        """
        return False

    async def ainvalidate(self, token: Token) -> bool:
        """``invalidate`` for async code."""
        return self.invalidate(token)

    def peek(self, now: float) -> Token | None:
        """A fresh token already at hand at ``now``, without I/O or waiting, or ``None``."""
        return None

    def as_scheme(self) -> AuthScheme:
        """The scheme that applies this credential: its token as a bearer token."""
        return BearerAuth(self)

    def __add__(self, other: AuthLike | object) -> AuthScheme:
        return self.as_scheme() + as_scheme(other)

    def __radd__(self, other: AuthLike | object) -> AuthScheme:
        return as_scheme(other) + self.as_scheme()


def _policy(
    leeway: float | None, mandatory: float | None, min_lifetime: float = DEFAULT_MIN_LIFETIME
) -> RefreshPolicy:
    try:
        if leeway is None and mandatory is None:
            return RefreshPolicy(min_lifetime=min_lifetime)
        mandatory_window = DEFAULT_MANDATORY if mandatory is None else mandatory
        if leeway is None:
            return RefreshPolicy(mandatory=mandatory_window, min_lifetime=min_lifetime)
        return RefreshPolicy(
            advisory=leeway, mandatory=min(mandatory_window, leeway), min_lifetime=min_lifetime
        )
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def _retry(retries: int | RetryPolicy | None) -> RetryPolicy:
    if retries is None:
        return DEFAULT_RETRY
    if isinstance(retries, RetryPolicy):
        return retries
    try:
        return RetryPolicy(retries=retries)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


class ManagedCredential(Credential):
    """A credential whose tokens come from a grant flow and are managed for it.

    Subclasses provide ``_token_flow`` (the grant) and ``_identity`` (what makes two
    configurations the same client, for the cache key; secrets only as fingerprints).
    The ``TokenManager`` does the rest: memory copy, cache, refresh windows, single flight.

    Args:
        cache: Where tokens are shared. ``None`` (default) uses the process-wide
            ``MemoryCache``.
        leeway: Seconds before expiry at which the first caller refreshes (the advisory
            window). ``0`` refreshes only inside the mandatory window. Default 300,
            shrunk to half the lifetime of short-lived tokens.
        mandatory: Seconds before expiry from which a token is no longer used. Default 30,
            shrunk to a tenth of the lifetime of short-lived tokens.
        timeout: Seconds to wait for the token endpoint to connect, and for each read
            of its answer. Default 10.
        retries: Further attempts after a connection failure, 429 or 5xx, or a
            ``RetryPolicy``. ``0`` never retries. Default 2.
        deadline: Seconds one caller may spend getting a token, all included: connecting,
            every read, every retry and ``Retry-After`` wait, and waiting for another
            caller's request. Past it, ``TokenEndpointTimeout``. ``None`` removes the
            bound (then only ``timeout`` and ``retries`` limit a call). Default
            ``"auto"``: ``timeout`` times the number of attempts (30 s with the defaults,
            1.5 s with ``timeout=1.5, retries=0``); none for ``DeviceCode`` and
            ``AuthorizationCode``, whose waits for a person have their own bounds.
        max_body: The largest answer read from the token, discovery, JWKS, device or
            revocation endpoint, in bytes (after decompression); a larger one is refused
            with ``InvalidTokenResponse`` without reading the rest. Default 1 MiB.
        min_lifetime: Seconds a token that arrives already expired (``expires_in`` of
            ``0`` or less) is used before a new one is asked for, so a misconfigured
            provider does not cost a token request per call (a warning is logged once).
            ``0`` asks again at every call. Default 10.
        http_client: Your own ``httpx.Client``, ``httpx.AsyncClient`` or
            ``requests.Session`` for token requests (proxies, CA bundles). Default: authwire's.
        on_refresh: Called with a ``RefreshEvent`` (no secrets) after every refresh.
        clock: The wall clock; tests pass ``authwire.testing.FakeClock``.
    """

    #: Whether the grant waits for a person (no deadline by default).
    _interactive = False

    def __init__(
        self,
        *,
        cache: TokenCache | None = None,
        leeway: float | None = None,
        mandatory: float | None = None,
        timeout: float = 10.0,
        retries: int | RetryPolicy | None = None,
        deadline: float | Literal["auto"] | None = "auto",
        max_body: int = MAX_BODY,
        min_lifetime: float = DEFAULT_MIN_LIFETIME,
        http_client: Any = None,
        on_refresh: Callable[[RefreshEvent], None] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        from authwire.caches.memory import DEFAULT_MEMORY_CACHE
        from authwire.credentials._sender import _kind, async_sender, make_sender
        from authwire.manager import TokenManager

        if timeout <= 0:
            raise ConfigurationError("timeout must be > 0 seconds")
        self._retry = _retry(retries)
        if deadline == "auto":
            # Interactive grants wait for a person, bounded by the grant itself (the
            # device code's expiry, login_timeout): no deadline unless one is given.
            deadline = None if self._interactive else timeout * (self._retry.retries + 1)
        if deadline is not None and not (isinstance(deadline, (int, float)) and deadline > 0):
            raise ConfigurationError("deadline must be > 0 seconds, 'auto', or None for no bound")
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
            raise ConfigurationError("max_body must be a positive number of bytes")
        self._clock = clock
        self._timeout = timeout
        self._max_body = max_body
        self._deadline = deadline
        self._short_lifetime_warned = False
        _kind(http_client)  # a wrong kind fails here, at construction
        self._manager = TokenManager(
            fetch=self._token_flow,
            key=cache_key(self._identity()),
            cache=cache if cache is not None else DEFAULT_MEMORY_CACHE,
            policy=_policy(leeway, mandatory, min_lifetime),
            sender=lambda: make_sender(http_client, timeout, max_body),
            async_sender=lambda: async_sender(http_client, timeout, max_body=max_body),
            name=repr(self),
            clock=clock,
            on_refresh=on_refresh,
            on_token=self._new_token,
            deadline=deadline,
        )
        # The hot path reads the manager's snapshot directly.
        self.peek = self._manager.peek  # type: ignore[method-assign]

    @abc.abstractmethod
    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        """The grant flow for a new token (``replacing`` is the token being replaced)."""

    @abc.abstractmethod
    def _identity(self) -> Mapping[str, Any]:
        """What identifies this client for caching; secrets only as fingerprints."""

    def _new_token(self, token: Token) -> None:
        lifetime = token.lifetime
        if lifetime is not None and lifetime <= 0 and not self._short_lifetime_warned:
            # Once per credential: a provider that always sends expires_in 0 would
            # otherwise log at every refresh.
            self._short_lifetime_warned = True
            logger.warning(
                "%s: the token endpoint sent a token that is already expired "
                "(expires_in %g); it is used for min_lifetime=%g s before a new one is asked for",
                self._manager.name,
                lifetime,
                self._manager.policy.min_lifetime,
            )
        self._on_new_token(token)

    def _on_new_token(self, token: Token) -> None:
        """Hook for subclasses: a new token was fetched (e.g. to keep a rotated refresh token)."""

    @property
    def manager(self) -> Any:
        """The ``TokenManager`` behind this credential."""
        return self._manager

    @property
    def cache_key(self) -> str:
        """The key under which this credential's tokens are cached."""
        return self._manager.key

    def get_token(self) -> Token:
        """A valid token; one refresh per expiry however many threads ask.

        Raises:
            TokenRequestError: The endpoint refused.
            InvalidTokenResponse: The endpoint answered with something that is not a token.
            TokenEndpointUnreachable: The endpoint could not be reached.
        """
        return self._manager.get_token()

    async def aget_token(self) -> Token:
        """``get_token`` for asyncio and trio; one refresh per expiry however many tasks ask."""
        return await self._manager.aget_token()

    def invalidate(self, token: Token) -> bool:
        """Drop ``token`` if current (compare-and-invalidate), here and in the cache."""
        return self._manager.invalidate(token)

    async def ainvalidate(self, token: Token) -> bool:
        """``invalidate`` for async code."""
        return await self._manager.ainvalidate(token)

    def peek(self, now: float) -> Token | None:
        """A fresh token at hand at ``now`` (no lock, no I/O), or ``None``."""
        return self._manager.peek(now)

    def clear(self) -> None:
        """Forget the token here and in the cache (the next call fetches a new one)."""
        self._manager.clear()
