"""The ``authwire`` commands (typer), built for an ``App``. Strictly private.

``build_cli(app)`` makes the commands of one ``App``: authwire's own (``authwire.cli.main``
runs ``DEFAULT_APP.cli``) or an SDK's, whose help, messages and hints name the SDK's
command and whose variables, profile file and caches are the SDK's.

Every command catches authwire's errors and exits with a documented code (``ExitCode``);
with ``--json`` the error is a JSON object on standard output too. Tracebacks (and their
local variables) are never shown. Only ``authwire token`` writes a secret.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from authwire.cli._exit import ExitCode, exit_code_for
from authwire.errors import AuthwireError, ConfigurationError

if TYPE_CHECKING:
    from authwire.app import App

__all__ = ["build_cli"]  # and ``app``, authwire's own commands (module __getattr__)

ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="The profile (default: the active one)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Write JSON for scripts.")]


def _who(claims: dict[str, Any]) -> str | None:
    for name in ("email", "preferred_username", "name", "sub", "client_id"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _left(expires_at: float | None) -> int | None:
    return None if expires_at is None else int(expires_at - time.time())


def _profile_of(source: Any) -> str | None:
    """The profile behind ``source``, when it is the active profile's credential."""
    from authwire.config import ProfileCredential

    if not isinstance(source, ProfileCredential):
        return None
    profile = getattr(source.credential, "profile", None)
    name = getattr(profile, "name", None)
    return name if isinstance(name, str) else None


def _cache_of(source: Any) -> str | None:
    from authwire.config import ProfileCredential

    if isinstance(source, ProfileCredential):
        source = source.credential
    manager = getattr(source, "manager", None)
    cache = getattr(manager, "cache", None)
    return None if cache is None else str(cache.describe())


def _read_data(data: str) -> bytes:
    if not data.startswith("@"):
        return data.encode()
    try:
        with open(data[1:], "rb") as file:
            return file.read()
    except OSError as exc:
        raise ConfigurationError(f"--data: cannot read {data[1:]}: {exc.strerror}") from None


def _about(brand: App) -> str:
    if brand.name == "authwire":
        return "Log in, and get, inspect and use tokens for your APIs."
    return f"Log in to {brand.name}, and get, inspect and use its tokens."


