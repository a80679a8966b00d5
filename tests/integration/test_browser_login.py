"""AuthorizationCode in a real headless Chromium against the real oidc-provider.

The credential runs in a worker thread (its ``get_token()`` blocks on the loopback
listener); its ``browser=`` hook hands the URL it would open to the test thread, which
drives Debian's Chromium with Playwright to that URL. The provider approves (or, with
``login_hint=deny``, refuses) and redirects Chromium to authwire's one-shot listener,
whose page Chromium then shows.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import anyio
import httpx
import pytest
from tests.integration._oidc import APP_CLIENT, PUBLIC_CLIENT, OidcProvider, oidc

import authwire.httpx
from authwire import AuthorizationCode, InteractionRequired, MemoryCache, Token

pytestmark = pytest.mark.integration

__all__ = ["oidc"]  # the session fixture, imported for pytest

CHROMIUM = os.environ.get("AUTHWIRE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the module (each test gets a fresh context)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def with_params(url: str, **params: str) -> str:
    """``url`` with query parameters set (replacing ones of the same name)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


class Login:
    """Runs ``get`` (a login) in a worker thread; the test thread plays the browser."""

    def __init__(self, get: Callable[[], Any]) -> None:
        self.urls: queue.Queue[str] = queue.Queue()
        self.result: Any = None
        self.error: BaseException | None = None
        self._get = get
        self._thread = threading.Thread(target=self._run, daemon=True)

    def open(self, url: str) -> bool:
        """The credential's ``browser=`` hook: hand the URL to the test thread."""
        self.urls.put(url)
        return True

    def _run(self) -> None:
        try:
            self.result = self._get()
        except BaseException as exc:  # handed to the test thread
            self.error = exc

    def start(self) -> str:
        self._thread.start()
        return self.urls.get(timeout=20)

    def finish(self) -> Any:
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()
        return self.result


def visit(chromium: Any, url: str) -> str:
    """Open ``url`` in a fresh Chromium context; the text of the page it ends on."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(url, wait_until="load", timeout=20_000)
        page.wait_for_selector("h1", timeout=20_000)
        text: str = page.inner_text("body")
        return text
    finally:
        context.close()


def make_credential(oidc: OidcProvider, login: Login, **kwargs: Any) -> AuthorizationCode:
    return AuthorizationCode(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        scope="openid api:read",
        browser=login.open,
        login_timeout=20,
        cache=MemoryCache(),
        **kwargs,
    )


def test_browser_login_succeeds(oidc: OidcProvider, chromium: Any) -> None:
    """Chromium lands on the success page; the token works and the ID token is verified."""
    holder: list[AuthorizationCode] = []
    login = Login(lambda: holder[0].get_token())
    holder.append(make_credential(oidc, login))
    url = login.start()
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["code_challenge_method"] == "S256"
    assert urlsplit(query["redirect_uri"]).hostname == "127.0.0.1"
    assert urlsplit(query["redirect_uri"]).port not in (None, 80)
    text = visit(chromium, with_params(url, login_hint="carol"))
    token: Token = login.finish()
    assert login.error is None
    assert "Signed in" in text
    # The provider advertises RFC 9207 iss, so the redirect had to carry its real iss.
    discovery = httpx.get(f"{oidc.issuer}/.well-known/openid-configuration").json()
    assert discovery["authorization_response_iss_parameter_supported"] is True
    claims = holder[0].id_token_claims
    assert claims is not None
    assert (claims["sub"], claims["nonce"]) == ("carol", query["nonce"])
    with httpx.Client(auth=authwire.httpx.Auth(holder[0])) as client:
        reply = client.get(oidc.api)
    assert (reply.status_code, reply.json()["sub"]) == (200, "carol")
    assert token.refresh_token


def test_browser_login_async_confidential_client(oidc: OidcProvider, chromium: Any) -> None:
    """The same login from httpx.AsyncClient (asyncio), for a confidential client."""
    login = Login(lambda: None)
    cred = AuthorizationCode(
        issuer=oidc.issuer,
        client_id=APP_CLIENT[0],
        client_secret=APP_CLIENT[1],
        scope="openid api:read",
        browser=login.open,
        login_timeout=20,
        cache=MemoryCache(),
    )

    async def call() -> tuple[int, str]:
        async with httpx.AsyncClient(auth=authwire.httpx.Auth(cred)) as client:
            reply = await client.get(oidc.api)
            return reply.status_code, reply.json()["sub"]

    login._get = lambda: anyio.run(call)
    url = login.start()
    text = visit(chromium, with_params(url, login_hint="dave"))
    assert login.finish() == (200, "dave")
    assert "Signed in" in text


def test_user_denies_consent(oidc: OidcProvider, chromium: Any) -> None:
    """A refused login shows the failure page and raises InteractionRequired."""
    holder: list[AuthorizationCode] = []
    login = Login(lambda: holder[0].get_token())
    holder.append(make_credential(oidc, login))
    url = login.start()
    text = visit(chromium, with_params(url, login_hint="deny"))
    login.finish()
    assert "Sign-in failed" in text
    assert "access_denied" in text
    assert isinstance(login.error, InteractionRequired)
    assert "access_denied" in str(login.error)


def test_forged_state_is_rejected(oidc: OidcProvider, chromium: Any) -> None:
    """A redirect whose state was tampered with is rejected and no token is requested."""
    holder: list[AuthorizationCode] = []
    login = Login(lambda: holder[0].get_token())
    holder.append(make_credential(oidc, login))
    before = oidc.token_requests(PUBLIC_CLIENT, "authorization_code")
    url = login.start()
    text = visit(chromium, with_params(url, state="forged-by-attacker", login_hint="erin"))
    login.finish()
    assert "Sign-in failed" in text
    assert isinstance(login.error, InteractionRequired)
    assert "state does not match" in str(login.error)
    assert oidc.token_requests(PUBLIC_CLIENT, "authorization_code") == before
