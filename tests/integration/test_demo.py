"""``make demo`` keeps working: the whole lifecycle against the real provider, no secret shown."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.integration._oidc import APP_CLIENT, CC_CLIENT, HS_CLIENT, NONCE_CLIENT, OidcProvider

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
        "sent by hand after the logout: HTTP 200",
        "TokenRequestError(status=401, error='invalid_client')",
    ):
        assert needle in demo_output, needle
    summary = re.search(
        r"(\d+) token requests, 9 API calls served, 1 401 answered, 2 revocation requests, "
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


# -- the demo's parts, in process, against their own provider ----------------------------------


@pytest.fixture(scope="module")
def demo_module() -> ModuleType:
    """``demo/demo.py`` imported as a module (its ``sys.path`` additions undone afterwards)."""
    saved = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location("authwire_demo", DEMO)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    """A provider of the demo's own, so its counters start at zero."""
    started = OidcProvider(access_token_ttl=30).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def api(demo_module: ModuleType, provider: OidcProvider) -> Iterator[Any]:
    """The demo's protected API, trusting ``provider``."""
    served = demo_module.ProtectedApi(
        provider.issuer, audience=provider.api, jwks_uri=provider.issuer + "/jwks"
    ).start()
    try:
        yield served
    finally:
        served.stop()


def test_demo_checks_fail_when_the_servers_disagree(
    demo_module: ModuleType, provider: OidcProvider, api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step whose claim the provider's counters contradict stops the demo (SystemExit 1)."""
    lifecycle = demo_module.Lifecycle(provider, api)
    lifecycle.client_credentials()  # first time: one token request, as claimed
    with pytest.raises(SystemExit, match="demo check failed: one token request") as failed:
        lifecycle.client_credentials()  # a second credential: the provider counts two
    # A string SystemExit makes the interpreter print it and exit with status 1.
    assert isinstance(failed.value.code, str)
    lifecycle.session.close()
    assert "ok: the OpenID configuration was fetched once" in capsys.readouterr().out


def test_demo_api_verifies_tokens_and_honours_its_deny_list(
    demo_module: ModuleType, provider: OidcProvider, api: Any
) -> None:
    """The API takes the provider's tokens only: none, a forged one or a denied one get 401."""
    import jwt
    import requests
    from cryptography.hazmat.primitives.asymmetric import rsa

    import authwire

    client_id, client_secret = CC_CLIENT
    tokens = [
        authwire.ClientCredentials(
            issuer=provider.issuer,
            client_id=client_id,
            client_secret=client_secret,
            cache=authwire.MemoryCache(),
        ).get_token()
        for _ in range(2)
    ]
    first, second = (t.access_token for t in tokens)

    def status(authorization: str | None) -> int:
        headers = {"Authorization": authorization} if authorization else {}
        return requests.get(f"{api.url}/x", headers=headers, timeout=5).status_code

    forged = jwt.encode(
        {**tokens[0].claims, "exp": int(time.time()) + 60},
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": "k1", "typ": "at+jwt"},
    )
    assert status(f"Bearer {first}") == 200
    assert status(None) == 401
    assert status(f"Basic {first}") == 401
    assert status(f"Bearer {forged}") == 401
    api.deny(tokens[0].claims["jti"])
    assert status(f"Bearer {first}") == 401
    assert status(f"Bearer {second}") == 200
    assert (api.answers[200], api.answers[401]) == (2, 4)
    body = requests.get(api.url, headers={"Authorization": f"Bearer {second}"}, timeout=5).json()
    assert body["token"] == demo_module.fingerprint(second)
    assert second not in str(body)
