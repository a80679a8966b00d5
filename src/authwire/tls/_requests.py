"""requests adapters that present a client certificate. Strictly private module."""

from __future__ import annotations

import ssl
from typing import Any

from requests.adapters import HTTPAdapter

from authwire._core.schemes.base import AuthLike
from authwire.requests import AuthAdapter

__all__ = ["TLSAdapter", "TLSAuthAdapter", "tls_adapter"]


class _TLSPools:
    """Gives every pool (direct or through a proxy) the adapter's ``SSLContext``."""

    _authwire_ssl_context: ssl.SSLContext
    _authwire_server_hostname: str | None

    def _tls_kwargs(self, pool_kwargs: dict[str, Any]) -> dict[str, Any]:
        pool_kwargs["ssl_context"] = self._authwire_ssl_context
        if self._authwire_server_hostname:
            pool_kwargs["server_hostname"] = self._authwire_server_hostname
            pool_kwargs["assert_hostname"] = self._authwire_server_hostname
        return pool_kwargs

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        """Create the pool manager with the TLS settings added."""
        super().init_poolmanager(  # type: ignore[misc]
            connections, maxsize, block, **self._tls_kwargs(pool_kwargs)
        )

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """Pools behind a proxy present the certificate too."""
        return super().proxy_manager_for(proxy, **self._tls_kwargs(proxy_kwargs))  # type: ignore[misc]


class TLSAdapter(_TLSPools, HTTPAdapter):
    """An ``HTTPAdapter`` whose HTTPS connections use ``ssl_context``.

    Args:
        ssl_context: The context (e.g. ``ClientCertificate.ssl_context()``).
        server_hostname: TLS name (SNI and certificate check) when the URL holds an IP.
        **adapter_kwargs: Passed to ``HTTPAdapter``.
    """

    def __init__(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, **adapter_kwargs: Any
    ) -> None:
        self._authwire_ssl_context = ssl_context
        self._authwire_server_hostname = server_hostname
        super().__init__(**adapter_kwargs)


class TLSAuthAdapter(_TLSPools, AuthAdapter):
    """An ``authwire.requests.AuthAdapter`` whose HTTPS connections use ``ssl_context``.

    Args:
        auth: The credentials to apply as well.
        ssl_context: The context (e.g. ``ClientCertificate.ssl_context()``).
        server_hostname: TLS name (SNI and certificate check) when the URL holds an IP.
        **adapter_kwargs: Passed to ``AuthAdapter``.
    """

    def __init__(
        self,
        auth: AuthLike,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        **adapter_kwargs: Any,
    ) -> None:
        self._authwire_ssl_context = ssl_context
        self._authwire_server_hostname = server_hostname
        super().__init__(auth, **adapter_kwargs)


def tls_adapter(
    ssl_context: ssl.SSLContext,
    *,
    auth: AuthLike | None,
    server_hostname: str | None,
    **adapter_kwargs: Any,
) -> HTTPAdapter:
    """A ``TLSAdapter``, or a ``TLSAuthAdapter`` when there are credentials to apply."""
    if auth is None:
        return TLSAdapter(ssl_context, server_hostname, **adapter_kwargs)
    return TLSAuthAdapter(auth, ssl_context, server_hostname, **adapter_kwargs)
