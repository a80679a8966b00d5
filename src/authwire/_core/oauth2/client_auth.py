"""Client authentication at the token endpoint (RFC 6749 section 2.3, OIDC Core 9).

Strictly private.
"""

from __future__ import annotations

import base64
import enum
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from authwire._core.redact import Secret
from authwire.errors import ConfigurationError

__all__ = ["AuthMethod", "ClientAuth"]


class AuthMethod(enum.Enum):
    """How the client proves its identity to the token endpoint."""

    CLIENT_SECRET_BASIC = "client_secret_basic"
    """HTTP Basic with the form-encoded id and secret (RFC 6749 section 2.3.1)."""
    CLIENT_SECRET_POST = "client_secret_post"
    """``client_id`` and ``client_secret`` in the form body."""
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


@dataclass(frozen=True, slots=True)
class ClientAuth:
    """A client's identity and how it authenticates.

    Attributes:
        client_id: The client identifier.
        client_secret: The client secret (for the ``client_secret_*`` methods).
        method: The authentication method.
    """

    client_id: str
    client_secret: Secret[str] | None = field(default=None, repr=False)
    method: AuthMethod = AuthMethod.CLIENT_SECRET_BASIC

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ConfigurationError("client_id is required")
        needs_secret = self.method in (
            AuthMethod.CLIENT_SECRET_BASIC,
            AuthMethod.CLIENT_SECRET_POST,
        )
        if needs_secret and not self.client_secret:
            raise ConfigurationError(
                f"auth_method={self.method.value!r} needs a client_secret "
                "(use auth_method='none' for a public client)"
            )

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never be shown."""
        return (self.client_secret.reveal(),) if self.client_secret else ()

    def apply(self, form: dict[str, str], headers: dict[str, str]) -> None:
        """Add the client's credentials to a token request's form and headers."""
        if self.method is AuthMethod.CLIENT_SECRET_BASIC:
            assert self.client_secret is not None
            # RFC 6749 section 2.3.1: both parts are form-urlencoded before base64.
            pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret.reveal())}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        elif self.method is AuthMethod.CLIENT_SECRET_POST:
            assert self.client_secret is not None
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret.reveal()
        else:
            form["client_id"] = self.client_id
