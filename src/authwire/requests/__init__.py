"""authwire for ``requests``: ``Auth`` for any session, ``AuthAdapter`` per origin, ``Session``.

Example:
    >>> import requests, authwire, authwire.requests
    >>> cred = authwire.StaticToken("abc")
    >>> session = requests.Session()
    >>> session.auth = authwire.requests.Auth(cred)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authwire.requests._adapter import AuthAdapter
from authwire.requests._auth import Auth

if TYPE_CHECKING:
    from authwire.requests._session import Session

__all__ = ["Auth", "AuthAdapter", "Session"]


def __getattr__(name: str) -> Any:
    # ``Session`` (TLS, client certificates, retries) is imported on first use, which
    # keeps ``import authwire.requests`` cheap for ``Auth`` users.
    if name == "Session":
        from authwire.requests._session import Session

        globals()["Session"] = Session
        return Session
    raise AttributeError(f"module 'authwire.requests' has no attribute {name!r}")
