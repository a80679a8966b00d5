"""A real OpenID provider (node ``oidc-provider``) on 127.0.0.1, for tests and the demo.

``tests/integration/servers/oidc/server.mjs`` is the provider; this module starts it on a
free loopback port, waits until it answers, and stops it. Use it from pytest through the
``oidc`` fixture (``from tests.integration._oidc import oidc``) or from a script::

    from tests.integration._oidc import OidcProvider

    provider = OidcProvider(access_token_ttl=30).start()
    try:
        print(provider.issuer)                  # http://127.0.0.1:<port>
    finally:
        provider.stop()

Clients (all throwaway test values):

=============  ==================================  ==========================================
client_id      authentication                      grants
=============  ==================================  ==========================================
cc-client      client_secret_basic/post            client_credentials, token exchange, JWT bearer
hs-client      client_secret_jwt (HS256)           client_credentials
nonce-client   client_secret_basic/post            client_credentials; DPoP nonces required
tls-client     tls_client_auth (at ``mtls_origin``) client_credentials
pk-client      private_key_jwt (keys made per run) client_credentials, JWT bearer
app            client_secret_basic/post            code, refresh, device, password
public-app     none (public)                       code, refresh, device, password
=============  ==================================  ==========================================

Users for the password grant: ``alice``/``alice-password``, ``bob``/``bob-password``.
Interactive logins are approved automatically for the ``login_hint`` user (default
``test-user``); ``login_hint=deny`` makes the provider answer ``access_denied``.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["OidcProvider", "oidc"]

SERVER_DIR = Path(__file__).parent / "servers" / "oidc"

CC_CLIENT = ("cc-client", "cc-secret")
NONCE_CLIENT = ("nonce-client", "nonce-secret")
HS_CLIENT = ("hs-client", "hs-client-secret-0123456789abcdef0123456789")
APP_CLIENT = ("app", "app-secret")
PUBLIC_CLIENT = "public-app"
PK_CLIENT = "pk-client"
USERS = {"alice": "alice-password", "bob": "bob-password"}


def _make_keys() -> tuple[dict[str, str], dict[str, Any]]:
    """Throwaway signing keys: private PEMs by name, and the public JWKS the server trusts."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    private = {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
    }
    pems: dict[str, str] = {}
    keys: list[dict[str, Any]] = []
    for name, key in private.items():
        pems[name] = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        algorithm = jwt.algorithms.RSAAlgorithm if name == "rsa" else jwt.algorithms.ECAlgorithm
        public = json.loads(algorithm.to_jwk(key.public_key()))  # type: ignore[attr-defined]
        keys.append({**public, "kid": f"{name}-key", "use": "sig"})
    return pems, {"keys": keys}


