"""``RefreshTokenGrant``: tokens from a refresh token you already hold (RFC 6749 section 6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from authwire._core.flow import Flow
from authwire._core.oauth2.grants import refresh_token_flow
from authwire._core.redact import Secret, reveal
from authwire._core.token import Token
from authwire.caches.base import secret_fingerprint
from authwire.credentials._oauth2 import OAuth2Credential
from authwire.errors import ConfigurationError, InteractionRequired, TokenRequestError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from authwire.credentials._oauth2 import OAuth2Options

__all__ = ["RefreshTokenGrant"]


class RefreshTokenGrant(OAuth2Credential):
    """Access tokens from a long-lived refresh token (e.g. from an earlier login).

    A rotated refresh token (a new one in the answer) replaces the old one before the new
    access token is handed out, in memory and in the cache, so a crash between the two
    cannot lose it. When the refresh token has expired (``refresh_expires_in``) or the
    server refuses it (``invalid_grant``), ``InteractionRequired`` is raised at once: a
    person must log in again, and retrying would only loop.

    Args:
        token_url: The token endpoint; or give ``issuer=``.
        refresh_token: The refresh token (``str`` or ``authwire.Secret``); never shown.
        refresh_expires_at: When it expires (epoch seconds), if known.
        **kwargs: ``issuer``, ``client_id``, ``client_secret``, ``auth_method`` and the rest:
            see ``ClientCredentials``. ``scope`` is not sent: a refresh keeps the granted one.

    Raises:
        ConfigurationError: For a missing refresh token, or see ``ClientCredentials``.

    Example:
        >>> cred = RefreshTokenGrant(
        ...     "https://login.example.com/token", client_id="cli", refresh_token="rt-123"
        ... )
        >>> "rt-123" in repr(cred)
        False
    """

    _grant_name = "refresh_token"

    def __init__(
        self,
        token_url: str | None = None,
        *,
        refresh_token: str | Secret[str],
        refresh_expires_at: float | None = None,
        **kwargs: Unpack[OAuth2Options],
    ) -> None:
        value = reveal(refresh_token)
        if not value:
            raise ConfigurationError("RefreshTokenGrant needs a refresh_token")
        self._initial = secret_fingerprint(value)
        self._refresh_token: Secret[str] | None = Secret(value)
        self._refresh_expires_at = refresh_expires_at
        self._refused: set[str] = set()
        super().__init__(token_url, **kwargs)

    def _identity_extra(self) -> Mapping[str, Any]:
        # The first refresh token identifies the session, however often it rotates.
        return {"refresh_token": self._initial}

    def _current(self, replacing: Token | None) -> tuple[Secret[str] | None, float | None]:
        for token in (replacing, self._held_token()):
            if token is not None and token.refresh_token:
                if secret_fingerprint(token.refresh_token) in self._refused:
                    return None, None
                return Secret(token.refresh_token), token.refresh_expires_at
        return self._refresh_token, self._refresh_expires_at

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        refresh_token, expires_at = self._current(replacing)
        if refresh_token is None:
            raise InteractionRequired(f"{self!r}: the refresh token was refused; log in again")
        if expires_at is not None and self._clock() >= expires_at:
            raise InteractionRequired(f"{self!r}: the refresh token has expired; log in again")
        endpoint = yield from self._endpoint_flow()
        try:
            token = yield from refresh_token_flow(
                endpoint, refresh_token, clock=self._clock, retry=self._retry
            )
        except TokenRequestError as exc:
            if exc.error == "invalid_grant":
                self._refresh_token = None
                self._refused.add(secret_fingerprint(refresh_token.reveal()) or "")
                raise InteractionRequired(
                    f"{self!r}: the refresh token was refused (invalid_grant); log in again"
                ) from exc
            raise
        # Keep the rotated refresh token before anyone uses the new access token.
        assert token.refresh_token is not None
        self._refresh_token = Secret(token.refresh_token)
        self._refresh_expires_at = token.refresh_expires_at
        return token