def build_cli(brand: App) -> typer.Typer:
    """The commands of ``brand`` as a Typer app (mount it with ``add_typer``).

    Args:
        brand: The ``App`` whose names, variables, files and defaults the commands use.
    """
    app = typer.Typer(
        name=brand.command,
        help=_about(brand),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    profile_app = typer.Typer(
        help="Add, list, choose and remove profiles.", no_args_is_help=True, rich_markup_mode=None
    )
    app.add_typer(profile_app, name="profile")
    # Options of the whole command line (set by the callback below).
    state: dict[str, bool] = {"verbose": False}

    @app.callback(help=_about(brand))
    def _options(
        verbose: Annotated[
            bool, typer.Option("--verbose", "-v", help="Show the auth log (no secrets).")
        ] = False,
    ) -> None:
        """Log in, and get, inspect and use tokens for your APIs."""
        state["verbose"] = verbose
        if verbose:
            import logging

            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            for logger in {logging.getLogger("authwire"), brand.logger}:
                logger.addHandler(handler)
                logger.setLevel(logging.DEBUG)

    @contextlib.contextmanager
    def _failures(as_json: bool) -> Iterator[None]:
        """Turn an error into a message and an exit code."""
        try:
            yield
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:
            code = exit_code_for(exc)
            if isinstance(exc, AuthwireError):
                message = exc.message  # secret-free by contract
            elif code is ExitCode.UNREACHABLE:
                message = f"cannot reach the server ({type(exc).__name__})"
            elif state["verbose"]:
                raise  # -v: the traceback, for a bug report
            else:
                # Another library's message may quote what it was given: named, not shown.
                message = f"unexpected {type(exc).__name__}; run with -v to see the traceback"
            if as_json:
                from authwire.cli._render import print_json

                print_json(
                    {"error": type(exc).__name__, "message": message, "exit_code": int(code)}
                )
            sys.stderr.write(f"{brand.command}: {message}\n")
            raise typer.Exit(code) from None

    def _load_profile(name: str | None) -> Any:
        """The profile ``name`` (or the active one): the file's, else the app's built-in."""
        return brand.profile(name)

    def _chain_token(profile: str | None) -> tuple[Any, Any]:
        """The default chain's token and the source that gave it."""
        from authwire.credentials.chain import CredentialChain

        credential = brand.default_credential(profile=profile)
        token = credential.get_token()
        source = credential.chosen if isinstance(credential, CredentialChain) else credential
        return token, source

    # -- login / logout ------------------------------------------------------------------------

    @app.command()
    def login(
        profile: ProfileOption = None,
        device: Annotated[
            bool, typer.Option("--device", help="Log in with a code on another device.")
        ] = False,
        browser: Annotated[
            bool, typer.Option("--browser", help="Log in in this machine's web browser.")
        ] = False,
        qr: Annotated[bool, typer.Option("--qr/--no-qr", help="Draw a QR code (device).")] = True,
        poll_interval: Annotated[
            float | None,
            typer.Option(
                "--poll-interval", min=0, help="Seconds between polls (default: the server's)."
            ),
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Log in and save the login in the profile's cache."""
        from authwire.cli import _login, _render

        with _failures(as_json):
            if device and browser:
                raise ConfigurationError("give --device or --browser, not both")
            chosen = _load_profile(profile)
            grant = "device_code" if device else "authorization_code" if browser else chosen.grant
            screen = _render.DeviceScreen(as_json=as_json, show_qr=qr)
            credential = _login.user_grant(
                chosen,
                grant,
                prompt=screen.prompt,
                poll_interval=poll_interval,
                browser=lambda url: _render.open_browser(url, as_json=as_json),
            )
            try:
                token = _login.login(chosen, credential)
            finally:
                screen.close()
            claims = token.id_claims or token.claims
            who = _who(claims)
            result = {
                "event": "logged_in",
                "profile": chosen.name,
                "subject": who,
                "expires_in": _left(token.expires_at),
                "scopes": sorted(token.scopes),
                "cache": chosen.make_cache().describe(),
            }
            if as_json:
                _render.print_json(result)
            else:
                _render.console().print(
                    f"Logged in{f' as {who}' if who else ''} (profile {chosen.name}); "
                    f"saved in {result['cache']}"
                )

    @app.command()
    def logout(profile: ProfileOption = None, as_json: JsonOption = False) -> None:
        """Revoke the saved login at the provider, then delete it from the cache."""
        from authwire.cli import _login, _render

        with _failures(as_json):
            chosen = _load_profile(profile)
            had, revoked = _login.logout(chosen)
            if as_json:
                _render.print_json(
                    {
                        "event": "logged_out",
                        "profile": chosen.name,
                        "had_login": had,
                        "revoked": revoked,
                    }
                )
            elif not had:
                _render.console().print(f"Not logged in (profile {chosen.name}).")
            else:
                what = (
                    "revoked and deleted" if revoked else "deleted (the provider revoked nothing)"
                )
                _render.console().print(f"Logged out of profile {chosen.name}: login {what}.")

    # -- token / status / request ------------------------------------------------------------

    @app.command()
    def token(profile: ProfileOption = None) -> None:
        """Print the access token alone (for `Authorization: Bearer $(COMMAND token)`)."""
        with _failures(False):
            value, _ = _chain_token(profile)
            sys.stdout.write(value.access_token + "\n")

    @app.command()
    def status(profile: ProfileOption = None, as_json: JsonOption = False) -> None:
        """Who you are, until when, with which scopes, and where the login comes from."""
        from authwire.cli import _render

        with _failures(as_json):
            value, source = _chain_token(profile)
            claims = value.id_claims or value.claims
            access = value.claims
            expires_at = value.expires_at
            if expires_at is None and isinstance(access.get("exp"), (int, float)):
                expires_at = float(access["exp"])  # a static JWT: its own claim says
            info: dict[str, Any] = {
                "source": repr(source),
                "profile": _profile_of(source),
                "subject": _who(claims),
                "issuer": claims.get("iss") or access.get("iss"),
                "client_id": access.get("client_id") or claims.get("azp"),
                "expires_at": expires_at,
                "expires_in": _left(expires_at),
                "scopes": sorted(value.scopes),
                "refreshable": bool(value.refresh_token),
                "cache": _cache_of(source),
            }
            if as_json:
                _render.print_json(info)
                return
            shown = dict(info)
            shown.pop("expires_at")
            left = info["expires_in"]
            shown["expires_in"] = (
                "never"
                if left is None
                else "expired"
                if left < 0
                else f"{left // 60} min {left % 60} s"
            )
            _render.print_pairs(_render.describe_pairs(shown))

    @app.command()
    def request(
        method: Annotated[str, typer.Argument(help="GET, POST, PUT, PATCH, DELETE...")],
        url: Annotated[str, typer.Argument(help="The URL.")],
        profile: ProfileOption = None,
        header: Annotated[
            list[str] | None, typer.Option("--header", "-H", help="'Name: value' (repeatable).")
        ] = None,
        data: Annotated[
            str | None, typer.Option("--data", "-d", help="The body; @file reads a file.")
        ] = None,
        timeout: Annotated[float, typer.Option(min=0.1, help="Seconds.")] = 30.0,
        as_json: JsonOption = False,
    ) -> None:
        """Send an authenticated request and show the answer (JSON pretty-printed)."""
        from authwire.cli import _render

        with _failures(as_json):
            import httpx

            import authwire.httpx
            from authwire._core.redact import redact_url

            if not url.lower().startswith(("http://", "https://")):
                raise ConfigurationError(
                    f"the URL must start with http:// or https://: {redact_url(url)!r}"
                )
            headers: dict[str, str] = {}
            for item in header or []:
                name, sep, value = item.partition(":")
                if not sep or not name.strip():
                    raise ConfigurationError(f"--header takes 'Name: value', got {name.strip()!r}")
                headers[name.strip()] = value.strip()
            body: bytes | None = None
            if data is not None:
                body = _read_data(data)
            auth = authwire.httpx.Auth(brand.default_credential(profile=profile))
            with httpx.Client(auth=auth, timeout=timeout, follow_redirects=True) as client:
                response = client.request(method.upper(), url, headers=headers, content=body)
            try:
                parsed: Any = response.json()
                is_json = True
            except ValueError:
                parsed, is_json = response.text, False
            if as_json:
                _render.print_json({"status": response.status_code, "body": parsed})
            else:
                sys.stderr.write(f"HTTP {response.status_code} {response.reason_phrase}\n")
                out = _render.console()
                if is_json:
                    out.print_json(json.dumps(parsed))
                else:
                    out.print(parsed, markup=False)
            if response.status_code >= 400:
                raise typer.Exit(ExitCode.HTTP_ERROR)

    # -- explain -------------------------------------------------------------------------------

    @app.command()
    def explain(profile: ProfileOption = None, as_json: JsonOption = False) -> None:
        """Which credential source wins and why the others were skipped; cache, clock, discovery."""
        from authwire.cli import _render
        from authwire.cli._explain import explain as report

        with _failures(as_json):
            checks = report(profile, app=brand)
            found = any(c.section == "source" and c.state == "ok" for c in checks)
            if as_json:
                _render.print_json({"found": found, "checks": [c.as_dict() for c in checks]})
            else:
                _render.print_table(
                    ("section", "state", "checked", "found"),
                    ((c.section, c.state, c.subject, c.detail) for c in checks),
                )
            if not found:
                raise typer.Exit(ExitCode.LOGIN_REQUIRED)

    # -- profiles ------------------------------------------------------------------------------

    @profile_app.command("add")
    def profile_add(
        name: Annotated[str, typer.Argument(help="The profile's name.")],
        issuer: Annotated[
            str | None, typer.Option(help="The OpenID provider (endpoints from discovery).")
        ] = None,
        token_url: Annotated[str | None, typer.Option(help="The token endpoint.")] = None,
        client_id: Annotated[str, typer.Option(help="The OAuth client id.")] = "",
        grant: Annotated[
            str, typer.Option(help="device_code, authorization_code, client_credentials...")
        ] = "authorization_code",
        scope: Annotated[
            list[str] | None, typer.Option("--scope", "-s", help="A scope (repeatable).")
        ] = None,
        audience: Annotated[str | None, typer.Option(help="The audience parameter.")] = None,
        cache: Annotated[
            str | None, typer.Option(help="file (default), keyring, memory, file:DIR, redis://...")
        ] = None,
        client_secret_env: Annotated[
            str | None, typer.Option(help="The variable holding the client secret.")
        ] = None,
        default: Annotated[bool, typer.Option("--default", help="Make it the default.")] = False,
        replace: Annotated[
            bool, typer.Option("--replace", help="Overwrite an existing one.")
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Add a profile to the config file (it holds no secret)."""
        from authwire.cli import _render
        from authwire.cli._store import add_profile

        with _failures(as_json):
            if not client_id:
                raise ConfigurationError("--client-id is required")
            scopes = [s for item in scope or [] for s in item.split()]
            config = add_profile(
                name,
                {
                    "issuer": issuer,
                    "token_url": token_url,
                    "client_id": client_id,
                    "grant": grant,
                    "scopes": scopes,
                    "audience": audience,
                    "cache": cache,
                    "client_secret_env": client_secret_env,
                },
                make_default=default,
                replace=replace,
                app=brand,
            )
            if as_json:
                _render.print_json(
                    {"added": name, "path": str(config.path), "default": config.default_profile}
                )
            else:
                _render.console().print(f"Added profile {name} to {config.path}.")

    @profile_app.command("list")
    def profile_list(as_json: JsonOption = False) -> None:
        """List the profiles; the active one is marked."""
        from authwire._core.redact import redact_url
        from authwire.cli import _render
        from authwire.config import active_profile_name

        with _failures(as_json):
            config = brand.load_config()
            profiles = list(config.profiles.values()) if config else []
            active = active_profile_name(config, app=brand)
            rows: list[dict[str, Any]] = [
                {
                    "name": p.name,
                    "active": p.name == active,
                    "grant": p.grant,
                    "issuer": redact_url(p.issuer or p.token_url or "") or None,
                    "client_id": p.client_id,
                    "scopes": list(p.scopes),
                    "cache": p.shown_cache,
                }
                for p in profiles
            ]
            if as_json:
                _render.print_json({"profiles": rows, "active": active})
            elif not rows:
                _render.console().print(f"No profiles; add one with `{brand.command} profile add`.")
            else:
                _render.print_table(
                    ("", "name", "grant", "issuer / token url", "client id", "scopes"),
                    (
                        (
                            "*" if r["active"] else "",
                            r["name"],
                            r["grant"],
                            r["issuer"],
                            r["client_id"],
                            " ".join(r["scopes"]),
                        )
                        for r in rows
                    ),
                )

    @profile_app.command("use")
    def profile_use(name: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
        """Make a profile the default one."""
        from authwire.cli import _render
        from authwire.cli._store import use_profile

        with _failures(as_json):
            config = use_profile(name, app=brand)
            if as_json:
                _render.print_json({"default": name, "path": str(config.path)})
            else:
                _render.console().print(f"Default profile: {name}.")

    @profile_app.command("remove")
    def profile_remove(
        name: Annotated[str, typer.Argument()],
        keep_login: Annotated[
            bool, typer.Option("--keep-login", help="Keep the saved login in the cache.")
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Remove a profile and delete its saved login (`COMMAND logout` first revokes it)."""
        from authwire.cli import _render
        from authwire.cli._store import remove_profile

        with _failures(as_json):
            config = brand.load_config()
            if config is not None and name in config.profiles and not keep_login:
                with contextlib.suppress(AuthwireError):
                    config.profiles[name].forget_login()
            new = remove_profile(name, app=brand)
            if as_json:
                _render.print_json({"removed": name, "default": new.default_profile})
            else:
                _render.console().print(f"Removed profile {name}.")

    for typer_app in (app, profile_app):
        for info in typer_app.registered_commands:
            doc = info.help or (info.callback.__doc__ if info.callback else None)
            if doc and "COMMAND" in doc:
                info.help = doc.replace("COMMAND", brand.command)
    return app


def __getattr__(name: str) -> Any:
    # ``app``: authwire's own commands, built on first use.
    if name == "app":
        from authwire.app import DEFAULT_APP

        return DEFAULT_APP.cli
    raise AttributeError(name)
