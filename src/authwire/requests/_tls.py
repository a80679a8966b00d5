"""Client certificates and TLS names for requests' HTTPS pools. Strictly private module.

The requests side of ``authwire.tls``: ``ClientCertificate.requests_adapter()`` builds its
adapters here, so ``authwire.tls`` stays transport-neutral (it imports neither requests nor
``authwire.requests``; this module imports ``authwire.tls``, never the other way round).
One mixin serves ``authwire.requests.Session``'s own adapter and those adapters. Server
verification follows requests' own ``verify=`` (session
or per request). urllib3 adapts a given ``SSLContext`` to each request's ``verify``, and a
context that checks host names cannot be switched to verify nothing, so the adapter keeps
one context per kind of verification (none, the system CAs, a CA bundle of one's own) and
puts the right one in the pool key; urllib3 loads a CA bundle passed by requests into the
"own" context.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from requests.adapters import HTTPAdapter

from authwire._core.schemes.base import AuthLike, as_scheme
from authwire.errors import ConfigurationError
from authwire.requests._adapter import AuthAdapter

if TYPE_CHECKING:
    import requests

    from authwire.tls._certificate import ClientCertificate

__all__ = ["ClientCertPools", "TLSAdapter", "TLSAuthAdapter", "tls_adapter"]


class ClientCertPools:
    """Mix into an ``HTTPAdapter``: HTTPS pools get the certificate's context and TLS name.

    Call ``_authwire_setup`` in ``__init__`` before the adapter's own ``__init__``.
    """

    _authwire_certificate: ClientCertificate | None
    _authwire_server_hostname: str | None
    _authwire_contexts: dict[str, ssl.SSLContext]

    def _authwire_setup(
        self, certificate: ClientCertificate | None, server_hostname: str | None
    ) -> None:
        self._authwire_certificate = certificate
        self._authwire_server_hostname = server_hostname
        self._authwire_contexts = {}

    def _authwire_context(self, certificate: ClientCertificate, verify: Any) -> ssl.SSLContext:
        kind = "none" if verify is False else "default" if verify in (True, None) else "own"
        context = self._authwire_contexts.get(kind)
        if context is None:
            if kind == "own":
                # No CAs of its own: urllib3 loads the bundle requests passes as ca_certs.
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                certificate.load_into(context)
            else:
                context = certificate.ssl_context(kind == "default")
            context = self._authwire_contexts.setdefault(kind, context)
        return context

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:
        """Add the client-certificate context and the TLS name to the pool key."""
        host_params: dict[str, Any]
        pool_kwargs: dict[str, Any]
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(  # type: ignore[misc]
            request, verify, cert
        )
        if host_params.get("scheme") == "https":
            if self._authwire_certificate is not None:
                pool_kwargs["ssl_context"] = self._authwire_context(
                    self._authwire_certificate, verify
                )
            if self._authwire_server_hostname:
                pool_kwargs["server_hostname"] = self._authwire_server_hostname
                pool_kwargs["assert_hostname"] = self._authwire_server_hostname
        return host_params, pool_kwargs


class TLSAdapter(ClientCertPools, HTTPAdapter):
    """An ``HTTPAdapter`` whose HTTPS connections present a client certificate.

    Args:
        certificate: The ``ClientCertificate``.
        server_hostname: TLS name (SNI and certificate check) when the URL holds an IP.
        **adapter_kwargs: Passed to ``HTTPAdapter``.
    """

    def __init__(
        self,
        certificate: ClientCertificate,
        server_hostname: str | None = None,
        **adapter_kwargs: Any,
    ) -> None:
        self._authwire_setup(certificate, server_hostname)
        super().__init__(**adapter_kwargs)


class TLSAuthAdapter(ClientCertPools, AuthAdapter):
    """An ``authwire.requests.AuthAdapter`` whose HTTPS connections present a certificate.

    Args:
        auth: The credentials to apply as well.
        certificate: The ``ClientCertificate``.
        server_hostname: TLS name (SNI and certificate check) when the URL holds an IP.
        **adapter_kwargs: Passed to ``AuthAdapter``.
    """

    def __init__(
        self,
        auth: AuthLike,
        certificate: ClientCertificate,
        server_hostname: str | None = None,
        **adapter_kwargs: Any,
    ) -> None:
        self._authwire_setup(certificate, server_hostname)
        super().__init__(auth, **adapter_kwargs)


def tls_adapter(
    certificate: ClientCertificate,
    *,
    auth: AuthLike | None,
    server_hostname: str | None,
    **adapter_kwargs: Any,
) -> HTTPAdapter:
    """A ``TLSAdapter``, or a ``TLSAuthAdapter`` when there are credentials to apply.

    The adapter presents ``certificate`` itself, so a certificate inside ``auth``
    (``cert.requests_adapter(auth=cert + key)``) is taken out of the auth object, which
    could not present it and refuses one.

    Raises:
        ConfigurationError: If ``auth`` holds a different certificate.
    """
    if auth is not None:
        # Imported here: ``authwire.requests.Session`` loads this module without needing
        # the certificate code, and a caller of this function has loaded it already.
        from authwire.tls._certificate import split_client_certificate

        found, auth = split_client_certificate(as_scheme(auth))
        if found is not None and found is not certificate:
            raise ConfigurationError(
                "auth holds a different ClientCertificate from the one this adapter "
                "presents; a TLS connection presents one"
            )
    if auth is None:
        return TLSAdapter(certificate, server_hostname, **adapter_kwargs)
    return TLSAuthAdapter(auth, certificate, server_hostname, **adapter_kwargs)
