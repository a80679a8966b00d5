"""Negotiate (Kerberos/SPNEGO) against a throwaway MIT realm and Apache mod_auth_gssapi."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from tests.integration._kerberos import KerberosSite, kerberos

import authwire
import authwire.httpx
import authwire.requests
from authwire.errors import MutualAuthenticationError

__all__ = ["kerberos"]

pytestmark = pytest.mark.integration

CLIENTS = ["requests", "httpx", "httpx-asyncio", "httpx-trio"]


@pytest.fixture(autouse=True)
def _no_ntlm_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NTLM credentials in the environment: pyspnego's Negotiate falls back to NTLM
    with ``NTLM_USER_FILE``'s first user when Kerberos has nothing, and these tests count
    what is sent when Kerberos alone has nothing (a user's own shell may set it too)."""
    monkeypatch.delenv("NTLM_USER_FILE", raising=False)


class Reply:
    """What a test needs from a response, whichever client got it."""

    def __init__(self, status: int, headers: dict[str, str], text: str, history: int) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.text = text
        self.history = history


def _send(
    client: str,
    auth: authwire.AuthScheme,
    method: str,
    url: str,
    ca: str | None = None,
    **kw: Any,
) -> Reply:
    """One request through ``client`` (async ones on a fresh asyncio or trio loop)."""
    verify = ssl.create_default_context(cafile=ca) if ca else True
    if client == "requests":
        if "content" in kw:
            kw["data"] = kw.pop("content")
        r = requests.request(
            method, url, auth=authwire.requests.Auth(auth), timeout=10, verify=ca or True, **kw
        )
        return Reply(r.status_code, dict(r.headers), r.text, len(r.history))
    if client == "httpx":
        with httpx.Client(auth=authwire.httpx.Auth(auth), timeout=10, verify=verify) as c:
            h = c.request(method, url, **kw)
        return Reply(h.status_code, dict(h.headers), h.text, len(h.history))
    import anyio

    async def go() -> Reply:
        async with httpx.AsyncClient(
            auth=authwire.httpx.Auth(auth), timeout=10, verify=verify
        ) as c:
            h = await c.request(method, url, **kw)
        return Reply(h.status_code, dict(h.headers), h.text, len(h.history))

    runner: Callable[[], Awaitable[Reply]] = go
    return anyio.run(runner, backend=client.removeprefix("httpx-"))


@pytest.mark.parametrize("client", CLIENTS)
def test_get_with_mutual_authentication(kerberos: KerberosSite, client: str) -> None:
    """A GET gets 200 after one 401, with the server's token verified (REQUIRED)."""
    auth = authwire.Negotiate()
    mark = kerberos.log_mark()
    reply = _send(client, auth, "GET", kerberos.url("/krb/"))
    assert reply.status == 200
    assert reply.headers["x-remote-user"] == kerberos.principal
    assert kerberos.statuses(mark, 2) == [401, 200]
    assert auth.legs_sent == 1


@pytest.mark.parametrize("client", CLIENTS)
def test_post_body_is_replayed(kerberos: KerberosSite, client: str) -> None:
    """A POST body reaches the server whole after the 401 challenge."""
    body = b"payload-" + bytes(range(256)) * 40
    mark = kerberos.log_mark()
    reply = _send(client, authwire.Negotiate(), "POST", kerberos.url("/krb/echo"), content=body)
    assert reply.status == 200
    assert f"method=POST length={len(body)}" in reply.text
    assert kerberos.statuses(mark, 2) == [401, 200]


@pytest.mark.parametrize("client", CLIENTS)
def test_preemptive_sends_no_unauthenticated_request(kerberos: KerberosSite, client: str) -> None:
    """force_preemptive sends the token with the first request: no 401 at all."""
    mark = kerberos.log_mark()
    reply = _send(client, authwire.Negotiate(force_preemptive=True), "GET", kerberos.url("/krb/"))
    assert reply.status == 200
    assert kerberos.statuses(mark, 1) == [200]


