"""``EnvironmentCredential``: a credential described by ``AUTHWIRE_*`` environment variables."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any, Final

from authwire._core.token import Token
from authwire.credentials._delegating import ResolvingCredential
from authwire.credentials.base import Credential
from authwire.errors import ConfigurationError, CredentialUnavailable

__all__ = ["ENVIRONMENT_VARIABLES", "EnvironmentCredential"]

#: Every variable this credential reads.
ENVIRONMENT_VARIABLES: Final = (
    "AUTHWIRE_TOKEN",
    "AUTHWIRE_CLIENT_ID",
    "AUTHWIRE_CLIENT_SECRET",
    "AUTHWIRE_TOKEN_URL",
    "AUTHWIRE_ISSUER",
    "AUTHWIRE_SCOPE",
)
_CLIENT_VARIABLES: Final = (
    "AUTHWIRE_CLIENT_ID",
    "AUTHWIRE_CLIENT_SECRET",
    "AUTHWIRE_TOKEN_URL",
    "AUTHWIRE_ISSUER",
)


class EnvironmentCredential(ResolvingCredential):
    """The credential the environment describes, read at first use.

    * ``AUTHWIRE_TOKEN``: a static bearer token (``StaticToken``); it wins over the rest.
    * ``AUTHWIRE_CLIENT_ID`` + ``AUTHWIRE_CLIENT_SECRET`` + ``AUTHWIRE_TOKEN_URL`` (or
      ``AUTHWIRE_ISSUER`` for OpenID discovery), and optionally ``AUTHWIRE_SCOPE``
      (space-separated): a ``ClientCredentials`` client.

    With none of them set the credential is *unavailable* (a chain moves on). A partial
    client configuration (an id without a secret, a secret without an endpoint) is a
    ``ConfigurationError``, which stops a chain: a half-set environment is a mistake to
    report, not a reason to quietly use another identity.

    Args:
        environ: Where to read the variables. Default: ``os.environ``.
        **options: Passed to ``ClientCredentials`` (``cache``, ``leeway``, ``timeout``...).

    Example:
        >>> import os, authwire
        >>> os.environ["AUTHWIRE_TOKEN"] = "abc"
        >>> authwire.EnvironmentCredential().get_token().access_token
        'abc'
    """

    def __init__(self, *, environ: Mapping[str, str] | None = None, **options: Any) -> None:
        self._environ = environ
        self._options = options
        self._resolved: Credential | None = None
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        resolved = self._resolved
        return f"EnvironmentCredential({resolved!r})" if resolved else "EnvironmentCredential()"

    def _build(self) -> Credential:
        env = os.environ if self._environ is None else self._environ
        value = {name: env.get(name, "").strip() for name in ENVIRONMENT_VARIABLES}
        if value["AUTHWIRE_TOKEN"]:
            from authwire.credentials.static import StaticToken

            return StaticToken(value["AUTHWIRE_TOKEN"])
        present = [name for name in _CLIENT_VARIABLES if value[name]]
        if not present:
            raise CredentialUnavailable(
                "no AUTHWIRE_TOKEN, and no AUTHWIRE_CLIENT_ID/AUTHWIRE_CLIENT_SECRET/"
                "AUTHWIRE_TOKEN_URL in the environment"
            )
        missing = [
            name for name in ("AUTHWIRE_CLIENT_ID", "AUTHWIRE_CLIENT_SECRET") if not value[name]
        ]
        if not (value["AUTHWIRE_TOKEN_URL"] or value["AUTHWIRE_ISSUER"]):
            missing.append("AUTHWIRE_TOKEN_URL (or AUTHWIRE_ISSUER)")
        if missing:
            raise ConfigurationError(
                f"the environment sets {', '.join(present)} but not {', '.join(missing)}"
            )
        if value["AUTHWIRE_TOKEN_URL"] and value["AUTHWIRE_ISSUER"]:
            raise ConfigurationError("set AUTHWIRE_TOKEN_URL or AUTHWIRE_ISSUER, not both")
        from authwire.credentials.client_credentials import ClientCredentials

        return ClientCredentials(
            token_url=value["AUTHWIRE_TOKEN_URL"] or None,
            issuer=value["AUTHWIRE_ISSUER"] or None,
            client_id=value["AUTHWIRE_CLIENT_ID"],
            client_secret=value["AUTHWIRE_CLIENT_SECRET"],
            scope=value["AUTHWIRE_SCOPE"] or None,
            **self._options,
        )

    @property
    def credential(self) -> Credential:
        """The credential the environment describes (read now if not yet).

        Raises:
            CredentialUnavailable: If the environment describes none.
            ConfigurationError: If it describes one only in part.
        """
        return self._resolve()

    def get_token(self) -> Token:
        """A token from the environment's credential.

        Raises:
            CredentialUnavailable: If the environment describes no credential.
            ConfigurationError: If it describes one only in part.
        """
        return self._resolve().get_token()

    async def aget_token(self) -> Token:
        """``get_token`` for asyncio and trio."""
        return await self._resolve().aget_token()
