"""Client certificates against nginx with ``ssl_verify_client on`` (certificates by trustme)."""

from __future__ import annotations

import httpx
import pytest
import requests
import urllib3
from tests.integration._nginx import KEY_PASSWORD, MtlsServer, mtls

import authwire
import authwire.httpx
from authwire.errors import ConfigurationError

__all__ = ["mtls"]

pytestmark = pytest.mark.integration

FORMS = ["pem", "pem-encrypted", "pem-encrypted-legacy", "pkcs12"]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each async test once per event loop."""
    return str(request.param)


def _certificate(server: MtlsServer, form: str) -> authwire.ClientCertificate:
    if form == "pem":
        return authwire.ClientCertificate(server.cert, server.key)
    if form == "pem-encrypted":
        return authwire.ClientCertificate(server.cert, server.key_encrypted, KEY_PASSWORD)
    if form == "pem-encrypted-legacy":
        return authwire.ClientCertificate(server.cert, server.key_encrypted_legacy, KEY_PASSWORD)
    return authwire.ClientCertificate(server.p12, password=KEY_PASSWORD)


def _accepted(body: str) -> bool:
    return "CN=test-client" in body and "verify=SUCCESS" in body


@pytest.mark.parametrize("form", FORMS)
def test_requests_presents_each_form(mtls: MtlsServer, form: str) -> None:
    """nginx accepts the client certificate in every form through a requests adapter."""
    cert = _certificate(mtls, form)
    with requests.Session() as session:
        session.mount(mtls.url, cert.requests_adapter())
        response = session.get(mtls.url, verify=mtls.ca)
    assert response.status_code == 200
    assert _accepted(response.text)
    assert response.history == []


@pytest.mark.parametrize("form", FORMS)
def test_httpx_sync_presents_each_form(mtls: MtlsServer, form: str) -> None:
    """nginx accepts the client certificate in every form through an httpx.Client."""
    cert = _certificate(mtls, form)
    with httpx.Client(verify=cert.ssl_context(verify=mtls.ca)) as client:
        response = client.get(mtls.url)
    assert response.status_code == 200
    assert _accepted(response.text)


@pytest.mark.anyio
@pytest.mark.parametrize("form", FORMS)
async def test_httpx_async_presents_each_form(mtls: MtlsServer, form: str) -> None:
    """nginx accepts the client certificate in every form through an httpx.AsyncClient."""
    cert = _certificate(mtls, form)
    transport = cert.httpx_async_transport(verify=mtls.ca)
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(mtls.url)
    assert response.status_code == 200
    assert _accepted(response.text)


def test_no_certificate_is_refused(mtls: MtlsServer) -> None:
    """Without a client certificate nginx answers 400 saying none was sent."""
    response = requests.get(mtls.url, verify=mtls.ca, timeout=10)
    assert response.status_code == 400
    assert "No required SSL certificate was sent" in response.text


def test_untrusted_certificate_is_refused(mtls: MtlsServer) -> None:
    """A certificate from a CA nginx does not trust is refused with a 400."""
    cert = authwire.ClientCertificate(mtls.untrusted_cert, mtls.untrusted_key)
    with httpx.Client(verify=cert.ssl_context(verify=mtls.ca)) as client:
        response = client.get(mtls.url)
    assert response.status_code == 400
    assert "SSL certificate error" in response.text


@pytest.mark.parametrize("form", ["pem-encrypted", "pkcs12"])
def test_wrong_password_is_a_clear_error(mtls: MtlsServer, form: str) -> None:
    """A wrong key password raises ConfigurationError at construction, without the password."""
    wrong = "not-the-password-7f3a"
    cert, key = (mtls.p12, None) if form == "pkcs12" else (mtls.cert, mtls.key_encrypted)
    with pytest.raises(ConfigurationError, match="wrong password") as info:
        authwire.ClientCertificate(cert, key, wrong)
    assert wrong not in str(info.value)
    assert wrong not in repr(info.value)


def test_requests_by_ip_with_server_hostname(mtls: MtlsServer) -> None:
    """Connecting by IP works with server_hostname= and fails the name check without it."""
    cert = authwire.ClientCertificate(mtls.cert, mtls.key)
    with requests.Session() as session:
        session.mount(mtls.ip_url, cert.requests_adapter(server_hostname="localhost"))
        response = session.get(mtls.ip_url, verify=mtls.ca)
    assert response.status_code == 200
    assert _accepted(response.text)
    with requests.Session() as session:
        session.mount(mtls.ip_url, cert.requests_adapter())
        with pytest.raises(requests.exceptions.SSLError, match=r"127\.0\.0\.1"):
            session.get(mtls.ip_url, verify=mtls.ca)


def test_httpx_by_ip_with_server_hostname(mtls: MtlsServer) -> None:
    """httpx connects by IP with server_hostname= and fails the name check without it."""
    cert = authwire.ClientCertificate(mtls.p12, password=KEY_PASSWORD)
    transport = cert.httpx_transport(verify=mtls.ca, server_hostname="localhost")
    with httpx.Client(transport=transport) as client:
        response = client.get(mtls.ip_url)
    assert response.status_code == 200
    assert _accepted(response.text)
    with (
        httpx.Client(transport=cert.httpx_transport(verify=mtls.ca)) as client,
        pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.1"),
    ):
        client.get(mtls.ip_url)


def test_composed_with_an_api_key_on_requests(mtls: MtlsServer) -> None:
    """`cert + ApiKey` through requests_adapter(auth=) sends both the certificate and the key."""
    cert = authwire.ClientCertificate(mtls.cert, mtls.key_encrypted, KEY_PASSWORD)
    auth = cert + authwire.ApiKey("k-123", header="X-Api-Key")
    with requests.Session() as session:
        session.mount(mtls.url, cert.requests_adapter(auth=auth))
        response = session.get(mtls.url, verify=mtls.ca)
    assert response.status_code == 200
    assert _accepted(response.text)
    assert "key=k-123" in response.text


def test_composed_with_an_api_key_on_httpx(mtls: MtlsServer) -> None:
    """On httpx the certificate goes in the transport and the ApiKey in the Auth."""
    cert = authwire.ClientCertificate(mtls.p12, password=KEY_PASSWORD)
    key = authwire.ApiKey("k-456", header="X-Api-Key")
    with pytest.raises(ConfigurationError, match=r"cert\.httpx_transport"):
        authwire.httpx.Auth(cert + key)  # an auth object cannot present a certificate
    auth = authwire.httpx.Auth(key)
    with httpx.Client(transport=cert.httpx_transport(verify=mtls.ca), auth=auth) as client:
        response = client.get(mtls.url)
    assert response.status_code == 200
    assert _accepted(response.text)
    assert "key=k-456" in response.text


def test_requests_verify_settings_apply(mtls: MtlsServer) -> None:
    """requests' verify= decides server checks: CA bundle passes, system CAs fail, False skips."""
    cert = authwire.ClientCertificate(mtls.p12, password=KEY_PASSWORD)
    with requests.Session() as session:
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
        session.mount(mtls.url, cert.requests_adapter())
        assert _accepted(session.get(mtls.url, verify=mtls.ca).text)
        with pytest.warns(urllib3.exceptions.InsecureRequestWarning):
            assert _accepted(session.get(mtls.url, verify=False).text)
        with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            session.get(mtls.url)
