"""``authwire`` commands in-process (typer's CliRunner): arguments, errors, exit codes, output.

No network: these commands read the config file, the environment and the file cache only.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.leakcheck import assert_no_secret, plant
from typer.testing import CliRunner

from authwire.cli import ExitCode
from authwire.cli._app import app
from authwire.config import load_config
from authwire.testing import make_jwt, make_token

ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private (not yet existing) config file and cache folder."""
    path = tmp_path / "config.toml"
    monkeypatch.setenv("AUTHWIRE_CONFIG", str(path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return path


def run(*args: str, code: int = 0) -> Any:
    """Invoke the app; assert the exit code; the result."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, (args, result.exit_code, result.output)
    return result


def add(name: str, *extra: str, code: int = 0) -> Any:
    """``profile add`` with a device-code client on a loopback issuer."""
    return run(
        "profile",
        "add",
        name,
        "--issuer",
        "http://127.0.0.1:9/",
        "--client-id",
        f"{name}-cli",
        "--grant",
        "device_code",
        *extra,
        code=code,
    )


def test_exit_codes_are_pinned() -> None:
    """The documented exit codes do not change by accident."""
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0,
        "ERROR": 1,
        "USAGE": 2,
        "CONFIG": 3,
        "LOGIN_REQUIRED": 4,
        "TOKEN_ENDPOINT": 5,
        "UNREACHABLE": 6,
        "HTTP_ERROR": 7,
        "INTERRUPTED": 130,
    }


def test_profile_add_list_use_remove(config: Path) -> None:
    """Profiles round-trip through the file; the first is the default; use and remove work."""
    add("billing", "--scope", "read write", "-s", "offline_access")
    add("reports", "--cache", "memory")
    loaded = load_config(config)
    assert loaded is not None
    assert loaded.default_profile == "billing"
    assert loaded.profiles["billing"].scopes == ("read", "write", "offline_access")
    assert loaded.profiles["reports"].cache == "memory"

    listed = json.loads(run("profile", "list", "--json").stdout)
    assert listed["active"] == "billing"
    assert [p["name"] for p in listed["profiles"]] == ["billing", "reports"]
    assert "*  billing" in run("profile", "list").stdout

    run("profile", "use", "reports")
    assert json.loads(run("profile", "list", "--json").stdout)["active"] == "reports"
    run("profile", "remove", "reports")
    loaded = load_config(config)
    assert loaded is not None
    assert list(loaded.profiles) == ["billing"]
    assert loaded.default_profile is None


def test_profile_add_keeps_other_settings(config: Path) -> None:
    """Rewriting the file keeps settings this version does not know."""
    config.write_text(
        'default_profile = "a"\n[profiles.a]\nclient_id = "x"\ntoken_url = "https://t/"\n'
        'future = {mode = "fast", level = 3}\n'
    )
    add("b")
    loaded = load_config(config)
    assert loaded is not None
    assert loaded.default_profile == "a"
    assert dict(loaded.profiles["a"].extra) == {"future": {"mode": "fast", "level": 3}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("profile", "use", "nope"), "no profile 'nope'"),
        (("profile", "remove", "nope"), "no profile 'nope'"),
        (("login", "--profile", "nope"), "no profile 'nope'"),
        (("login", "--device", "--browser"), "not both"),
        (("logout", "--profile", "nope"), "no profile 'nope'"),
    ],
)
def test_configuration_errors_exit_3(config: Path, args: tuple[str, ...], message: str) -> None:
    """A missing profile or contradictory options exit with CONFIG and say why."""
    add("main")
    result = run(*args, code=ExitCode.CONFIG)
    assert message in result.stderr


def test_duplicate_and_invalid_profiles_are_refused(config: Path) -> None:
    """A second add needs --replace; an invalid profile leaves the file untouched."""
    add("main")
    before = config.read_text()
    assert "--replace" in add("main", code=ExitCode.CONFIG).stderr
    bad = run(
        "profile", "add", "x", "--issuer", "https://a/", "--token-url", "https://b/",
        "--client-id", "c", code=ExitCode.CONFIG,
    )  # fmt: skip
    assert "exactly one of token_url and issuer" in bad.stderr
    assert "grant" in add("y", "--grant", "magic", code=ExitCode.CONFIG).stderr
    assert config.read_text() == before
    assert list(config.parent.glob(".config.toml.*")) == []  # no temporary file left
    add("main", "--replace", "--scope", "new")
    loaded = load_config(config)
    assert loaded is not None
    assert loaded.profiles["main"].scopes == ("new",)


def test_malformed_config_is_reported_not_overwritten(config: Path) -> None:
    """A broken file gives CONFIG with its name; profile add does not replace it."""
    config.write_text("[profiles.a\n")
    for args in (("profile", "list"), ("status",), ("token",)):
        result = run(*args, code=ExitCode.CONFIG)
        assert str(config) in result.stderr
    add("b", code=ExitCode.CONFIG)
    assert config.read_text() == "[profiles.a\n"


def test_login_without_config_or_with_a_service_profile(config: Path) -> None:
    """login needs a profile whose grant is a user login."""
    assert "authwire profile add" in run("login", code=ExitCode.CONFIG).stderr
    run(
        "profile", "add", "svc", "--token-url", "https://login.example.com/token",
        "--client-id", "svc", "--grant", "client_credentials",
    )  # fmt: skip
    result = run("login", code=ExitCode.CONFIG)
    assert "client_credentials" in result.stderr


def test_token_prints_only_the_token(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """token writes the access token and a newline, nothing else."""
    secret = plant("token")
    monkeypatch.setenv("AUTHWIRE_TOKEN", secret)
    result = run("token")
    assert result.stdout == secret + "\n"
    assert result.stderr == ""


def test_status_shows_who_but_no_secret(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """status reads the claims and the expiry, names the source, never shows the token."""
    exp = int(time.time()) + 600
    jwt = make_jwt(
        {"sub": "u-1", "email": "ada@example.com", "exp": exp, "iss": "https://idp/",
         "client_id": "cli", "padding": plant("claim")}
    )  # fmt: skip
    monkeypatch.setenv("AUTHWIRE_TOKEN", jwt)
    info = json.loads(run("status", "--json").stdout)
    assert info["subject"] == "ada@example.com"
    assert info["issuer"] == "https://idp/"
    assert info["client_id"] == "cli"
    assert info["source"].startswith("EnvironmentCredential(")
    assert info["refreshable"] is False
    assert info["profile"] is None
    text = run("status").stdout
    assert "ada@example.com" in text
    assert re.search(r"expires in\s+(9|10) min", text)
    assert_no_secret(json.dumps(info) + text, jwt)
    assert not ANSI.search(text)  # not a terminal: no colour


def test_no_credential_exits_4_and_lists_sources(config: Path) -> None:
    """Without any source, token and status exit LOGIN_REQUIRED listing each source."""
    result = run("token", code=ExitCode.LOGIN_REQUIRED)
    assert result.stdout == ""
    assert "EnvironmentCredential()" in result.stderr
    assert "ProfileCredential()" in result.stderr
    error = json.loads(run("status", "--json", code=ExitCode.LOGIN_REQUIRED).stdout)
    assert error["error"] == "CredentialUnavailable"
    assert error["exit_code"] == ExitCode.LOGIN_REQUIRED


def test_saved_login_is_used_and_logout_without_revocation_endpoint(
    config: Path,
) -> None:
    """status finds a login saved in the profile's cache; logout deletes it locally."""
    add("main", "--cache", f"file:{config.parent / 'tokens'}")
    loaded = load_config(config)
    assert loaded is not None
    profile = loaded.get("main")
    token = make_token(
        access_token=make_jwt({"sub": "bob", "exp": int(time.time()) + 900}),
        refresh_token=plant("refresh"),
        expires_in=None,
        scope="read",
    )
    profile.save_login(token)
    info = json.loads(run("status", "--json").stdout)
    assert (info["subject"], info["scopes"], info["refreshable"]) == ("bob", ["read"], True)
    assert "tokens" in info["cache"]
    assert info["profile"] == "main"
    # Revocation needs discovery from 127.0.0.1:9, which refuses: the local copy is
    # deleted anyway, and the failure is reported.
    result = run("logout", code=ExitCode.UNREACHABLE)
    assert profile.load_login() is None
    assert_no_secret(result.output, token.access_token, token.refresh_token or "")


def test_request_rejects_a_bad_header(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A header without a colon is a usage error before anything is sent."""
    monkeypatch.setenv("AUTHWIRE_TOKEN", "t")
    result = run("request", "GET", "http://127.0.0.1:9/", "-H", "NoColon", code=ExitCode.CONFIG)
    assert "Name: value" in result.stderr
    result = run("request", "GET", "example.com/x", code=ExitCode.CONFIG)
    assert "http:// or https://" in result.stderr
    missing = run(
        "request",
        "POST",
        "http://127.0.0.1:9/",
        "-d",
        "@/nonexistent/body.json",
        code=ExitCode.CONFIG,
    )
    assert "cannot read /nonexistent/body.json" in missing.stderr


def test_request_to_a_closed_port_exits_unreachable(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused connection exits UNREACHABLE with a one-line message, no traceback."""
    monkeypatch.setenv("AUTHWIRE_TOKEN", "t")
    result = run("request", "GET", "http://127.0.0.1:9/", code=ExitCode.UNREACHABLE)
    assert result.stderr == "authwire: cannot reach the server (ConnectError)\n"


def test_usage_errors_exit_2() -> None:
    """Unknown commands and options are click's usage errors."""
    assert CliRunner().invoke(app, ["nope"]).exit_code == ExitCode.USAGE
    assert CliRunner().invoke(app, ["token", "--nope"]).exit_code == ExitCode.USAGE


def test_python_dash_m_authwire_runs_the_cli() -> None:
    """python -m authwire is the same command."""
    done = subprocess.run(
        [sys.executable, "-m", "authwire", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for command in ("login", "logout", "token", "status", "request", "profile", "explain"):
        assert command in done.stdout


def test_cli_import_is_light() -> None:
    """Loading the commands imports neither httpx, qrcode nor rich (they load on use)."""
    code = (
        "import sys, authwire.cli._app\n"
        "print(sorted(m for m in ('httpx', 'qrcode', 'rich', 'requests') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_explain_without_config(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """explain says the file is missing and why each source was skipped (names, no values)."""
    planted = plant("env")
    monkeypatch.setenv("AUTHWIRE_SCOPE", planted)
    result = run("explain", "--json", code=ExitCode.LOGIN_REQUIRED)
    report = json.loads(result.stdout)
    assert report["found"] is False
    checks = {(c["section"], c["subject"]): c for c in report["checks"]}
    assert (
        checks[("config", "environment")]["detail"]
        == "AUTHWIRE_* set: AUTHWIRE_CONFIG, AUTHWIRE_SCOPE"
    )
    assert checks[("config", str(config))]["detail"] == "does not exist (no profiles)"
    assert checks[("source", "EnvironmentCredential()")]["state"] == "skipped"
    assert checks[("source", "ProfileCredential()")]["state"] == "skipped"
    assert_no_secret(result.output, planted)


def test_explain_with_a_broken_config(config: Path) -> None:
    """A malformed file is a failed config check and stops the chain at the profile source."""
    config.write_text("[profiles.a]\nclient_id = 'x'\n")  # neither issuer nor token_url
    report = json.loads(run("explain", "--json", code=ExitCode.LOGIN_REQUIRED).stdout)
    states = {(c["section"], c["subject"]): c["state"] for c in report["checks"]}
    assert states[("config", str(config))] == "failed"
    assert states[("source", "ProfileCredential()")] == "failed"
    text = run("explain", code=ExitCode.LOGIN_REQUIRED).stdout
    assert re.search(r"source\s+failed\s+ProfileCredential\(\)", text)
