"""``CredentialChain``, ``default_credential()`` and ``set_default_credential()``.

A chain tries its sources in order. A source that is *unavailable* (it raises
``CredentialUnavailable``: nothing configured, no saved login) passes on to the next; a
source that *fails* (any other error: the endpoint refused the client, a config file is
malformed) stops the chain, because silently trying another identity would hide the
problem. The first source that gives a token is kept for every later call. When no
source gives one, the error lists every source and why it was skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from authwire._core.token import Token
from authwire.credentials._delegating import DelegatingCredential
from authwire.credentials.base import Credential
from authwire.errors import ConfigurationError, CredentialUnavailable

__all__ = ["CredentialChain", "default_credential", "set_default_credential"]


def _reason(exc: CredentialUnavailable) -> str:
    # The first line only: a nested chain's own list would repeat itself.
    return exc.message.splitlines()[0] if exc.message else type(exc).__name__


class CredentialChain(DelegatingCredential):
    """The first of several credentials that has a token to give.

    Args:
        sources: The credentials to try, in order.
        name: How the chain calls itself in its repr and errors. Default
            ``"CredentialChain"``.

    Raises:
        ConfigurationError: For an empty ``sources`` or one that is not a ``Credential``.

    Example:
        >>> import authwire
        >>> chain = authwire.CredentialChain(
        ...     [authwire.EnvironmentCredential(), authwire.StaticToken("fallback")]
        ... )
        >>> chain.get_token().access_token  # no AUTHWIRE_* variables set here
        'fallback'
    """

    def __init__(self, sources: Sequence[Credential], *, name: str = "CredentialChain") -> None:
        sources = tuple(sources)
        if not sources:
            raise ConfigurationError("CredentialChain needs at least one source")
        for source in sources:
            if not isinstance(source, Credential):
                raise ConfigurationError(
                    f"CredentialChain sources must be credentials, not {type(source).__name__}"
                )
        self.sources = sources
        self.name = name
        self._chosen: Credential | None = None
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        inner = ", ".join(repr(s) for s in self.sources)
        return f"{self.name}([{inner}])"

    @property
    def chosen(self) -> Credential | None:
        """The source that gave the first token, or ``None`` before that."""
        return self._chosen

    def _unavailable(self, attempts: list[tuple[str, str]]) -> CredentialUnavailable:
        return CredentialUnavailable(f"{self.name}: no credential found", attempts=attempts)

    def get_token(self) -> Token:
        """The token of the first source that has one (kept for later calls).

        Raises:
            CredentialUnavailable: If no source had one; ``attempts`` says why for each.
            AuthwireError: A source's failure (the chain stops there).
        """
        chosen = self._chosen
        if chosen is not None:
            return chosen.get_token()
        with self._mutex:  # one walk at a time: the others then use the chosen source
            chosen = self._chosen
            if chosen is not None:
                return chosen.get_token()
            attempts: list[tuple[str, str]] = []
            for source in self.sources:
                try:
                    token = source.get_token()
                except CredentialUnavailable as exc:
                    attempts.append((repr(source), _reason(exc)))
                    continue
                self._chosen = source
                return token
        raise self._unavailable(attempts)

    async def aget_token(self) -> Token:
        """``get_token`` for asyncio and trio."""
        chosen = self._chosen
        if chosen is not None:
            return await chosen.aget_token()
        attempts: list[tuple[str, str]] = []
        for source in self.sources:
            try:
                token = await source.aget_token()
            except CredentialUnavailable as exc:
                attempts.append((repr(source), _reason(exc)))
                continue
            self._chosen = source
            return token
        raise self._unavailable(attempts)

    @property
    def _delegate(self) -> Credential | None:
        return self._chosen


def set_default_credential(credential: Credential | None) -> None:
    """Make ``default_credential()`` return ``credential``; ``None`` restores the chain.

    authwire's own ``App`` (``authwire.app.DEFAULT_APP``) holds it: an SDK's ``App`` has
    its own default (``app.set_default()``), never this one.

    Args:
        credential: The credential to use by default, or ``None``.

    Raises:
        ConfigurationError: If ``credential`` is not a ``Credential``.
    """
    from authwire.app import DEFAULT_APP

    if credential is not None and not isinstance(credential, Credential):
        raise ConfigurationError(
            f"set_default_credential() takes a credential, not {type(credential).__name__}"
        )
    DEFAULT_APP.set_default(credential)


def default_credential(*, profile: str | None = None) -> Credential:
    """The credential to use when none is given.

    The one set by ``set_default_credential()``, else a chain of:

    1. ``EnvironmentCredential``: ``AUTHWIRE_TOKEN``, or ``AUTHWIRE_CLIENT_ID`` +
       ``AUTHWIRE_CLIENT_SECRET`` + ``AUTHWIRE_TOKEN_URL`` (or ``AUTHWIRE_ISSUER``), with
       ``AUTHWIRE_SCOPE``;
    2. ``ProfileCredential``: the active profile (``profile``, else ``AUTHWIRE_PROFILE``,
       else the config file's ``default_profile``) and its saved login.

    Nothing is read until the first ``get_token()``, so this never raises; that call
    raises ``CredentialUnavailable`` listing each source and why it had nothing. This is
    ``authwire.app.DEFAULT_APP.default_credential()``; an SDK's ``App`` has the same
    method under its own names.

    Args:
        profile: The profile to use instead of the active one.

    Example:
        >>> import authwire
        >>> authwire.default_credential()
        default_credential([EnvironmentCredential(), ProfileCredential()])
    """
    from authwire.app import DEFAULT_APP

    return DEFAULT_APP.default_credential(profile=profile)
