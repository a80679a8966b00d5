"""API keys in a header, a query parameter or a cookie.

Strictly private; re-exported as ``authwire.ApiKey``.
"""

from __future__ import annotations

from authwire._core.flow import Attempt, SchemeFlow
from authwire._core.redact import Secret, reveal
from authwire._core.schemes.base import AuthScheme, RequestInfo, frozen
from authwire.errors import ConfigurationError

__all__ = ["ApiKey"]


class ApiKey(AuthScheme):
    """A static API key, sent with every request.

    Give exactly one placement; with none, the key goes in ``X-API-Key``.

    Args:
        key: The key (a ``str`` or ``authwire.Secret``).
        header: Send it in this header.
        query: Send it as this query parameter. The key is then also removed from the
            request URLs that httpx, httpcore and urllib3 log (see docs/security.md).
        cookie: Send it as this cookie.
        prefix: With ``header``: text before the key, e.g. ``"Token"`` gives
            ``Authorization: Token <key>``.

    Raises:
        ConfigurationError: For an empty key or more than one placement.

    Example:
        >>> auth = ApiKey("k-123", header="X-API-Key")
        >>> auth
        ApiKey(header='X-API-Key', key='***')
    """

    def __init__(
        self,
        key: str | Secret[str],
        *,
        header: str | None = None,
        query: str | None = None,
        cookie: str | None = None,
        prefix: str | None = None,
    ) -> None:
        placements = [p for p in (header, query, cookie) if p is not None]
        if len(placements) > 1:
            raise ConfigurationError("ApiKey takes one of header=, query= or cookie=")
        if not placements:
            header = "X-API-Key"
        value = reveal(key)
        if not value:
            raise ConfigurationError("ApiKey needs a non-empty key")
        if prefix is not None and header is None:
            raise ConfigurationError("prefix= applies only to header=")
        self._key = Secret(value)
        sent = f"{prefix} {value}" if prefix else value
        if header is not None:
            self.placement = ("header", header)
            attempt = Attempt(headers=frozen({header: sent}))
            self.header_names = frozenset({header.lower()})
        elif query is not None:
            self.placement = ("query", query)
            attempt = Attempt(params=frozen({query: value}))
            self.header_names = frozenset()
            self.param_names = frozenset({query})
            # httpx and urllib3 log request URLs; keep this key out of those lines.
            from authwire._core.url_secrets import register

            register(self, value)
        else:
            assert cookie is not None
            self.placement = ("cookie", cookie)
            attempt = Attempt(cookies=frozen({cookie: value}))
            self.header_names = frozenset({"cookie"})
        self._attempt = attempt

    def __repr__(self) -> str:
        kind, name = self.placement
        return f"ApiKey({kind}={name!r}, key='***')"

    def fast_attempt(self, now: float) -> Attempt:
        """The key, always at hand."""
        return self._attempt

    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """Attach the key; a 401 is not this scheme's to answer."""
        yield first or self._attempt
