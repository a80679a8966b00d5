"""NTLM against Apache with gss-ntlmssp and against a pyspnego acceptor."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest
import requests
from tests.integration._kerberos import (
    NTLM_PASSWORD,
    KerberosSite,
    NtlmAcceptor,
    kerberos,
    ntlm_acceptor,
    ntlm_acceptor_server,
    ntlm_tls_acceptor,
    ntlm_tls_acceptor_server,
)

import authwire
import authwire.httpx
import authwire.requests

__all__ = [
    "kerberos",
    "ntlm_acceptor",
    "ntlm_acceptor_server",
    "ntlm_tls_acceptor",
    "ntlm_tls_acceptor_server",
]

pytestmark = pytest.mark.integration

CLIENTS = ["requests", "httpx", "httpx-asyncio", "httpx-trio"]


def _context(verify: str | None) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=verify) if verify else True


def _nt_hash(password: str) -> str:
    from spnego._ntlm_raw.crypto import ntowfv1

    return ":" + ntowfv1(password).hex()


def _get(
    client: str, auth: authwire.NTLM, url: str, verify: str | None = None, **kw: Any
) -> tuple[int, str]:
    if client == "requests":
        with requests.Session() as session:
            kw["verify"] = verify if verify is not None else True
            if "content" in kw:
                kw["data"] = kw.pop("content")
            r = session.request(
                kw.pop("method", "GET"), url, auth=authwire.requests.Auth(auth), **kw
            )
            return r.status_code, r.text
    if client == "httpx":
        with httpx.Client(auth=authwire.httpx.Auth(auth), verify=_context(verify)) as c:
            h = c.request(kw.pop("method", "GET"), url, **kw)
            return h.status_code, h.text
    import anyio

    async def go() -> tuple[int, str]:
        async with httpx.AsyncClient(auth=authwire.httpx.Auth(auth), verify=_context(verify)) as c:
            h = await c.request(kw.pop("method", "GET"), url, **kw)
            return h.status_code, h.text

    return anyio.run(go, backend=client.removeprefix("httpx-"))


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("secret", ["password", "hash"])
def test_apache_gss_ntlmssp(kerberos: KerberosSite, client: str, secret: str) -> None:
    """Apache (mod_auth_gssapi + gss-ntlmssp) accepts the password and the NT hash."""
    password = NTLM_PASSWORD if secret == "password" else _nt_hash(NTLM_PASSWORD)
    mark = kerberos.log_mark()
    status, _ = _get(client, authwire.NTLM("TESTDOM\\alice", password), kerberos.url("/ntlm/"))
    assert status == 200
    # anonymous 401, NEGOTIATE -> 401 CHALLENGE, AUTHENTICATE -> 200 (connection-bound)
    assert kerberos.statuses(mark, 3) == [401, 401, 200]


@pytest.mark.parametrize("client", CLIENTS)
def test_apache_wrong_password(kerberos: KerberosSite, client: str) -> None:
    """A wrong password ends with Apache's 401 after the three legs, never a loop."""
    mark = kerberos.log_mark()
    status, _ = _get(client, authwire.NTLM("TESTDOM\\alice", "wrong-0f3c"), kerberos.url("/ntlm/"))
    assert status == 401
    assert kerberos.statuses(mark, 3) == [401, 401, 401]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(
    ("user", "secret"),
    [
        ("TESTDOM\\alice", "password"),
        ("TESTDOM\\alice", "hash"),
        ("alice@testdom.example", "password"),
    ],
)
def test_pyspnego_acceptor(
    ntlm_acceptor: NtlmAcceptor, client: str, user: str, secret: str
) -> None:
    """pyspnego accepts DOMAIN\\user and UPN, password and hash; legs share one connection."""
    password = NTLM_PASSWORD if secret == "password" else _nt_hash(NTLM_PASSWORD)
    ntlm_acceptor.reset()
    body = b"x" * 5000
    status, text = _get(
        client, authwire.NTLM(user, password), ntlm_acceptor.url, method="POST", content=body
    )
    assert status == 200
    assert "alice" in text.lower()
    import hashlib

    assert hashlib.sha256(body).hexdigest() in text
    schemes = [auth.split(" ")[0] for _, auth in ntlm_acceptor.requests]
    assert schemes == ["", "NTLM", "NTLM"]
    assert len(ntlm_acceptor.connections) == 1


@pytest.mark.parametrize("client", CLIENTS)
def test_pyspnego_acceptor_wrong_password(ntlm_acceptor: NtlmAcceptor, client: str) -> None:
    """A wrong password gets the acceptor's 401 after three requests."""
    ntlm_acceptor.reset()
    status, _ = _get(client, authwire.NTLM("TESTDOM\\alice", "wrong-77aa"), ntlm_acceptor.url)
    assert status == 401
    assert len(ntlm_acceptor.requests) == 3


@pytest.mark.parametrize("client", CLIENTS)
def test_channel_bindings_over_https(
    ntlm_tls_acceptor: tuple[NtlmAcceptor, str], client: str
) -> None:
    """Over HTTPS the token is bound to the server certificate; the acceptor demands it."""
    server, ca = ntlm_tls_acceptor
    bound = authwire.NTLM("TESTDOM\\alice", NTLM_PASSWORD)
    status, text = _get(client, bound, server.url, verify=ca)
    assert status == 200
    assert "alice" in text.lower()
    unbound = authwire.NTLM("TESTDOM\\alice", NTLM_PASSWORD, channel_bindings=False)
    status, _ = _get(client, unbound, server.url, verify=ca)
    assert status == 401
