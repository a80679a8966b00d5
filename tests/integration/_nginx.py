"""nginx on 127.0.0.1 demanding TLS client certificates, with certificates made by trustme.

Use it from pytest through the ``mtls`` fixture (``from tests.integration._nginx import
mtls``). One CA signs the server certificate (``localhost`` and ``127.0.0.1``) and the
client certificates; another CA signs an ``intruder`` certificate nginx must refuse. The
client key is written in every form ``ClientCertificate`` reads: a PEM pair, a PEM with
an encrypted key (PKCS#8 and the traditional OpenSSL form) and PKCS#12.

nginx answers ``200 hello <client DN> verify=SUCCESS`` to a trusted certificate and
``400`` (not a TLS alert) to a missing or untrusted one.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.integration.conftest import ServerProcess, free_port

__all__ = ["MtlsServer", "mtls"]

NGINX = "/usr/sbin/nginx"
#: Password of every encrypted test key (a throwaway test value).
KEY_PASSWORD = "test-key-password"

_CONF = """
worker_processes 1;
pid nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate     server.crt;
        ssl_certificate_key server.key;
        ssl_client_certificate ca.pem;
        ssl_verify_client on;
        location / {{
            default_type text/plain;
            return 200 "hello $ssl_client_s_dn verify=$ssl_client_verify key=$http_x_api_key\\n";
        }}
    }}
}}
"""


@dataclass
class MtlsServer:
    """A running nginx and the files a client needs.

    Attributes:
        port: The HTTPS port on 127.0.0.1.
        ca: The CA bundle that signed the server (pass as ``verify=``).
        cert, key: The trusted client's PEM certificate and unencrypted key.
        key_encrypted: The same key as encrypted PKCS#8 (password ``KEY_PASSWORD``).
        key_encrypted_legacy: The same key in the traditional encrypted OpenSSL form.
        p12: Certificate and key as PKCS#12 (password ``KEY_PASSWORD``).
        untrusted_cert, untrusted_key: A pair from a CA nginx does not trust.
    """

    port: int
    directory: Path
    ca: str
    cert: str
    key: str
    key_encrypted: str
    key_encrypted_legacy: str
    p12: str
    untrusted_cert: str
    untrusted_key: str

    @property
    def url(self) -> str:
        """The server's URL by name (the certificate is for ``localhost``)."""
        return f"https://localhost:{self.port}/"

    @property
    def ip_url(self) -> str:
        """The server's URL by IP address."""
        return f"https://127.0.0.1:{self.port}/"


def _write_certs(directory: Path) -> dict[str, str]:
    import trustme
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    server = ca.issue_cert("localhost")  # for a name only: connecting by IP needs SNI
    server.private_key_pem.write_to_path(str(directory / "server.key"))
    server.cert_chain_pems[0].write_to_path(str(directory / "server.crt"))
    client = ca.issue_cert("test-client", common_name="test-client")
    client.private_key_pem.write_to_path(str(directory / "client.key"))
    client.cert_chain_pems[0].write_to_path(str(directory / "client.crt"))
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), None)
    cert = x509.load_pem_x509_certificate(client.cert_chain_pems[0].bytes())
    password = KEY_PASSWORD.encode()
    encryption = serialization.BestAvailableEncryption(password)
    pem = serialization.Encoding.PEM
    (directory / "client-enc.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, encryption)
    )
    (directory / "client-enc-legacy.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, encryption)
    )
    (directory / "client.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(b"test-client", key, cert, None, encryption)  # type: ignore[arg-type]
    )
    other = trustme.CA().issue_cert("intruder", common_name="intruder")
    other.private_key_pem.write_to_path(str(directory / "other.key"))
    other.cert_chain_pems[0].write_to_path(str(directory / "other.crt"))
    return {
        "ca": "ca.pem",
        "cert": "client.crt",
        "key": "client.key",
        "key_encrypted": "client-enc.key",
        "key_encrypted_legacy": "client-enc-legacy.key",
        "p12": "client.p12",
        "untrusted_cert": "other.crt",
        "untrusted_key": "other.key",
    }


@pytest.fixture(scope="session")
def mtls() -> Iterator[MtlsServer]:
    """nginx with client-certificate verification on a free loopback port, for the session."""
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    directory = Path(tempfile.mkdtemp(prefix="authwire-nginx-"))
    try:
        (directory / "tmp").mkdir()
        files = _write_certs(directory)
        port = free_port()
        (directory / "nginx.conf").write_text(_CONF.format(port=port))
        with ServerProcess(
            [NGINX, "-p", f"{directory}/", "-c", "nginx.conf", "-e", "stderr", "-g", "daemon off;"],
            port=port,
            log=directory / "nginx.log",
            timeout=10,
        ):
            yield MtlsServer(
                port=port,
                directory=directory,
                **{name: str(directory / path) for name, path in files.items()},
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
