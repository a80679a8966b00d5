"""``ClientCertificate``: every key form loads, bad input fails early and clearly, no leaks.

The handshakes run over ``ssl.MemoryBIO`` pairs: real TLS, no socket.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

import authwire
from authwire.errors import ConfigurationError
from authwire.tls import find_client_certificate

PASSWORD = "unit-key-password-41c9"


class Files:
    """A CA, a server certificate and one client key in every supported form."""

    def __init__(self, directory: Path) -> None:
        self.ca = trustme.CA()
        self.server = self.ca.issue_cert("localhost")
        client = self.ca.issue_cert("unit-client", common_name="unit-client")
        key = serialization.load_pem_private_key(client.private_key_pem.bytes(), None)
        cert = x509.load_pem_x509_certificate(client.cert_chain_pems[0].bytes())
        enc = serialization.BestAvailableEncryption(PASSWORD.encode())
        pem = serialization.Encoding.PEM
        self.cert = directory / "client.crt"
        self.key = directory / "client.key"
        self.key_enc = directory / "client-enc.key"
        self.key_legacy = directory / "client-legacy.key"
        self.combined = directory / "client-combined.pem"
        self.p12 = directory / "client.p12"
        self.pfx_plain = directory / "client-plain.pfx"
        self.cert.write_bytes(client.cert_chain_pems[0].bytes())
        self.key.write_bytes(client.private_key_pem.bytes())
        self.key_enc.write_bytes(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, enc)  # type: ignore[union-attr]
        )
        self.key_legacy.write_bytes(
            key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, enc)  # type: ignore[union-attr]
        )
        self.combined.write_bytes(self.cert.read_bytes() + self.key.read_bytes())
        self.p12.write_bytes(
            pkcs12.serialize_key_and_certificates(b"c", key, cert, None, enc)  # type: ignore[arg-type]
        )
        self.pfx_plain.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"c",
                key,  # type: ignore[arg-type]
                cert,
                None,
                serialization.NoEncryption(),
            )
        )
        other = trustme.CA().issue_cert("other")
        self.other_key = directory / "other.key"
        self.other_key.write_bytes(other.private_key_pem.bytes())


@pytest.fixture
def files(tmp_path: Path) -> Files:
    """Throwaway certificates and keys under tmp_path."""
    return Files(tmp_path)


def _handshake(files: Files, client_context: ssl.SSLContext) -> dict[str, object]:
    """Run a TLS handshake in memory; return the client certificate the server saw."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    files.server.configure_cert(server_context)
    files.ca.configure_trust(server_context)
    server_context.verify_mode = ssl.CERT_REQUIRED
    files.ca.configure_trust(client_context)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_context.wrap_bio(c_in, c_out, server_hostname="localhost")
    server = server_context.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, end in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    end.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            # TLS 1.3: the server checks the client certificate after its own Finished.
            client.write(b"ping")
            s_in.write(c_out.read())
            assert server.read(4) == b"ping"
            peer = server.getpeercert()
            assert peer is not None
            return dict(peer)
    raise AssertionError("handshake did not finish")


def _common_name(peer: dict[str, object]) -> str:
    subject = peer["subject"]
    assert isinstance(subject, tuple)
    return next(v for rdn in subject for k, v in rdn if k == "commonName")


@pytest.mark.parametrize(
    ("cert", "key", "password"),
    [
        ("cert", "key", None),
        ("combined", None, None),
        ("cert", "key_enc", PASSWORD),
        ("cert", "key_legacy", PASSWORD),
        ("p12", None, PASSWORD),
        ("pfx_plain", None, None),
    ],
)
def test_every_form_is_presented_in_a_handshake(
    files: Files, cert: str, key: str | None, password: str | None
) -> None:
    """PEM pair, combined PEM, encrypted PEM (both forms) and PKCS#12 each reach the server."""
    certificate = authwire.ClientCertificate(
        getattr(files, cert), getattr(files, key) if key else None, password
    )
    peer = _handshake(files, certificate.ssl_context(verify=False))
    assert _common_name(peer) == "unit-client"


def test_password_as_bytes_and_secret(files: Files) -> None:
    """The password may be bytes or an authwire.Secret."""
    for password in (PASSWORD.encode(), authwire.Secret(PASSWORD)):
        certificate = authwire.ClientCertificate(files.p12, password=password)
        assert _common_name(_handshake(files, certificate.ssl_context(False))) == "unit-client"


