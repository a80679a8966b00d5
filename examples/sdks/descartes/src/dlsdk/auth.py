"""``Auth``: the Descartes Labs ``Auth`` surface, as a thin mapping onto authwire.

The rules (who wins among parameters, environment and ``token_info.json``) are the
seed's; tokens, caching, refresh windows, retries and the ``dlsdk auth`` command are
authwire's (``authwire.App``).
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import authwire
from authwire.app import App, TokenFile

__all__ = ["APP", "DEFAULT_TOKEN_INFO_PATH", "ENV_PREFIX", "Auth", "AuthError", "OauthError"]

#: The SDK's environment variables' prefix (the seed's names).
ENV_PREFIX: Final = "DESCARTESLABS_"
#: Where ``dlsdk auth login`` saves the login, and ``Auth()`` reads it.
DEFAULT_TOKEN_INFO_PATH: Final = "~/.descarteslabs/token_info.json"
#: The identity service (``domain``); ``{PREFIX}IAM_URL`` overrides it (tests do).
DEFAULT_DOMAIN: Final = "https://iam.example.com"
#: The SDK's public login client.
LOGIN_CLIENT_ID: Final = "dlsdk-cli"
_UNSET: Final[Any] = object()


class AuthError(authwire.CredentialUnavailable):
    """Raised when incomplete credentials were provided."""


class OauthError(authwire.AuthwireError):
    """Raised when a token cannot be obtained or refreshed."""


def _domain() -> str:
    return os.environ.get(ENV_PREFIX + "IAM_URL", "").strip() or DEFAULT_DOMAIN


def _token_info_path() -> Path:
    explicit = os.environ.get(ENV_PREFIX + "TOKEN_INFO_PATH", "").strip()
    return Path(explicit or DEFAULT_TOKEN_INFO_PATH).expanduser()


def _token_file(path: Path) -> TokenFile:
    return TokenFile(
        path,
        client_id="client_id",
        refresh_token="refresh_token",
        access_token="jwt_token",
        write=True,
    )


#: The SDK's ``authwire.App``: its variables, folders, keyring name and command.
APP: Final = App(
    "dlsdk",
    env_prefix=ENV_PREFIX,
    command="dlsdk auth",
    token_url=_domain() + "/token",
    client_id=LOGIN_CLIENT_ID,
    token_file=_token_file(_token_info_path()),
)


class _SecretFreeCache(authwire.TokenCache):
    """A cache that never stores the refresh token (the seed's client secret).

    Strictly private: the seed caches access tokens "without revealing the client secret".
    """

    def __init__(self, inner: authwire.TokenCache) -> None:
        self.inner = inner

    def get(self, key: str) -> authwire.Token | None:
        return self.inner.get(key)

    def set(self, key: str, token: authwire.Token) -> None:
        self.inner.set(key, replace(token, refresh_token=None))

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def lock(self, key: str) -> Any:
        return self.inner.lock(key)

    def describe(self) -> str:
        return self.inner.describe()


def _claims_client(claims: Mapping[str, Any]) -> set[str]:
    """The client ids a JWT says it was issued to (``aud``, ``azp``, ``client_id``)."""
    found: set[str] = set()
    for name in ("aud", "azp", "client_id"):
        value = claims.get(name)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
    return found


def _to_retry_policy(retries: Any) -> authwire.RetryPolicy:
    if retries is None:  # the seed: 5 retries, random back-off between 1 and 10 seconds
        return authwire.RetryPolicy(retries=5, backoff=1.0, max_backoff=10.0)
    if isinstance(retries, authwire.RetryPolicy):
        return retries
    if isinstance(retries, int) and not isinstance(retries, bool):
        return authwire.RetryPolicy(retries=retries, backoff=1.0, max_backoff=10.0)
    total = getattr(retries, "total", None)  # a urllib3 Retry
    if isinstance(total, int):
        factor = float(getattr(retries, "backoff_factor", 1.0) or 1.0)
        return authwire.RetryPolicy(retries=total, backoff=factor, max_backoff=10.0)
    raise authwire.ConfigurationError(f"retries must be an int or a Retry, not {retries!r}")


class Auth(authwire.Credential):
    """Client used to authenticate with the SDK's service APIs.

    See the seed page; every rule is listed with its test in
    ``tests/examples/descartes/test_conformance.py``.

    Args:
        domain: The identity service. Default: ``DESCARTESLABS_IAM_URL`` or the SDK's.
        scope: Access token fields to ask for (sent as ``scope``).
        leeway: Seconds before expiry from which the token is renewed. Default 500.
        token_info_path: The credentials file; ``None`` never reads one.
        client_id: The client id.
        client_secret: The refresh token (identical to ``refresh_token``).
        jwt_token: A short-lived access token.
        refresh_token: Identical to ``client_secret``; it wins if both differ.
        retries: An int or a ``Retry``; default 5 retries, 1 to 10 s back-off.
    """

    def __init__(
        self,
        domain: str | None = None,
        scope: list[str] | None = None,
        leeway: float = 500,
        token_info_path: Any = _UNSET,
        client_id: str | None = None,
        client_secret: str | None = None,
        jwt_token: str | None = None,
        refresh_token: str | None = None,
        retries: Any = None,
        _suppress_warning: bool = False,
    ) -> None:
        env = os.environ
        self.domain = domain or _domain()
        self.scope = scope
        self.leeway = leeway
        self.retries = _to_retry_policy(retries)
        warn = (lambda m: None) if _suppress_warning else _warn

        if client_secret and refresh_token and client_secret != refresh_token:
            warn("client_secret and refresh_token differ; using refresh_token")
        secret = refresh_token or client_secret
        env_secret = env.get(ENV_PREFIX + "REFRESH_TOKEN") or env.get(ENV_PREFIX + "CLIENT_SECRET")
        env_rt, env_cs = (
            env.get(ENV_PREFIX + "REFRESH_TOKEN"),
            env.get(ENV_PREFIX + "CLIENT_SECRET"),
        )
        if env_rt and env_cs and env_rt != env_cs:
            warn(
                f"{ENV_PREFIX}CLIENT_SECRET and {ENV_PREFIX}REFRESH_TOKEN differ; using the latter"
            )
        self.client_id = client_id or env.get(ENV_PREFIX + "CLIENT_ID") or None
        secret = secret or env_secret or None
        jwt = jwt_token or env.get(ENV_PREFIX + "TOKEN") or None
        given = bool(self.client_id or secret or jwt)

        path: Path | None
        if token_info_path is _UNSET:
            path = None if given else _token_info_path()
        elif token_info_path is None:
            path = None
        else:
            path = Path(token_info_path).expanduser()
        self.token_info_path = None if path is None else str(path)
        self._file = _token_file(path) if path is not None else None

        if self._file is not None:
            fields = self._file.read_fields()
            if fields is None and not (self.client_id and secret):
                warn(f"token info file {path} cannot be found")
            elif fields is not None:
                file_id = fields.get("client_id")
                file_secret = fields.get("refresh_token") or fields.get("client_secret")
                file_jwt = fields.get("jwt_token") or fields.get("JWT_TOKEN")
                if self.client_id and secret:
                    if (file_id, file_secret) == (self.client_id, secret):
                        jwt = jwt or file_jwt  # matching: its token is used and refreshed
                else:
                    self.client_id = self.client_id or file_id
                    secret = secret or file_secret
                    jwt = jwt or file_jwt
            if self.client_id and secret:
                # Given credentials are written to the file (a conflicting one is replaced).
                current = self._file.read_fields() or {}
                if (current.get("client_id"), current.get("refresh_token")) != (
                    self.client_id,
                    secret,
                ):
                    self._file.write_fields(
                        {
                            "client_id": self.client_id,
                            "client_secret": secret,
                            "refresh_token": secret,
                            **({"jwt_token": jwt} if jwt else {}),
                        }
                    )

        self._secret = authwire.Secret(secret) if secret else None
        self._jwt = jwt
        if jwt and self.client_id:
            clients = _claims_client(authwire.Token(jwt).claims)
            if clients and self.client_id not in clients:
                self._jwt = None  # issued to another client: discarded
        if not (self._jwt or (self.client_id and self._secret)):
            warn("no credentials found")
        self._mutex = threading.Lock()
        self._grant: authwire.Credential | None = None
        self._last: str | None = None

    def __repr__(self) -> str:
        return f"Auth(domain={self.domain!r}, client_id={self.client_id!r})"

    # -- authwire.Credential ---------------------------------------------------------------

    def _static(self) -> authwire.Token | None:
        jwt = self._jwt
        if not jwt:
            return None
        token = authwire.Token(jwt)
        exp = token.claims.get("exp")
        if isinstance(exp, (int, float)):
            import time

            if exp - self.leeway <= time.time():
                self._jwt = None  # expired (or inside the leeway): discarded
                return None
        return token

    def _refreshing(self) -> authwire.Credential:
        with self._mutex:
            if self._grant is None:
                if not (self.client_id and self._secret):
                    raise AuthError(
                        "no valid access token and no client id and secret to get one; "
                        "run `dlsdk auth login` or set DESCARTESLABS_CLIENT_ID and "
                        "DESCARTESLABS_CLIENT_SECRET"
                    )
                self._grant = authwire.RefreshTokenGrant(
                    self.domain.rstrip("/") + "/token",
                    client_id=self.client_id,
                    refresh_token=self._secret,
                    auth_method="none",
                    extra_params={"scope": " ".join(self.scope)} if self.scope else None,
                    cache=_SecretFreeCache(APP.file_cache()),
                    leeway=self.leeway,
                    retries=self.retries,
                    allow_insecure=self.domain.startswith("http://127.0.0.1"),
                )
            return self._grant

    def get_token(self) -> authwire.Token:
        """The current access token (the given one while valid, else a refreshed one).

        Raises:
            AuthError: Incomplete credentials.
            OauthError: The token could not be obtained or refreshed.
        """
        static = self._static()
        if static is not None:
            return static
        try:
            token = self._refreshing().get_token()
        except AuthError:
            raise
        except authwire.AuthwireError as exc:
            raise OauthError(exc.message) from exc
        self._save(token)
        return token

    async def aget_token(self) -> authwire.Token:
        """``get_token`` for asyncio (the file is small; read inline)."""
        return self.get_token()

    def invalidate(self, token: authwire.Token) -> bool:
        """Drop ``token`` (after a 401), so the next call refreshes."""
        if token.access_token == self._jwt:
            self._jwt = None
            return True
        grant = self._grant
        return grant.invalidate(token) if grant is not None else False

    def _save(self, token: authwire.Token) -> None:
        """Keep ``token_info.json``'s ``jwt_token`` current, as the seed does."""
        if self._file is None or token.access_token == self._last:
            return
        self._last = token.access_token
        fields = self._file.read_fields()
        if fields is not None and fields.get("client_id") == self.client_id:
            self._file.write_fields({**fields, "jwt_token": token.access_token})

    # -- the seed's surface ----------------------------------------------------------------

    @property
    def token(self) -> str:
        """The short-lived JWT access token."""
        return self.get_token().access_token

    @property
    def payload(self) -> dict[str, Any]:
        """The token's claims (read, not verified)."""
        return dict(self.get_token().claims)

    @property
    def namespace(self) -> str:
        """The user namespace: the SHA-1 of the token's ``sub``."""
        sub = str(self.payload.get("sub", ""))
        return hashlib.sha1(sub.encode()).hexdigest()  # noqa: S324 - an id, not a secret

    @property
    def all_acl_subjects(self) -> list[str]:
        """The user, the org and the groups, as ACL subjects."""
        payload = self.payload
        subjects = [f"user:{self.namespace}"]
        if payload.get("org"):
            subjects.append(f"org:{payload['org']}")
        subjects += [f"group:{g}" for g in payload.get("groups") or [] if isinstance(g, str)]
        return subjects

    @property
    def all_owner_acl_subjects(self) -> list[str]:
        """The user, the org's admins and the catalog admins, as owner ACL subjects."""
        payload = self.payload
        subjects = [f"user:{self.namespace}"]
        if payload.get("org"):
            subjects.append(f"org:{payload['org']}")
        groups = [g for g in payload.get("groups") or [] if isinstance(g, str)]
        subjects += [f"group:{g}" for g in groups if g.endswith(("admin", "catalog-admin"))]
        return subjects

    @classmethod
    def from_environment_or_token_json(cls, **kwargs: Any) -> Auth:
        """An ``Auth`` from the arguments, the environment or the stored credentials."""
        return cls(**kwargs)

    @staticmethod
    def get_default_auth() -> Auth:
        """The default ``Auth`` (created on first use, then the same object)."""
        current = APP.get_default()
        if isinstance(current, Auth):
            return current
        auth = Auth()
        APP.set_default(auth)
        return auth

    @staticmethod
    def set_default_auth(auth: Auth | None) -> None:
        """Make ``auth`` the default ``Auth`` (``None``: a new one on next use)."""
        APP.set_default(auth)


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)
