"""``authwire.App``: an SDK's names, folders, defaults, token file and mounted commands."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import click
import pytest
import typer
from click.testing import CliRunner as ClickRunner
from typer.testing import CliRunner

import authwire
from authwire.app import DEFAULT_APP, App, TokenFile
from authwire.testing import make_jwt, make_token


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private XDG folders."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("ONE_TOKEN", "TWO_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_names_are_branded(dirs: Path) -> None:
    """Variables, folders, keyring service, logger and command carry the app's name."""
    app = App("mysdk", command="mysdk auth")
    assert app.env("CLIENT_ID") == "MYSDK_CLIENT_ID"
    assert app.config_path() == dirs / "config" / "mysdk" / "config.toml"
    assert app.cache_dir == dirs / "cache" / "mysdk"
    assert app.keyring_service == "mysdk"
    assert app.logger.name == "mysdk.auth"
    assert DEFAULT_APP.env("TOKEN") == "AUTHWIRE_TOKEN"
    assert DEFAULT_APP.logger.name == "authwire"


def test_two_apps_share_no_variables_or_defaults(
    dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each app reads only its own variables and keeps its own default."""
    one, two = App("one"), App("two")
    monkeypatch.setenv("ONE_TOKEN", "t-one")
    assert one.default_credential().get_token().access_token == "t-one"
    with pytest.raises(authwire.CredentialUnavailable):
        two.default_credential().get_token()
    one.set_default(authwire.StaticToken("set-one"))
    assert two.get_default() is not one.get_default()
    assert authwire.default_credential() is not one.get_default()
    one.set_default(None)


def test_sdk_endpoint_fills_in_for_the_environment(
    dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client id and secret in the app's variables use the SDK's own token endpoint."""
    app = App("one", token_url="https://login.example.com/token", client_id="cli")
    monkeypatch.setenv("ONE_CLIENT_ID", "svc")
    monkeypatch.setenv("ONE_CLIENT_SECRET", "s3cr3t-value")
    credential = app.environment_credential().credential  # type: ignore[attr-defined]
    assert isinstance(credential, authwire.ClientCredentials)
    assert "login.example.com" in repr(credential)


def test_token_file_permissions_are_checked(tmp_path: Path) -> None:
    """A token file others can read is refused, as FileCache refuses its files."""
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"client_id": "cli", "refresh_token": "rt-1"}))
    path.chmod(0o644)
    with pytest.raises(authwire.CacheError, match="chmod 600"):
        TokenFile(path).read()


def test_token_file_migration_and_write_back(dirs: Path) -> None:
    """An SDK's old login is migrated into the app's cache with its refresh token; a
    login saved by the app is written back in the file's own field names."""
    path = dirs / "legacy" / "token_info.json"
    access = make_jwt({"exp": 4_000_000_000, "sub": "alice"})
    file = TokenFile(path, access_token="jwt_token", write=True)
    file.write_fields({"client_id": "cli", "refresh_token": "rt-old", "jwt_token": access})
    app = App("mig", token_url="https://login.example.com/token", client_id="cli", token_file=file)
    credential = app.default_credential()
    token = credential.get_token()
    assert token.access_token == access
    profile = app.profile()
    saved = profile.load_login()
    assert saved is not None
    assert saved.refresh_token == "rt-old"
    profile.save_login(make_token(refresh_token="rt-new", access_token="at-new"))
    fields = json.loads(path.read_text())
    assert (fields["refresh_token"], fields["jwt_token"]) == ("rt-new", "at-new")
    profile.forget_login()
    assert not path.exists()


def test_token_file_of_another_client_is_not_migrated(dirs: Path) -> None:
    """A token file holding another client's login is left alone."""
    path = dirs / "t.json"
    file = TokenFile(path)
    file.write_fields({"client_id": "someone-else", "refresh_token": "rt"})
    app = App("mig2", token_url="https://login.example.com/token", client_id="cli", token_file=file)
    with pytest.raises(authwire.CredentialUnavailable, match="mig2 login"):
        app.default_credential().get_token()


def test_records_carry_the_app_name(dirs: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The migration is logged on the app's own logger."""
    path = dirs / "t.json"
    file = TokenFile(path)
    access = make_jwt({"exp": 4_000_000_000})
    file.write_fields({"client_id": "cli", "refresh_token": "rt-x", "access_token": access})
    app = App(
        "logged", token_url="https://login.example.com/token", client_id="cli", token_file=file
    )
    with caplog.at_level(logging.INFO, logger="logged.auth"):
        assert app.default_chain().get_token().access_token == access
    assert any(r.name == "logged.auth" and "migrated" in r.getMessage() for r in caplog.records)
    assert not any("rt-x" in r.getMessage() for r in caplog.records)


def test_cli_mounts_in_typer_click_and_argparse(dirs: Path) -> None:
    """The commands mount under an SDK's Typer app, Click group and argparse program."""
    app = App("mysdk", command="mysdk auth")
    sdk = typer.Typer()
    sdk.add_typer(app.cli, name="auth")

    @sdk.command()
    def version() -> None:
        """The SDK's own command."""

    result = CliRunner().invoke(sdk, ["auth", "token"])
    assert result.exit_code == 4
    assert "mysdk auth:" in result.output
    assert "authwire" not in result.output

    @click.group()
    def group() -> None:
        """An SDK's Click program."""

    group.add_command(app.click_command(), "auth")
    result = ClickRunner().invoke(group, ["auth", "--help"])
    assert result.exit_code == 0
    assert "login" in result.output
    assert "Log in to mysdk" in result.output

    parser = argparse.ArgumentParser(prog="mysdk")
    app.add_argparse(parser.add_subparsers())
    args = parser.parse_args(["auth", "token"])
    assert args.func(args) == 4


def test_session_has_the_user_agent_fragment() -> None:
    """app.session() sends the SDK's User-Agent fragment."""
    with App("uasdk").session(authwire.StaticToken("x")) as session:
        assert session.headers["User-Agent"].startswith("uasdk authwire/")


def test_bad_names_are_refused() -> None:
    """A malformed name or prefix is a ConfigurationError."""
    with pytest.raises(authwire.ConfigurationError):
        App("has space")
    with pytest.raises(authwire.ConfigurationError):
        App("ok", env_prefix="lower_")
    with pytest.raises(authwire.ConfigurationError):
        App("ok", client_id="cli")
