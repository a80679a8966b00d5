"""``authwire.Session`` against real loopback servers: auth, redirects, retries, TLS, proxies."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    load_pem_private_key,
    pkcs12,
)
from cryptography.x509 import load_pem_x509_certificate
from tests.leakcheck import SecretPlanter
from tests.servers.token_server import CLIENT_ID, CLIENT_SECRET, TokenServer
from tests.servers.vendor_server import PASSWORD as VENDOR_PASSWORD
from tests.servers.vendor_server import USER as VENDOR_USER
from tests.servers.vendor_server import VendorServer
from urllib3.exceptions import InsecureRequestWarning

import authwire
from authwire.credentials.login_endpoint import LoginEndpoint
from authwire.errors import ConfigurationError, TokenRequestError
from authwire.refresher import Refresher
from authwire.testing import FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def token_server() -> Iterator[TokenServer]:
    """The loopback OAuth token endpoint and protected API."""
    with TokenServer(ttl=60) as server:
        yield server


@pytest.fixture(scope="module")
def vendor() -> Iterator[VendorServer]:
    """The loopback vendor server (a second origin, flaky endpoints, echo)."""
    with VendorServer(ttl=60) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset(token_server: TokenServer, vendor: VendorServer) -> None:
    token_server.reset()
    vendor.reset()


@pytest.fixture
def token_client() -> Iterator[requests.Session]:
    """The credential's own client for token requests, closed when the test ends."""
    with requests.Session() as client:
        yield client


@pytest.fixture
def cred(token_server: TokenServer, token_client: requests.Session) -> authwire.ClientCredentials:
    """Client credentials against the loopback token endpoint, with a private cache."""
    return authwire.ClientCredentials(
        f"{token_server.url}/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        cache=authwire.MemoryCache(),
        http_client=token_client,
    )


# -- credentials ---------------------------------------------------------------------------


def test_auth_fetches_once_and_replays_after_revocation(
    token_server: TokenServer, cred: authwire.ClientCredentials
) -> None:
    """A revoked token gets one 401, one new token and one replay; later calls reuse it."""
    with authwire.Session(cred, retries=0) as session:
        for _ in range(3):
            assert session.get(f"{token_server.url}/api").status_code == 200
        token_server.revoke_all()
        response = session.post(f"{token_server.url}/api", data=b"payload")
        assert response.status_code == 200
        assert response.json()["body"] == "payload"
        assert session.get(f"{token_server.url}/api").status_code == 200
    assert token_server.count("token") == 2
    assert token_server.count("api_401") == 1
    assert token_server.count("api_ok") == 5


def test_chain_applies_every_part(
    token_server: TokenServer, cred: authwire.ClientCredentials
) -> None:
    """A ``+`` chain sends the API key and the bearer token on the same request."""
    auth = authwire.ApiKey("k-extra", header="X-Extra") + cred
    with authwire.Session(auth) as session:
        seen = session.get(f"{token_server.url}/echo").json()["headers"]
    assert seen["x-extra"] == "k-extra"
    assert seen["authorization"].startswith("Bearer at-")


def test_cross_origin_redirect_strips_everything_authwire_added(
    token_server: TokenServer, vendor: VendorServer, cred: authwire.ClientCredentials
) -> None:
    """A redirect to another origin carries neither the bearer token nor the custom key header."""
    auth = authwire.ApiKey("k-secret-1", header="X-Custom-Key") + cred
    with authwire.Session(auth, headers={"X-Trace": "t1"}) as session:
        target = f"{vendor.url}/echo"
        response = session.get(f"{token_server.url}/redirect", params={"to": target})
    assert response.status_code == 200
    seen = vendor.state.seen[-1]["headers"]
    assert "authorization" not in seen
    assert "x-custom-key" not in seen
    assert seen["x-trace"] == "t1"  # the user's own default headers still go


def test_cross_origin_401_is_not_answered_with_credentials(
    token_server: TokenServer, vendor: VendorServer, cred: authwire.ClientCredentials
) -> None:
    """A 401 from the redirect target is returned as is: no refresh, no replay there."""
    with authwire.Session(cred) as session:
        response = session.get(f"{token_server.url}/redirect", params={"to": f"{vendor.url}/data"})
    assert response.status_code == 401
    assert vendor.count("data_401") == 1
    assert token_server.count("token") == 1


