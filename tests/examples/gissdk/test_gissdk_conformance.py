"""Conformance of ``gissdk`` to the ArcGIS ``arcgis.auth`` page (seed 001).

Each documented item of the page, and the test that proves it (or the README section
that says why it is not honoured). Everything runs against the loopback vendor server
(an ArcGIS-like ``generateToken`` and protected ``/data``), a trustme TLS server, the
loopback token server and, for Kerberos, the real KDC and Apache.

| seed item | test |
|---|---|
| ``EsriSession(auth=...)`` | ``test_session_auth_handler_is_applied`` |
| ``cert`` | ``test_cert_is_presented`` |
| ``verify_cert`` (default True) and property | ``test_verify_cert`` |
| ``allow_redirects`` (default True) and attribute | ``test_allow_redirects`` |
| ``headers`` and property | ``test_headers_referer_update_headers`` |
| ``referer`` (default ``"http"``) and property | ``test_headers_referer_update_headers`` |
| ``trust_env`` | ``test_trust_env_false_ignores_proxy_variables`` |
| ``stream`` and property | ``test_stream`` |
| ``check_hostname`` | ``test_check_hostname_with_host_header`` (no Host header: README) |
| ``retries``, ``backoff_factor`` | ``test_retries_and_status_to_retry`` |
| ``status_to_retry`` (413, 429, 503, 500, 502, 504) | ``test_retries_and_status_to_retry`` |
| ``method_whitelist`` default includes POST | ``test_post_retried_by_default`` |
| ``proxies`` and property | ``test_proxies`` |
| properties ``adapters``, ``auth`` (get/set), ``cert`` | ``test_properties`` |
| ``close``, ``mount``, ``get``, ``post``... every verb | ``test_methods`` |
| ``update_headers`` | ``test_headers_referer_update_headers`` |
| chaining ``auth1 + auth2 + auth3`` | ``test_chain_of_handlers`` |
| a user's own ``requests.auth.AuthBase`` in a chain | ``test_chain_with_own_authbase`` |
| ``BaseEsriAuth`` (``token``, ``response_hook``) | ``test_base_esri_auth_subclass`` |
| ``EsriAPIKeyAuth`` (``api_key``, ``token`` get/set, ``auth``) | ``test_api_key_auth`` |
| ``EsriBasicAuth`` (``token`` is None) | ``test_basic_auth`` |
| ``EsriBuiltInAuth`` (``token``, 401 re-login, ``suspend``) | ``test_built_in_auth`` |
| ``EsriGenTokenAuth`` (``expiration``, ``time_out``, ``token()``...) | ``test_gen_token_auth`` |
| ``EsriHttpNtlmAuth`` (``send_cbt``) | ``test_ntlm_against_apache``, ``..._handlers_map`` |
| ``EsriHttpResponseError(message)`` | ``test_http_response_error`` |
| ``EsriKerberosAuth`` | ``test_kerberos_handler_against_kdc`` (integration) |
| ``EsriNotebookAuth`` (``token`` get/set) | ``test_notebook_and_user_token_auth`` |
| ``EsriOAuth2Auth`` (app login) | ``test_oauth2_app_login`` |
| ``EsriPKIAuth`` | ``test_cert_is_presented`` |
| ``EsriUserTokenAuth`` (401 returned) | ``test_notebook_and_user_token_auth`` |
| ``EsriWindowsAuth`` | ``test_kerberos_handler_against_kdc`` (integration) |
| ``GIS(url, username, password)``, ``gis.session.auth.token`` | ``test_gis_entry`` |
| ``ArcGISProAuth``, ``EsriPKCEAuth``, ``portal_auth``... | README: not honoured |
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from gissdk import (
    GIS,
    BaseEsriAuth,
    EsriAPIKeyAuth,
    EsriBasicAuth,
    EsriBuiltInAuth,
    EsriGenTokenAuth,
    EsriHttpNtlmAuth,
    EsriHttpResponseError,
    EsriKerberosAuth,
    EsriNotebookAuth,
    EsriOAuth2Auth,
    EsriPKIAuth,
    EsriSession,
    EsriUserTokenAuth,
    EsriWindowsAuth,
)
from tests.integration._kerberos import NTLM_PASSWORD, KerberosSite, kerberos
from tests.integration.test_session import TLS, _https, _TLSServer, tls, tls_server
from tests.servers.token_server import CLIENT_ID, CLIENT_SECRET, TokenServer
from tests.servers.vendor_server import PASSWORD, USER, VendorServer
from urllib3.exceptions import InsecureRequestWarning

import authwire

__all__ = ["kerberos", "tls", "tls_server"]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def vendor() -> Iterator[VendorServer]:
    """The ArcGIS-like loopback server."""
    with VendorServer(ttl=60) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset(vendor: VendorServer) -> None:
    vendor.reset()


def _login(vendor: VendorServer, **kwargs: Any) -> EsriBuiltInAuth:
    return EsriBuiltInAuth(vendor.url, USER, PASSWORD, cache=authwire.MemoryCache(), **kwargs)


def _token(vendor: VendorServer, referer: str = "http") -> str:
    """A token issued by the vendor's generateToken, bound to ``referer``."""
    form = {"username": USER, "password": PASSWORD, "referer": referer, "f": "json"}
    response = requests.post(f"{vendor.url}/sharing/rest/generateToken", data=form, timeout=10)
    token: str = response.json()["token"]
    return token


