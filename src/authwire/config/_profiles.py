"""Profiles: one TOML table per API, in the user's config folder.

Strictly private; the public names are re-exported by ``authwire.config``.

The file (``AUTHWIRE_CONFIG``, else ``config.toml`` in ``platformdirs``' user config
folder, e.g. ``~/.config/authwire/config.toml``)::

    default_profile = "billing"

    [profiles.billing]
    issuer = "https://login.example.com"      # or token_url = "https://.../token"
    client_id = "billing-cli"
    grant = "device_code"                     # how `authwire login` logs in
    scopes = ["billing.read", "offline_access"]
    cache = "keyring"                         # file (default), keyring, memory, redis://...

Profiles hold no secrets: a confidential client names the environment variable that
holds its secret (``client_secret_env``); a login's refresh token lives in the cache.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from authwire._core.token import Token
from authwire.caches.base import TokenCache, cache_key
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    from authwire.app import App

__all__ = [
    "GRANTS",
    "Profile",
    "ProfileConfig",
    "active_profile_name",
    "config_path",
    "load_config",
]

#: The grants a profile may name.
GRANTS: Final = frozenset(
    {
        "authorization_code",
        "device_code",
        "client_credentials",
        "password",
        "refresh_token",
    }
)
#: Where ``cache =`` may point besides a ``redis://`` URL.
CACHES: Final = frozenset({"file", "keyring", "memory"})
_SECRET_KEYS: Final = frozenset(
    {"client_secret", "secret", "password", "refresh_token", "access_token", "token"}
)
_TOP_KEYS: Final = frozenset({"default_profile", "profiles"})


def _app(app: App | None) -> App:
    if app is not None:
        return app
    from authwire.app import DEFAULT_APP

    return DEFAULT_APP


def config_path(app: App | None = None) -> Path:
    """The config file: ``AUTHWIRE_CONFIG``, else ``config.toml`` in the user config folder.

    Args:
        app: An SDK's ``App`` (its ``{PREFIX}CONFIG`` and folder); default authwire's.
    """
    return _app(app).config_path()


@dataclass(frozen=True, slots=True)
class Profile:
    """One API's settings, as read from the config file. Holds no secret.

    Attributes:
        name: The profile's name (its table under ``[profiles]``).
        client_id: The OAuth client identifier.
        token_url: The token endpoint; or ``issuer``.
        issuer: The OpenID provider (endpoints from discovery); or ``token_url``.
        grant: How ``authwire login`` logs in: ``authorization_code`` (default),
            ``device_code``, ``password``, ``refresh_token`` or ``client_credentials``.
        scopes: Scopes to request.
        audience: The ``audience`` parameter, for providers that need one.
        cache: Where the login is kept: ``file`` (default), ``keyring``, ``memory``, a
            ``redis://`` URL, or ``file:<folder>``.
        client_secret_env: The environment variable holding the client secret, for a
            confidential client; the secret itself is never in the file.
        auth_method: How the client authenticates to the token endpoint (default:
            ``client_secret_basic`` with a secret, ``none`` without).
        extra: Settings this version does not use (kept for newer tools).
        app: The ``App`` the profile belongs to (its cache folder, keyring service, token
            file and command); ``None`` is authwire's own.
    """

    name: str
    client_id: str
    token_url: str | None = None
    issuer: str | None = None
    grant: str = "authorization_code"
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    cache: str = "file"
    client_secret_env: str | None = None
    auth_method: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    app: App | None = field(default=None, repr=False, compare=False)

    @property
    def command(self) -> str:
        """The command that logs this profile in (``authwire``, or the SDK's)."""
        return _app(self.app).command

    @property
    def scope(self) -> str | None:
        """The scopes as one space-separated string, or ``None``."""
        return " ".join(self.scopes) or None

    @property
    def shown_cache(self) -> str:
        """``cache`` fit to print: a Redis URL without its password."""
        if self.cache.startswith(("redis://", "rediss://")):
            from authwire._core.redact import redact_url

            return redact_url(self.cache)
        return self.cache

    def identity(self) -> dict[str, Any]:
        """What identifies this profile's login in a cache (no secret)."""
        return {
            "profile": self.name,
            "issuer": self.issuer,
            "token_url": self.token_url,
            "client_id": self.client_id,
            "grant": self.grant,
            "scope": self.scope,
            "audience": self.audience,
        }

    @property
    def cache_key(self) -> str:
        """The key of this profile's login in its cache."""
        return cache_key(self.identity())

    def make_cache(self) -> TokenCache:
        """The cache ``cache =`` names (``file`` uses the default folder)."""
        kind = self.cache
        app = _app(self.app)
        if kind == "file":
            from authwire.caches.file import FileCache

            return FileCache(app.cache_dir)
        if kind.startswith("file:"):
            from authwire.caches.file import FileCache

            return FileCache(kind[5:])
        if kind == "keyring":
            from authwire.caches.keyring import KeyringCache

            return KeyringCache(service=app.keyring_service)
        if kind == "memory":
            from authwire.caches.memory import DEFAULT_MEMORY_CACHE

            return DEFAULT_MEMORY_CACHE
        from authwire.caches.redis import RedisCache

        return RedisCache(kind)

    def load_login(self) -> Token | None:
        """The saved login (its latest token), or ``None``."""
        return self.make_cache().get(self.cache_key)

    def save_login(self, token: Token) -> None:
        """Save ``token`` (with its refresh token) as this profile's login.

        An app whose ``TokenFile`` says ``write=True`` gets it in its own file too.
        """
        self.make_cache().set(self.cache_key, token)
        token_file = self.app.token_file if self.app is not None else None
        if token_file is not None and token_file.write:
            token_file.write_login(self.client_id, token)

    def forget_login(self) -> None:
        """Remove the saved login (a logout), and the app's token file holding it."""
        self.make_cache().delete(self.cache_key)
        token_file = self.app.token_file if self.app is not None else None
        if token_file is not None:
            entry = token_file.read()
            if entry is not None and entry.client_id in (None, self.client_id):
                token_file.delete()  # else the next use would migrate it back


@dataclass(frozen=True, slots=True)
class ProfileConfig:
    """A parsed config file.

    Attributes:
        path: Where it was read from.
        profiles: The profiles by name.
        default_profile: The profile used when none is named, if the file says.
        app: The ``App`` whose file it is; ``None`` is authwire's own.
    """

    path: Path
    profiles: Mapping[str, Profile]
    default_profile: str | None = None
    app: App | None = field(default=None, repr=False, compare=False)

    def get(self, name: str | None = None) -> Profile:
        """The profile ``name``, or the active one.

        Raises:
            ConfigurationError: If there is no such profile.
        """
        chosen = name or active_profile_name(self, app=self.app)
        try:
            return self.profiles[chosen]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigurationError(
                f"no profile {chosen!r} in {self.path} (profiles: {known})"
            ) from None


def active_profile_name(config: ProfileConfig | None = None, *, app: App | None = None) -> str:
    """``AUTHWIRE_PROFILE``, else the file's ``default_profile``, else ``"default"``.

    An SDK's ``App`` reads its own ``{PREFIX}PROFILE`` instead.
    """
    explicit = _app(app).getenv("PROFILE")
    if explicit:
        return explicit
    if config is not None and config.default_profile:
        return config.default_profile
    return "default"


def _text(path: Path, where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{path}: {where}.{key} must be a non-empty string")
    return value.strip()


def _profile(path: Path, name: str, table: Any, app: App | None) -> Profile:
    where = f"profiles.{name}"
    if not isinstance(table, dict):
        raise ConfigurationError(f"{path}: [{where}] must be a table")
    secrets = sorted(_SECRET_KEYS & set(table))
    if secrets:
        raise ConfigurationError(
            f"{path}: [{where}] holds {', '.join(secrets)}; profiles must not hold secrets. "
            "Put a client secret in an environment variable and name it with "
            f"client_secret_env; logins are saved by `{_app(app).command} login`, in the cache"
        )
    known = {f for f in Profile.__dataclass_fields__ if f not in ("name", "extra", "app")}
    options: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            extra[key] = value
        elif key == "scopes":
            if isinstance(value, str):
                value = value.split()
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise ConfigurationError(f"{path}: {where}.scopes must be a list of strings")
            options["scopes"] = tuple(value)
        else:
            options[key] = _text(path, where, key, value)
    if "client_id" not in options:
        raise ConfigurationError(f"{path}: [{where}] needs client_id")
    if ("token_url" in options) == ("issuer" in options):
        raise ConfigurationError(f"{path}: [{where}] needs exactly one of token_url and issuer")
    grant = options.get("grant", "authorization_code")
    if grant not in GRANTS:
        raise ConfigurationError(
            f"{path}: {where}.grant is {grant!r}; expected one of {', '.join(sorted(GRANTS))}"
        )
    cache = options.get("cache", "file")
    if cache not in CACHES and not cache.startswith(("redis://", "rediss://", "file:")):
        raise ConfigurationError(
            f"{path}: {where}.cache is {cache!r}; expected file, keyring, memory, "
            "file:<folder> or a redis:// URL"
        )
    return Profile(name=name, extra=extra, app=app, **options)


def load_config(
    path: str | os.PathLike[str] | None = None, *, app: App | None = None
) -> ProfileConfig | None:
    """The profiles in ``path`` (default: ``config_path()``), or ``None`` if it does not exist.

    Args:
        path: The file. Default: the app's ``config_path()``.
        app: The ``App`` the profiles belong to; default authwire's.

    Raises:
        ConfigurationError: If the file is not valid TOML or a profile is malformed (the
            message names the file, and the line for TOML errors).
    """
    file = Path(path).expanduser() if path is not None else config_path(app)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(f"cannot read {file}: {exc.strerror}") from None
    # Imported here: profiles are read once, not on every `import authwire`.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{file} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigurationError(
            f"{file}: unknown top-level setting(s) {', '.join(unknown)}; "
            "profiles go in [profiles.<name>] tables"
        )
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigurationError(f"{file}: profiles must be tables ([profiles.<name>])")
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise ConfigurationError(f"{file}: default_profile must be a string")
    profiles = {name: _profile(file, name, table, app) for name, table in tables.items()}
    return ProfileConfig(path=file, profiles=profiles, default_profile=default, app=app)
