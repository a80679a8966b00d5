"""``EnvironmentCredential``: a credential described by ``AUTHWIRE_*`` (or an app's) variables."""

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
#: The variables' names without their prefix.
_SUFFIXES: Final = ("TOKEN", "CLIENT_ID", "CLIENT_SECRET", "TOKEN_URL", "ISSUER", "SCOPE")


class EnvironmentCredential(ResolvingCredential):
    """The credential the environment describes, read at first use.

    * ``AUTHWIRE_TOKEN``: a static bearer token (``StaticToken``); it wins over the rest.
    * ``AUTHWIRE_CLIENT_ID`` + ``AUTHWIRE_CLIENT_SECRET`` + ``AUTHWIRE_TOKEN_URL`` (or
      ``AUTHWIRE_ISSUER`` for OpenID discovery), and optionally ``AUTHWIRE_SCOPE``
      (space-separated): a ``ClientCredentials`` client.

    An SDK built on ``authwire.App`` reads the same variables under its own prefix
    (``MYSDK_TOKEN``...) and may give the endpoint and scope itself, so its users set only
    the client id and secret.

    With none of them set the credential is *unavailable* (a chain moves on). A partial
    client configuration (an id without a secret, a secret without an endpoint) is a
    ``ConfigurationError``, which stops a chain: a half-set environment is a mistake to
    report, not a reason to quietly use another identity.

    Args:
        environ: Where to read the variables. Default: ``os.environ``.
        prefix: The variables' prefix. Default ``"AUTHWIRE_"``.
        token_url: The token endpoint when the environment names none. Default ``None``.
        issuer: The OpenID provider when the environment names none. Default ``None``.
        scope: The scope when the environment names none. Default ``None``.
        **options: Passed to ``ClientCredentials`` (``cache``, ``leeway``, ``timeout``...).

    Example:
        >>> import os, authwire
        >>> os.environ["AUTHWIRE_TOKEN"] = "abc"
        >>> authwire.EnvironmentCredential().get_token().access_token
        'abc'
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        prefix: str = "AUTHWIRE_",
        token_url: str | None = None,
        issuer: str | None = None,
        scope: str | None = None,
        **options: Any,
    ) -> None:
        if token_url and issuer:
            raise ConfigurationError("give EnvironmentCredential token_url= or issuer=, not both")
        self._environ = environ
        self._prefix = prefix
        self._defaults = {"TOKEN_URL": token_url or "", "ISSUER": issuer or "", "SCOPE": scope}
        self._options = options
        self._resolved: Credential | None = None
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        resolved = self._resolved
        name = "EnvironmentCredential"
        args = "" if self._prefix == "AUTHWIRE_" else f"prefix={self._prefix!r}"
        if resolved:
            return f"{name}({resolved!r})"
        return f"{name}({args})"

    def _build(self) -> Credential:
        env = os.environ if self._environ is None else self._environ
        p = self._prefix
        value = {s: env.get(p + s, "").strip() for s in _SUFFIXES}
        if value["TOKEN"]:
            from authwire.credentials.static import StaticToken

            return StaticToken(value["TOKEN"])
        present = [p + s for s in ("CLIENT_ID", "CLIENT_SECRET", "TOKEN_URL", "ISSUER") if value[s]]
        if not present:
            raise CredentialUnavailable(
                f"no {p}TOKEN, and no {p}CLIENT_ID/{p}CLIENT_SECRET/{p}TOKEN_URL in the environment"
            )
        missing = [p + s for s in ("CLIENT_ID", "CLIENT_SECRET") if not value[s]]
        if value["TOKEN_URL"] and value["ISSUER"]:
            raise ConfigurationError(f"set {p}TOKEN_URL or {p}ISSUER, not both")
        token_url, issuer = value["TOKEN_URL"], value["ISSUER"]
        if not (token_url or issuer):
            token_url, issuer = self._defaults["TOKEN_URL"] or "", self._defaults["ISSUER"] or ""
        if not (token_url or issuer):
            missing.append(f"{p}TOKEN_URL (or {p}ISSUER)")
        if missing:
            raise ConfigurationError(
                f"the environment sets {', '.join(present)} but not {', '.join(missing)}"
            )
        from authwire.credentials.client_credentials import ClientCredentials

        return ClientCredentials(
            token_url=token_url or None,
            issuer=issuer or None,
            client_id=value["CLIENT_ID"],
            client_secret=value["CLIENT_SECRET"],
            scope=value["SCOPE"] or self._defaults["SCOPE"] or None,
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