@dataclass
class OidcProvider:
    """A running ``oidc-provider``: ``start()`` it, read ``issuer``, ``stop()`` it.

    Args:
        access_token_ttl: Access token lifetime in seconds.
        dpop_nonce: Make the token endpoint demand DPoP server nonces.
        node: The ``node`` executable.
        mtls: Also serve HTTPS with client certificates (``mtls_origin``); the CA, the
            server's and ``tls-client``'s certificate files are then in ``tls_files``.
    """

    access_token_ttl: int = 10
    dpop_nonce: bool = False
    node: str = "node"
    mtls: bool = False
    issuer: str = ""
    mtls_origin: str = ""
    #: ``ca``, ``client_cert``, ``client_key``, ``other_cert``, ``other_key`` (an
    #: untrusted client) as file paths, with ``mtls=True``.
    tls_files: dict[str, str] = field(default_factory=dict)
    #: Private keys (PEM) of ``pk-client`` and of the JWT-bearer issuer, by ``rsa``/``ec``;
    #: their kids are ``rsa-key`` and ``ec-key``.
    private_keys: dict[str, str] = field(default_factory=dict)
    public_jwks: dict[str, Any] = field(default_factory=dict)
    _process: subprocess.Popen[bytes] | None = None
    _tmp: str | None = None

    def start(self, timeout: float = 20.0) -> OidcProvider:
        """Start the provider and wait until it serves its discovery document.

        Raises:
            RuntimeError: If ``npm ci`` was not run in the server folder, or the provider
                did not come up within ``timeout`` seconds.
        """
        if not (SERVER_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(f"run `npm ci` in {SERVER_DIR} first (scripts/bootstrap.sh does)")
        self.private_keys, self.public_jwks = _make_keys()
        self._tmp = tempfile.mkdtemp(prefix="authwire-oidc-")
        keys_file = Path(self._tmp) / "client-keys.json"
        keys_file.write_text(json.dumps(self.public_jwks))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self._tmp,
            "PORT": "0",
            "ACCESS_TOKEN_TTL": str(self.access_token_ttl),
            "CLIENT_KEYS": str(keys_file),
            "DPOP_NONCE": "1" if self.dpop_nonce else "0",
            "NODE_NO_WARNINGS": "1",
        }
        if self.mtls:
            env.update(self._make_tls_files(Path(self._tmp)))
        self._process = subprocess.Popen(
            [self.node, "server.mjs"],
            cwd=SERVER_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self._process.stdout is not None
        deadline = time.monotonic() + timeout
        output = b""
        while b"\n" not in output or b"ready at " not in output:
            left = deadline - time.monotonic()
            if left <= 0 or self._process.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"oidc-provider did not start: {output.decode(errors='replace')}"
                )
            ready, _, _ = select.select([self._process.stdout], [], [], left)
            if ready:
                chunk = os.read(self._process.stdout.fileno(), 4096)
                if not chunk and self._process.poll() is not None:
                    continue
                output += chunk
        lines = output.decode().splitlines()
        line = next(ln for ln in lines if "ready at " in ln)
        self.issuer = line.split("ready at ", 1)[1].split()[0]
        self.mtls_origin = next(
            (ln.split("mtls at ", 1)[1].strip() for ln in lines if "mtls at " in ln), ""
        )
        return self

    def _make_tls_files(self, where: Path) -> dict[str, str]:
        """Throwaway CA, server and client certificates (trustme); the server's env."""
        import trustme

        ca = trustme.CA()
        server = ca.issue_cert("127.0.0.1", "localhost")
        client = ca.issue_cert("tls-client", common_name="tls-client")
        other = trustme.CA().issue_cert("intruder", common_name="tls-client")
        files = {
            "ca": ca.cert_pem,
            "server_cert": server.cert_chain_pems[0],
            "server_key": server.private_key_pem,
            "client_cert": client.cert_chain_pems[0],
            "client_key": client.private_key_pem,
            "other_cert": other.cert_chain_pems[0],
            "other_key": other.private_key_pem,
        }
        for name, blob in files.items():
            blob.write_to_path(str(where / f"{name}.pem"))
            self.tls_files[name] = str(where / f"{name}.pem")
        return {
            "TLS_CERT": self.tls_files["server_cert"],
            "TLS_KEY": self.tls_files["server_key"],
            "TLS_CA": self.tls_files["ca"],
        }

    def stop(self) -> None:
        """Stop the provider (idempotent) and remove its temporary files."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return self.issuer + "/token"

    @property
    def api(self) -> str:
        """The protected API (accepts this provider's JWT access tokens)."""
        return self.issuer + "/api"

    def stats(self) -> dict[str, Any]:
        """The provider's counters: token requests by ``"<client_id> <grant_type>"``, API
        answers by status, revocation requests."""
        with urllib.request.urlopen(self.issuer + "/_stats", timeout=5) as response:
            data: dict[str, Any] = json.load(response)
        return data

    def token_requests(self, client_id: str, grant_type: str) -> int:
        """How many token requests ``client_id`` made with ``grant_type`` so far."""
        return int(self.stats()["token"].get(f"{client_id} {grant_type}", 0))

    def approve_device(self, verification_uri: str, user_code: str, *, deny: bool = False) -> str:
        """Submit the provider's device form as the user would; returns the result page."""
        import re

        import requests

        with requests.Session() as browser:
            page = browser.get(verification_uri, timeout=5).text
            match = re.search(r'name="xsrf" value="([^"]+)"', page)
            assert match, "no xsrf field on the device page"
            answer = {"abort": "yes"} if deny else {"confirm": "yes"}
            result = browser.post(
                verification_uri,
                data={"xsrf": match.group(1), "user_code": user_code, **answer},
                timeout=5,
            )
            return result.text


@pytest.fixture(scope="session")
def oidc() -> Iterator[OidcProvider]:
    """A real oidc-provider on a free loopback port with 5-second access tokens."""
    provider = OidcProvider(access_token_ttl=5, mtls=True).start()
    try:
        yield provider
    finally:
        provider.stop()