def test_verify_path_trusts_only_that_ca(files: Files, tmp_path: Path) -> None:
    """ssl_context(verify=path) checks the server against that CA bundle."""
    bundle = tmp_path / "ca.pem"
    files.ca.cert_pem.write_to_path(str(bundle))
    context = authwire.ClientCertificate(files.cert, files.key).ssl_context(verify=bundle)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert len(context.get_ca_certs()) == 1


def test_encrypted_key_without_password(files: Files) -> None:
    """An encrypted key without password= is refused at once (no terminal prompt)."""
    with pytest.raises(ConfigurationError, match="encrypted; pass password="):
        authwire.ClientCertificate(files.cert, files.key_enc)


@pytest.mark.parametrize(
    ("cert", "key"), [("cert", "key_enc"), ("cert", "key_legacy"), ("p12", None)]
)
def test_wrong_password(files: Files, cert: str, key: str | None) -> None:
    """A wrong password raises ConfigurationError naming the problem, never the password."""
    wrong = "wrong-password-93b1"
    with pytest.raises(ConfigurationError, match="wrong password") as info:
        authwire.ClientCertificate(
            getattr(files, cert), getattr(files, key) if key else None, wrong
        )
    assert wrong not in str(info.value)
    assert wrong not in repr(info.value.args)


def test_mismatched_key(files: Files) -> None:
    """A key that does not belong to the certificate is refused."""
    with pytest.raises(ConfigurationError, match="does not match the certificate"):
        authwire.ClientCertificate(files.cert, files.other_key)


def test_missing_file_and_missing_key(files: Files, tmp_path: Path) -> None:
    """A missing file, or a PEM certificate without any key, is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="cannot read the certificate file"):
        authwire.ClientCertificate(tmp_path / "nope.pem")
    with pytest.raises(ConfigurationError, match="cannot read the private key file"):
        authwire.ClientCertificate(files.cert, tmp_path / "nope.key")
    with pytest.raises(ConfigurationError, match="no private key"):
        authwire.ClientCertificate(files.cert)


def test_repr_hides_the_password(files: Files) -> None:
    """The repr names the files but never the password."""
    certificate = authwire.ClientCertificate(files.cert, files.key_enc, PASSWORD)
    text = repr(certificate)
    assert PASSWORD not in text
    assert "password='***'" in text
    assert "client.crt" in text


def test_pkcs12_key_is_only_kept_encrypted(files: Files) -> None:
    """The PKCS#12 key is held re-encrypted; no unencrypted key exists in the object."""
    certificate = authwire.ClientCertificate(files.p12, password=PASSWORD)
    blob = certificate._bundle.reveal() if certificate._bundle else b""
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in blob
    assert b"BEGIN PRIVATE KEY" not in blob
    assert certificate.format == "pkcs12"


def test_pkcs12_without_memfd_leaves_no_file(
    files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without memfd_create the temporary file holds an encrypted key and is deleted."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.delattr(os, "memfd_create", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen: list[bytes] = []
    real_load = ssl.SSLContext.load_cert_chain

    def spy(self: ssl.SSLContext, certfile: str, *args: object, **kwargs: object) -> None:
        seen.append(Path(certfile).read_bytes())
        real_load(self, certfile, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    certificate = authwire.ClientCertificate(files.p12, password=PASSWORD)
    certificate.ssl_context(False)
    assert seen
    assert all(b"BEGIN ENCRYPTED PRIVATE KEY" in data for data in seen)
    assert all(b"BEGIN PRIVATE KEY" not in data for data in seen)
    assert list(scratch.iterdir()) == []


def test_composes_and_adds_no_header(files: Files) -> None:
    """`cert + ApiKey` applies only the key's header; the certificate is found in the sum."""
    certificate = authwire.ClientCertificate(files.cert, files.key)
    combined = certificate + authwire.ApiKey("k-1", header="X-Api-Key")
    attempt = combined.fast_attempt(0.0)
    assert attempt is not None
    assert dict(attempt.headers) == {"X-Api-Key": "k-1"}
    assert find_client_certificate(combined) is certificate
    assert find_client_certificate(authwire.ApiKey("k")) is None
