"""``App``: authwire under an SDK's own name. Strictly private; see ``authwire.app``."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authwire.app._token_file import TokenFile
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    import argparse

    import click
    import typer

    from authwire.caches.base import TokenCache
    from authwire.config._profiles import Profile, ProfileConfig
    from authwire.credentials.base import Credential
    from authwire.requests import Session

__all__ = ["DEFAULT_APP", "App"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_PREFIX = re.compile(r"[A-Z][A-Z0-9_]*_")
#: The grants the app's built-in profile may log in with.
_LOGIN_GRANTS = ("device_code", "authorization_code")


def _folder(kind: str, name: str) -> Path:
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - an install without the extra
        raise ConfigurationError(
            f"the {kind} folder needs platformdirs: pip install 'authwire[files]'"
        ) from None
    if kind == "config":
        return Path(platformdirs.user_config_dir(name, appauthor=False))
    return Path(platformdirs.user_cache_dir(name, appauthor=False))


class App:
    """authwire under an SDK's own name: its variables, folders, command and defaults.

    An SDK creates one ``App`` at import time; everything a user sees is branded from it.
    ``authwire`` itself is ``authwire.app.DEFAULT_APP`` (``App("authwire")``). Two apps
    never share environment variables, folders, keyring entries or defaults.

    Args:
        name: The SDK's name: the ``platformdirs`` folder name, keyring service, logger
            name and the command (``mysdk``). Letters, digits, ``_.-``.
        env_prefix: The environment variables' prefix. Default: ``name`` upper-cased with
            ``-``/``.`` as ``_``, plus ``_`` (``"mysdk"`` → ``MYSDK_``). The default chain
            reads ``{PREFIX}TOKEN``, ``{PREFIX}CLIENT_ID``, ``{PREFIX}CLIENT_SECRET``,
            ``{PREFIX}TOKEN_URL``/``{PREFIX}ISSUER``, ``{PREFIX}SCOPE``; the profile file is
            ``{PREFIX}CONFIG`` and the profile ``{PREFIX}PROFILE``.
        command: The command users type, in help texts and messages (``"mysdk auth"`` when
            the commands are mounted under ``auth``). Default: ``name``.
        issuer: The SDK's OpenID provider (endpoints from discovery); or ``token_url``.
            Users override it with ``{PREFIX}ISSUER``/``{PREFIX}TOKEN_URL`` or a profile.
        token_url: The SDK's token endpoint.
        client_id: The SDK's public client id (its login client).
        scopes: Scopes the SDK asks for.
        grant: How ``login`` logs in: ``"device_code"`` (default) or
            ``"authorization_code"``.
        audience: The ``audience`` parameter, for providers that need one.
        token_file: An existing token file of the SDK (``TokenFile``); its login is
            migrated into the app's cache on first use, and kept written if it says so.
        config_dir: The folder of the profile file. Default: the user config folder
            (``~/.config/<name>`` on Linux).
        cache_dir: The token cache folder. Default: the user cache folder
            (``~/.cache/<name>`` on Linux).
        keyring_service: The keyring service name. Default: ``name``.
        user_agent: The ``User-Agent`` fragment of ``session()``. Default: ``name``.
        logger_name: The app's logger. Default: ``name + ".auth"``.

    Raises:
        ConfigurationError: For a malformed name or prefix, both or neither of
            ``issuer``/``token_url`` with a ``client_id``, or an unknown grant.

    Example:
        >>> import authwire
        >>> app = authwire.App("mysdk", issuer="https://login.example.com", client_id="cli")
        >>> app.env("TOKEN")
        'MYSDK_TOKEN'
        >>> app.logger.name
        'mysdk.auth'
    """

    def __init__(
        self,
        name: str,
        *,
        env_prefix: str | None = None,
        command: str | None = None,
        issuer: str | None = None,
        token_url: str | None = None,
        client_id: str | None = None,
        scopes: Iterable[str] = (),
        grant: str = "device_code",
        audience: str | None = None,
        token_file: TokenFile | None = None,
        config_dir: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        keyring_service: str | None = None,
        user_agent: str | None = None,
        logger_name: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigurationError(f"App name must be letters, digits and _.- ; got {name!r}")
        prefix = env_prefix if env_prefix is not None else re.sub(r"[-.]", "_", name).upper() + "_"
        if not _PREFIX.fullmatch(prefix):
            raise ConfigurationError(
                f"env_prefix must be upper-case letters, digits and _, ending in _; got {prefix!r}"
            )
        if issuer and token_url:
            raise ConfigurationError("give the App issuer= or token_url=, not both")
        if client_id and not (issuer or token_url):
            raise ConfigurationError("an App with a client_id needs issuer= or token_url=")
        if grant not in _LOGIN_GRANTS:
            raise ConfigurationError(
                f"App grant must be one of {', '.join(_LOGIN_GRANTS)}; got {grant!r}"
            )
        if isinstance(scopes, str):
            scopes = scopes.split()
        self.name = name
        self.env_prefix = prefix
        self.command = command or name
        self.issuer = issuer
        self.token_url = token_url
        self.client_id = client_id
        self.scopes: tuple[str, ...] = tuple(scopes)
        self.grant = grant
        self.audience = audience
        self.token_file = token_file
        self._config_dir = Path(config_dir).expanduser() if config_dir is not None else None
        self._cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self.keyring_service = keyring_service or name
        self.user_agent = user_agent or name
        self.logger = logging.getLogger(logger_name or f"{name}.auth")
        self._default: Credential | None = None
        self._chain: Credential | None = None
        self._mutex = threading.Lock()
        self._cli: typer.Typer | None = None
        self._chain_name = f"{name}.default_credential"

    def __repr__(self) -> str:
        return f"App({self.name!r}, env_prefix={self.env_prefix!r})"

    # -- names ---------------------------------------------------------------------------

    def env(self, suffix: str) -> str:
        """The name of the app's environment variable ``suffix`` (``"TOKEN"`` → ``MYSDK_TOKEN``)."""
        return self.env_prefix + suffix

    def getenv(self, suffix: str) -> str:
        """The stripped value of the app's variable ``suffix``, or ``""``."""
        return os.environ.get(self.env(suffix), "").strip()

    @property
    def config_dir(self) -> Path:
        """The folder of the profile file."""
        return self._config_dir or _folder("config", self.name)

    @property
    def cache_dir(self) -> Path:
        """The token cache folder."""
        return self._cache_dir or _folder("cache", self.name)

    def config_path(self) -> Path:
        """The profile file: ``{PREFIX}CONFIG``, else ``config.toml`` in ``config_dir``."""
        explicit = self.getenv("CONFIG")
        if explicit:
            return Path(explicit).expanduser()
        return self.config_dir / "config.toml"

    # -- caches and profiles ---------------------------------------------------------------

    def file_cache(self) -> TokenCache:
        """A ``FileCache`` in the app's cache folder."""
        from authwire.caches.file import FileCache

        return FileCache(self.cache_dir)

    def keyring_cache(self) -> TokenCache:
        """A ``KeyringCache`` under the app's keyring service name."""
        from authwire.caches.keyring import KeyringCache

        return KeyringCache(service=self.keyring_service)

    def load_config(self) -> ProfileConfig | None:
        """The app's profile file, or ``None`` if it does not exist.

        Raises:
            ConfigurationError: The file is malformed.
        """
        from authwire.config._profiles import load_config

        return load_config(self.config_path(), app=self)

    def builtin_profile(self) -> Profile | None:
        """The profile the SDK bakes in (its issuer and client), or ``None`` if it has none.

        ``{PREFIX}ISSUER`` or ``{PREFIX}TOKEN_URL`` override the SDK's endpoint for it.
        """
        from authwire.config._profiles import Profile

        issuer, token_url = self.getenv("ISSUER"), self.getenv("TOKEN_URL")
        if not (issuer or token_url):
            issuer, token_url = self.issuer or "", self.token_url or ""
        client_id = self.client_id
        if not client_id or not (issuer or token_url):
            return None
        return Profile(
            name="default",
            client_id=client_id,
            issuer=issuer or None,
            token_url=None if issuer else token_url,
            grant=self.grant,
            scopes=self.scopes,
            audience=self.audience,
            app=self,
        )

    def profile(self, name: str | None = None) -> Profile:
        """The profile ``name`` (or the active one) from the file, else the built-in one.

        Raises:
            ConfigurationError: No such profile, and no built-in one to stand for it.
        """
        from authwire.config._profiles import active_profile_name

        config = self.load_config()
        chosen = name or active_profile_name(config, app=self)
        if config is not None and chosen in config.profiles:
            return config.profiles[chosen]
        builtin = self.builtin_profile()
        if builtin is not None and chosen == "default":
            return builtin
        if config is None:
            raise ConfigurationError(
                f"no config file at {self.config_path()}; add a profile with "
                f"`{self.command} profile add`"
            )
        return config.get(chosen)

    # -- credentials ---------------------------------------------------------------------

    def environment_credential(self, **options: Any) -> Credential:
        """The credential the app's variables describe (``{PREFIX}TOKEN``...).

        A client id and secret without an endpoint use the SDK's own.
        """
        from authwire.credentials.environment import EnvironmentCredential

        return EnvironmentCredential(
            prefix=self.env_prefix,
            token_url=self.token_url,
            issuer=self.issuer,
            scope=" ".join(self.scopes) or None,
            **options,
        )

    def default_chain(self, *, profile: str | None = None) -> Credential:
        """A new default chain: the app's variables, then its profile's saved login."""
        from authwire.config._credential import ProfileCredential
        from authwire.credentials.chain import CredentialChain

        return CredentialChain(
            [self.environment_credential(), ProfileCredential(profile, app=self)],
            name=self._chain_name,
        )

    def default_credential(self, *, profile: str | None = None) -> Credential:
        """The credential set by ``set_default()``, else the app's default chain.

        Nothing is read until its first ``get_token()``, so this never raises.

        Args:
            profile: A profile to use instead of the active one.
        """
        with self._mutex:
            chosen = self._default
        if chosen is not None:
            return chosen
        return self.default_chain(profile=profile)

    def get_default(self) -> Credential:
        """The app's default credential, one object per app until ``set_default()``.

        The seed SDKs' ``get_default_auth()``: the same object every call, so its tokens
        are shared by every client of the SDK.
        """
        with self._mutex:
            if self._default is not None:
                return self._default
            if self._chain is None:
                self._chain = self.default_chain()
            return self._chain

    def set_default(self, credential: Credential | None) -> None:
        """Make ``credential`` the app's default; ``None`` restores the default chain.

        Raises:
            ConfigurationError: ``credential`` is not a ``Credential``.
        """
        from authwire.credentials.base import Credential

        if credential is not None and not isinstance(credential, Credential):
            raise ConfigurationError(
                f"set_default() takes a credential, not {type(credential).__name__}"
            )
        with self._mutex:
            self._default = credential
            self._chain = None

    def session(self, auth: Any = None, **options: Any) -> Session:
        """An ``authwire.requests.Session`` with the app's credential and User-Agent.

        Args:
            auth: The credential; default ``get_default()``.
            **options: Passed to ``Session`` (``retries``, ``verify``, ``headers``...).
        """
        from authwire import __version__
        from authwire.requests import Session

        headers = {"User-Agent": f"{self.user_agent} authwire/{__version__}"}
        headers.update(options.pop("headers", None) or {})
        return Session(auth if auth is not None else self.get_default(), headers=headers, **options)

    # -- command line --------------------------------------------------------------------

    @property
    def cli(self) -> typer.Typer:
        """The app's commands as a Typer app: ``sdk_app.add_typer(app.cli, name="auth")``.

        ``login``, ``logout``, ``status``, ``token``, ``explain``, ``request``, ``profile``.
        """
        if self._cli is None:
            from authwire.cli._app import build_cli

            self._cli = build_cli(self)
        return self._cli

    def click_command(self) -> click.Command:
        """The commands as one Click command: ``group.add_command(app.click_command(), "auth")``.

        Typer ships its own copy of Click, so its commands cannot join a Click group as
        they are; this command hands its arguments to them (``mysdk auth login ...``) and
        exits with their exit code. Needs ``click``.
        """
        import click

        @click.command(
            name=self.command.split()[-1],
            help=f"Log in to {self.name}, and get, inspect and use its tokens.",
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
            add_help_option=False,
        )
        @click.pass_context
        def command(ctx: click.Context) -> None:
            ctx.exit(self.main(list(ctx.args)))

        return command

    def add_argparse(
        self, subparsers: argparse._SubParsersAction[Any], name: str = "auth"
    ) -> argparse.ArgumentParser:
        """Add the commands to an ``argparse`` program as the sub-command ``name``.

        The parser's ``func`` default runs them: ``args.func(args)`` returns the exit code.
        """
        import argparse as _argparse

        parser: _argparse.ArgumentParser = subparsers.add_parser(
            name, help=f"Log in to {self.name} and manage its tokens.", add_help=False
        )
        parser.add_argument("auth_args", nargs=_argparse.REMAINDER)
        parser.set_defaults(func=lambda args: self.main(list(args.auth_args)))
        return parser

    def main(self, argv: Sequence[str] | None = None) -> int:
        """Run the commands with ``argv`` (default ``sys.argv[1:]``); the exit code."""
        import sys

        args = list(sys.argv[1:] if argv is None else argv)
        self.logger.addHandler(logging.NullHandler())
        try:
            self.cli(args=args, prog_name=self.command, standalone_mode=True)
        except SystemExit as exc:
            code = exc.code
            return code if isinstance(code, int) else (0 if code is None else 1)
        return 0


#: authwire's own brand: ``AUTHWIRE_*`` variables, the ``authwire`` command and folders.
DEFAULT_APP = App("authwire", env_prefix="AUTHWIRE_", logger_name="authwire")
DEFAULT_APP._chain_name = "default_credential"
