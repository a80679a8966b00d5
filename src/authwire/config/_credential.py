"""``ProfileCredential``: the active profile's saved login, refreshed with its refresh token.

Strictly private; re-exported by ``authwire.config`` and ``authwire``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authwire._core.flow import Flow
from authwire._core.oauth2.client_auth import AuthMethod, ClientAuth
from authwire._core.oauth2.grants import refresh_token_flow
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire._core.origin import require_secure
from authwire._core.redact import Secret
from authwire._core.token import Token
from authwire.config._profiles import Profile, load_config
from authwire.credentials._delegating import ResolvingCredential
from authwire.credentials.base import Credential, ManagedCredential
from authwire.errors import (
    ConfigurationError,
    CredentialUnavailable,
    InteractionRequired,
    TokenRequestError,
)

if TYPE_CHECKING:
    from authwire.app import App

__all__ = ["ProfileCredential"]


def _secret(profile: Profile) -> str | None:
    """The client secret from the variable the profile names, if it names one."""
    if profile.client_secret_env is None:
        return None
    value = os.environ.get(profile.client_secret_env, "")
    if not value:
        raise CredentialUnavailable(
            f"profile {profile.name!r}: the client secret variable "
            f"{profile.client_secret_env} is not set"
        )
    return value


class _ProfileLogin(ManagedCredential):
    """A saved login: the cached token, refreshed with its refresh token. Strictly private.

    Keyed by the profile (not by the refresh token, which rotates), so every process and
    every run finds the same login; the client secret, if any, comes from the environment
    and is never stored.
    """

    def __init__(self, profile: Profile, secret: str | None, **options: Any) -> None:
        self.profile = profile
        method = (
            AuthMethod.parse(profile.auth_method)
            if profile.auth_method
            else (AuthMethod.CLIENT_SECRET_BASIC if secret else AuthMethod.NONE)
        )
        self._endpoint = TokenEndpoint(
            url=profile.token_url or profile.issuer or "",
            client=ClientAuth(
                client_id=profile.client_id,
                client_secret=Secret(secret) if secret else None,
                method=method,
            ),
            scope=profile.scope,
            audience=profile.audience,
        )
        options.setdefault("cache", profile.make_cache())
        super().__init__(**options)

    def __repr__(self) -> str:
        return f"ProfileLogin(profile={self.profile.name!r}, client_id={self.profile.client_id!r})"

    def _identity(self) -> Mapping[str, Any]:
        return self.profile.identity()

    def _endpoint_flow(self) -> Flow[TokenEndpoint]:
        issuer = self.profile.issuer
        if issuer is None:
            return self._endpoint
        from dataclasses import replace

        from authwire._core.oauth2.discovery import discover_flow

        metadata = yield from discover_flow(issuer, clock=self._clock)
        return replace(self._endpoint, url=metadata.token_endpoint)

    def _login_hint(self) -> str:
        return f"run `{self.profile.command} login --profile {self.profile.name}`"

    def _migrate(self) -> Token | None:
        """The login of the app's own token file, saved into the cache (first use only)."""
        app = self.profile.app
        token_file = app.token_file if app is not None else None
        if app is None or token_file is None:
            return None
        entry = token_file.read()
        if entry is None or entry.token is None or not entry.token.refresh_token:
            return None
        if entry.client_id is not None and entry.client_id != self.profile.client_id:
            app.logger.warning(
                "%s holds a login of another client (%s); not used",
                token_file.path,
                entry.client_id,
            )
            return None
        self._manager.cache.set(self._manager.key, entry.token)
        app.logger.info(
            "migrated the login in %s into %s", token_file.path, self._manager.cache.describe()
        )
        return entry.token

    def _on_new_token(self, token: Token) -> None:
        app = self.profile.app
        token_file = app.token_file if app is not None else None
        if token_file is not None and token_file.write:
            token_file.write_login(self.profile.client_id, token)

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        held = replacing
        if held is None or not held.refresh_token:
            # The manager's entry, read (in a worker thread on the async path) by the
            # refresh now running: no cache I/O here, where an event loop may be running.
            held = self._manager.stored()
        if held is None or not held.refresh_token:
            held = self._migrate()
            if held is not None and (
                held.access_token
                and held.expires_at is not None
                and held.expires_at - self._clock() > 60
            ):
                return held  # the old file's access token is still good
        if held is None or not held.refresh_token:
            raise InteractionRequired(
                f"profile {self.profile.name!r} has no saved login; {self._login_hint()}"
            )
        if held.refresh_expires_at is not None and self._clock() >= held.refresh_expires_at:
            raise InteractionRequired(
                f"profile {self.profile.name!r}: the saved login has expired; {self._login_hint()}"
            )
        endpoint = yield from self._endpoint_flow()
        require_secure(endpoint.url, what="a profile's refresh token")
        try:
            return (
                yield from refresh_token_flow(
                    endpoint, held.refresh_token, clock=self._clock, retry=self._retry
                )
            )
        except TokenRequestError as exc:
            if exc.error == "invalid_grant":
                raise InteractionRequired(
                    f"profile {self.profile.name!r}: the saved login was refused "
                    f"(invalid_grant); {self._login_hint()}"
                ) from exc
            raise


