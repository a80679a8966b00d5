"""``make demo`` keeps working: the demo runs to the end and shows no secret."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.servers.token_server import CLIENT_SECRET

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[2] / "demo" / "demo.py"


def test_demo_runs_every_step_and_prints_no_secret() -> None:
    """The demo exits 0 after all five steps, each refresh reason shown, no secret printed."""
    done = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=120, check=False
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    for needle in (
        "== Step 5",
        "reason='absent'",
        "reason='advisory'",
        "reason='rejected'",
        "history [401]",
        "TokenRequestError (status 401, error 'invalid_client')",
    ):
        assert needle in out
    assert CLIENT_SECRET not in out
    assert "wrong-secret-0a9f1c77" not in out
    assert re.search(r"at-[A-Za-z0-9_-]{16,}", out) is None  # no access token, whole or cut
