"""Conformance of ``benchsdk`` to the arthur_bench ``client.auth`` page (seed 002).

Against the loopback vendor server's JSON login (``POST /api/v3/user_login``), extended
here with the two "who am I" endpoints the helpers call.

| seed item | test |
|---|---|
| ``user_login(api_http_host, login, password, verify_ssl=True) -> str`` | ``test_user_login`` |
| ``user_login`` refused | ``test_user_login_refused_is_typed_and_secret_free`` |
| ``get_auth_info(api_http_host, auth_token, verify_ssl=True)`` | ``test_get_auth_info`` |
| ``get_current_org(...) -> str or None`` | ``test_get_current_org`` |
| ``get_arthur_internal_user_org(...) -> str or None`` | ``test_get_internal_user_org`` |
| ``verify_ssl`` on every helper | ``test_verify_ssl`` |
| ``AuthRefresher(url, login, password, verify_ssl)`` | ``test_refresher_headers_and_wait`` |
| ``refresh() -> (headers, timedelta)``, ``AUTH_KEY`` | ``test_refresher_headers_and_wait`` |
| ``MINS_BEFORE_EXPIRY_TO_REFRESH = 5`` | ``test_refresher_renews_5_minutes_before_expiry`` |
| ``ALGORITHMS = ['HS256']`` | ``test_constants`` (kept; expiry is read, never verified) |
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from benchsdk.auth import (
    AuthenticationInfo,
    AuthRefresher,
    get_arthur_internal_user_org,
    get_auth_info,
    get_current_org,
    user_login,
)
from tests.servers import vendor_server
from tests.servers._base import BackgroundServer
from tests.servers.vendor_server import PASSWORD, USER, State

import authwire
from authwire.testing import FakeClock

pytestmark = pytest.mark.integration

ORG = "org-7"


class Handler(vendor_server.Handler):
    """The vendor server plus ``users/me/auth_info`` and ``organizations/current``."""

    def _who(self) -> None:
        state = self.server.state
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        with state.lock:
            issued = state.tokens.get(token)
            state.counts["who"] += 1
        if issued is None or time.time() >= issued.expires_at:
            return self._send(401, {"error": "invalid_token"})
        path = urlsplit(self.path).path
        if path.endswith("auth_info"):
            return self._send(
                200, {"organization_ids": [ORG], "username": USER, "user_id": "u-1", "roles": []}
            )
        return self._send(200, {"id": ORG})

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/api/v3/users/me/auth_info", "/api/v3/organizations/current"):
            return self._who()
        return super()._dispatch()

    do_GET = do_POST = _dispatch


class BenchServer(BackgroundServer[State]):
    """The loopback API for the helpers."""

    def __init__(self, ttl: float = 3600.0) -> None:
        super().__init__(State(ttl=ttl), Handler, name="bench-server")


@pytest.fixture
def api() -> Iterator[BenchServer]:
    """A fresh server per test (its counts start at zero)."""
    with BenchServer() as server:
        yield server


def test_user_login(api: BenchServer) -> None:
    """``user_login`` returns a token the API accepts; each call logs in anew."""
    token = user_login(api.url, USER, PASSWORD)
    assert token.startswith("vt-")
    assert user_login(api.url, USER, PASSWORD, verify_ssl=True) != token
    assert api.count("login") == 2
    assert api.state.logins[0] == {"login": USER}


def test_user_login_refused_is_typed_and_secret_free(api: BenchServer) -> None:
    """A refused login raises ``TokenEndpointError``; the password is in no message."""
    with pytest.raises(authwire.TokenEndpointError) as info:
        user_login(api.url, USER, "wrong-pw-51c")
    assert "wrong-pw-51c" not in str(info.value) + repr(info.value)


def test_get_auth_info(api: BenchServer) -> None:
    """``get_auth_info`` sends the raw token and returns an ``AuthenticationInfo``."""
    token = user_login(api.url, USER, PASSWORD)
    info = get_auth_info(api.url, token)
    assert isinstance(info, AuthenticationInfo)
    assert (info.organization_ids, info.username, info.user_id) == ([ORG], USER, "u-1")
    assert info.extra == {"roles": []}
    with pytest.raises(requests.HTTPError):
        get_auth_info(api.url, "vt-not-issued")


def test_get_current_org(api: BenchServer) -> None:
    """``get_current_org`` returns the token's organization id."""
    token = user_login(api.url, USER, PASSWORD)
    assert get_current_org(api.url, token) == ORG


def test_get_internal_user_org(api: BenchServer) -> None:
    """``get_arthur_internal_user_org`` returns the internal user's organization id."""
    token = user_login(api.url, USER, PASSWORD)
    assert get_arthur_internal_user_org(api.url, token, verify_ssl=True) == ORG


def test_verify_ssl(api: BenchServer) -> None:
    """``verify_ssl=False`` is accepted by every helper (verification is off for them)."""
    token = user_login(api.url, USER, PASSWORD, verify_ssl=False)
    assert get_current_org(api.url, token, verify_ssl=False) == ORG
    assert get_auth_info(api.url, token, verify_ssl=False).username == USER
    refresher = AuthRefresher(api.url, USER, PASSWORD, verify_ssl=False)
    assert refresher.refresh()[0]["Authorization"].startswith("vt-")


def test_refresher_headers_and_wait(api: BenchServer) -> None:
    """``refresh()`` returns ``{"Authorization": token}`` and the wait before calling again."""
    refresher = AuthRefresher(api.url, USER, PASSWORD, True, cache=authwire.MemoryCache())
    headers, wait = refresher.refresh()
    assert list(headers) == [AuthRefresher.AUTH_KEY] == ["Authorization"]
    assert get_current_org(api.url, headers["Authorization"]) == ORG
    assert isinstance(wait, timedelta)
    assert timedelta(minutes=54) < wait <= timedelta(minutes=55)  # 1 h token, 5 min early
    assert PASSWORD not in repr(refresher)


def test_refresher_renews_5_minutes_before_expiry(api: BenchServer) -> None:
    """Called again inside the last 5 minutes, ``refresh()`` logs in again; before, it does not."""
    clock = FakeClock(time.time())
    refresher = AuthRefresher(
        api.url, USER, PASSWORD, True, cache=authwire.MemoryCache(), clock=clock
    )
    first, wait = refresher.refresh()
    clock.now += wait.total_seconds() - 60  # a minute early: still the same token
    assert refresher.refresh()[0] == first
    clock.now += 61  # now inside the last five minutes
    second, _ = refresher.refresh()
    assert second != first
    assert api.count("login") == 2


def test_constants() -> None:
    """The class constants keep the seed's values."""
    assert AuthRefresher.MINS_BEFORE_EXPIRY_TO_REFRESH == 5
    assert AuthRefresher.ALGORITHMS == ["HS256"]
    assert AuthRefresher.AUTH_KEY == "Authorization"