class ProfileCredential(ResolvingCredential):
    """The credential of a profile in the config file, read at first use.

    For a ``client_credentials`` profile, a ``ClientCredentials`` client whose secret
    comes from the variable named by ``client_secret_env``. For a login profile (every
    other grant), the login ``authwire login`` saved in the profile's cache: its access
    token while fresh, then new ones from its refresh token (a rotated refresh token is
    saved before the new access token is used). No saved login raises
    ``InteractionRequired``.

    Args:
        profile: The profile's name. ``None`` (default): ``AUTHWIRE_PROFILE``, else the
            file's ``default_profile``, else ``"default"``.
        config: The config file. ``None`` (default): ``AUTHWIRE_CONFIG``, else
            ``config.toml`` in the user config folder.
        app: An SDK's ``App``: its profile file, variables and built-in profile. Default:
            authwire's own.
        **options: Passed to the underlying credential (``leeway``, ``timeout``,
            ``on_refresh``...; ``cache`` overrides the profile's).

    Example:
        >>> import authwire
        >>> cred = authwire.ProfileCredential("billing")
        >>> cred.get_token()  # doctest: +SKIP
    """

    def __init__(
        self,
        profile: str | None = None,
        *,
        config: str | os.PathLike[str] | None = None,
        app: App | None = None,
        **options: Any,
    ) -> None:
        self._name = profile
        self._app = app
        self._config = Path(config) if config is not None else None
        self._options = options
        self._resolved: Credential | None = None
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        return f"ProfileCredential({self._name!r})" if self._name else "ProfileCredential()"

    def _profile(self) -> Profile:
        config = load_config(self._config, app=self._app)
        builtin = self._app.builtin_profile() if self._app is not None else None
        if config is None:
            if builtin is not None and self._name in (None, "default"):
                return builtin
            from authwire.config._profiles import config_path

            raise CredentialUnavailable(
                f"no profiles: {self._config or config_path(self._app)} does not exist"
            )
        try:
            return config.get(self._name)
        except ConfigurationError as exc:
            if builtin is not None and (self._name or "default") == "default":
                return builtin
            if self._name is None:  # the implicit choice: nothing configured is not an error
                raise CredentialUnavailable(exc.message) from None
            raise

    def _build(self) -> Credential:
        profile = self._profile()
        secret = _secret(profile)
        if profile.grant == "client_credentials":
            if secret is None:
                raise ConfigurationError(
                    f"profile {profile.name!r} uses client_credentials but names no "
                    "client_secret_env"
                )
            from authwire.credentials.client_credentials import ClientCredentials

            options = dict(self._options)
            options.setdefault("cache", profile.make_cache())
            return ClientCredentials(
                token_url=profile.token_url,
                issuer=profile.issuer,
                client_id=profile.client_id,
                client_secret=secret,
                scope=profile.scope,
                audience=profile.audience,
                **options,
            )
        return _ProfileLogin(profile, secret, **self._options)

    @property
    def credential(self) -> Credential:
        """The profile's credential (read now if not yet).

        Raises:
            CredentialUnavailable: No config file, or no such profile when none was named.
            ConfigurationError: A malformed file, or a named profile that is missing.
        """
        return self._resolve()

    def get_token(self) -> Token:
        """A token for the profile.

        Raises:
            InteractionRequired: The profile has no saved login, or it was refused.
            CredentialUnavailable: There is no config file or no active profile.
            ConfigurationError: The config file is malformed.
        """
        return self.credential.get_token()

    async def aget_token(self) -> Token:
        """``get_token`` for asyncio and trio (the file is read in a worker thread)."""
        credential = self._resolved
        if credential is None:
            from authwire._aio import RUNTIME

            credential = await RUNTIME.run_blocking(lambda: self.credential)
        return await credential.aget_token()