# -- EsriSession ----------------------------------------------------------------------------


def test_session_auth_handler_is_applied(vendor: VendorServer) -> None:
    """``EsriSession(auth=EsriBuiltInAuth(...))``: one login serves many requests."""
    with EsriSession(auth=_login(vendor)) as session:
        for _ in range(3):
            assert session.get(f"{vendor.url}/data").status_code == 200
    assert (vendor.count("login"), vendor.count("data_ok")) == (1, 3)


def test_headers_referer_update_headers(vendor: VendorServer) -> None:
    """``headers``, ``referer`` (default ``"http"``) and ``update_headers`` are sent."""
    with EsriSession(headers={"X-App": "maps"}) as session:
        assert session.referer == "http"
        session.update_headers({"X-More": "1"})
        seen = session.get(f"{vendor.url}/echo").json()["headers"]
        assert (seen["x-app"], seen["x-more"], seen["referer"]) == ("maps", "1", "http")
        session.referer = "https://app.example.com"
        session.headers = {"X-Only": "yes", "Referer": session.referer}
        seen = session.get(f"{vendor.url}/echo").json()["headers"]
        assert (seen["x-only"], seen["referer"]) == ("yes", "https://app.example.com")
        assert "x-app" not in seen


def test_allow_redirects(vendor: VendorServer) -> None:
    """Redirects are followed by default; ``allow_redirects=False`` returns the 302."""
    target = f"{vendor.url}/redirect?to={vendor.url}/echo"
    with EsriSession() as session:
        assert session.allow_redirects is True
        assert session.get(target).status_code == 200
    with EsriSession(allow_redirects=False) as session:
        assert session.get(target).status_code == 302


def test_retries_and_status_to_retry(vendor: VendorServer) -> None:
    """``status_to_retry`` defaults to the seed's tuple; ``retries`` bounds the attempts."""
    with EsriSession(retries=3, backoff_factor=0) as session:
        assert session.status_to_retry == (413, 429, 503, 500, 502, 504)
        for status in (413, 429, 500, 502, 503, 504):
            url = f"{vendor.url}/flaky?key=s{status}&fail=2&status={status}"
            assert session.get(url).status_code == 200
            assert vendor.count(f"flaky:s{status}") == 3
    with EsriSession(retries=1, backoff_factor=0, status_to_retry=(500,)) as session:
        assert session.get(f"{vendor.url}/flaky?key=x&fail=5&status=500").status_code == 500
        assert session.get(f"{vendor.url}/flaky?key=y&fail=5&status=502").status_code == 502
    assert (vendor.count("flaky:x"), vendor.count("flaky:y")) == (2, 1)


def test_post_retried_by_default(vendor: VendorServer) -> None:
    """``method_whitelist``'s default includes POST: a failing POST is retried."""
    with EsriSession(retries=3, backoff_factor=0) as session:
        assert "POST" in session.method_whitelist
        assert session.post(f"{vendor.url}/flaky?key=p&fail=2").status_code == 200
    with EsriSession(retries=3, backoff_factor=0, method_whitelist=["GET"]) as session:
        assert session.post(f"{vendor.url}/flaky?key=q&fail=2").status_code == 503
    assert (vendor.count("flaky:p"), vendor.count("flaky:q")) == (3, 1)


