"""``DelegatingCredential``: a credential that hands its tokens over to another one.

Strictly private. ``CredentialChain``, ``EnvironmentCredential`` and ``ProfileCredential``
pick or build the credential that does the work; once it is known, invalidation and
``peek`` go to it, and before that there is nothing to invalidate or peek at.
"""

from __future__ import annotations

import abc

from authwire._core.token import Token
from authwire.credentials.base import Credential

__all__ = ["DelegatingCredential"]


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