def test_same_origin_redirect_keeps_credentials(
    token_server: TokenServer, cred: authwire.ClientCredentials
) -> None:
    """A redirect within the origin still carries the token."""
    with authwire.Session(cred) as session:
        response = session.get(
            f"{token_server.url}/redirect", params={"to": f"{token_server.url}/api"}
        )
    assert response.status_code == 200
    assert token_server.count("api_ok") == 1


def test_allow_redirects_false_is_the_default_for_every_method(vendor: VendorServer) -> None:
    """With ``allow_redirects=False`` even GET returns the 302 itself."""
    with authwire.Session(allow_redirects=False) as session:
        response = session.get(f"{vendor.url}/redirect", params={"to": f"{vendor.url}/echo"})
        followed = session.get(
            f"{vendor.url}/redirect", params={"to": f"{vendor.url}/echo"}, allow_redirects=True
        )
    assert response.status_code == 302
    assert followed.status_code == 200
    assert vendor.count("GET /echo") == 1


def test_per_request_auth_accepts_authwire_credentials(vendor: VendorServer) -> None:
    """``auth=`` on one request takes an authwire scheme and overrides the session's."""
    with authwire.Session(authwire.ApiKey("session-key")) as session:
        session.get(f"{vendor.url}/echo", auth=authwire.ApiKey("one-off", header="X-Once"))
        session.get(f"{vendor.url}/echo")
    first, second = (record["headers"] for record in vendor.state.seen[-2:])
    assert (first.get("x-once"), first.get("x-api-key")) == ("one-off", None)
    assert (second.get("x-once"), second.get("x-api-key")) == (None, "session-key")


def test_headers_referer_and_update_headers_are_sent(vendor: VendorServer) -> None:
    """Default headers, the referer and headers added later all reach the server."""
    with authwire.Session(headers={"X-App": "a1"}, referer="https://app.example.com") as session:
        session.update_headers({"X-Later": "l1"})
        session.get(f"{vendor.url}/echo")
    seen = vendor.state.seen[-1]["headers"]
    assert (seen["x-app"], seen["referer"], seen["x-later"]) == (
        "a1",
        "https://app.example.com",
        "l1",
    )


# -- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503, 502])
def test_retries_until_success(vendor: VendorServer, status: int) -> None:
    """Two failures then success: three attempts with ``retries=3`` (Retry-After: 0 honoured)."""
    with authwire.Session(retries=3, backoff_factor=0) as session:
        response = session.get(
            f"{vendor.url}/flaky", params={"key": f"s{status}", "fail": 2, "status": status}
        )
    assert response.status_code == 200
    assert response.json()["attempts"] == 3
    assert vendor.count(f"flaky:s{status}") == 3


def test_retries_exhausted_returns_last_response(vendor: VendorServer) -> None:
    """With ``retries=1`` a server failing twice is tried twice and its 503 returned."""
    with authwire.Session(retries=1, backoff_factor=0) as session:
        response = session.get(f"{vendor.url}/flaky", params={"key": "ex", "fail": 5})
    assert response.status_code == 503
    assert vendor.count("flaky:ex") == 2


def test_post_is_not_retried_unless_allowed(vendor: VendorServer) -> None:
    """POST is not idempotent: sent once by default, retried when ``allowed_methods`` says."""
    with authwire.Session(retries=3, backoff_factor=0) as session:
        assert session.post(f"{vendor.url}/flaky", params={"key": "p1"}).status_code == 503
    with authwire.Session(retries=3, backoff_factor=0, allowed_methods=["post"]) as session:
        assert session.post(f"{vendor.url}/flaky", params={"key": "p2"}).status_code == 200
    assert (vendor.count("flaky:p1"), vendor.count("flaky:p2")) == (1, 2)


def test_post_retried_per_request_with_retry_true(vendor: VendorServer) -> None:
    """``retry=True`` retries one POST; ``retry=False`` keeps a session that allows POST off."""
    with authwire.Session(retries=3, backoff_factor=0) as session:
        response = session.post(f"{vendor.url}/flaky", params={"key": "p3"}, retry=True)
        assert response.status_code == 200
        assert session.post(f"{vendor.url}/flaky", params={"key": "p4"}).status_code == 503
        with pytest.raises(authwire.ConfigurationError):
            session.post(f"{vendor.url}/flaky", retry="yes")
    with authwire.Session(retries=3, backoff_factor=0, allowed_methods=["POST"]) as session:
        response = session.post(f"{vendor.url}/flaky", params={"key": "p5"}, retry=False)
        assert response.status_code == 503
    assert (vendor.count("flaky:p3"), vendor.count("flaky:p4"), vendor.count("flaky:p5")) == (
        2,
        1,
        1,
    )


