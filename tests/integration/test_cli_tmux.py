"""The interactive device-login screen, driven in a real terminal under tmux.

tmux runs ``authwire login --device`` in a detached session on a private server socket;
the test reads the screen (``capture-pane``), approves the code it shows on the
provider's device page, and reads the screen again.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration._oidc import PUBLIC_CLIENT, OidcProvider, oidc
from tests.leakcheck import assert_no_secret

from authwire.config import load_config

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

__all__ = ["oidc"]  # the session fixture, imported for pytest

AUTHWIRE = str(Path(sys.executable).parent / "authwire")
CODE = re.compile(r"enter the code:\s+([A-Z]{4}-[A-Z]{4})")


class Terminal:
    """A tmux server of our own, with one 100x50 window running a command."""

    def __init__(self) -> None:
        self.socket = f"authwire-test-{uuid.uuid4().hex[:8]}"

    def tmux(self, *args: str) -> str:
        """Run a tmux command on our server; its standard output."""
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        """Run ``command`` in a new detached session; the pane stays after it exits."""
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # The shell traps (not ignores) Ctrl-C, so it outlives the command to report its
        # status, while the command gets the default handling.
        script = f"trap true INT; env {exports} {command}; echo EXIT=$?; sleep 120"
        self.tmux("new-session", "-d", "-x", "100", "-y", "50", "sh", "-c", script)

    def screen(self) -> str:
        """What the pane shows now."""
        return self.tmux("capture-pane", "-p", "-J")

    def wait_for(self, pattern: str, timeout: float = 30.0) -> str:
        """The screen once ``pattern`` (a regex) appears on it."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if re.search(pattern, text):
                return text
            assert time.monotonic() < deadline, f"{pattern!r} never appeared:\n{text}"
            time.sleep(0.1)

    def close(self) -> None:
        """Stop our tmux server (and the command in it)."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    """A private tmux server, killed at the end."""
    made = Terminal()
    try:
        yield made
    finally:
        made.close()


def device_profile(oidc: OidcProvider, tmp_path: Path, scope: str) -> dict[str, str]:
    """Add a device-code profile ``api`` with the CLI; the environment to run it in."""
    env = {
        "AUTHWIRE_CONFIG": str(tmp_path / "config.toml"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    added = subprocess.run(
        [AUTHWIRE, "profile", "add", "api", "--issuer", oidc.issuer, "--client-id",
         PUBLIC_CLIENT, "--grant", "device_code", "--scope", scope],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return env


def test_device_login_screen(
    terminal: Terminal, oidc: OidcProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen shows URL, code, QR code and countdown; approval ends it; no secret shown."""
    env = device_profile(oidc, tmp_path, scope="openid offline_access api:read")
    terminal.start(f"{AUTHWIRE} login --poll-interval 0.2", env)

    first = terminal.wait_for(r"expires in \d+:\d\d")
    match = CODE.search(first)
    assert match, first
    user_code = match.group(1)
    assert f"open {oidc.issuer}/device" in first
    assert f"{oidc.issuer}/device?user_code={user_code}" in first
    assert "▀" in first or "▄" in first  # the QR code's half blocks
    countdown = re.compile(r"Waiting for you to approve\.\.\. the code expires in ([12]:\d\d)")
    shown = countdown.search(first)
    assert shown, first
    # The countdown is live: the same screen shows another time a moment later.
    later = terminal.wait_for(rf"expires in (?!{shown.group(1)})\d+:\d\d")
    again = CODE.search(later)
    assert again
    assert again.group(1) == user_code

    assert "Sign-in Success" in oidc.approve_device(f"{oidc.issuer}/device", user_code)
    last = terminal.wait_for(r"EXIT=\d+")
    assert "EXIT=0" in last
    assert "Logged in as test-user (profile api)" in last
    assert "Waiting for you to approve" not in last  # the countdown is gone

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = load_config(env["AUTHWIRE_CONFIG"])
    assert config is not None
    token = config.get("api").load_login()
    assert token is not None
    assert token.refresh_token
    assert_no_secret(first + last, token.access_token, token.refresh_token)


@pytest.mark.parametrize("no_color", [False, True])
def test_colour_on_a_terminal_unless_no_color(
    terminal: Terminal, oidc: OidcProvider, tmp_path: Path, no_color: bool
) -> None:
    """request colours its JSON on a terminal; NO_COLOR turns the colours off."""
    env = {
        "AUTHWIRE_CONFIG": str(tmp_path / "config.toml"),
        "AUTHWIRE_TOKEN": "not-checked-by-discovery",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    if no_color:
        env["NO_COLOR"] = "1"
    url = f"{oidc.issuer}/.well-known/openid-configuration"
    terminal.start(f"{AUTHWIRE} request GET {url}", env)
    terminal.wait_for(r"EXIT=0")
    screen = terminal.tmux("capture-pane", "-p", "-e", "-J")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", screen)
    assert f'"revocation_endpoint": "{oidc.issuer}/token/revocation"' in plain  # pretty JSON
    coloured = re.search(r"\x1b\[[0-9;]*(3[0-7]|38;5;\d+|9[0-7])m", screen)
    assert (coloured is None) == no_color


def test_ctrl_c_stops_a_device_login(
    terminal: Terminal, oidc: OidcProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the countdown exits 130, says so, and saves no login."""
    env = device_profile(oidc, tmp_path, scope="openid api:read")
    terminal.start(f"{AUTHWIRE} login --no-qr --poll-interval 0.2", env)
    shown = terminal.wait_for(r"expires in \d+:\d\d")
    assert "▀" not in shown  # --no-qr
    terminal.tmux("send-keys", "C-c")
    last = terminal.wait_for(r"EXIT=\d+")
    assert "EXIT=130" in last
    assert "interrupted" in last
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = load_config(env["AUTHWIRE_CONFIG"])
    assert config is not None
    assert config.get("api").load_login() is None
