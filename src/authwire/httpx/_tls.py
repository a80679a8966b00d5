"""httpx transports that present a client certificate. Strictly private module.

The httpx side of ``authwire.tls`` (``ClientCertificate.httpx_transport()``), kept with the
httpx integration so ``authwire.tls`` stays transport-neutral.

``server_hostname`` is carried by httpcore's ``sni_hostname`` request extension, which sets
both the SNI name and the name the server certificate is checked against.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

__all__ = ["async_transport", "sync_transport"]


class _SNITransport(httpx.HTTPTransport):
    def __init__(self, server_hostname: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._server_hostname = server_hostname

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions = {**request.extensions, "sni_hostname": self._server_hostname}
        return super().handle_request(request)


class _AsyncSNITransport(httpx.AsyncHTTPTransport):
    def __init__(self, server_hostname: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._server_hostname = server_hostname

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions = {**request.extensions, "sni_hostname": self._server_hostname}
        return await super().handle_async_request(request)


def sync_transport(
    context: ssl.SSLContext, server_hostname: str | None, **kwargs: Any
) -> httpx.BaseTransport:
    """An ``httpx.HTTPTransport`` on ``context``, naming ``server_hostname`` in TLS."""
    if server_hostname:
        return _SNITransport(server_hostname, verify=context, **kwargs)
    return httpx.HTTPTransport(verify=context, **kwargs)


def async_transport(
    context: ssl.SSLContext, server_hostname: str | None, **kwargs: Any
) -> httpx.AsyncBaseTransport:
    """The ``httpx.AsyncHTTPTransport`` twin of ``sync_transport``."""
    if server_hostname:
        return _AsyncSNITransport(server_hostname, verify=context, **kwargs)
    return httpx.AsyncHTTPTransport(verify=context, **kwargs)
