"""authwire: credentials for Python HTTP clients.

authwire obtains tokens, caches them, refreshes them before they expire, retries once on
a 401 and speaks the schemes enterprise APIs demand, for ``requests`` and ``httpx``
(sync and async) from one sans-I/O core.

Example:
    >>> import authwire, authwire.requests, requests
    >>> cred = authwire.ClientCredentials(
    ...     "https://login.example.com/oauth2/token",
    ...     client_id="svc", client_secret="s3cr3t", scope="api.read",
    ... )
    >>> session = requests.Session()
    >>> session.auth = authwire.requests.Auth(cred)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from authwire._version import __version__

# A new public name goes in three places: an import here, __all__ and _EXPORTS below.
if TYPE_CHECKING:
    from authwire._core.oauth2.device import DeviceAuthorization
    from authwire._core.oauth2.dpop import DPoPKey
    from authwire._core.policy import RefreshPolicy
    from authwire._core.redact import Secret
    from authwire._core.retry import RetryPolicy
    from authwire._core.schemes.api_key import ApiKey
    from authwire._core.schemes.base import AuthScheme
    from authwire._core.schemes.basic import BasicAuth
    from authwire._core.schemes.bearer import BearerAuth
    from authwire._core.schemes.digest import DigestAuth
    from authwire._core.schemes.negotiate import MutualAuthentication, Negotiate
    from authwire._core.schemes.ntlm import NTLM
    from authwire._core.token import Token
    from authwire._event import RefreshEvent
    from authwire.app import App, TokenFile
    from authwire.caches.base import TokenCache
    from authwire.caches.cipher import CacheCipher
    from authwire.caches.file import FileCache
    from authwire.caches.keyring import KeyringCache
    from authwire.caches.memory import MemoryCache
    from authwire.caches.redis import RedisCache
    from authwire.config import ProfileCredential
    from authwire.credentials.authorization_code import AuthorizationCode
    from authwire.credentials.base import Credential
    from authwire.credentials.chain import (
        CredentialChain,
        default_credential,
        set_default_credential,
    )
    from authwire.credentials.client_credentials import ClientCredentials
    from authwire.credentials.command import CommandCredential
    from authwire.credentials.device_code import DeviceCode
    from authwire.credentials.environment import EnvironmentCredential
    from authwire.credentials.jwt_bearer import JwtBearer
    from authwire.credentials.login_endpoint import LoginEndpoint
    from authwire.credentials.password import PasswordGrant
    from authwire.credentials.refresh_token import RefreshTokenGrant
    from authwire.credentials.static import StaticToken
    from authwire.credentials.token_exchange import TokenExchange
    from authwire.errors import (
        AuthwireError,
        CacheError,
        ConfigurationError,
        CredentialUnavailable,
        InsecureTransportError,
        InteractionRequired,
        InvalidTokenResponse,
        MutualAuthenticationError,
        TokenEndpointError,
        TokenEndpointTimeout,
        TokenEndpointUnreachable,
        TokenRequestError,
    )
    from authwire.refresher import Refresher
    from authwire.requests._session import Session
    from authwire.tls import ClientCertificate

__all__ = [
    "ApiKey",
    "App",
    "AuthScheme",
    "AuthorizationCode",
    "AuthwireError",
    "BasicAuth",
    "BearerAuth",
    "CacheCipher",
    "CacheError",
    "ClientCertificate",
    "ClientCredentials",
    "CommandCredential",
    "ConfigurationError",
    "Credential",
    "CredentialChain",
    "CredentialUnavailable",
    "DPoPKey",
    "DeviceAuthorization",
    "DeviceCode",
    "DigestAuth",
    "EnvironmentCredential",
    "FileCache",
    "InsecureTransportError",
    "InteractionRequired",
    "InvalidTokenResponse",
    "JwtBearer",
    "KeyringCache",
    "LoginEndpoint",
    "MemoryCache",
    "MutualAuthentication",
    "MutualAuthenticationError",
    "NTLM",
    "Negotiate",
    "PasswordGrant",
    "ProfileCredential",
    "RedisCache",
    "RefreshEvent",
    "RefreshPolicy",
    "RefreshTokenGrant",
    "Refresher",
    "RetryPolicy",
    "Secret",
    "Session",
    "StaticToken",
    "Token",
    "TokenCache",
    "TokenEndpointError",
    "TokenEndpointTimeout",
    "TokenEndpointUnreachable",
    "TokenExchange",
    "TokenFile",
    "TokenRequestError",
    "__version__",
    "default_credential",
    "set_default_credential",
]

#: Where each public name lives: imported on first use (PEP 562), so that
#: ``import authwire`` and ``import authwire.requests`` load only what is used.
#: Keep in step with the TYPE_CHECKING imports above (a unit test checks).
_EXPORTS: dict[str, str] = {
    "ApiKey": "authwire._core.schemes.api_key",
    "App": "authwire.app",
    "AuthScheme": "authwire._core.schemes.base",
    "AuthorizationCode": "authwire.credentials.authorization_code",
    "AuthwireError": "authwire.errors",
    "BasicAuth": "authwire._core.schemes.basic",
    "BearerAuth": "authwire._core.schemes.bearer",
    "CacheCipher": "authwire.caches.cipher",
    "CacheError": "authwire.errors",
    "ClientCertificate": "authwire.tls",
    "ClientCredentials": "authwire.credentials.client_credentials",
    "CommandCredential": "authwire.credentials.command",
    "ConfigurationError": "authwire.errors",
    "Credential": "authwire.credentials.base",
    "CredentialChain": "authwire.credentials.chain",
    "CredentialUnavailable": "authwire.errors",
    "DPoPKey": "authwire._core.oauth2.dpop",
    "DeviceAuthorization": "authwire._core.oauth2.device",
    "DeviceCode": "authwire.credentials.device_code",
    "DigestAuth": "authwire._core.schemes.digest",
    "EnvironmentCredential": "authwire.credentials.environment",
    "FileCache": "authwire.caches.file",
    "InsecureTransportError": "authwire.errors",
    "InteractionRequired": "authwire.errors",
    "InvalidTokenResponse": "authwire.errors",
    "JwtBearer": "authwire.credentials.jwt_bearer",
    "KeyringCache": "authwire.caches.keyring",
    "LoginEndpoint": "authwire.credentials.login_endpoint",
    "MemoryCache": "authwire.caches.memory",
    "MutualAuthentication": "authwire._core.schemes.negotiate",
    "MutualAuthenticationError": "authwire.errors",
    "NTLM": "authwire._core.schemes.ntlm",
    "Negotiate": "authwire._core.schemes.negotiate",
    "PasswordGrant": "authwire.credentials.password",
    "ProfileCredential": "authwire.config",
    "RedisCache": "authwire.caches.redis",
    "RefreshEvent": "authwire._event",
    "RefreshPolicy": "authwire._core.policy",
    "RefreshTokenGrant": "authwire.credentials.refresh_token",
    "Refresher": "authwire.refresher",
    "RetryPolicy": "authwire._core.retry",
    "Secret": "authwire._core.redact",
    "Session": "authwire.requests._session",
    "StaticToken": "authwire.credentials.static",
    "Token": "authwire._core.token",
    "TokenCache": "authwire.caches.base",
    "TokenEndpointError": "authwire.errors",
    "TokenEndpointTimeout": "authwire.errors",
    "TokenEndpointUnreachable": "authwire.errors",
    "TokenExchange": "authwire.credentials.token_exchange",
    "TokenFile": "authwire.app",
    "TokenRequestError": "authwire.errors",
    "default_credential": "authwire.credentials.chain",
    "set_default_credential": "authwire.credentials.chain",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'authwire' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
