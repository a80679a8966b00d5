"""HTTP Basic authentication (RFC 7617), UTF-8 encoded.

Strictly private; re-exported as ``authwire.BasicAuth``.
"""

from __future__ import annotations

import base64

from authwire._core.flow import Attempt, SchemeFlow
from authwire._core.redact import Secret, reveal
from authwire._core.schemes.base import AuthScheme, RequestInfo, frozen
from authwire.errors import ConfigurationError

__all__ = ["BasicAuth"]


class BasicAuth(AuthScheme):
    """A user name and password, sent preemptively in ``Authorization: Basic``.

    Args:
        username: The user name; it may not contain a colon (RFC 7617 section 2).
        password: The password (a ``str`` or ``authwire.Secret``).

    Raises:
        ConfigurationError: If the user name contains ``:``.
    """

    def __init__(self, username: str, password: str | Secret[str]) -> None:
        if ":" in username:
            raise ConfigurationError("a Basic user name may not contain ':' (RFC 7617)")
        self.username = username
        self._password = Secret(reveal(password) or "")
        pair = f"{username}:{self._password.reveal()}".encode()
        value = "Basic " + base64.b64encode(pair).decode("ascii")
        self._attempt = Attempt(headers=frozen({"Authorization": value}))

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password='***')"

    def fast_attempt(self, now: float) -> Attempt:
        """The credentials, always at hand."""
        return self._attempt

    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """Attach the credentials; a 401 means they are wrong, and stands."""
        yield first or self._attempt
