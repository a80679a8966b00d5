"""``PasswordGrant``: the resource owner password credentials grant (RFC 6749 section 4.3).

Deprecated by OAuth 2.1 and RFC 9700 for new systems, but still what many enterprise and
vendor APIs offer; authwire supports it so those users stop hand-rolling it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from authwire._core.flow import Flow
from authwire._core.oauth2.grants import token_flow
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire._core.redact import Secret, reveal
from authwire._core.token import Token
from authwire.caches.base import secret_fingerprint
from authwire.credentials._oauth2 import UserGrant
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from authwire.credentials._oauth2 import UserGrantOptions

__all__ = ["PasswordGrant"]


class PasswordGrant(UserGrant):
    """Tokens for a user from their username and password.

    Refreshes with the refresh token when the server gives one; otherwise, and when the
    refresh token is refused, it logs in with the password again.

    Args:
        token_url: The token endpoint; or give ``issuer=``.
        username: The user's name.
        password: The user's password (``str`` or ``authwire.Secret``); never shown.
        **kwargs: ``issuer``, ``client_id``, ``client_secret``, ``scope``, ``auth_method``
            and the rest: see ``ClientCredentials``.

    Raises:
        ConfigurationError: For a missing username or password, or see ``ClientCredentials``.

    Example:
        >>> cred = PasswordGrant(
        ...     "https://login.example.com/token",
        ...     client_id="cli", username="alice", password="wonderland",
        ... )
        >>> "wonderland" in repr(cred)
        False
    """

    _grant_name = "password"

    def __init__(
        self,
        token_url: str | None = None,
        *,
        username: str,
        password: str | Secret[str],
        **kwargs: Unpack[UserGrantOptions],
    ) -> None:
        secret = reveal(password)
        if not username or not secret:
            raise ConfigurationError("PasswordGrant needs a username and a password")
        self._username = username
        self._password = Secret(secret)
        super().__init__(token_url, **kwargs)

    def _repr_extra(self) -> str:
        return f", username={self._username!r}"

    def _identity_extra(self) -> Mapping[str, Any]:
        return {
            "username": self._username,
            "password": secret_fingerprint(self._password.reveal()),
        }

    def _login_flow(self, endpoint: TokenEndpoint) -> Flow[Token]:
        # The password stays a Secret until the request body is encoded.
        return (
            yield from token_flow(
                endpoint,
                "password",
                {"username": self._username, "password": self._password},
                clock=self._clock,
                retry=self._retry,
            )
        )
