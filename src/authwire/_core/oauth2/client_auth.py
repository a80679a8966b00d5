"""Client authentication at the token endpoint (RFC 6749 section 2.3, OIDC Core 9).

Strictly private. ``client_secret_jwt`` and ``private_key_jwt`` (RFC 7523 section 2.2) sign
a fresh assertion per request (see ``assertion.py``); ``tls_client_auth`` (RFC 8705
section 2) proves the client with its TLS certificate, so only ``client_id`` is sent.
"""

from __future__ import annotations

import base64
import enum
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from authwire._core.oauth2.assertion import (
    CLIENT_ASSERTION_TYPE,
    SigningKey,
    build_assertion,
    client_assertion_claims,
    hmac_signing_key,
)
from authwire._core.redact import Secret
from authwire.errors import ConfigurationError

__all__ = ["AuthMethod", "ClientAuth"]


class AuthMethod(enum.Enum):
    """How the client proves its identity to the token endpoint."""

    CLIENT_SECRET_BASIC = "client_secret_basic"
    """HTTP Basic with the form-encoded id and secret (RFC 6749 section 2.3.1)."""
    CLIENT_SECRET_POST = "client_secret_post"
    """``client_id`` and ``client_secret`` in the form body."""
    CLIENT_SECRET_JWT = "client_secret_jwt"
    """A JWT signed with the secret (HS256), in ``client_assertion`` (OIDC Core section 9)."""
    PRIVATE_KEY_JWT = "private_key_jwt"
    """A JWT signed with the client's private key (RFC 7523 section 2.2)."""
    TLS_CLIENT_AUTH = "tls_client_auth"
    """The client's TLS certificate proves it (RFC 8705); ``client_id`` in the body."""
    NONE = "none"
    """A public client: only ``client_id`` in the body."""

    @classmethod
    def parse(cls, value: AuthMethod | str) -> AuthMethod:
        """The method named by ``value`` (an ``AuthMethod`` or its string value).

        Raises:
            ConfigurationError: For an unknown name.
        """
        if isinstance(value, AuthMethod):
            return value
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(m.value for m in cls)
            raise ConfigurationError(
                f"unknown auth_method {value!r}; use one of: {known}"
            ) from None


def _basic_credential(client_id: str, secret: Secret[str]) -> str:
    """The base64 part of ``client_secret_basic``'s header.

    RFC 6749 section 2.3.1: both parts are form-urlencoded before base64. Built in one
    expression, so that no local of any frame ever holds the plain pair.
    """
    return base64.b64encode(
        f"{quote_plus(client_id)}:{quote_plus(secret.reveal())}".encode()
    ).decode("ascii")


@dataclass(frozen=True, slots=True)
class ClientAuth:
    """A client's identity and how it authenticates.

    Attributes:
        client_id: The client identifier.
        client_secret: The client secret (for the ``client_secret_*`` methods).
        method: The authentication method.
        signing_key: The private key for ``private_key_jwt``.
        cert: The client certificate for ``tls_client_auth``: a ``(cert, key)`` pair of
            PEM paths, or a ``ClientCertificate``; the sender presents it.
    """

    client_id: str
    client_secret: Secret[str] | None = field(default=None, repr=False)
    method: AuthMethod = AuthMethod.CLIENT_SECRET_BASIC
    signing_key: SigningKey | None = field(default=None, repr=False)
    cert: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ConfigurationError("client_id is required")
        needs_secret = self.method in (
            AuthMethod.CLIENT_SECRET_BASIC,
            AuthMethod.CLIENT_SECRET_POST,
            AuthMethod.CLIENT_SECRET_JWT,
        )
        if needs_secret and not self.client_secret:
            raise ConfigurationError(
                f"auth_method={self.method.value!r} needs a client_secret "
                "(use auth_method='none' for a public client)"
            )
        if self.method is AuthMethod.PRIVATE_KEY_JWT and self.signing_key is None:
            raise ConfigurationError("auth_method='private_key_jwt' needs a private_key")
        if self.method is AuthMethod.TLS_CLIENT_AUTH and self.cert is None:
            raise ConfigurationError(
                "auth_method='tls_client_auth' needs cert=(cert_file, key_file) "
                "or a ClientCertificate"
            )

    @property
    def secrets(self) -> tuple[Secret[str], ...]:
        """The values that must never be shown."""
        return (self.client_secret,) if self.client_secret else ()

    def apply(
        self,
        form: dict[str, str | Secret[str]],
        headers: dict[str, str],
        *,
        audience: str | None = None,
        now: float | None = None,
    ) -> tuple[Secret[str], ...]:
        """Add the client's credentials to a token request's form and headers.

        Secret values go into ``form`` wrapped (``Secret``), revealed only when the body is
        encoded (``form_body``), so no frame on the way holds them plain.

        Args:
            form: The request's form fields (changed in place).
            headers: The request's headers (changed in place).
            audience: The endpoint the request goes to: the ``aud`` of a JWT assertion.
            now: The current time for assertions (epoch seconds). Default: the system clock.

        Returns:
            Values added that must never be shown (a signed assertion, a Basic credential).
        """
        if self.method in (AuthMethod.CLIENT_SECRET_JWT, AuthMethod.PRIVATE_KEY_JWT):
            if self.method is AuthMethod.CLIENT_SECRET_JWT:
                assert self.client_secret is not None
                key = hmac_signing_key(self.client_secret.reveal())
            else:
                assert self.signing_key is not None
                key = self.signing_key
            if not audience:
                raise ConfigurationError(f"{self.method.value} needs the endpoint URL")
            claims = client_assertion_claims(
                self.client_id, audience, time.time() if now is None else now
            )
            assertion = Secret(build_assertion(claims, key))
            form["client_id"] = self.client_id
            form["client_assertion_type"] = CLIENT_ASSERTION_TYPE
            form["client_assertion"] = assertion
            return (assertion,)
        if self.method is AuthMethod.CLIENT_SECRET_BASIC:
            assert self.client_secret is not None
            credential = Secret(_basic_credential(self.client_id, self.client_secret))
            headers["Authorization"] = "Basic " + credential.reveal()
            # An endpoint that echoes the header back must not leak the encoded secret.
            return (credential,)
        if self.method is AuthMethod.CLIENT_SECRET_POST:
            assert self.client_secret is not None
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret
        else:
            form["client_id"] = self.client_id
        return ()
