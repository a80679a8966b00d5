"""``GIS(url, username, password)``: the entry point most users start from."""

from __future__ import annotations

from typing import Any

from gissdk._handlers import EsriBuiltInAuth
from gissdk._session import EsriSession

__all__ = ["GIS"]


class GIS:
    """A connection to a portal: a built-in login on an ``EsriSession``.

    Args:
        url: The portal URL (``https://www.arcgis.com``, ``https://gis.example.com/portal``).
        username: The ArcGIS user name; with ``password``, a built-in login.
        password: The password.
        referer: The referer the token is bound to (sent with every request). Default
            ``"http"``, as ``EsriSession``'s.
        **kwargs: Anything ``EsriSession`` takes (``verify_cert``, ``retries``...).

    Example:
        >>> gis = GIS("https://gis.example.com/portal", "me", "secret")  # doctest: +SKIP
        >>> gis.session.auth.token  # doctest: +SKIP
        '6ABHt6i4urlQtqPu...'
    """

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        *,
        referer: str = "http",
        **kwargs: Any,
    ) -> None:
        self.url = url.rstrip("/")
        auth = None
        if username is not None and password is not None:
            auth = EsriBuiltInAuth(self.url, username, password, referer=referer)
        self.session = EsriSession(auth=auth, referer=referer, **kwargs)

    def __repr__(self) -> str:
        return f"GIS(url={self.url!r})"
