"""``DelegatingCredential``: a credential that hands its tokens over to another one.

Strictly private. ``CredentialChain`` picks the credential that does the work;
``EnvironmentCredential`` and ``ProfileCredential`` build it (``ResolvingCredential``).
Once it is known, invalidation and ``peek`` go to it; before that there is nothing to
invalidate or peek at.
"""

from __future__ import annotations

import abc
import threading

from authwire._core.token import Token
from authwire.credentials.base import Credential

__all__ = ["DelegatingCredential", "ResolvingCredential"]


class DelegatingCredential(Credential):
    """Base of the credentials that pass ``invalidate`` and ``peek`` to a chosen credential."""

    @property
    @abc.abstractmethod
    def _delegate(self) -> Credential | None:
        """The credential doing the work, or ``None`` while none is chosen yet."""

    def invalidate(self, token: Token) -> bool:
        """Pass a rejected token on to the chosen credential (none chosen: nothing to do)."""
        delegate = self._delegate
        return delegate.invalidate(token) if delegate is not None else False

    async def ainvalidate(self, token: Token) -> bool:
        """``invalidate`` for async code."""
        delegate = self._delegate
        return await delegate.ainvalidate(token) if delegate is not None else False

    def peek(self, now: float) -> Token | None:
        """The chosen credential's fresh token at hand, if any."""
        delegate = self._delegate
        return delegate.peek(now) if delegate is not None else None


class ResolvingCredential(DelegatingCredential):
    """A ``DelegatingCredential`` that builds its credential once, on first use.

    Subclasses set ``self._resolved = None`` and ``self._mutex = threading.Lock()`` in
    ``__init__`` and implement ``_build``.
    """

    _resolved: Credential | None
    _mutex: threading.Lock

    @abc.abstractmethod
    def _build(self) -> Credential:
        """Make the credential (called once, under the lock)."""

    def _resolve(self) -> Credential:
        resolved = self._resolved
        if resolved is not None:
            return resolved
        with self._mutex:
            if self._resolved is None:
                self._resolved = self._build()
            return self._resolved

    @property
    def _delegate(self) -> Credential | None:
        return self._resolved