@pytest.mark.parametrize("client", CLIENTS)
def test_tampered_server_token_raises(kerberos: KerberosSite, client: str) -> None:
    """REQUIRED: a 200 whose server token was tampered with raises MutualAuthenticationError."""
    with pytest.raises(MutualAuthenticationError, match="did not prove its identity"):
        _send(client, authwire.Negotiate(), "GET", kerberos.url("/krb-tampered/"))


@pytest.mark.parametrize("client", CLIENTS)
def test_unproven_error_response_is_stripped(kerberos: KerberosSite, client: str) -> None:
    """REQUIRED: a 503 without the server's token comes back without its body and headers."""
    url = kerberos.url("/krb-nomutual/fail")
    seen = _send(client, authwire.Negotiate(mutual_authentication="optional"), "GET", url)
    assert seen.status == 503
    assert "failure details" in seen.text
    assert seen.headers["x-detail"] == "internal"
    reply = _send(client, authwire.Negotiate(), "GET", url)
    assert reply.status == 503
    assert reply.text == ""
    assert reply.headers == {}


@pytest.mark.parametrize("mode", ["optional", "disabled"])
@pytest.mark.parametrize("client", CLIENTS)
def test_missing_server_token_accepted_unless_required(
    kerberos: KerberosSite, client: str, mode: str
) -> None:
    """OPTIONAL and DISABLED accept a 200 without a server token; REQUIRED raises."""
    url = kerberos.url("/krb-nomutual/")
    reply = _send(client, authwire.Negotiate(mutual_authentication=mode), "GET", url)
    assert reply.status == 200
    assert reply.headers["x-remote-user"] == kerberos.principal
    with pytest.raises(MutualAuthenticationError, match="no server token"):
        _send(client, authwire.Negotiate(mutual_authentication="REQUIRED"), "GET", url)


@pytest.mark.parametrize("client", CLIENTS)
def test_tampered_token_optional_raises_disabled_accepts(
    kerberos: KerberosSite, client: str
) -> None:
    """OPTIONAL still rejects a token that fails; DISABLED does not look at it."""
    url = kerberos.url("/krb-tampered/")
    with pytest.raises(MutualAuthenticationError):
        _send(client, authwire.Negotiate(mutual_authentication="optional"), "GET", url)
    reply = _send(client, authwire.Negotiate(mutual_authentication="disabled"), "GET", url)
    assert reply.status == 200


