"""What every OAuth 2.0 grant credential shares. Strictly private.

``OAuth2Credential`` turns the common arguments (``token_url=`` or ``issuer=``, the client's
identity and authentication method, scope, audience, resource) into a ``TokenEndpoint``,
resolves discovery lazily inside the grant flow (so it runs on whichever driver, sync or
async, fetches the token), and offers ``revoke()`` (RFC 7009). ``UserGrant`` adds what the
grants that act for a user share: refresh with the stored refresh token, falling back to
the grant itself, and ID token validation.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from authwire._core.deadline import Deadline, within
from authwire._core.flow import Flow, drive_sync
from authwire._core.oauth2.assertion import load_signing_key
from authwire._core.oauth2.client_auth import AuthMethod, ClientAuth
from authwire._core.oauth2.discovery import ProviderMetadata, discover_flow
from authwire._core.oauth2.dpop import DPoPAuth, DPoPKey
from authwire._core.oauth2.grants import refresh_token_flow
from authwire._core.oauth2.id_token import verify_id_token_flow
from authwire._core.oauth2.revocation import revoke_flow
from authwire._core.oauth2.token_request import TokenEndpoint, normalize_scope
from authwire._core.origin import require_secure
from authwire._core.redact import Secret, redact_url, reveal
from authwire._core.schemes.base import AuthScheme
from authwire._core.token import Token
from authwire.caches.base import identity_fingerprint, secret_fingerprint
from authwire.credentials.base import ManagedCredential
from authwire.errors import ConfigurationError, TokenRequestError

__all__ = ["OAuth2Credential", "UserGrant"]

#: What ``require_secure`` names when it refuses a ``jwks_uri``.
_JWKS_REQUEST = "a request for the provider's signing keys (jwks_uri)"

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import TypedDict, Unpack

    from authwire._core.clock import Clock
    from authwire._core.retry import RetryPolicy
    from authwire._event import RefreshEvent
    from authwire.caches.base import TokenCache

    class OAuth2Options(TypedDict, total=False):
        """The keyword arguments every grant forwards to ``OAuth2Credential`` (typing only)."""

        issuer: str | None
        client_id: str
        client_secret: str | Secret[str] | None
        private_key: str | bytes | Mapping[str, Any] | Secret[str] | None
        key_id: str | None
        signing_alg: str | None
        cert: Any
        scope: str | Iterable[str] | None
        audience: str | None
        resource: str | Iterable[str] | None
        auth_method: AuthMethod | str | None
        extra_params: Mapping[str, str] | None
        allow_insecure: bool
        dpop: bool | DPoPKey
        verify: bool | str
        cache: TokenCache | None
        leeway: float | None
        mandatory: float | None
        timeout: float
        retries: int | RetryPolicy | None
        deadline: float | Literal["auto"] | None
        max_body: int
        min_lifetime: float
        http_client: Any
        on_refresh: Callable[[RefreshEvent], None] | None
        clock: Clock

    class UserGrantOptions(OAuth2Options, total=False):
        """``OAuth2Options`` plus the ID token options of user grants (typing only)."""

        verify_id_token: bool
        jwks_uri: str | None


def _certificate(cert: Any) -> Any:
    """A ``ClientCertificate`` from what ``cert=`` was given (``None`` stays ``None``)."""
    if cert is None:
        return None
    from authwire.tls import ClientCertificate

    if isinstance(cert, ClientCertificate):
        return cert
    if isinstance(cert, (tuple, list)) and len(cert) == 2:
        return ClientCertificate(cert[0], cert[1])
    if isinstance(cert, (str, os.PathLike)):
        return ClientCertificate(cert)
    raise ConfigurationError(
        "cert= takes a (cert_file, key_file) pair, a PEM file or a ClientCertificate"
    )


def _key_fingerprint(signing_key: Any) -> str | None:
    """A stable fingerprint of a signing key (its public half), for cache identities."""
    if signing_key is None:
        return None
    from cryptography.hazmat.primitives import serialization

    public = signing_key.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return secret_fingerprint(public.hex())


def _cert_fingerprint(certificate: Any) -> str | None:
    """A one-way fingerprint of a client certificate's file, for cache identities.

    Tokens bound to a certificate (RFC 8705) only work with it, so two clients that differ
    only by their certificate must not share tokens.
    """
    if certificate is None:
        return None
    try:
        with open(certificate.cert, "rb") as fh:
            data = fh.read()
    except OSError:  # read once already by ClientCertificate: fall back to its path
        data = os.fsencode(certificate.cert)
    return identity_fingerprint(data, purpose="client_certificate")


def _default_method(secret: str | None, private_key: Any, cert: Any) -> AuthMethod:
    if private_key is not None:
        return AuthMethod.PRIVATE_KEY_JWT
    if secret:
        return AuthMethod.CLIENT_SECRET_BASIC
    if cert is not None:
        return AuthMethod.TLS_CLIENT_AUTH
    return AuthMethod.NONE


class OAuth2Credential(ManagedCredential):
    """Base of the OAuth 2.0 grants. Strictly private; see each grant for the arguments.

    Args:
        token_url: The token endpoint; or give ``issuer``.
        issuer: The OpenID provider; its discovery document gives the endpoints.
        client_id: The client identifier.
        client_secret: The client secret.
        private_key: For ``private_key_jwt``: a PEM private key or a private JWK.
        key_id: The ``kid`` put in client assertions (default: the JWK's ``kid``).
        signing_alg: ``RS256`` (RSA default), ``PS256``, ``ES256`` (P-256 default)...
        cert: For ``tls_client_auth`` (RFC 8705): a ``(cert_file, key_file)`` pair, a PEM
            file holding both, or an ``authwire.ClientCertificate``. authwire's own
            token-endpoint client presents it.
        verify: How authwire's own token-endpoint client checks the server: ``True``
            (default, the system CAs), a CA bundle path, or ``False`` (tests only).
            Ignored with ``http_client=`` (configure your client instead).
        scope: Scopes to request, as a space-separated string or a list.
        audience: The ``audience`` parameter some providers need (Auth0, Okta).
        resource: RFC 8707 resource indicator(s).
        auth_method: How the client authenticates; default ``client_secret_basic`` with a
            secret, ``private_key_jwt`` with a key, ``none`` without either.
        extra_params: More form parameters, sent with every token request.
        allow_insecure: Permit plain-http endpoints that are not on loopback: the token
            endpoint and every other one given or discovered (device authorization,
            authorization, revocation, ``jwks_uri``). Default ``False``: such an endpoint
            raises ``InsecureTransportError`` before any request.
        dpop: Bind tokens to a key with DPoP (RFC 9449): ``True`` for a fresh ES256 key,
            or a ``DPoPKey``. Default ``False``.
        **options: See ``ManagedCredential``.
    """

    #: The grant's name in reprs and cache identities.
    _grant_name: str = "oauth2"
    #: The last token with a refresh token (user grants): an access token rejected by an
    #: API (and invalidated) leaves its refresh token usable.
    _last_refreshable: Token | None = None

    def __init__(
        self,
        token_url: str | None = None,
        *,
        issuer: str | None = None,
        client_id: str,
        client_secret: str | Secret[str] | None = None,
        private_key: str | bytes | Mapping[str, Any] | Secret[str] | None = None,
        key_id: str | None = None,
        signing_alg: str | None = None,
        cert: Any = None,
        scope: str | Iterable[str] | None = None,
        audience: str | None = None,
        resource: str | Iterable[str] | None = None,
        auth_method: AuthMethod | str | None = None,
        extra_params: Mapping[str, str] | None = None,
        allow_insecure: bool = False,
        dpop: bool | DPoPKey = False,
        verify: bool | str = True,
        **options: Any,
    ) -> None:
        if bool(token_url) == bool(issuer):
            raise ConfigurationError("give exactly one of token_url= and issuer=")
        where = token_url or issuer
        assert where is not None
        require_secure(where, allow_insecure=allow_insecure, what=self._grant_name)
        self._allow_insecure = allow_insecure
        self._dpop: DPoPKey | None = (
            dpop if isinstance(dpop, DPoPKey) else DPoPKey() if dpop else None
        )
        self._issuer = issuer.rstrip("/") if issuer else None
        secret = reveal(client_secret)
        key = private_key.reveal() if isinstance(private_key, Secret) else private_key
        method = (
            AuthMethod.parse(auth_method)
            if auth_method is not None
            else _default_method(secret, key, cert)
        )
        certificate = _certificate(cert)
        signing_key = None
        if method is AuthMethod.PRIVATE_KEY_JWT:
            if key is None:
                raise ConfigurationError("auth_method='private_key_jwt' needs a private_key")
            signing_key = load_signing_key(key, algorithm=signing_alg, kid=key_id)
        self._key_fingerprint = _key_fingerprint(signing_key)
        self._cert_fingerprint = _cert_fingerprint(certificate)
        self._endpoint = TokenEndpoint(
            url=token_url or where,
            client=ClientAuth(
                client_id=client_id,
                client_secret=Secret(secret) if secret else None,
                method=method,
                signing_key=signing_key,
                cert=certificate,
            ),
            scope=normalize_scope(scope),
            audience=audience,
            resource=(resource,) if isinstance(resource, str) else tuple(resource or ()),
            extra=tuple((extra_params or {}).items()),
            dpop=self._dpop,
        )
        super().__init__(**options)
        if options.get("http_client") is None and (certificate is not None or verify is not True):
            self._use_tls(certificate, verify)

    def _use_tls(self, certificate: Any, verify: bool | str) -> None:
        """Make authwire's own token-endpoint clients present ``certificate`` / use ``verify``."""
        import ssl

        try:  # only whether httpx is installed: the senders import it
            import httpx  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "cert= and verify= need httpx: pip install 'authwire[httpx]'"
            ) from None
        from authwire.credentials._sender import HttpxSender, async_sender

        if certificate is not None:
            context = certificate.ssl_context(verify)
        elif verify is False:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context(cafile=str(verify))
        timeout, cap = self._timeout, self._max_body
        self._manager.use_senders(
            lambda: HttpxSender(None, timeout, verify=context, max_body=cap),
            lambda: async_sender(None, timeout, verify=context, max_body=cap),
        )

    # -- description -------------------------------------------------------------------

    def __repr__(self) -> str:
        # A URL may carry a password (https://user:pass@host) or a secret query value.
        where = (
            f"issuer={redact_url(self._issuer)!r}"
            if self._issuer
            else f"token_url={redact_url(self._endpoint.url)!r}"
        )
        text = f"{type(self).__name__}({where}, client_id={self._endpoint.client.client_id!r}"
        if self._endpoint.scope:
            text += f", scope={self._endpoint.scope!r}"
        return text + self._repr_extra() + ")"

    def _repr_extra(self) -> str:
        return ""

    def as_scheme(self) -> AuthScheme:
        """How the token is sent: with a DPoP proof when ``dpop=`` is on, else as bearer."""
        if self._dpop is not None:
            return DPoPAuth(self, self._dpop, self._clock)
        return super().as_scheme()

    @property
    def dpop_key(self) -> DPoPKey | None:
        """The key tokens are bound to, with ``dpop=``."""
        return self._dpop

    @property
    def token_url(self) -> str | None:
        """The token endpoint given, or ``None`` when it comes from discovery."""
        return None if self._issuer else self._endpoint.url

    @property
    def issuer(self) -> str | None:
        """The OpenID provider, if given."""
        return self._issuer

    @property
    def client_id(self) -> str:
        """The client identifier."""
        return self._endpoint.client.client_id

    def _identity(self) -> Mapping[str, Any]:
        endpoint = self._endpoint
        secret = endpoint.client.client_secret
        return {
            "grant": self._grant_name,
            "issuer": self._issuer,
            "token_url": None if self._issuer else endpoint.url,
            "client_id": endpoint.client.client_id,
            "auth_method": endpoint.client.method.value,
            "secret": secret_fingerprint(secret.reveal() if secret else None),
            "key": self._key_fingerprint,
            "cert": self._cert_fingerprint,
            "scope": endpoint.scope,
            "audience": endpoint.audience,
            "resource": list(endpoint.resource),
            "extra": sorted(endpoint.extra),
            "dpop": self._dpop.thumbprint if self._dpop else None,
            **self._identity_extra(),
        }

    def _identity_extra(self) -> Mapping[str, Any]:
        return {}

    # -- endpoints ---------------------------------------------------------------------

    def _metadata_flow(self) -> Flow[ProviderMetadata | None]:
        if self._issuer is None:
            return None
        return (yield from discover_flow(self._issuer, clock=self._clock))

    def _endpoint_flow(self) -> Flow[TokenEndpoint]:
        """The token endpoint, with its URL from discovery when ``issuer=`` was given."""
        metadata = yield from self._metadata_flow()
        if metadata is None:
            return self._endpoint
        url = metadata.token_endpoint
        require_secure(url, allow_insecure=self._allow_insecure, what=self._grant_name)
        return replace(self._endpoint, url=url)

    def _url_flow(self, name: str, explicit: str | None) -> Flow[str]:
        """An endpoint given explicitly, else from discovery; ``name`` is its metadata name.

        Either way it must be https or loopback http (unless ``allow_insecure``): the
        device and revocation endpoints receive the client's credentials.
        """
        if explicit:
            require_secure(explicit, allow_insecure=self._allow_insecure, what=self._grant_name)
            return explicit
        metadata = yield from self._metadata_flow()
        if metadata is None:
            raise ConfigurationError(
                f"{type(self).__name__} needs issuer= (discovery) or the {name} URL"
            )
        url = metadata.endpoint(name)
        require_secure(url, allow_insecure=self._allow_insecure, what=self._grant_name)
        return url

    # -- revocation (RFC 7009) ---------------------------------------------------------

    def _held_token(self) -> Token | None:
        """The newest token known (in memory, else cached); no I/O inside a refresh."""
        token: Token | None = self._manager.stored()
        return token

    def _check_revocation_url(self, revocation_url: str | None) -> None:
        """Refuse a plain-http ``revocation_url`` before any token is forgotten.

        A refused URL leaves the tokens in place, to be revoked again with a good one.
        """
        if revocation_url:
            require_secure(
                revocation_url, allow_insecure=self._allow_insecure, what=self._grant_name
            )

    def _revoke_flow(self, revocation_url: str | None, token: Token | None) -> Flow[bool]:
        """Revoke ``token`` (already forgotten here and in the cache)."""
        if token is None:
            return False
        url = yield from self._url_flow("revocation_endpoint", revocation_url)
        endpoint = yield from self._endpoint_flow()
        revoked = False
        # The refresh token first: revoking it usually revokes its access tokens too, and
        # it is the one that would keep the session alive.
        if token.refresh_token:
            revoked |= yield from revoke_flow(
                url, endpoint, Secret(token.refresh_token), "refresh_token", now=self._clock()
            )
        revoked |= yield from revoke_flow(
            url, endpoint, Secret(token.access_token), "access_token", now=self._clock()
        )
        return revoked

    def revoke(self, *, revocation_url: str | None = None) -> bool:
        """Log out: revoke the held refresh and access tokens, and forget them.

        Args:
            revocation_url: The revocation endpoint; default from discovery (``issuer=``).

        Returns:
            True if the server revoked at least one token. A JWT access token many servers
            cannot revoke (``unsupported_token_type``) does not count, and is not an error.

        Raises:
            TokenRequestError: The server refused the revocation (e.g. ``invalid_client``).
            ConfigurationError: No revocation endpoint is known.
            InsecureTransportError: The revocation endpoint (given or discovered) is plain
                http to a host that is not loopback, without ``allow_insecure=True``.
        """
        self._check_revocation_url(revocation_url)
        token = self._held_token() or self._last_refreshable
        self._last_refreshable = None
        self.clear()
        with within(self._revoke_deadline()), self._manager.open_sender() as sender:
            return drive_sync(self._revoke_flow(revocation_url, token), sender.send)

    async def arevoke(self, *, revocation_url: str | None = None) -> bool:
        """``revoke`` for asyncio and trio."""
        from authwire._aio import RUNTIME
        from authwire._core.flow import drive_async

        self._check_revocation_url(revocation_url)
        manager = self._manager
        token = await manager.astored() or self._last_refreshable
        self._last_refreshable = None
        await manager.aclear()  # the cache is written in a worker thread, not on the loop
        with within(self._revoke_deadline()):
            async with manager.open_async_sender() as sender:
                return await drive_async(
                    self._revoke_flow(revocation_url, token), sender.send, RUNTIME
                )

    def _revoke_deadline(self) -> Deadline | None:
        """A logout gets the same deadline as a token."""
        return None if self._deadline is None else Deadline(self._deadline)


