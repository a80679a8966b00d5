"""authwire for ``httpx``: one ``Auth`` for ``httpx.Client`` and ``httpx.AsyncClient``.

Example:
    >>> import httpx, authwire, authwire.httpx
    >>> client = httpx.Client(auth=authwire.httpx.Auth(authwire.StaticToken("abc")))
"""

from authwire.httpx._auth import Auth

__all__ = ["Auth"]
