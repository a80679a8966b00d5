"""``StaticToken``: a token you already have."""

from __future__ import annotations

from authwire._core.redact import Secret, reveal
from authwire._core.schemes.base import AuthScheme
from authwire._core.schemes.bearer import BearerAuth
from authwire._core.token import Token
from authwire.credentials.base import Credential
from authwire.errors import ConfigurationError

__all__ = ["StaticToken"]


class StaticToken(Credential):
    """A fixed token (from an environment variable, a vault, a CI secret).

    It is never refreshed: on a 401 there is nothing new to offer, so the 401 is returned.

    Args:
        token: The access token, or a ``Token``.
        token_type: The type, when ``token`` is a string. Default ``"Bearer"``. Any
            other type is sent as you give it, ``Authorization: <token_type> <token>``
            (e.g. ``"SSWS"`` for Okta API tokens, or ``"DPoP"`` with a proof you add
            yourself): you know what the API expects, where a token endpoint's unknown
            type is refused.

    Raises:
        ConfigurationError: For an empty token.

    Example:
        >>> StaticToken("abc123")
        StaticToken(token_type='Bearer', access_token='***')
    """

    def __init__(self, token: str | Secret[str] | Token, *, token_type: str = "Bearer") -> None:
        if isinstance(token, Token):
            self._token = token
        else:
            value = reveal(token)
            if not value:
                raise ConfigurationError("StaticToken needs a non-empty token")
            self._token = Token(value, token_type=token_type)

    def __repr__(self) -> str:
        return f"StaticToken(token_type={self._token.token_type!r}, access_token='***')"

    def as_scheme(self) -> AuthScheme:
        """The token in ``Authorization``, after its type as given (``Bearer`` by default)."""
        token_type = self._token.token_type
        return BearerAuth(self, prefix=None if token_type == "Bearer" else token_type)

    def get_token(self) -> Token:
        """The token."""
        return self._token

    async def aget_token(self) -> Token:
        """The token."""
        return self._token

    def peek(self, now: float) -> Token:
        """The token, always at hand."""
        return self._token