def test_trust_env_false_ignores_proxy_variables(
    vendor: VendorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``trust_env=False`` a proxy in the environment is not used."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    with EsriSession(trust_env=False, retries=0) as session:
        assert session.get(f"{vendor.url}/echo").status_code == 200
    with EsriSession(retries=0) as session, pytest.raises(requests.exceptions.ProxyError):
        session.get(f"{vendor.url}/echo")


def test_proxies(vendor: VendorServer) -> None:
    """``proxies=`` routes through the proxy (here the vendor server, which echoes)."""
    with EsriSession(proxies={"http": vendor.url}, trust_env=False, retries=0) as session:
        assert session.proxies["http"] == vendor.url
        reply = session.get("http://api.example.invalid/echo?via=proxy")
    assert reply.status_code == 200
    assert vendor.state.seen[-1]["headers"]["host"] == "api.example.invalid"


def test_stream(vendor: VendorServer) -> None:
    """``stream`` (default False) leaves the body unread when True; the property sets it."""
    with EsriSession(stream=True) as session:
        assert session.stream is True
        response = session.get(f"{vendor.url}/echo")
        assert response._content_consumed is False
        response.close()
        session.stream = False
        assert session.get(f"{vendor.url}/echo")._content_consumed is True


def test_verify_cert(tls: TLS, tls_server: _TLSServer) -> None:
    """``verify_cert=True`` (default) refuses an untrusted server; False accepts it."""
    with EsriSession(retries=0) as session, pytest.raises(requests.exceptions.SSLError):
        session.get(_https(tls_server))
    with EsriSession(verify_cert=False, retries=0) as session:
        assert session.verify_cert is False
        with pytest.warns(InsecureRequestWarning):
            assert session.get(_https(tls_server)).status_code == 200
        session.verify_cert = True
        assert session.verify_cert is True


def test_check_hostname_with_host_header(
    tls: TLS, tls_server: _TLSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check_hostname=False`` + ``headers={"Host": name}``: by IP, verified for that name."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    headers = {"Host": "api.example.test"}
    with (
        EsriSession(retries=0, headers=headers) as session,
        pytest.raises(requests.exceptions.SSLError),
    ):
        session.get(_https(tls_server))
    with EsriSession(check_hostname=False, headers=headers, retries=0) as session:
        assert session.get(_https(tls_server)).status_code == 200
    with pytest.raises(authwire.ConfigurationError, match="Host"):
        EsriSession(check_hostname=False)


@pytest.mark.parametrize("tls_server", [True], indirect=True)
def test_cert_is_presented(
    tls: TLS, tls_server: _TLSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cert=`` and ``EsriPKIAuth(cert)``: the certificate is presented in the handshake."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    pair = (str(tls.cert_file), str(tls.key_file))
    options: dict[str, Any] = {"retries": 0, "check_hostname": False}
    options["headers"] = {"Host": "api.example.test"}
    with EsriSession(cert=pair, **options) as session:
        assert session.cert == pair
        assert session.get(_https(tls_server)).status_code == 200
    with EsriSession(auth=EsriPKIAuth(pair), **options) as session:
        assert session.auth.token is None
        assert session.get(_https(tls_server)).status_code == 200
    with EsriSession(**options) as session, pytest.raises(requests.exceptions.SSLError):
        session.get(_https(tls_server))


def test_properties(vendor: VendorServer) -> None:
    """``adapters``, ``auth`` (get/set: the handler given), ``cert``."""
    handler = _login(vendor)
    with EsriSession() as session:
        assert set(session.adapters) >= {"https://", "http://"}
        assert session.auth is None
        assert session.cert is None
        session.auth = handler  # the setter does what auth= does
        assert session.auth is handler
        assert session.get(f"{vendor.url}/data").status_code == 200


def test_methods(vendor: VendorServer) -> None:
    """Every verb reaches the server; ``mount`` registers an adapter; ``close`` closes."""
    with EsriSession() as session:
        url = f"{vendor.url}/echo"
        for call in (session.get, session.post, session.put, session.delete, session.head):
            assert call(url).status_code == 200
        assert session.options(url).status_code in (200, 501)
        assert session.patch(url).status_code in (200, 501)
        adapter = requests.adapters.HTTPAdapter()
        session.mount(vendor.url + "/", adapter)
        assert session.adapters[vendor.url + "/"] is adapter
    methods = [seen["method"] for seen in vendor.state.seen]
    assert methods[:4] == ["GET", "POST", "PUT", "DELETE"]


# -- chains -------------------------------------------------------------------------------


class Signed(requests.auth.AuthBase):
    """A user's own handler, as the page invites: subclass ``requests.auth.AuthBase``."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["X-Signed"] = "yes"
        return r


def test_chain_of_handlers(vendor: VendorServer) -> None:
    """``auth1 + auth2 + auth3``: every handler applies to the request."""
    chain = EsriAPIKeyAuth("k-1") + EsriBasicAuth("web", "tier") + Signed()
    with EsriSession(auth=chain) as session:
        seen = session.get(f"{vendor.url}/echo").json()["headers"]
    assert seen["x-esri-authorization"] == "Bearer k-1"
    assert seen["authorization"].startswith("Basic ")
    assert seen["x-signed"] == "yes"


def test_chain_with_own_authbase(vendor: VendorServer) -> None:
    """A user's ``AuthBase`` first in a chain, then a login: the login still re-logs on 401."""
    with EsriSession(auth=Signed() + _login(vendor)) as session:
        assert session.get(f"{vendor.url}/data").status_code == 200
        vendor.revoke_all()
        assert session.get(f"{vendor.url}/data").status_code == 200
    assert (vendor.count("login"), vendor.count("data_401")) == (2, 1)


def test_base_esri_auth_subclass(vendor: VendorServer) -> None:
    """A ``BaseEsriAuth`` subclass sends its ``token`` and its ``response_hook`` runs."""
    seen: list[int] = []
    token = _token(vendor)

    class Mine(BaseEsriAuth):
        @property
        def token(self) -> str:
            return token

        def response_hook(self, response: requests.Response, **kwargs: Any) -> requests.Response:
            seen.append(response.status_code)
            return response

    with EsriSession(auth=Mine()) as session:
        assert session.get(f"{vendor.url}/data").status_code == 200
    assert seen == [200]


# -- handlers ---------------------------------------------------------------------------------


def test_api_key_auth(vendor: VendorServer) -> None:
    """``EsriAPIKeyAuth``: the key as ``X-Esri-Authorization: Bearer``; ``token`` settable."""
    handler = EsriAPIKeyAuth("k-1", auth=Signed())
    assert handler.api_key == handler.token == "k-1"
    with EsriSession(auth=handler) as session:
        seen = session.get(f"{vendor.url}/echo").json()["headers"]
        assert (seen["x-esri-authorization"], seen["x-signed"]) == ("Bearer k-1", "yes")
    handler.token = "k-2"
    seen = requests.get(f"{vendor.url}/echo", auth=handler, timeout=10).json()["headers"]
    assert seen["x-esri-authorization"] == "Bearer k-2"
    assert "k-2" not in repr(handler)


def test_basic_auth(vendor: VendorServer) -> None:
    """``EsriBasicAuth``: Basic credentials, ``token`` is ``None``."""
    handler = EsriBasicAuth("web", "tier")
    assert handler.token is None
    seen = requests.get(f"{vendor.url}/echo", auth=handler, timeout=10).json()["headers"]
    assert seen["authorization"] == "Basic d2ViOnRpZXI="


def test_built_in_auth(vendor: VendorServer) -> None:
    """``EsriBuiltInAuth``: ``token``, one re-login after a 401, ``suspend`` forgets."""
    handler = _login(vendor)
    with EsriSession(auth=handler) as session:
        assert session.get(f"{vendor.url}/data").status_code == 200
        first = handler.token
        vendor.revoke_all()
        assert session.get(f"{vendor.url}/data").status_code == 200
        assert handler.token != first
        assert handler.suspend() is True
        assert session.get(f"{vendor.url}/data").status_code == 200
    assert vendor.count("login") == 3
    assert vendor.state.logins[0]["referer"] == "http"


def test_gen_token_auth(vendor: VendorServer) -> None:
    """``EsriGenTokenAuth``: ``time_out`` asked for, ``referer`` bound, ``expiration``."""
    handler = EsriGenTokenAuth(
        f"{vendor.url}/sharing/rest/generateToken",
        "https://app.example.com",
        USER,
        PASSWORD,
        time_out=30,
        cache=authwire.MemoryCache(),
    )
    assert (handler.referer, handler.time_out) == ("https://app.example.com", 30)
    with EsriSession(auth=handler, referer="https://app.example.com") as session:
        assert session.get(f"{vendor.url}/data").status_code == 200
    assert handler.token(server_url=vendor.url) == handler.token()
    assert handler.expiration is not None
    login = vendor.state.logins[0]
    assert (login["expiration"], login["referer"]) == ("30", "https://app.example.com")
    with pytest.raises(authwire.ConfigurationError):
        EsriGenTokenAuth(f"{vendor.url}/x", "http", portal_auth=_login(vendor))


def test_notebook_and_user_token_auth(vendor: VendorServer) -> None:
    """A token the user holds is sent; a rejected one comes back as a 401, not a loop."""
    good = _token(vendor)
    notebook = EsriNotebookAuth(good)
    user = EsriUserTokenAuth(good)
    assert notebook.token == user.token == good
    for handler in (notebook, user):
        with EsriSession(auth=handler) as session:
            assert session.get(f"{vendor.url}/data").status_code == 200
    notebook.token = "vt-not-issued"
    with EsriSession(auth=notebook) as session:
        assert session.get(f"{vendor.url}/data").status_code == 401
    vendor.revoke_all()
    with EsriSession(auth=user) as session:
        assert session.get(f"{vendor.url}/data").status_code == 401
    assert vendor.count("data_401") == 2


def test_oauth2_app_login() -> None:
    """``EsriOAuth2Auth(base_url, client_id, client_secret)``: an app login, token cached."""
    with TokenServer(ttl=60) as server:
        handler = EsriOAuth2Auth(
            server.url,
            CLIENT_ID,
            CLIENT_SECRET,
            token_url=f"{server.url}/token",
            cache=authwire.MemoryCache(),
        )
        assert handler.token.startswith("at-")
        assert server.count("token") == 1
        with pytest.raises(authwire.ConfigurationError):
            EsriOAuth2Auth(server.url, CLIENT_ID)


def test_ntlm_and_kerberos_handlers_map() -> None:
    """NTLM keeps ``send_cbt``; Kerberos and Windows run on ``authwire.Negotiate``."""
    ntlm = EsriHttpNtlmAuth("DOM\\user", "pw-1", send_cbt=False)
    assert isinstance(ntlm.as_scheme(), authwire.NTLM)
    assert ntlm.as_scheme().channel_bindings is False
    assert "pw-1" not in repr(ntlm)
    for handler in (EsriKerberosAuth(), EsriWindowsAuth(username="u@R", password="pw-2")):
        assert isinstance(handler.as_scheme(), authwire.Negotiate)
        assert handler.token is None
        assert "pw-2" not in repr(handler)


def test_kerberos_handler_against_kdc(kerberos: KerberosSite) -> None:
    """``EsriKerberosAuth()`` and ``EsriWindowsAuth()`` log in to Apache with the ticket."""
    for handler in (EsriKerberosAuth(), EsriWindowsAuth()):
        with EsriSession(auth=handler, retries=0) as session:
            response = session.get(kerberos.url("/krb/"))
        assert response.status_code == 200
        assert response.headers["X-Remote-User"] == kerberos.principal


def test_ntlm_against_apache(kerberos: KerberosSite) -> None:
    """``EsriHttpNtlmAuth`` completes the NTLM handshake with Apache (gss-ntlmssp)."""
    handler = EsriHttpNtlmAuth("TESTDOM\\alice", NTLM_PASSWORD)
    with EsriSession(auth=handler, retries=0) as session:
        assert session.get(kerberos.url("/ntlm/")).status_code == 200
    wrong = EsriHttpNtlmAuth("TESTDOM\\alice", "wrong-pw-9e2")
    with EsriSession(auth=wrong, retries=0) as session:
        assert session.get(kerberos.url("/ntlm/")).status_code == 401


def test_http_response_error() -> None:
    """``EsriHttpResponseError(message)`` keeps ``message``."""
    error = EsriHttpResponseError("service said no")
    assert error.message == str(error) == "service said no"


def test_gis_entry(vendor: VendorServer) -> None:
    """``GIS(url, username, password).session.auth.token`` is the login's token."""
    gis = GIS(vendor.url, USER, PASSWORD)
    token = gis.session.auth.token
    assert token.startswith("vt-")
    assert gis.session.get(f"{vendor.url}/data").status_code == 200
    assert vendor.count("login") == 1
