"""``ClientCredentials``: the OAuth 2.0 client credentials grant (RFC 6749 section 4.4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from authwire._core.flow import Flow
from authwire._core.oauth2.client_auth import AuthMethod, ClientAuth
from authwire._core.oauth2.grants import client_credentials_flow
from authwire._core.oauth2.token_request import TokenEndpoint, normalize_scope
from authwire._core.origin import require_secure
from authwire._core.redact import Secret, reveal
from authwire._core.token import Token
from authwire.caches.base import secret_fingerprint
from authwire.credentials.base import ManagedCredential
from authwire.errors import ConfigurationError

__all__ = ["ClientCredentials"]


class ClientCredentials(ManagedCredential):
    """A machine-to-machine client: tokens for the client itself, no user involved.

    Args:
        token_url: The token endpoint.
        client_id: The client identifier.
        client_secret: The client secret (a ``str`` or ``authwire.Secret``).
        scope: Scopes to request, as a space-separated string or a list.
        audience: The ``audience`` parameter some providers need (Auth0, Okta).
        resource: RFC 8707 resource indicator(s).
        auth_method: ``"client_secret_basic"`` (default), ``"client_secret_post"`` or
            ``"none"``.
        extra_params: More form parameters, sent with every token request.
        allow_insecure: Permit a plain-http token endpoint that is not on loopback.
        **options: ``cache``, ``leeway``, ``mandatory``, ``timeout``, ``retries``,
            ``http_client``, ``on_refresh``, ``clock``: see ``ManagedCredential``.

    Raises:
        ConfigurationError: For a missing ``client_id`` or secret, an unknown
            ``auth_method``, or a malformed URL.
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

    def __init__(
        self,
        token_url: str,
        *,
        client_id: str,
        client_secret: str | Secret[str] | None = None,
        scope: str | Iterable[str] | None = None,
        audience: str | None = None,
        resource: str | Iterable[str] | None = None,
        auth_method: AuthMethod | str = AuthMethod.CLIENT_SECRET_BASIC,
        extra_params: Mapping[str, str] | None = None,
        allow_insecure: bool = False,
        **options: Any,
    ) -> None:
        if not token_url:
            raise ConfigurationError("token_url is required")
        require_secure(token_url, allow_insecure=allow_insecure, what="client credentials")
        secret = reveal(client_secret)
        self._endpoint = TokenEndpoint(
            url=token_url,
            client=ClientAuth(
                client_id=client_id,
                client_secret=Secret(secret) if secret else None,
                method=AuthMethod.parse(auth_method),
            ),
            scope=normalize_scope(scope),
            audience=audience,
            resource=(resource,) if isinstance(resource, str) else tuple(resource or ()),
            extra=tuple((extra_params or {}).items()),
        )
        super().__init__(**options)

    def __repr__(self) -> str:
        endpoint = self._endpoint
        text = (
            f"ClientCredentials(token_url={endpoint.url!r}, client_id={endpoint.client.client_id!r}"
        )
        if endpoint.scope:
            text += f", scope={endpoint.scope!r}"
        return text + ")"

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return self._endpoint.url

    @property
    def client_id(self) -> str:
        """The client identifier."""
        return self._endpoint.client.client_id

    def _identity(self) -> Mapping[str, Any]:
        endpoint = self._endpoint
        secret = endpoint.client.client_secret
        return {
            "grant": "client_credentials",
            "token_url": endpoint.url,
            "client_id": endpoint.client.client_id,
            "secret": secret_fingerprint(secret.reveal() if secret else None),
            "scope": endpoint.scope,
            "audience": endpoint.audience,
            "resource": list(endpoint.resource),
            "extra": sorted(endpoint.extra),
        }

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        return client_credentials_flow(self._endpoint, clock=self._clock, retry=self._retry)
