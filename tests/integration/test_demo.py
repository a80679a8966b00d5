"""``make demo`` keeps working: the whole lifecycle against the real provider, no secret shown."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration._oidc import APP_CLIENT, CC_CLIENT, HS_CLIENT, NONCE_CLIENT

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[2] / "demo" / "demo.py"
WRONG_SECRET = "not-the-secret-5f0c"  # step 7's, as in demo/demo.py

#: A JWT (access or ID token) whole or cut: its base64url JSON header starts with ``eyJ``.
JWT_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]{6,}")
#: oidc-provider's opaque refresh tokens and device codes are 43 base64url characters.
OPAQUE_LIKE = re.compile(r"[A-Za-z0-9_-]{24,}")


@pytest.fixture(scope="module")
def demo_output() -> str:
    """The demo's whole output (stdout and stderr), after checking that it exited 0."""
    done = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=120, check=False
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    return out


def test_demo_narrates_every_step(demo_output: str) -> None:
    """The demo runs all seven steps and every claim it checks holds (exit 0, no failure)."""
    for number in range(1, 8):
        assert f"== Step {number}:" in demo_output
    assert "demo check failed" not in demo_output
    assert "Traceback" not in demo_output
    steps = demo_output.split("\n== Step ")[1:]
    assert len(steps) == 7
    for text in steps:
        assert "   ok: " in text  # every step checked at least one claim


def test_demo_shows_the_lifecycle_by_the_servers_counts(demo_output: str) -> None:
    """Discovery, device prompt and approval, refresh reasons, 401 replay and logout show."""
    for needle in (
        "provider counted: 1 discovery fetch, 1 client_credentials token request",
        "and enter the code ",
        "the provider's device page answers: Sign-in Success",
        "authwire kept polling on authorization_pending",
        "ID token was verified",
        "GET /me (httpx async): HTTP 200",
        "reason='absent'",
        "reason='advisory'",
        "reason='rejected'",
        "POST /orders, history [401]: HTTP 200",
        "counted: 1 401 at the API, 1 refresh, replayed body 'order=42'",
        "cred.revoke() -> True; revocation requests: 2",
        "(provider said 'invalid_grant')",
        "TokenRequestError(status=401, error='invalid_client')",
    ):
        assert needle in demo_output, needle
    summary = re.search(
        r"(\d+) token requests, 8 API calls served, 1 401 answered, 2 revocation requests, "
        r"1 discovery fetch\.",
        demo_output,
    )
    assert summary is not None
    # 1 client credentials, >= 2 device polls, 2 refreshes, 1 refused refresh, 1 wrong secret
    assert int(summary.group(1)) >= 7


def test_demo_prints_no_secret_or_token(demo_output: str) -> None:
    """No client secret, JWT or opaque token (refresh token, device code) is printed."""
    for _, secret in (CC_CLIENT, APP_CLIENT, HS_CLIENT, NONCE_CLIENT):
        assert secret not in demo_output
    assert WRONG_SECRET not in demo_output
    assert JWT_LIKE.search(demo_output) is None
    assert OPAQUE_LIKE.search(demo_output) is None
    # What is shown instead: 12-hex-digit fingerprints, one per token the API saw.
    assert len(set(re.findall(r"API saw token ([0-9a-f]{12})", demo_output))) == 4


def test_demo_without_node_says_what_to_do() -> None:
    """Without node on PATH the demo exits 1 with a hint to run make demo, not a traceback."""
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/nonexistent"},
    )
    assert done.returncode == 1
    assert "cannot start the identity provider" in done.stderr
    assert "run `make demo`" in done.stderr
    assert "Traceback" not in done.stderr