def test_status_not_listed_is_not_retried(vendor: VendorServer) -> None:
    """A 500 is not retried when ``status_to_retry`` leaves it out."""
    with authwire.Session(retries=3, backoff_factor=0, status_to_retry={503}) as session:
        response = session.get(f"{vendor.url}/flaky", params={"key": "n", "status": 500})
    assert response.status_code == 500
    assert vendor.count("flaky:n") == 1


def test_retry_after_is_honoured_even_for_unlisted_statuses(vendor: VendorServer) -> None:
    """A 429 carrying ``Retry-After`` is retried (after that wait) though not in the list."""
    with authwire.Session(retries=2, backoff_factor=0, status_to_retry={500}) as session:
        response = session.get(
            f"{vendor.url}/flaky", params={"key": "ra", "fail": 1, "status": 429}
        )
    assert response.status_code == 200
    assert vendor.count("flaky:ra") == 2


# -- proxies and the environment -----------------------------------------------------------


def test_proxies_route_requests_through_the_proxy(vendor: VendorServer) -> None:
    """A request for another host goes to the configured proxy with the absolute URL."""
    with authwire.Session(proxies={"http": vendor.url}, trust_env=False) as session:
        response = session.get("http://api.example.invalid/echo?via=proxy")
    assert response.status_code == 200
    assert vendor.state.seen[-1]["query"] == {"via": "proxy"}
    assert vendor.state.seen[-1]["headers"]["host"] == "api.example.invalid"


