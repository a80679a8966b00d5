"""Conformance of ``kerbauth`` to the requests-kerberos README (seed 003).

Run against the real throwaway MIT realm and Apache mod_auth_gssapi of
``tests/integration/_kerberos.py`` (its ``kerberos`` session fixture, imported here).

| seed item | test |
|---|---|
| ``requests.get(url, auth=HTTPKerberosAuth())`` | ``test_basic_get`` |
| "the entire requests.api should be supported" | ``test_requests_api`` |
| failures returned as the 401 | ``test_failure_returns_the_401`` |
| REQUIRED by default: an unproven success raises | ``test_required_is_the_default`` |
| an unproven error response comes back stripped | ``test_unproven_error_is_stripped`` |
| ``sanitize_mutual_error_response=False`` keeps it | ``test_unproven_error_is_stripped`` |
| ``OPTIONAL``: checked if offered, failure raises, absence accepted | ``test_optional`` |
| ``DISABLED``: never checked | ``test_disabled`` |
| default: authenticate only after a 401 challenge | ``test_default_waits_for_the_challenge`` |
| ``force_preemptive=True``: the token on the first request | ``test_force_preemptive`` |
| ``principal=``, ``hostname_override=`` | ``test_principal_and_hostname_override`` |
| ``delegate=`` | ``test_delegate`` |
| ``send_cbt=`` (channel bindings over HTTPS) | ``test_send_cbt`` |
| ``REQUIRED``/``OPTIONAL``/``DISABLED``, ``MutualAuthenticationError`` | ``test_names`` |
| loggers ``<package>`` and ``<package>.kerberos_`` | ``test_loggers`` |
"""

from __future__ import annotations

import logging
from pathlib import Path

import kerbauth
import pytest
import requests
from kerbauth import DISABLED, OPTIONAL, REQUIRED, HTTPKerberosAuth
from kerbauth.errors import MutualAuthenticationError
from tests.integration._kerberos import KerberosSite, kerberos

import authwire

__all__ = ["kerberos"]

pytestmark = pytest.mark.integration


def test_basic_get(kerberos: KerberosSite) -> None:
    """A plain ``requests.get`` with ``HTTPKerberosAuth()`` authenticates the user."""
    r = requests.get(kerberos.url("/krb/"), auth=HTTPKerberosAuth(), timeout=10)
    assert r.status_code == 200
    assert r.headers["X-Remote-User"] == kerberos.principal


def test_requests_api(kerberos: KerberosSite) -> None:
    """``requests.post``/``request`` and a ``Session`` work, a POST body replayed whole."""
    body = b"payload-" + bytes(range(256)) * 8
    auth = HTTPKerberosAuth()
    r = requests.post(kerberos.url("/krb/echo"), data=body, auth=auth, timeout=10)
    assert f"method=POST length={len(body)}" in r.text
    r = requests.request("PUT", kerberos.url("/krb/echo"), data=b"abc", auth=auth, timeout=10)
    assert "method=PUT length=3" in r.text
    with requests.Session() as session:
        session.auth = auth
        assert session.get(kerberos.url("/krb/")).status_code == 200
        assert session.get(kerberos.url("/krb/")).status_code == 200


