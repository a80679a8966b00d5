"""authwire for ``requests``: ``Auth`` for any session, ``AuthAdapter`` per origin, ``Session``.

Example:
    >>> import requests, authwire, authwire.requests
    >>> cred = authwire.StaticToken("abc")
    >>> session = requests.Session()
    >>> session.auth = authwire.requests.Auth(cred)
"""

from authwire.requests._adapter import AuthAdapter
from authwire.requests._auth import Auth
from authwire.requests._session import Session

__all__ = ["Auth", "AuthAdapter", "Session"]
