"""A ``ClientCertificate`` inside an auth object: refused where it cannot be presented.

``authwire.requests.Auth`` and ``authwire.httpx.Auth`` only change requests; the
certificate travels in the TLS handshake. They refuse one with a ``ConfigurationError``
saying what to do instead, while ``authwire.Session`` and ``cert.requests_adapter(auth=)``,
whose transports present it, take it out of the auth they build.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

import authwire
import authwire.httpx
import authwire.requests
from authwire.errors import ConfigurationError
from authwire.requests._tls import TLSAdapter, TLSAuthAdapter
from authwire.tls._certificate import split_client_certificate


def _certificate(directory: Path, name: str) -> authwire.ClientCertificate:
    """A throwaway client certificate and key as a PEM pair under ``directory``."""
    issued = trustme.CA().issue_cert(name)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    cert.write_bytes(issued.cert_chain_pems[0].bytes())
    key.write_bytes(issued.private_key_pem.bytes())
    return authwire.ClientCertificate(cert, key)


@pytest.fixture
def cert(tmp_path: Path) -> authwire.ClientCertificate:
    """A client certificate."""
    return _certificate(tmp_path, "client-a")


@pytest.fixture
def other(tmp_path: Path) -> authwire.ClientCertificate:
    """Another client certificate."""
    return _certificate(tmp_path, "client-b")


@pytest.mark.parametrize("combined", [False, True])
def test_requests_auth_refuses_a_certificate(
    cert: authwire.ClientCertificate, combined: bool
) -> None:
    """authwire.requests.Auth(cert) and Auth(cert + key) raise and name the alternatives."""
    auth = cert + authwire.ApiKey("k-1") if combined else cert
    with pytest.raises(ConfigurationError) as caught:
        authwire.requests.Auth(auth)
    message = str(caught.value)
    assert "authwire.requests.Auth cannot present a client certificate" in message
    assert "authwire.Session(auth=..., cert=cert)" in message
    assert "cert.requests_adapter(auth=" in message
    assert "k-1" not in message


@pytest.mark.parametrize("combined", [False, True])
def test_httpx_auth_refuses_a_certificate(cert: authwire.ClientCertificate, combined: bool) -> None:
    """authwire.httpx.Auth(cert) and Auth(cert + key) raise and name the transports to use."""
    auth = authwire.ApiKey("k-2") + cert if combined else cert
    with pytest.raises(ConfigurationError) as caught:
        authwire.httpx.Auth(auth)
    message = str(caught.value)
    assert "authwire.httpx.Auth cannot present a client certificate" in message
    assert "cert.httpx_transport()" in message
    assert "cert.httpx_async_transport()" in message
    assert "k-2" not in message


def test_auth_objects_without_a_certificate_are_unchanged(cert: authwire.ClientCertificate) -> None:
    """Once certificates are loaded, auths without one still build as before."""
    assert repr(authwire.requests.Auth(authwire.ApiKey("k"))).startswith("authwire.requests.Auth(")
    assert repr(authwire.httpx.Auth(authwire.BasicAuth("u", "p"))).startswith(
        "authwire.httpx.Auth("
    )


def test_session_presents_the_certificate_and_authenticates_with_the_rest(
    cert: authwire.ClientCertificate,
) -> None:
    """Session(auth=cert + key): the transport gets the certificate, the Auth only the key."""
    key = authwire.ApiKey("k-3", header="X-Api-Key")
    with authwire.Session(cert + key) as session:
        assert session.client_certificate is cert
        assert isinstance(session.auth, authwire.requests.Auth)
        assert session.auth.scheme is key


def test_session_with_only_a_certificate_as_auth(cert: authwire.ClientCertificate) -> None:
    """Session(auth=cert): the certificate is presented and no auth object is made."""
    with authwire.Session(cert) as session:
        assert session.client_certificate is cert
        assert session.auth is None


def test_session_refuses_a_certificate_in_auth_and_in_cert(
    cert: authwire.ClientCertificate, other: authwire.ClientCertificate
) -> None:
    """A certificate both in auth and as cert= is ambiguous: ConfigurationError."""
    with pytest.raises(ConfigurationError, match="both in auth and given as cert="):
        authwire.Session(other + authwire.ApiKey("k"), cert=cert)


def test_requests_adapter_takes_the_certificate_out_of_its_auth(
    cert: authwire.ClientCertificate,
) -> None:
    """cert.requests_adapter(auth=cert + key) applies the key and presents the certificate."""
    key = authwire.ApiKey("k-4")
    adapter = cert.requests_adapter(auth=cert + key)
    assert isinstance(adapter, TLSAuthAdapter)
    assert adapter.auth.scheme is key
    assert type(cert.requests_adapter(auth=cert)) is TLSAdapter


def test_requests_adapter_refuses_a_different_certificate(
    cert: authwire.ClientCertificate, other: authwire.ClientCertificate
) -> None:
    """An auth holding another certificate than the adapter's cannot be honoured: raise."""
    with pytest.raises(ConfigurationError, match="different ClientCertificate"):
        cert.requests_adapter(auth=other + authwire.ApiKey("k"))


def test_split_keeps_the_other_parts_in_order(
    cert: authwire.ClientCertificate, other: authwire.ClientCertificate
) -> None:
    """Splitting a + cert + b gives the certificate and a + b; two certificates raise."""
    a, b = authwire.ApiKey("a", header="X-A"), authwire.ApiKey("b", header="X-B")
    found, rest = split_client_certificate(a + cert + b)
    assert found is cert
    assert getattr(rest, "parts", None) == (a, b)
    assert split_client_certificate(a) == (None, a)
    with pytest.raises(ConfigurationError, match="more than one ClientCertificate"):
        split_client_certificate(cert + other)