def test_failure_returns_the_401(
    kerberos: KerberosSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a ticket the caller gets the 401, no exception and no loop.

    One request, or two when SPNEGO can offer NTLM instead (another suite may have
    configured gss-ntlmssp in this process); never more.
    """
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'empty'}")
    mark = kerberos.log_mark()
    r = requests.get(kerberos.url("/krb/"), auth=HTTPKerberosAuth(), timeout=10)
    assert r.status_code == 401
    statuses = kerberos.statuses(mark, 1)
    assert set(statuses) == {401}
    assert len(statuses) <= 2


def test_required_is_the_default(kerberos: KerberosSite) -> None:
    """REQUIRED by default: a tampered or missing server token on a 200 raises."""
    for path in ("/krb-tampered/", "/krb-nomutual/"):
        with pytest.raises(MutualAuthenticationError):
            requests.get(kerberos.url(path), auth=HTTPKerberosAuth(), timeout=10)


def test_unproven_error_is_stripped(kerberos: KerberosSite) -> None:
    """An unproven error response is emptied, unless ``sanitize_mutual_error_response=False``."""
    url = kerberos.url("/krb-nomutual/fail")
    r = requests.get(url, auth=HTTPKerberosAuth(), timeout=10)
    assert r.status_code == 503
    assert r.text == ""
    assert dict(r.headers) == {}
    keep = HTTPKerberosAuth(sanitize_mutual_error_response=False)
    r = requests.get(url, auth=keep, timeout=10)
    assert r.status_code == 503
    assert "failure details" in r.text
    assert r.headers["X-Detail"] == "internal"


def test_optional(kerberos: KerberosSite) -> None:
    """OPTIONAL: a failing server token raises; a server that sends none is accepted."""
    auth = HTTPKerberosAuth(mutual_authentication=OPTIONAL)
    with pytest.raises(MutualAuthenticationError):
        requests.get(kerberos.url("/krb-tampered/"), auth=auth, timeout=10)
    assert requests.get(kerberos.url("/krb-nomutual/"), auth=auth, timeout=10).status_code == 200
    assert requests.get(kerberos.url("/krb/"), auth=auth, timeout=10).status_code == 200


def test_disabled(kerberos: KerberosSite) -> None:
    """DISABLED: the server token is never checked."""
    auth = HTTPKerberosAuth(mutual_authentication=DISABLED)
    assert requests.get(kerberos.url("/krb-tampered/"), auth=auth, timeout=10).status_code == 200


def test_default_waits_for_the_challenge(kerberos: KerberosSite) -> None:
    """By default the first request goes without a token: Apache logs 401 then 200."""
    mark = kerberos.log_mark()
    requests.get(kerberos.url("/krb/"), auth=HTTPKerberosAuth(), timeout=10)
    assert kerberos.statuses(mark, 2) == [401, 200]


def test_force_preemptive(kerberos: KerberosSite) -> None:
    """``force_preemptive=True`` sends the token first: no 401 at all."""
    auth = HTTPKerberosAuth(mutual_authentication=REQUIRED, force_preemptive=True)
    mark = kerberos.log_mark()
    assert requests.get(kerberos.url("/krb/"), auth=auth, timeout=10).status_code == 200
    assert kerberos.statuses(mark, 1) == [200]


def test_principal_and_hostname_override(kerberos: KerberosSite) -> None:
    """``principal=`` picks the client, ``hostname_override=`` the SPN for a URL by IP."""
    url = kerberos.url("/krb/").replace("localhost", "127.0.0.1")
    auth = HTTPKerberosAuth(principal=kerberos.principal, hostname_override="localhost")
    r = requests.get(url, auth=auth, timeout=10)
    assert r.status_code == 200
    assert r.headers["X-Remote-User"] == kerberos.principal


def test_delegate(kerberos: KerberosSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``delegate=True`` forwards the TGT (Apache stores it); by default nothing is."""
    monkeypatch.setenv("KRB5CCNAME", kerberos.fresh_ccache(tmp_path / "cc", forwardable=True))
    for name in kerberos.delegated():
        (kerberos.root / "deleg" / name).unlink(missing_ok=True)
    url = kerberos.url("/krb-deleg/")
    assert requests.get(url, auth=HTTPKerberosAuth(), timeout=10).status_code == 200
    assert kerberos.delegated() == []
    r = requests.get(url, auth=HTTPKerberosAuth(delegate=True), timeout=10)
    assert r.status_code == 200
    assert kerberos.delegated() == [kerberos.principal]


def test_send_cbt(kerberos: KerberosSite, caplog: pytest.LogCaptureFixture) -> None:
    """Over HTTPS the token is bound to the channel by default; ``send_cbt=False`` is not."""
    caplog.set_level(logging.DEBUG, logger="authwire")
    url = kerberos.tls_url("/krb/")
    for send_cbt in (True, False):
        caplog.clear()
        auth = HTTPKerberosAuth(send_cbt=send_cbt)
        assert requests.get(url, auth=auth, verify=kerberos.ca, timeout=10).status_code == 200
        bound = [r for r in caplog.records if "tls-server-end-point" in r.getMessage()]
        assert len(bound) == (1 if send_cbt else 0)


def test_names() -> None:
    """The constants are distinct; the error is the class authwire raises."""
    assert len({REQUIRED, OPTIONAL, DISABLED}) == 3
    assert kerbauth.MutualAuthenticationError is authwire.MutualAuthenticationError
    with pytest.raises(authwire.ConfigurationError):
        HTTPKerberosAuth(mutual_authentication=7)


def test_loggers(kerberos: KerberosSite, caplog: pytest.LogCaptureFixture) -> None:
    """Debug records go to ``kerbauth`` and ``kerbauth.kerberos_``."""
    caplog.set_level(logging.DEBUG, logger="kerbauth")
    requests.get(kerberos.url("/krb/"), auth=HTTPKerberosAuth(), timeout=10)
    names = {r.name for r in caplog.records}
    assert {"kerbauth", "kerbauth.kerberos_"} <= names
