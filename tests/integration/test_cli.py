"""The ``authwire`` command end to end: subprocesses against a real oidc-provider.

Each test points ``AUTHWIRE_CONFIG`` and the XDG folders at ``tmp_path`` and runs the
installed console script (or ``python -m authwire``) as a user or a script would.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration._oidc import PUBLIC_CLIENT, OidcProvider, oidc
from tests.leakcheck import assert_no_secret

from authwire._core.token import Token, decode_jwt_claims
from authwire.cli import ExitCode
from authwire.config import load_config

pytestmark = pytest.mark.integration

__all__ = ["oidc"]  # the session fixture, imported for pytest

AUTHWIRE = str(Path(sys.executable).parent / "authwire")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Cli:
    """Runs ``authwire`` in a private config and cache; remembers every output."""

    def __init__(self, tmp_path: Path) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AUTHWIRE_")},
            "AUTHWIRE_CONFIG": str(tmp_path / "config.toml"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "NO_COLOR": "1",
        }
        self.cache_dir = tmp_path / "cache" / "authwire"
        self.outputs: list[str] = []

    def run(self, *args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
        """Run ``authwire *args``; ``check`` is the exit code expected (None: any)."""
        done = subprocess.run(
            [AUTHWIRE, *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        self.outputs += [done.stdout, done.stderr]
        if check is not None:
            assert done.returncode == check, (args, done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args: str, check: int | None = 0) -> Any:
        """Run with ``--json`` and parse the last line of standard output."""
        done = self.run(*args, "--json", check=check)
        return json.loads(done.stdout.strip().splitlines()[-1])

    def login(self, oidc: OidcProvider, *args: str, deny: bool = False) -> tuple[int, list[Any]]:
        """``login --device --json``, approving (or denying) the code as the user would."""
        process = subprocess.Popen(
            [AUTHWIRE, "login", "--device", "--json", "--poll-interval", "0.1", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            prompt = json.loads(process.stdout.readline())
            assert prompt["event"] == "device_authorization"
            oidc.approve_device(prompt["verification_uri"], prompt["user_code"], deny=deny)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
            process.wait()
        self.outputs += [out, err]
        events = [prompt] + [json.loads(line) for line in out.splitlines()]
        return process.returncode, events

    def saved_login(self, profile: str = "api") -> Token | None:
        """The login saved for ``profile`` (read in this process, same files)."""
        old = dict(os.environ)
        os.environ.update(self.env)
        try:
            config = load_config()
            assert config is not None
            return config.get(profile).load_login()
        finally:
            os.environ.clear()
            os.environ.update(old)

    def add_profile(self, oidc: OidcProvider, name: str = "api", *args: str) -> None:
        """A device-code profile for the provider's public client."""
        self.run(
            "profile",
            "add",
            name,
            "--issuer",
            oidc.issuer,
            "--client-id",
            PUBLIC_CLIENT,
            "--grant",
            "device_code",
            "--scope",
            "openid offline_access api:read",
            *args,
        )


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI in a private config and cache folder."""
    return Cli(tmp_path)


def test_device_login_then_token_request_status_and_logout(cli: Cli, oidc: OidcProvider) -> None:
    """profile add, login --device, token, request, status --json, logout revokes."""
    cli.add_profile(oidc)
    polls = oidc.token_requests(PUBLIC_CLIENT, DEVICE_GRANT)
    code, events = cli.login(oidc)
    assert code == 0, cli.outputs
    prompt, done = events[0], events[-1]
    assert prompt["verification_uri"].startswith(oidc.issuer)
    assert prompt["user_code"] in prompt["verification_uri_complete"]
    assert (done["event"], done["subject"], done["profile"]) == ("logged_in", "test-user", "api")
    assert oidc.token_requests(PUBLIC_CLIENT, DEVICE_GRANT) > polls

    saved = cli.saved_login()
    assert saved is not None
    assert saved.refresh_token
    files = list(cli.cache_dir.glob("*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.cache_dir.stat().st_mode) == 0o700

    printed = cli.run("token").stdout
    assert printed.count("\n") == 1
    claims = decode_jwt_claims(printed.strip())
    assert (claims["sub"], claims["client_id"]) == ("test-user", PUBLIC_CLIENT)

    api_ok = oidc.stats()["api"]["200"]
    answer = cli.json("request", "GET", oidc.api)
    assert answer["status"] == 200
    assert (answer["body"]["sub"], answer["body"]["client_id"]) == ("test-user", PUBLIC_CLIENT)
    assert oidc.stats()["api"]["200"] == api_ok + 1
    pretty = cli.run("request", "get", oidc.api).stdout
    assert json.loads(pretty)["sub"] == "test-user"
    assert '\n  "sub": "test-user"' in pretty  # indented, not one line

    status = cli.json("-v", "status")  # with authwire's log on stderr
    assert status["subject"] == "test-user"
    assert status["source"] == "ProfileCredential()"
    assert status["profile"] == "api"
    assert status["refreshable"] is True
    assert str(cli.cache_dir) in status["cache"]
    assert status["issuer"] == oidc.issuer

    latest = cli.saved_login()
    assert latest is not None
    refresh_token = latest.refresh_token
    assert refresh_token
    revocations = oidc.stats()["revocation"]
    out = cli.json("logout")
    assert (out["had_login"], out["revoked"]) == (True, True)
    assert oidc.stats()["revocation"] > revocations
    assert list(cli.cache_dir.glob("*.json")) == []
    # The provider no longer honours the revoked refresh token.
    refused = httpx.post(
        oidc.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": PUBLIC_CLIENT,
        },
        timeout=5,
    )
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")

    after = cli.json("status", check=ExitCode.LOGIN_REQUIRED)
    assert after["error"] == "CredentialUnavailable"
    assert "authwire login --profile api" in after["message"]
    assert cli.json("logout") == {
        "event": "logged_out",
        "profile": "api",
        "had_login": False,
        "revoked": False,
    }

    # Only `authwire token` printed a token; nothing else ever showed one.
    others = [text for text in cli.outputs if text != printed]
    secrets = [s for t in (saved, latest) for s in (t.access_token, t.refresh_token) if s]
    assert_no_secret("\n".join(others), *secrets)


def test_denied_login_saves_nothing(cli: Cli, oidc: OidcProvider) -> None:
    """The user aborting on the device page exits with LOGIN_REQUIRED and saves nothing."""
    cli.add_profile(oidc)
    code, events = cli.login(oidc, deny=True)
    assert code == ExitCode.LOGIN_REQUIRED
    assert events[-1]["error"] == "InteractionRequired"
    assert cli.saved_login() is None


def test_explain_without_login(cli: Cli, oidc: OidcProvider) -> None:
    """explain lists each source and why it was skipped, and checks discovery and clock."""
    cli.add_profile(oidc)
    report = cli.json("explain", check=ExitCode.LOGIN_REQUIRED)
    assert report["found"] is False
    by_subject = {(c["section"], c["subject"]): c for c in report["checks"]}
    env = by_subject[("source", "EnvironmentCredential()")]
    assert env["state"] == "skipped"
    assert "AUTHWIRE_TOKEN" in env["detail"]
    profile = by_subject[("source", "ProfileCredential()")]
    assert profile["state"] == "skipped"
    assert "no saved login" in profile["detail"]
    discovery = by_subject[("discovery", oidc.issuer + "/.well-known/openid-configuration")]
    assert discovery["state"] == "ok"
    clock = by_subject[("clock", oidc.issuer + "/.well-known/openid-configuration")]
    assert clock["state"] == "ok"
    assert "server clock" in clock["detail"]


def test_explain_after_login_names_the_winner(cli: Cli, oidc: OidcProvider) -> None:
    """After a login the profile wins and the cache folder and file are 0700/0600."""
    cli.add_profile(oidc)
    assert cli.login(oidc)[0] == 0
    report = cli.json("explain")
    states = {(c["section"], c["subject"]): c["state"] for c in report["checks"]}
    assert states[("source", "ProfileCredential()")] == "ok"
    cache_checks = [c for c in report["checks"] if c["section"] == "cache"]
    assert [c["detail"] for c in cache_checks] == ["mode 700", "mode 600"]
    os.chmod(cli.cache_dir, 0o755)  # noqa: S103 - the loose mode explain must catch
    loose = cli.json("explain", check=ExitCode.LOGIN_REQUIRED)
    states = {(c["section"], c["subject"]): c["state"] for c in loose["checks"]}
    assert states[("source", "ProfileCredential()")] == "failed"
    folder = next(c for c in loose["checks"] if c["section"] == "cache")
    assert folder["state"] == "failed"
    assert f"chmod 700 '{cli.cache_dir}'" in folder["detail"]


def test_request_with_a_rejected_token_exits_http_error(cli: Cli, oidc: OidcProvider) -> None:
    """A 401 from the API exits with HTTP_ERROR (7) and shows the body, not the token."""
    planted = "not-a-valid-token-1f2e3d4c5b6a"
    cli.env["AUTHWIRE_TOKEN"] = planted
    done = subprocess.run(
        [sys.executable, "-m", "authwire", "request", "GET", oidc.api],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == ExitCode.HTTP_ERROR
    assert json.loads(done.stdout)["error"] == "invalid_token"
    assert "HTTP 401" in done.stderr
    assert_no_secret(done.stdout + done.stderr, planted)


BROWSER = textwrap.dedent(
    """
    import sys
    import requests

    # A console "browser" (it runs until done, as lynx would) that follows the provider's
    # redirects (the provider approves the login by itself) up to authwire's listener.
    with requests.Session() as browser:
        browser.get(sys.argv[1], timeout=10)
    """
)


def test_browser_login(cli: Cli, oidc: OidcProvider, tmp_path: Path) -> None:
    """login --browser opens $BROWSER on the authorization URL and saves the login."""
    script = tmp_path / "browser.py"
    script.write_text(BROWSER)
    cli.env["BROWSER"] = f"{sys.executable} {script} %s"
    cli.add_profile(oidc)
    lines = cli.run("login", "--browser", "--json").stdout.splitlines()
    shown, done = json.loads(lines[0]), json.loads(lines[-1])
    assert shown["event"] == "authorization_url"
    assert shown["url"].startswith(oidc.issuer + "/auth?")
    assert "code_challenge_method=S256" in shown["url"]
    assert (done["event"], done["subject"]) == ("logged_in", "test-user")
    saved = cli.saved_login()
    assert saved is not None
    assert saved.refresh_token
    assert cli.run("token").stdout.strip() == saved.access_token


def test_token_processes_share_one_refresh(cli: Cli, oidc: OidcProvider) -> None:
    """Four `authwire token` processes started together after expiry make one refresh."""
    cli.add_profile(oidc)
    assert cli.login(oidc)[0] == 0
    saved = cli.saved_login()
    assert saved is not None
    assert saved.expires_at is not None
    # Past expiry: every process must find a refreshed token; only one may fetch it.
    time.sleep(max(0.0, saved.expires_at - time.time()) + 0.2)
    before = oidc.token_requests(PUBLIC_CLIENT, "refresh_token")
    processes = [
        subprocess.Popen(
            [AUTHWIRE, "token"],
            env=cli.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    printed = {p.communicate(timeout=60)[0].strip() for p in processes}
    assert [p.returncode for p in processes] == [0, 0, 0, 0]
    assert oidc.token_requests(PUBLIC_CLIENT, "refresh_token") == before + 1
    assert len(printed) == 1
    assert saved.access_token not in printed
    latest = cli.saved_login()
    assert latest is not None
    assert printed == {latest.access_token}
    assert latest.refresh_token  # the rotated refresh token was saved


CHROMIUM = os.environ.get("AUTHWIRE_CHROMIUM", "/usr/bin/chromium")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no Chromium")
def test_browser_login_in_chromium(cli: Cli, oidc: OidcProvider, tmp_path: Path) -> None:
    """login --browser with a real (headless) Chromium as the system browser."""
    profile_dir = tmp_path / "chromium-profile"
    cli.env["BROWSER"] = (
        f"{CHROMIUM} --headless --no-sandbox --disable-gpu --disable-background-networking "
        f"--user-data-dir={profile_dir} --dump-dom %s"
    )
    cli.add_profile(oidc)
    done = cli.json("login", "--browser")
    assert (done["event"], done["subject"]) == ("logged_in", "test-user")
    saved = cli.saved_login()
    assert saved is not None
    assert saved.refresh_token
