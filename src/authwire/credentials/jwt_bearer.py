"""``JwtBearer``: the JWT bearer assertion grant (RFC 7523 section 2.1)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from authwire._core.flow import Call, Flow
from authwire._core.oauth2.assertion import (
    ASSERTION_LIFETIME,
    build_assertion,
    client_assertion_claims,
    load_signing_key,
)
from authwire._core.oauth2.grants import token_flow
from authwire._core.redact import Secret
from authwire._core.token import Token
from authwire.caches.base import identity_fingerprint
from authwire.credentials._oauth2 import OAuth2Credential, _key_fingerprint
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from authwire.credentials._oauth2 import OAuth2Options

__all__ = ["JwtBearer"]

#: ``grant_type`` of the JWT bearer grant.
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class JwtBearer(OAuth2Credential):
    """Tokens in exchange for a signed JWT assertion (service accounts, workload identity).

    Either authwire signs a fresh assertion for each token request (``assertion_key``,
    ``assertion_issuer``, ``subject``: RFC 7523 section 3, with a fresh ``jti`` and a
    one-minute ``exp``), or you provide the assertion (``assertion=``, a string or a
    function called per request, e.g. reading a projected Kubernetes token).

    The cache key holds a keyed one-way fingerprint of a string assertion, or the public
    half of ``assertion_key`` with the claims authwire puts in assertions. A function
    cannot be fingerprinted (two functions may return assertions for two service
    accounts), so ``assertion=<function>`` needs ``cache_identity=`` (or ``subject=``)
    naming whose assertions it returns; without one, ``ConfigurationError``.

    Args:
        token_url: The token endpoint; or give ``issuer=``.
        assertion: A ready assertion (a string or ``authwire.Secret``), or a function
            returning a fresh one.
        assertion_key: The PEM or JWK private key that signs assertions.
        assertion_issuer: The assertion's ``iss``. Default: ``client_id``.
        subject: The assertion's ``sub`` (the principal tokens are for). With
            ``assertion=<function>`` it is not sent: it only identifies the principal in
            the cache key, like ``cache_identity``.
        assertion_audience: The assertion's ``aud``. Default: the token endpoint URL.
        assertion_alg: ``RS256``, ``PS256``, ``ES256``... Default: by key type.
        assertion_key_id: The ``kid`` header. Default: the JWK's ``kid``.
        assertion_claims: More claims to put in each assertion.
        cache_identity: A name for whose tokens these are (a service account, a
            workload), part of the cache key. Required with ``assertion=<function>``
            unless ``subject=`` is given; two credentials whose functions return
            assertions for different principals must have different names, or they share
            one cached token.
        client_id: The client identifier (the default ``iss``); client authentication
            is optional for this grant (RFC 7523 section 3.1): ``auth_method="none"``
            unless a secret or key is given.
        **kwargs: ``issuer``, ``client_secret``, ``scope``, ``auth_method`` and the rest:
            see ``ClientCredentials``.

    Raises:
        ConfigurationError: For neither or both of ``assertion`` and ``assertion_key``,
            a key that cannot be read, or ``assertion=<function>`` without
            ``cache_identity=`` or ``subject=``.

    Example:
        >>> cred = JwtBearer("https://login.example.com/token", client_id="svc",
        ...                  assertion=lambda: "eyJ...", cache_identity="svc@prod")
        >>> cred.client_id
        'svc'
    """

    _grant_name = "jwt_bearer"

    def __init__(
        self,
        token_url: str | None = None,
        *,
        assertion: str | Secret[str] | Callable[[], str] | None = None,
        assertion_key: str | bytes | Mapping[str, Any] | Secret[str] | None = None,
        assertion_issuer: str | None = None,
        subject: str | None = None,
        assertion_audience: str | None = None,
        assertion_alg: str | None = None,
        assertion_key_id: str | None = None,
        assertion_claims: Mapping[str, Any] | None = None,
        cache_identity: str | None = None,
        **kwargs: Unpack[OAuth2Options],
    ) -> None:
        if (assertion is None) == (assertion_key is None):
            raise ConfigurationError("JwtBearer needs exactly one of assertion= and assertion_key=")
        if isinstance(assertion, str):
            assertion = Secret(assertion)
        if isinstance(assertion, Secret) and not assertion.reveal():
            raise ConfigurationError("JwtBearer's assertion= is empty")
        if callable(assertion) and not (cache_identity or subject):
            raise ConfigurationError(
                "JwtBearer(assertion=<function>) needs cache_identity= (or subject=): a name "
                "for whose assertions the function returns (e.g. the service account), so "
                "that credentials with different functions never share a cached token"
            )
        self._assertion: Secret[str] | Callable[[], str] | None = assertion
        self._key = None
        key_text: Any = None
        if assertion_key is not None:
            key_text = (
                assertion_key.reveal() if isinstance(assertion_key, Secret) else assertion_key
            )
            self._key = load_signing_key(key_text, algorithm=assertion_alg, kid=assertion_key_id)
            if not subject:
                raise ConfigurationError("JwtBearer with assertion_key= needs subject=")
        client_id = kwargs.get("client_id")
        if not client_id:
            raise ConfigurationError("client_id is required")
        self._claims_issuer = assertion_issuer or client_id
        self._subject = subject
        self._audience = assertion_audience
        self._more_claims = dict(assertion_claims or {})
        self._cache_identity = cache_identity
        if isinstance(assertion, Secret):
            self._assertion_id: str | None = identity_fingerprint(
                assertion.reveal(), purpose="assertion"
            )
        elif assertion is not None:
            self._assertion_id = "function"
        else:
            self._assertion_id = _key_fingerprint(self._key)
        super().__init__(token_url, **kwargs)

    def _repr_extra(self) -> str:
        return f", subject={self._subject!r}" if self._subject else ""

    def _identity_extra(self) -> Mapping[str, Any]:
        return {
            "assertion": self._assertion_id,
            "assertion_issuer": self._claims_issuer,
            "assertion_audience": self._audience,
            "assertion_claims": json.dumps(self._more_claims, sort_keys=True, default=str),
            "subject": self._subject,
            "cache_identity": self._cache_identity,
        }

    def _make_assertion(self, audience: str, now: float) -> Secret[str]:
        # Wrapped at once, so no frame of the token request holds the plain assertion.
        if self._key is None:
            source = self._assertion
            assert source is not None
            return source if isinstance(source, Secret) else Secret(source())
        claims = client_assertion_claims(self._claims_issuer, audience, now, ASSERTION_LIFETIME)
        claims["sub"] = self._subject
        claims.update(self._more_claims)
        return Secret(build_assertion(claims, self._key))

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        endpoint = yield from self._endpoint_flow()
        assertion: Secret[str] = yield Call(
            self._make_assertion, args=(self._audience or endpoint.url, self._clock())
        )
        return (
            yield from token_flow(
                endpoint,
                JWT_BEARER_GRANT,
                {"assertion": assertion},
                clock=self._clock,
                retry=self._retry,
                secrets=(assertion,),
            )
        )
