"""Conformance of ``flyteauth`` to flytekit's ``AuthenticationHTTPAdapter`` page (seed 000).

Against the loopback token server (``/token`` and the bearer-protected ``/api``).

| seed item | test |
|---|---|
| ``AuthenticationHTTPAdapter(authenticator, *args, **kwargs)`` | ``test_constructor_args`` |
| ``add_auth_header(request)`` adds the headers | ``test_add_auth_header`` |
| ``send()`` adds the headers | ``test_send_adds_the_header`` |
| ``send()`` on a 401: refresh, retry (once) | ``test_401_refreshes_and_retries_once`` |
| a POST body is sent whole on the retry | ``test_401_retry_resends_the_body`` |
| mounted on the SDK's ``requests.Session`` | ``test_send_adds_the_header`` (``get_session``) |
| the eleven ``HTTPAdapter`` methods (``close``...) | ``test_http_adapter_methods`` |
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flyteauth import AuthenticationHTTPAdapter, Authenticator, get_session
from tests.servers.token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

import authwire

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[TokenServer]:
    """A fresh token server per test."""
    with TokenServer(ttl=60) as running:
        yield running


def _credential(server: TokenServer) -> authwire.ClientCredentials:
    return authwire.ClientCredentials(
        f"{server.url}/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        cache=authwire.MemoryCache(),
    )


def test_constructor_args(server: TokenServer) -> None:
    """Positional ``*args`` reach ``HTTPAdapter`` (pool sizes, ``max_retries``)."""
    adapter = AuthenticationHTTPAdapter(Authenticator(_credential(server)), 2, 3, 4)
    assert (adapter._pool_connections, adapter._pool_maxsize) == (2, 3)
    assert adapter.max_retries.total == 4
    adapter = AuthenticationHTTPAdapter(_credential(server), pool_maxsize=5)
    assert adapter._pool_maxsize == 5
    assert isinstance(adapter.authenticator, Authenticator)


def test_add_auth_header(server: TokenServer) -> None:
    """``add_auth_header`` puts the token on a request the caller sends itself."""
    adapter = AuthenticationHTTPAdapter(_credential(server))
    request = requests.Request("GET", f"{server.url}/api").prepare()
    adapter.add_auth_header(request)
    assert request.headers["authorization"].startswith("Bearer at-")
    with requests.Session() as plain:
        assert plain.send(request).status_code == 200


def test_send_adds_the_header(server: TokenServer) -> None:
    """Mounted on the SDK's session, every request carries the token; one token request."""
    with get_session(server.url, _credential(server)) as session:
        for _ in range(3):
            assert session.get(f"{server.url}/api").status_code == 200
    assert server.count("token") == 1
    assert server.count("GET /api") == 3


def test_401_refreshes_and_retries_once(server: TokenServer) -> None:
    """A revoked token: refresh and retry; a second 401 goes back to the caller, no loop."""
    with get_session(server.url, _credential(server)) as session:
        assert session.get(f"{server.url}/api").status_code == 200
        server.revoke_all()
        assert session.get(f"{server.url}/api").status_code == 200
        assert server.count("token") == 2
        server.state.reject_all = True
        assert session.get(f"{server.url}/api").status_code == 401
    assert server.count("api_401") == 3
    assert server.count("token") == 3


def test_401_retry_resends_the_body(server: TokenServer) -> None:
    """A POST retried after a 401 carries its whole body."""
    with get_session(server.url, _credential(server)) as session:
        assert session.get(f"{server.url}/api").status_code == 200
        server.revoke_all()
        response = session.post(f"{server.url}/api", data=b"x" * 5000)
    assert response.status_code == 200
    assert response.json()["body_length"] == 5000


def test_http_adapter_methods(server: TokenServer) -> None:
    """It is an ``HTTPAdapter``: the inherited methods are there and work."""
    adapter = AuthenticationHTTPAdapter(_credential(server))
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    for name in (
        "add_headers",
        "build_connection_pool_key_attributes",
        "build_response",
        "cert_verify",
        "get_connection",
        "get_connection_with_tls_context",
        "init_poolmanager",
        "proxy_manager_for",
        "request_url",
    ):
        assert callable(getattr(adapter, name))
    assert adapter.proxy_headers("http://user:pw@proxy:3128") == {
        "Proxy-Authorization": "Basic dXNlcjpwdw=="
    }
    request = requests.Request("GET", f"{server.url}/api").prepare()
    assert adapter.request_url(request, {}) == "/api"
    adapter.close()
