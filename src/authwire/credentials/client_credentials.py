"""``ClientCredentials``: the OAuth 2.0 client credentials grant (RFC 6749 section 4.4)."""

from __future__ import annotations

from authwire._core.flow import Flow
from authwire._core.oauth2.grants import client_credentials_flow
from authwire._core.token import Token
from authwire.credentials._oauth2 import OAuth2Credential

__all__ = ["ClientCredentials"]


class ClientCredentials(OAuth2Credential):
    """A machine-to-machine client: tokens for the client itself, no user involved.

    Args:
        token_url: The token endpoint; or give ``issuer=``.
        issuer: The OpenID provider: its discovery document (fetched once, cached 24 h)
            gives the token endpoint.
        client_id: The client identifier.
        client_secret: The client secret (a ``str`` or ``authwire.Secret``).
        private_key: For ``private_key_jwt``: a PEM private key or a private JWK.
        key_id: The ``kid`` of client assertions (default: the JWK's ``kid``).
        signing_alg: ``RS256`` (default for RSA), ``PS256``, ``ES256`` (default for P-256)...
        scope: Scopes to request, as a space-separated string or a list.
        audience: The ``audience`` parameter some providers need (Auth0, Okta).
        resource: RFC 8707 resource indicator(s).
        auth_method: ``"client_secret_basic"`` (default with a secret),
            ``"client_secret_post"``, ``"client_secret_jwt"``, ``"private_key_jwt"``
            (default with a key), ``"tls_client_auth"`` or ``"none"``.
        extra_params: More form parameters, sent with every token request.
        allow_insecure: Permit a plain-http token endpoint that is not on loopback.
        **options: ``cache``, ``leeway``, ``mandatory``, ``timeout``, ``retries``,
            ``http_client``, ``on_refresh``, ``clock``: see ``ManagedCredential``.

    Raises:
        ConfigurationError: For a missing ``client_id`` or secret, an unknown
            ``auth_method``, both or neither of ``token_url`` and ``issuer``, or a bad key.
        InsecureTransportError: For a plain-http token endpoint off loopback.

    Example:
        >>> cred = ClientCredentials(
        ...     token_url="https://login.example.com/oauth2/token",
        ...     client_id="my-service",
        ...     client_secret="s3cr3t",
        ...     scope="api.read",
        ... )
        >>> "s3cr3t" in repr(cred)
        False
    """

    _grant_name = "client_credentials"

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        endpoint = yield from self._endpoint_flow()
        return (yield from client_credentials_flow(endpoint, clock=self._clock, retry=self._retry))
