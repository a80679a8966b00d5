"""``AuthRefresher``: a header-update function for an HTTP client, on an authwire login."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, ClassVar

from benchsdk.auth.helpers import login_credential

__all__ = ["AuthRefresher"]


class AuthRefresher:
    """Keeps a session token fresh for an HTTP client that calls ``refresh()`` on a timer.

    Args:
        url: The API's base URL, with protocol.
        login: The user name.
        password: The password (never shown in a repr, log or error).
        verify_ssl: Whether to verify the server's certificate.
        **options: Passed to the authwire login (``cache=``, ``http_client=``, ``clock=``).

    Attributes:
        ALGORITHMS: Accepted for compatibility: the token's expiry is read from the login
            answer (``expires_in``), or from its JWT ``exp`` claim, never verified.
        AUTH_KEY: The header ``refresh()`` returns.
        MINS_BEFORE_EXPIRY_TO_REFRESH: How long before expiry a new token is fetched.
    """

    ALGORITHMS: ClassVar[list[str]] = ["HS256"]
    AUTH_KEY: ClassVar[str] = "Authorization"
    MINS_BEFORE_EXPIRY_TO_REFRESH: ClassVar[int] = 5

    def __init__(
        self, url: str, login: str, password: str, verify_ssl: bool, **options: Any
    ) -> None:
        self.url = url
        self.verify_ssl = verify_ssl
        self._clock = options.get("clock", time.time)
        options.setdefault("leeway", self.MINS_BEFORE_EXPIRY_TO_REFRESH * 60)
        self._credential = login_credential(url, login, password, verify_ssl, **options)

    def __repr__(self) -> str:
        return f"AuthRefresher(url={self.url!r})"

    def refresh(self) -> tuple[dict[str, str], timedelta]:
        """The headers to update (``Authorization``) and how long to wait before calling again.

        A token within ``MINS_BEFORE_EXPIRY_TO_REFRESH`` minutes of expiry (or past it)
        is replaced by a new login; the wait ends that many minutes before the new
        token's expiry (zero if it is shorter-lived than that).
        """
        token = self._credential.get_token()
        wait = 0.0
        if token.expires_at is not None:
            wait = token.expires_at - self.MINS_BEFORE_EXPIRY_TO_REFRESH * 60 - self._clock()
        return {self.AUTH_KEY: token.access_token}, timedelta(seconds=max(0.0, wait))