def test_trust_env_false_ignores_proxy_variables(
    vendor: VendorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HTTP_PROXY`` pointing nowhere breaks a trusting session, not a ``trust_env=False`` one."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with authwire.Session(retries=0) as trusting, pytest.raises(requests.exceptions.ProxyError):
        trusting.get(f"{vendor.url}/echo")
    with authwire.Session(retries=0, trust_env=False) as session:
        assert session.get(f"{vendor.url}/echo").status_code == 200


def test_stream_default_leaves_the_body_unread(vendor: VendorServer) -> None:
    """With ``stream=True`` the body is read only when asked for."""
    with authwire.Session(stream=True) as session:
        response = session.get(f"{vendor.url}/echo")
        assert response._content_consumed is False  # type: ignore[attr-defined]
        assert response.json()["method"] == "GET"


# -- TLS -----------------------------------------------------------------------------------


class _TLSHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TLSServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        peer = self.connection.getpeercert()  # type: ignore[attr-defined]
        subject = dict(x[0] for x in peer["subject"]) if peer else {}
        body = json.dumps({"client": subject.get("commonName")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        self.sni: list[str | None] = []
        context.sni_callback = self._sni
        self.context = context
        super().__init__(("127.0.0.1", 0), _TLSHandler)

    def _sni(self, sock: Any, name: str | None, ctx: Any) -> None:
        self.sni.append(name)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # refused handshakes are what some tests are about


class TLS:
    """A CA, a server certificate for ``api.example.test`` only, and a client certificate."""

    def __init__(self, tmp: Path) -> None:
        self.ca = trustme.CA()
        self.ca_file = tmp / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.server_cert = self.ca.issue_cert("api.example.test")
        client = self.ca.issue_cert("client@example.test", common_name="client-7")
        self.cert_file, self.key_file = tmp / "client.crt", tmp / "client.key"
        client.cert_chain_pems[0].write_to_path(str(self.cert_file))
        client.private_key_pem.write_to_path(str(self.key_file))
        self.combined = tmp / "client.pem"
        client.private_key_and_cert_chain_pem.write_to_path(str(self.combined))
        self.password = "pw-" + "9c1d7e"  # throwaway
        key = load_pem_private_key(client.private_key_pem.bytes(), None)
        self.encrypted_key = tmp / "client-enc.key"
        self.encrypted_key.write_bytes(
            key.private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(self.password.encode())
            )
        )
        cert = load_pem_x509_certificate(client.cert_chain_pems[0].bytes())
        self.p12 = tmp / "client.p12"
        self.p12.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"client",
                key,  # type: ignore[arg-type]
                cert,
                None,
                BestAvailableEncryption(self.password.encode()),
            )
        )

    def serve(self, require_client_cert: bool) -> _TLSServer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_cert.configure_cert(context)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        server = _TLSServer(context)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLS:
    """Throwaway trustme CA with server and client certificates."""
    return TLS(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(tls: TLS, request: pytest.FixtureRequest) -> Iterator[_TLSServer]:
    """A TLS server for ``api.example.test`` on 127.0.0.1; client cert if the param says."""
    server = tls.serve(require_client_cert=getattr(request, "param", False))
    yield server
    server.shutdown()
    server.server_close()


def _https(server: _TLSServer) -> str:
    return f"https://127.0.0.1:{server.server_address[1]}/"


def test_server_hostname_verifies_by_name_when_connecting_by_ip(
    tls: TLS, tls_server: _TLSServer
) -> None:
    """By IP the name check fails; with ``server_hostname`` it passes and SNI carries the name."""
    with (
        authwire.Session(verify=str(tls.ca_file), retries=0) as plain,
        pytest.raises(requests.exceptions.SSLError),
    ):
        plain.get(_https(tls_server))
    with authwire.Session(
        verify=str(tls.ca_file), server_hostname="api.example.test", retries=0
    ) as session:
        assert session.get(_https(tls_server)).status_code == 200
    assert tls_server.sni[-1] == "api.example.test"


@pytest.mark.parametrize("tls_server", [False, True], indirect=True)
def test_verify_false_skips_verification(tls: TLS, tls_server: _TLSServer) -> None:
    """``verify=False`` reaches an untrusted server, with a client certificate too."""
    with (
        authwire.Session(
            verify=False, retries=0, cert=(str(tls.cert_file), str(tls.key_file))
        ) as session,
        pytest.warns(InsecureRequestWarning),
    ):
        assert session.get(_https(tls_server)).status_code == 200


def test_untrusted_server_is_refused_by_default(tls_server: _TLSServer) -> None:
    """The default verification refuses a certificate from an unknown CA."""
    with (
        authwire.Session(server_hostname="api.example.test", retries=0) as session,
        pytest.raises(requests.exceptions.SSLError),
    ):
        session.get(_https(tls_server))


@pytest.mark.parametrize("tls_server", [True], indirect=True)
@pytest.mark.parametrize(
    "form", ["pair", "combined", "encrypted", "encrypted_tuple", "p12", "object", "in_auth"]
)
def test_client_certificate_forms(tls: TLS, tls_server: _TLSServer, form: str) -> None:
    """Each client-certificate form authenticates to a server that requires one."""
    cert: Any = None
    auth: Any = None
    password: str | None = None
    if form == "object":
        cert = authwire.ClientCertificate(tls.p12, password=tls.password)
    elif form == "in_auth":
        auth = authwire.ClientCertificate(tls.p12, password=tls.password) + authwire.ApiKey("k")
    elif form == "pair":
        cert = (str(tls.cert_file), str(tls.key_file))
    elif form == "combined":
        cert = str(tls.combined)
    elif form == "encrypted":
        cert, password = (str(tls.cert_file), str(tls.encrypted_key)), tls.password
    elif form == "encrypted_tuple":
        cert = (str(tls.cert_file), str(tls.encrypted_key), authwire.Secret(tls.password))
    else:
        cert, password = str(tls.p12), tls.password
    with authwire.Session(
        auth,
        cert=cert,
        cert_password=password,
        verify=str(tls.ca_file),
        server_hostname="api.example.test",
        retries=0,
    ) as session:
        response = session.get(_https(tls_server))
    assert response.json() == {"client": "client-7"}


@pytest.mark.parametrize("tls_server", [True], indirect=True)
def test_missing_client_certificate_is_refused(tls: TLS, tls_server: _TLSServer) -> None:
    """Without a client certificate the handshake fails."""
    with (
        authwire.Session(
            verify=str(tls.ca_file), server_hostname="api.example.test", retries=0
        ) as session,
        pytest.raises(requests.exceptions.RequestException),
    ):
        session.get(_https(tls_server))


@pytest.mark.parametrize("which", ["encrypted", "p12"])
def test_wrong_certificate_password_is_a_configuration_error(
    tls: TLS, which: str, planted_secrets: SecretPlanter
) -> None:
    """A wrong password fails at construction, and the error does not contain it."""
    wrong = planted_secrets.new("certpw")
    cert: Any = (
        (str(tls.cert_file), str(tls.encrypted_key)) if which == "encrypted" else str(tls.p12)
    )
    with pytest.raises(ConfigurationError) as info:
        authwire.Session(cert=cert, cert_password=wrong)
    planted_secrets.check(str(info.value), repr(info.value))


# -- vendor logins -------------------------------------------------------------------------

REFERER = "https://app.example.com/map"


@pytest.fixture
def arcgis(vendor: VendorServer, token_client: requests.Session) -> LoginEndpoint:
    """An ArcGIS-style login against the vendor server, bound to ``REFERER``."""
    return LoginEndpoint.arcgis(
        vendor.url,
        VENDOR_USER,
        VENDOR_PASSWORD,
        referer=REFERER,
        cache=authwire.MemoryCache(),
        http_client=token_client,
    )


def test_arcgis_login_once_then_reuse(vendor: VendorServer, arcgis: LoginEndpoint) -> None:
    """One generateToken call serves many requests; the token's ms expiry is read."""
    with authwire.Session(arcgis, referer=REFERER) as session:
        for _ in range(4):
            assert session.get(f"{vendor.url}/data").status_code == 200
    assert vendor.count("login") == 1
    assert vendor.count("data_ok") == 4
    login = vendor.state.logins[0]
    assert (login["client"], login["referer"], login["f"]) == ("referer", REFERER, "json")
    token = arcgis.get_token()
    assert token.expires_at is not None
    assert token.lifetime == pytest.approx(60, abs=5)


def test_login_again_after_revocation(vendor: VendorServer, arcgis: LoginEndpoint) -> None:
    """A revoked token costs one 401 and one new login, then the request succeeds."""
    with authwire.Session(arcgis, referer=REFERER) as session:
        assert session.get(f"{vendor.url}/data").status_code == 200
        vendor.revoke_all()
        assert session.get(f"{vendor.url}/data").status_code == 200
        assert session.get(f"{vendor.url}/data").status_code == 200
    assert (vendor.count("login"), vendor.count("data_401"), vendor.count("data_ok")) == (2, 1, 3)


def test_login_again_on_expiry(vendor: VendorServer, token_client: requests.Session) -> None:
    """Once the clock passes the token's expiry the credential logs in again before sending."""
    clock = FakeClock(time.time())
    cred = LoginEndpoint(
        f"{vendor.url}/api/v3/user_login",
        VENDOR_USER,
        VENDOR_PASSWORD,
        body="json",
        username_field="login",
        token_path="data.access_token",
        cache=authwire.MemoryCache(),
        http_client=token_client,
        clock=clock,
    )
    with authwire.Session(cred) as session:
        assert session.get(f"{vendor.url}/data").status_code == 200
        first = cred.get_token()
        clock.advance(61)
        assert session.get(f"{vendor.url}/data").status_code == 200
        assert cred.get_token() is not first
    assert (vendor.count("login"), vendor.count("data_401")) == (2, 0)


def test_jwt_login_reads_exp(vendor: VendorServer, token_client: requests.Session) -> None:
    """A login answering only a JWT gets its expiry from the ``exp`` claim."""
    cred = LoginEndpoint(
        f"{vendor.url}/api/jwt_login",
        VENDOR_USER,
        VENDOR_PASSWORD,
        body="json",
        token_path="jwt",
        cache=authwire.MemoryCache(),
        http_client=token_client,
    )
    token = cred.get_token()
    assert token.expires_at == token.claims["exp"]
    with authwire.Session(cred) as session:
        assert session.get(f"{vendor.url}/data").status_code == 200


def test_referer_bound_token_without_referer_is_one_401_not_a_loop(
    vendor: VendorServer, arcgis: LoginEndpoint
) -> None:
    """Without the bound Referer: one login again, one replay, then the 401 is returned."""
    with authwire.Session(arcgis) as session:
        assert session.get(f"{vendor.url}/data").status_code == 401
    assert (vendor.count("login"), vendor.count("data_401")) == (2, 2)


def test_wrong_password_error_is_typed_and_secret_free(
    vendor: VendorServer, token_client: requests.Session, planted_secrets: SecretPlanter
) -> None:
    """ArcGIS's HTTP 200 error becomes ``TokenRequestError`` without the password."""
    wrong = planted_secrets.new("pw")
    cred = LoginEndpoint.arcgis(
        vendor.url,
        VENDOR_USER,
        wrong,
        referer=REFERER,
        cache=authwire.MemoryCache(),
        http_client=token_client,
    )
    with authwire.Session(cred) as session, pytest.raises(TokenRequestError) as info:
        session.get(f"{vendor.url}/data")
    assert "Invalid username or password" in str(info.value)
    assert vendor.count("GET /data") == 0
    planted_secrets.check(str(info.value), repr(info.value), repr(cred))


def test_arcgis_login_with_httpx_client(vendor: VendorServer, arcgis: LoginEndpoint) -> None:
    """The ArcGIS credential works with ``httpx.Client`` too, re-login after revocation."""
    import httpx

    import authwire.httpx

    with httpx.Client(auth=authwire.httpx.Auth(arcgis), headers={"Referer": REFERER}) as client:
        assert client.get(f"{vendor.url}/data").status_code == 200
        vendor.revoke_all()
        assert client.get(f"{vendor.url}/data").status_code == 200
    assert (vendor.count("login"), vendor.count("data_401"), vendor.count("data_ok")) == (2, 1, 2)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Async tests run on asyncio and on trio."""
    return str(request.param)


@pytest.mark.anyio
async def test_login_endpoint_with_httpx_async(vendor: VendorServer) -> None:
    """The same credential works with ``httpx.AsyncClient``: one login, re-login after 401."""
    import httpx

    import authwire.httpx

    cred = LoginEndpoint(
        f"{vendor.url}/api/v3/user_login",
        VENDOR_USER,
        VENDOR_PASSWORD,
        body="json",
        username_field="login",
        token_path="data.access_token",
        cache=authwire.MemoryCache(),
    )
    async with httpx.AsyncClient(auth=authwire.httpx.Auth(cred)) as client:
        assert (await client.get(f"{vendor.url}/data")).status_code == 200
        assert (await client.get(f"{vendor.url}/data")).status_code == 200
        vendor.revoke_all()
        assert (await client.get(f"{vendor.url}/data")).status_code == 200
    assert (vendor.count("login"), vendor.count("data_401")) == (2, 1)


# -- background refresh --------------------------------------------------------------------


def _short_lived(
    token_server: TokenServer, token_client: requests.Session, events: list[tuple[str, str]]
) -> authwire.ClientCredentials:
    return authwire.ClientCredentials(
        f"{token_server.url}/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        cache=authwire.MemoryCache(),
        http_client=token_client,
        on_refresh=lambda e: events.append((threading.current_thread().name, e.outcome)),
    )


def _hammer(session: authwire.Session, url: str, seconds: float) -> int:
    """Send requests back to back for ``seconds``; every one must succeed."""
    sent = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert session.get(url).status_code == 200
        sent += 1
        time.sleep(0.01)
    return sent


@pytest.mark.slow
def test_refresher_means_no_request_fetches_a_token(
    token_server: TokenServer, token_client: requests.Session
) -> None:
    """With 3 s tokens, every token over 4 s is fetched by the refresher, none by a request.

    3 s leaves the refresher ~1.2 s between its moment and the mandatory window, so a
    loaded CI machine that delays its thread still cannot make a request fetch a token.
    """
    token_server.state.ttl = 3.0
    events: list[tuple[str, str]] = []
    cred = _short_lived(token_server, token_client, events)
    try:
        with (
            Refresher(cred, min_interval=0.05) as refresher,
            authwire.Session(cred, retries=0) as session,
        ):
            deadline = time.monotonic() + 5
            while refresher.refreshes < 1:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            sent = _hammer(session, f"{token_server.url}/api", 4.0)
    finally:
        token_server.state.ttl = 60
    assert token_server.count("api_401") == 0  # the server never saw an expired token
    assert token_server.count("api_ok") == sent
    threads = {name for name, _ in events}
    assert all(name.startswith("authwire-refresher") for name in threads), threads
    assert token_server.count("token") == len(events) == refresher.refreshes
    # a refresh ~1.3 s after each receipt (advisory = half the lifetime, jitter, margin);
    # a loaded machine stretches the cycle, so only the order of magnitude is pinned
    assert 2 <= refresher.refreshes <= 10


@pytest.mark.slow
def test_without_refresher_requests_fetch_tokens_themselves(
    token_server: TokenServer, token_client: requests.Session
) -> None:
    """The control: without a refresher, the request thread fetches every token (and waits)."""
    token_server.state.ttl = 1.5
    events: list[tuple[str, str]] = []
    cred = _short_lived(token_server, token_client, events)
    try:
        with authwire.Session(cred, retries=0) as session:
            _hammer(session, f"{token_server.url}/api", 2.0)
    finally:
        token_server.state.ttl = 60
    assert {name for name, _ in events} == {threading.current_thread().name}
    assert token_server.count("token") == len(events) >= 2