@pytest.mark.parametrize("client", CLIENTS)
def test_destroyed_ticket_cache_gives_the_401_once(
    kerberos: KerberosSite, client: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After kdestroy the caller gets the 401 after exactly one request, no recursion."""
    ccache = kerberos.fresh_ccache(tmp_path / "cc")
    monkeypatch.setenv("KRB5CCNAME", ccache)
    assert _send(client, authwire.Negotiate(), "GET", kerberos.url("/krb/")).status == 200
    kerberos.realm.run(["kdestroy", "-c", ccache])
    mark = kerberos.log_mark()
    reply = _send(client, authwire.Negotiate(), "GET", kerberos.url("/krb/"))
    assert reply.status == 401
    assert kerberos.statuses(mark, 1) == [401]


def test_principal_and_hostname_override(kerberos: KerberosSite) -> None:
    """principal= picks the client and hostname_override= the SPN when the URL has an IP."""
    url = kerberos.url("/krb/").replace("localhost", "127.0.0.1")
    auth = authwire.Negotiate(principal=kerberos.principal, hostname_override="localhost")
    reply = _send("requests", auth, "GET", url)
    assert reply.status == 200
    assert reply.headers["x-remote-user"] == kerberos.principal


def test_wrong_spn_gives_the_401(kerberos: KerberosSite) -> None:
    """A target_name the KDC does not know yields the server's 401, after one request."""
    mark = kerberos.log_mark()
    reply = _send(
        "httpx", authwire.Negotiate(target_name="HTTP@nosuchhost"), "GET", kerberos.url("/krb/")
    )
    assert reply.status == 401
    assert kerberos.statuses(mark, 1) == [401]


def test_password_instead_of_the_cache(
    kerberos: KerberosSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """principal= with password= gets its own ticket; a wrong password gives the 401."""
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty'}")
    good = authwire.Negotiate(principal=kerberos.principal, password=kerberos.user_password)
    assert _send("requests", good, "GET", kerberos.url("/krb/")).status == 200
    bad = authwire.Negotiate(principal=kerberos.principal, password="wrong-pw-0d1e")
    assert "wrong-pw-0d1e" not in repr(bad)
    assert _send("requests", bad, "GET", kerberos.url("/krb/")).status == 401


@pytest.mark.parametrize("client", CLIENTS)
def test_combined_with_an_api_key(kerberos: KerberosSite, client: str) -> None:
    """In `Negotiate() + ApiKey(...)` both apply, and an unproven error response is stripped."""
    auth = authwire.Negotiate() + authwire.ApiKey("k-1", header="X-Api-Key")
    reply = _send(client, auth, "POST", kerberos.url("/krb/echo"), content=b"abc")
    assert reply.status == 200
    assert f"user={kerberos.principal} method=POST length=3 key=k-1" in reply.text
    reply = _send(client, auth, "GET", kerberos.url("/krb-nomutual/fail"))
    assert reply.status == 503
    assert reply.text == ""
    assert reply.headers == {}


@pytest.mark.parametrize("client", CLIENTS)
def test_delegation(
    kerberos: KerberosSite, client: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """delegate=True forwards the TGT (Apache stores it); without it nothing is forwarded."""
    monkeypatch.setenv("KRB5CCNAME", kerberos.fresh_ccache(tmp_path / "cc", forwardable=True))
    for name in kerberos.delegated():
        (kerberos.root / "deleg" / name).unlink(missing_ok=True)
    url = kerberos.url("/krb-deleg/")
    assert _send(client, authwire.Negotiate(), "GET", url).status == 200
    assert kerberos.delegated() == []
    assert _send(client, authwire.Negotiate(delegate=True), "GET", url).status == 200
    assert kerberos.delegated() == [kerberos.principal]


def test_proxy_407_is_answered_with_proxy_authorization(kerberos: KerberosSite) -> None:
    """A Kerberos proxy's 407 gets Proxy-Authorization when proxy_hostname= is given."""
    target = kerberos.url("/open/").replace("localhost", "127.0.0.1")
    proxies = {"http": kerberos.proxy}
    auth = authwire.requests.Auth(authwire.Negotiate(proxy_hostname="localhost"))
    response = requests.get(target, auth=auth, proxies=proxies, timeout=10)
    assert response.status_code == 200
    assert response.text == "open ok\n"
    assert [r.status_code for r in response.history] == [407]
    with httpx.Client(
        auth=authwire.httpx.Auth(authwire.Negotiate(proxy_hostname="localhost")),
        proxy=kerberos.proxy,
    ) as client:
        assert client.get(target).status_code == 200
    unnamed = authwire.requests.Auth(authwire.Negotiate())
    assert requests.get(target, auth=unnamed, proxies=proxies, timeout=10).status_code == 407


@pytest.mark.parametrize("client", CLIENTS)
def test_https_with_channel_bindings(
    kerberos: KerberosSite, client: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Over HTTPS the token is bound to Apache's certificate; auth and body replay still work."""
    caplog.set_level(logging.DEBUG, logger="authwire")
    url = kerberos.tls_url("/krb/echo")
    reply = _send(client, authwire.Negotiate(), "POST", url, ca=kerberos.ca, content=b"tls-body")
    assert reply.status == 200
    assert f"user={kerberos.principal} method=POST length=8" in reply.text
    bound = [r for r in caplog.records if "tls-server-end-point" in r.getMessage()]
    assert len(bound) == 1
