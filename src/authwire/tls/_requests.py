"""requests adapters that present a client certificate. Strictly private module.

Server verification follows requests' own ``verify=`` (session or per request); the TLS
contexts behind it are ``ClientCertPools``'s (``authwire.requests._tls``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from requests.adapters import HTTPAdapter

from authwire._core.schemes.base import AuthLike, as_scheme
from authwire.errors import ConfigurationError
from authwire.requests import AuthAdapter
from authwire.requests._tls import ClientCertPools
from authwire.tls._certificate import split_client_certificate

if TYPE_CHECKING:
    from authwire.tls._certificate import ClientCertificate

__all__ = ["TLSAdapter", "TLSAuthAdapter", "tls_adapter"]


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
        found, auth = split_client_certificate(as_scheme(auth))
        if found is not None and found is not certificate:
            raise ConfigurationError(
                "auth holds a different ClientCertificate from the one this adapter "
                "presents; a TLS connection presents one"
            )
    if auth is None:
        return TLSAdapter(certificate, server_hostname, **adapter_kwargs)
    return TLSAuthAdapter(auth, certificate, server_hostname, **adapter_kwargs)