class UserGrant(OAuth2Credential):
    """A grant that acts for a user: refreshes with the refresh token when it has one.

    Subclasses implement ``_login_flow`` (the grant itself). Strictly private.

    Args:
        verify_id_token: Validate ID tokens with the provider's JWKS (needs ``issuer=``
            or ``jwks_uri=``). Default: whenever an ID token arrives and keys are known.
        jwks_uri: The provider's key set, when not using discovery.
        **kwargs: See ``OAuth2Credential``.
    """

    def __init__(
        self,
        token_url: str | None = None,
        *,
        verify_id_token: bool = True,
        jwks_uri: str | None = None,
        **kwargs: Unpack[OAuth2Options],
    ) -> None:
        self._verify_id = verify_id_token
        self._jwks_uri = jwks_uri
        self._id_claims: dict[str, Any] | None = None
        self._nonce: str | None = None
        super().__init__(token_url, **kwargs)
        if jwks_uri:
            require_secure(jwks_uri, allow_insecure=self._allow_insecure, what=_JWKS_REQUEST)

    @property
    def id_token_claims(self) -> Mapping[str, Any] | None:
        """The verified claims of the last ID token received, or ``None``.

        Verified means signature (provider JWKS), ``iss``, ``aud``, ``exp`` and ``nonce``.
        """
        return self._id_claims

    @abc.abstractmethod
    def _login_flow(self, endpoint: TokenEndpoint) -> Flow[Token]:
        """The grant itself, for when there is no usable refresh token."""

    def _refresh_source(self, replacing: Token | None) -> Token | None:
        """The newest token that carries a refresh token, if any."""
        if replacing is not None and replacing.refresh_token:
            return replacing
        held = self._held_token()
        if held is not None and held.refresh_token:
            return held
        return self._last_refreshable

    def _refresh_flow(self, endpoint: TokenEndpoint, source: Token) -> Flow[Token | None]:
        """A refreshed token, or ``None`` if the refresh token is expired or refused."""
        assert source.refresh_token is not None
        if source.refresh_expires_at is not None and self._clock() >= source.refresh_expires_at:
            self._last_refreshable = None
            return None
        try:
            return (
                yield from refresh_token_flow(
                    endpoint, Secret(source.refresh_token), clock=self._clock, retry=self._retry
                )
            )
        except TokenRequestError as exc:
            if exc.error == "invalid_grant":
                self._last_refreshable = None
                return None
            raise

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        endpoint = yield from self._endpoint_flow()
        source = self._refresh_source(replacing)
        token = None
        nonce: str | None = None
        if source is not None:
            token = yield from self._refresh_flow(endpoint, source)
        if token is None:
            self._nonce = None
            token = yield from self._login_flow(endpoint)
            nonce = self._nonce
        if token.id_token and self._verify_id:
            yield from self._check_id_token(token.id_token, nonce)
        self._last_refreshable = token if token.refresh_token else None
        return token

    def _check_id_token(self, id_token: str, nonce: str | None) -> Flow[None]:
        metadata = yield from self._metadata_flow()
        jwks_uri = self._jwks_uri or (metadata.get("jwks_uri") if metadata else None)
        if jwks_uri is None:
            # Without keys an ID token cannot be verified: its claims stay unexposed.
            self._id_claims = None
            return
        issuer = metadata.issuer if metadata else (self._issuer or "")
        # Keys fetched over plain http could be anyone's: the ID token would "verify".
        require_secure(jwks_uri, allow_insecure=self._allow_insecure, what=_JWKS_REQUEST)
        self._id_claims = yield from verify_id_token_flow(
            id_token,
            jwks_uri,
            issuer=issuer,
            client_id=self.client_id,
            clock=self._clock,
            nonce=nonce,
        )
