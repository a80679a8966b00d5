"""Every OAuth 2 grant against a real OpenID provider (node oidc-provider on loopback).

Each grant is used through ``requests``, ``httpx.Client`` and ``httpx.AsyncClient`` (on
asyncio and trio) to call the provider's JWT-protected ``/api``; the provider's own
counters say how many token requests and 401s there were.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
import httpx
import pytest
import requests
from tests.integration._oidc import (
    APP_CLIENT,
    CC_CLIENT,
    HS_CLIENT,
    NONCE_CLIENT,
    PK_CLIENT,
    PUBLIC_CLIENT,
    OidcProvider,
    oidc,
)
from tests.leakcheck import assert_no_secret

import authwire
import authwire.httpx
import authwire.requests
from authwire import (
    AuthorizationCode,
    ClientCredentials,
    ConfigurationError,
    Credential,
    DeviceAuthorization,
    DeviceCode,
    DPoPKey,
    InteractionRequired,
    JwtBearer,
    MemoryCache,
    PasswordGrant,
    RefreshTokenGrant,
    TokenExchange,
    TokenRequestError,
)
from authwire._core.oauth2.discovery import clear_discovery_cache
from authwire._core.oauth2.id_token import clear_jwks_cache
from authwire.testing import FakeClock

pytestmark = pytest.mark.integration

__all__ = ["oidc"]  # the session fixture, imported for pytest

KINDS = ["requests", "httpx", "httpx-asyncio", "httpx-trio"]


def call_api(kind: str, credential: Credential, url: str) -> tuple[int, dict[str, Any]]:
    """GET ``url`` with ``credential`` through the client named by ``kind``."""
    if kind == "requests":
        with requests.Session() as session:
            session.auth = authwire.requests.Auth(credential)
            response = session.get(url, timeout=10)
            return response.status_code, response.json()
    if kind == "httpx":
        with httpx.Client(auth=authwire.httpx.Auth(credential), timeout=10) as client:
            reply = client.get(url)
            return reply.status_code, reply.json()

    async def main() -> tuple[int, dict[str, Any]]:
        async with httpx.AsyncClient(auth=authwire.httpx.Auth(credential), timeout=10) as client:
            reply = await client.get(url)
            return reply.status_code, reply.json()

    return anyio.run(main, backend=kind.split("-")[1])


def code_login(oidc: OidcProvider, client_id: str, user: str = "alice") -> dict[str, Any]:
    """An authorization-code login done by hand (for a refresh token to start from)."""
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    with requests.Session() as browser:
        meta = browser.get(oidc.issuer + "/.well-known/openid-configuration", timeout=5).json()
        callback = browser.get(
            meta["authorization_endpoint"],
            params={
                "client_id": client_id,
                "response_type": "code",
                "redirect_uri": oidc.issuer + "/cb",
                "scope": "openid api:read",
                "state": "s",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "login_hint": user,
            },
            timeout=5,
        ).json()
        data = {
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": oidc.issuer + "/cb",
            "code_verifier": verifier,
            "client_id": client_id,
        }
        answer: dict[str, Any] = browser.post(oidc.token_url, data=data, timeout=5).json()
        return answer


def follow_in_thread(url: str, seen: list[str], tweak: Callable[[str], str] = str) -> None:
    """A stand-in browser: follows the login redirects to the listener in a thread."""

    def run() -> None:
        with requests.Session() as browser:
            seen.append(browser.get(tweak(url), timeout=10).text)

    threading.Thread(target=run, daemon=True).start()


# -- discovery and client credentials --------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_client_credentials_via_discovery(oidc: OidcProvider, kind: str) -> None:
    """issuer= finds the token endpoint; three calls cost one token request."""
    cred = ClientCredentials(
        issuer=oidc.issuer,
        client_id=CC_CLIENT[0],
        client_secret=CC_CLIENT[1],
        scope="api:read",
        cache=MemoryCache(),
    )
    before = oidc.token_requests("cc-client", "client_credentials")
    for _ in range(3):
        status, body = call_api(kind, cred, oidc.api)
        assert status == 200
        assert body["sub"] == "cc-client"
        assert body["scope"] == "api:read"
    assert oidc.token_requests("cc-client", "client_credentials") == before + 1


def test_discovery_and_jwks_fetched_once_per_process(oidc: OidcProvider) -> None:
    """Many credentials and logins on one issuer fetch its discovery document and JWKS once."""
    clear_discovery_cache()
    clear_jwks_cache()
    before = oidc.stats()
    for client_id, secret in (CC_CLIENT, CC_CLIENT, NONCE_CLIENT):
        cred = ClientCredentials(
            issuer=oidc.issuer, client_id=client_id, client_secret=secret, cache=MemoryCache()
        )
        assert cred.get_token().access_token
    for _ in range(2):
        device = DeviceCode(
            issuer=oidc.issuer,
            client_id=PUBLIC_CLIENT,
            scope="openid",
            prompt=lambda auth: oidc.approve_device(auth.verification_uri, auth.user_code),
            poll_interval=0,
            cache=MemoryCache(),
        )
        device.get_token()
        assert device.id_token_claims is not None
    after = oidc.stats()
    assert after["discovery"] - before["discovery"] == 1
    assert after["jwks"] - before["jwks"] == 1


def test_wrong_issuer_is_a_configuration_error(oidc: OidcProvider) -> None:
    """An issuer without a discovery document gives ConfigurationError naming the issuer."""
    cred = ClientCredentials(
        issuer=oidc.issuer + "/tenant-x", client_id="cc-client", client_secret="cc-secret"
    )
    with pytest.raises(ConfigurationError, match="no OpenID configuration") as info:
        cred.get_token()
    assert "tenant-x" in str(info.value)
    assert_no_secret(str(info.value), "cc-secret")


def test_refresh_with_real_short_lifetimes(oidc: OidcProvider) -> None:
    """Calls spanning two expiries of 5-second tokens never see a 401: one request each."""
    cred = ClientCredentials(
        token_url=oidc.token_url,
        client_id=CC_CLIENT[0],
        client_secret=CC_CLIENT[1],
        cache=MemoryCache(),
    )
    before = oidc.stats()
    seen: set[str] = set()
    with requests.Session() as session:
        session.auth = authwire.requests.Auth(cred)
        deadline = time.monotonic() + 11
        while time.monotonic() < deadline:
            assert session.get(oidc.api, timeout=5).status_code == 200
            seen.add(cred.get_token().access_token)
            time.sleep(0.25)
    after = oidc.stats()
    requests_made = after["token"]["cc-client client_credentials"] - before["token"].get(
        "cc-client client_credentials", 0
    )
    assert after["api"]["401"] == before["api"]["401"]
    assert len(seen) >= 3  # 11 s of 5 s tokens: at least two refreshes
    assert requests_made == len(seen)


# -- client authentication methods ------------------------------------------------------


def _auth_cases(oidc: OidcProvider) -> dict[str, dict[str, Any]]:
    ec_jwk = __import__("json").loads(
        __import__("jwt").algorithms.ECAlgorithm.to_jwk(
            __import__(
                "cryptography.hazmat.primitives.serialization", fromlist=["x"]
            ).load_pem_private_key(oidc.private_keys["ec"].encode(), password=None)
        )
    )
    return {
        "client_secret_basic": {"client_id": "cc-client", "client_secret": "cc-secret"},
        "client_secret_post": {
            "client_id": "cc-client",
            "client_secret": "cc-secret",
            "auth_method": "client_secret_post",
        },
        "client_secret_jwt": {
            "client_id": HS_CLIENT[0],
            "client_secret": HS_CLIENT[1],
            "auth_method": "client_secret_jwt",
        },
        "private_key_jwt-RS256": {
            "client_id": PK_CLIENT,
            "private_key": oidc.private_keys["rsa"],
            "key_id": "rsa-key",
        },
        "private_key_jwt-PS256": {
            "client_id": PK_CLIENT,
            "private_key": oidc.private_keys["rsa"],
            "key_id": "rsa-key",
            "signing_alg": "PS256",
        },
        "private_key_jwt-ES256-jwk": {
            "client_id": PK_CLIENT,
            "private_key": {**ec_jwk, "kid": "ec-key"},
            "auth_method": "private_key_jwt",
        },
    }


@pytest.mark.parametrize(
    "case",
    [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt-RS256",
        "private_key_jwt-PS256",
        "private_key_jwt-ES256-jwk",
    ],
)
def test_client_auth_methods(oidc: OidcProvider, case: str) -> None:
    """Each auth_method is accepted by the provider and yields a token for that client."""
    kwargs = _auth_cases(oidc)[case]
    cred = ClientCredentials(issuer=oidc.issuer, cache=MemoryCache(), **kwargs)
    status, body = call_api("httpx", cred, oidc.api)
    assert status == 200
    assert body["client_id"] == kwargs["client_id"]
    assert_no_secret(
        repr(cred), *(v for v in kwargs.values() if isinstance(v, str) and len(v) > 20)
    )


def test_private_key_jwt_assertions_are_fresh(oidc: OidcProvider) -> None:
    """Two token requests in a row both pass the provider's jti replay detection."""
    cred = ClientCredentials(
        issuer=oidc.issuer,
        client_id=PK_CLIENT,
        private_key=oidc.private_keys["ec"],
        key_id="ec-key",
        cache=MemoryCache(),
    )
    first = cred.get_token()
    cred.invalidate(first)
    second = cred.get_token()
    assert first.access_token != second.access_token


def test_wrong_private_key_is_refused(oidc: OidcProvider) -> None:
    """An assertion signed by an unknown key is refused with invalid_client, no key shown."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    cred = ClientCredentials(
        issuer=oidc.issuer, client_id=PK_CLIENT, private_key=pem, key_id="ec-key"
    )
    with pytest.raises(TokenRequestError) as info:
        cred.get_token()
    assert info.value.error == "invalid_client"
    assert_no_secret(str(info.value), pem.splitlines()[1])


# -- password ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_password_grant(oidc: OidcProvider, kind: str) -> None:
    """The password grant gives a token for the user; a wrong password is a typed error."""
    cred = PasswordGrant(
        issuer=oidc.issuer,
        client_id=APP_CLIENT[0],
        client_secret=APP_CLIENT[1],
        username="alice",
        password="alice-password",
        scope="api:read",
        cache=MemoryCache(),
    )
    status, body = call_api(kind, cred, oidc.api)
    assert (status, body["sub"]) == (200, "alice")
    assert "alice-password" not in repr(cred)


def test_password_grant_wrong_password(oidc: OidcProvider) -> None:
    """A wrong password gives TokenRequestError invalid_grant without the password in it."""
    cred = PasswordGrant(
        token_url=oidc.token_url,
        client_id=PUBLIC_CLIENT,
        username="bob",
        password="not-bobs-password-4711",
        cache=MemoryCache(),
    )
    with pytest.raises(TokenRequestError) as info:
        cred.get_token()
    assert (info.value.status, info.value.error) == (400, "invalid_grant")
    assert_no_secret(str(info.value) + repr(info.value), "not-bobs-password-4711")


# -- refresh tokens -----------------------------------------------------------------------


def test_refresh_token_grant_rotates(oidc: OidcProvider) -> None:
    """Each expiry costs one refresh; the rotated refresh token is kept and used next."""
    login = code_login(oidc, PUBLIC_CLIENT)
    clock = FakeClock(time.time())
    cred = RefreshTokenGrant(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        refresh_token=login["refresh_token"],
        cache=MemoryCache(),
        clock=clock,
    )
    before = oidc.token_requests(PUBLIC_CLIENT, "refresh_token")
    refresh_tokens = [login["refresh_token"]]
    for _ in range(3):
        token = cred.get_token()
        assert cred.get_token() is token
        assert token.refresh_token is not None
        refresh_tokens.append(token.refresh_token)
        status, body = call_api("requests", cred, oidc.api)
        assert (status, body["sub"]) == (200, "alice")
        clock.advance(10)  # past the 5-second lifetime
    assert oidc.token_requests(PUBLIC_CLIENT, "refresh_token") == before + 3
    assert len(set(refresh_tokens)) == 4  # public clients' refresh tokens rotate on each use


def test_refused_refresh_token_needs_interaction(oidc: OidcProvider) -> None:
    """invalid_grant on refresh raises InteractionRequired once and never retries it."""
    cred = RefreshTokenGrant(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        refresh_token="not-a-refresh-token-0815",
        cache=MemoryCache(),
    )
    before = oidc.token_requests(PUBLIC_CLIENT, "refresh_token")
    for _ in range(3):
        with pytest.raises(InteractionRequired) as info:
            cred.get_token()
        assert_no_secret(str(info.value), "not-a-refresh-token-0815")
    assert oidc.token_requests(PUBLIC_CLIENT, "refresh_token") == before + 1


def test_expired_refresh_token_needs_interaction(oidc: OidcProvider) -> None:
    """A refresh token past refresh_expires_at is not sent at all."""
    clock = FakeClock(time.time())
    cred = RefreshTokenGrant(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        refresh_token="rt-that-expired",
        refresh_expires_at=clock.now - 1,
        cache=MemoryCache(),
        clock=clock,
    )
    before = oidc.token_requests(PUBLIC_CLIENT, "refresh_token")
    with pytest.raises(InteractionRequired, match="expired"):
        cred.get_token()
    assert oidc.token_requests(PUBLIC_CLIENT, "refresh_token") == before


# -- device code ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_device_code_login(oidc: OidcProvider, kind: str) -> None:
    """The prompt shows the codes; the user approves on the provider's form; ID token checked."""
    prompts: list[DeviceAuthorization] = []

    def prompt(auth: DeviceAuthorization) -> None:
        prompts.append(auth)
        assert "Sign-in Success" in oidc.approve_device(auth.verification_uri, auth.user_code)

    cred = DeviceCode(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        scope="openid api:read",
        prompt=prompt,
        poll_interval=0,
        cache=MemoryCache(),
    )
    before = oidc.token_requests(PUBLIC_CLIENT, "urn:ietf:params:oauth:grant-type:device_code")
    status, body = call_api(kind, cred, oidc.api)
    assert (status, body["sub"]) == (200, "test-user")
    assert len(prompts) == 1
    auth = prompts[0]
    assert auth.verification_uri.startswith(oidc.issuer)
    assert auth.verification_uri_complete
    assert auth.user_code in auth.message
    assert auth.device_code not in repr(auth)
    assert (
        oidc.token_requests(PUBLIC_CLIENT, "urn:ietf:params:oauth:grant-type:device_code")
        == before + 1
    )
    claims = cred.id_token_claims
    assert claims is not None
    assert (claims["sub"], claims["aud"], claims["iss"]) == (
        "test-user",
        PUBLIC_CLIENT,
        oidc.issuer,
    )


def test_device_code_keeps_polling_while_pending(oidc: OidcProvider) -> None:
    """authorization_pending answers keep the flow polling until the user approves."""
    polls_before = oidc.token_requests(
        PUBLIC_CLIENT, "urn:ietf:params:oauth:grant-type:device_code"
    )
    approved = threading.Event()

    def prompt(auth: DeviceAuthorization) -> None:
        def later() -> None:
            # Approve only once the client has polled (and been told to wait) twice.
            while (
                oidc.token_requests(PUBLIC_CLIENT, "urn:ietf:params:oauth:grant-type:device_code")
                < polls_before + 2
            ):
                time.sleep(0.05)
            oidc.approve_device(auth.verification_uri, auth.user_code)
            approved.set()

        threading.Thread(target=later, daemon=True).start()

    cred = DeviceCode(
        token_url=oidc.token_url,
        device_authorization_url=oidc.issuer + "/device/auth",
        client_id=PUBLIC_CLIENT,
        scope="api:read",
        prompt=prompt,
        poll_interval=0.1,
        cache=MemoryCache(),
    )
    token = cred.get_token()
    assert approved.is_set()
    assert token.access_token
    polls = (
        oidc.token_requests(PUBLIC_CLIENT, "urn:ietf:params:oauth:grant-type:device_code")
        - polls_before
    )
    assert polls >= 3


def test_device_code_denied(oidc: OidcProvider) -> None:
    """The user aborting on the device form stops the flow with InteractionRequired."""
    cred = DeviceCode(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        scope="api:read",
        prompt=lambda auth: oidc.approve_device(auth.verification_uri, auth.user_code, deny=True),
        poll_interval=0,
        cache=MemoryCache(),
    )
    with pytest.raises(InteractionRequired, match="denied"):
        cred.get_token()


# -- authorization code (browser stand-in; real Chromium in test_browser_login.py) ----------


@pytest.mark.parametrize("kind", KINDS)
def test_authorization_code_login_and_refresh(oidc: OidcProvider, kind: str) -> None:
    """One browser login, then a 401-free refresh by refresh token; ID token nonce checked."""
    pages: list[str] = []
    opened: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)
        follow_in_thread(url + "&login_hint=alice", pages)
        return True

    cred = AuthorizationCode(
        issuer=oidc.issuer,
        client_id=APP_CLIENT[0],
        client_secret=APP_CLIENT[1],
        scope="openid api:read",
        browser=browser,
        login_timeout=20,
        cache=MemoryCache(),
    )
    before = oidc.token_requests("app", "refresh_token")
    status, body = call_api(kind, cred, oidc.api)
    assert (status, body["sub"]) == (200, "alice")
    assert len(opened) == 1
    assert "code_challenge_method=S256" in opened[0]
    assert "state=" in opened[0]
    assert "nonce=" in opened[0]
    claims = cred.id_token_claims
    assert claims is not None
    assert claims["sub"] == "alice"
    assert claims["nonce"]
    cred.invalidate(cred.get_token())
    status, body = call_api(kind, cred, oidc.api)
    assert (status, body["sub"]) == (200, "alice")
    assert len(opened) == 1  # refreshed without the browser
    assert oidc.token_requests("app", "refresh_token") == before + 1
    assert any("Signed in" in page for page in pages)


def test_authorization_code_prints_url_without_browser(
    oidc: OidcProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    """open_browser=False prints the URL; the login completes when someone opens it."""
    cred = AuthorizationCode(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        open_browser=False,
        login_timeout=20,
        authorization_params={"login_hint": "bob"},
        cache=MemoryCache(),
    )
    pages: list[str] = []
    done: list[str] = []

    def user() -> None:
        # The "user" copies the URL from the terminal.
        while True:
            err = capsys.readouterr().err
            if "http" in err:
                url = next(w for w in err.split() if w.startswith("http"))
                follow_in_thread(url, pages)
                done.append(url)
                return
            time.sleep(0.05)

    threading.Thread(target=user, daemon=True).start()
    token = cred.get_token()
    assert token.access_token
    assert done
    assert cred.id_token_claims is not None
    assert cred.id_token_claims["sub"] == "bob"


def test_authorization_code_times_out(oidc: OidcProvider) -> None:
    """Stray requests to the listener get a 404; no redirect in time raises InteractionRequired."""
    strays: list[int] = []
    visitor: list[threading.Thread] = []

    def browser(url: str) -> bool:
        redirect = dict(parse_qsl(urlsplit(url).query))["redirect_uri"]
        origin = redirect.rsplit("/", 1)[0]

        def visit() -> None:
            # A favicon request is not the redirect: the listener keeps waiting.
            strays.append(requests.get(origin + "/favicon.ico", timeout=5).status_code)
            strays.append(requests.get(redirect, timeout=5).status_code)  # no state: failure

        visitor.append(threading.Thread(target=visit, daemon=True))
        visitor[0].start()
        return True

    cred = AuthorizationCode(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        browser=browser,
        login_timeout=1,
        cache=MemoryCache(),
    )
    with pytest.raises(InteractionRequired, match="state does not match"):
        cred.get_token()
    visitor[0].join(timeout=10)
    assert strays == [404, 400]

    quiet = AuthorizationCode(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        browser=lambda url: True,
        login_timeout=0.5,
        cache=MemoryCache(),
    )
    with pytest.raises(InteractionRequired, match="timed out"):
        quiet.get_token()


# -- JWT bearer and token exchange -----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_jwt_bearer_grant(oidc: OidcProvider, kind: str) -> None:
    """A fresh signed assertion per request is exchanged for a token for its subject."""
    cred = JwtBearer(
        issuer=oidc.issuer,
        client_id=CC_CLIENT[0],
        client_secret=CC_CLIENT[1],
        assertion_key=oidc.private_keys["ec"],
        assertion_key_id="ec-key",
        subject="robot-7",
        cache=MemoryCache(),
    )
    status, body = call_api(kind, cred, oidc.api)
    assert (status, body["sub"]) == (200, "robot-7")


def test_jwt_bearer_with_private_key_jwt_client(oidc: OidcProvider) -> None:
    """The JWT bearer grant with private_key_jwt client authentication (RS256 assertion)."""
    cred = JwtBearer(
        token_url=oidc.token_url,
        client_id=PK_CLIENT,
        private_key=oidc.private_keys["rsa"],
        key_id="rsa-key",
        assertion_key=oidc.private_keys["rsa"],
        assertion_key_id="rsa-key",
        subject="robot-8",
        cache=MemoryCache(),
    )
    status, body = call_api("requests", cred, oidc.api)
    assert (status, body["sub"]) == (200, "robot-8")


@pytest.mark.parametrize("kind", KINDS)
def test_token_exchange(oidc: OidcProvider, kind: str) -> None:
    """A user's token is exchanged for one the gateway acts with (act claim), per RFC 8693."""
    user = PasswordGrant(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        username="alice",
        password="alice-password",
        cache=MemoryCache(),
    )
    actor = ClientCredentials(
        issuer=oidc.issuer,
        client_id=PK_CLIENT,
        private_key=oidc.private_keys["rsa"],
        key_id="rsa-key",
        cache=MemoryCache(),
    )
    cred = TokenExchange(
        issuer=oidc.issuer,
        client_id=CC_CLIENT[0],
        client_secret=CC_CLIENT[1],
        subject=user,
        actor=actor,
        cache=MemoryCache(),
    )
    status, body = call_api(kind, cred, oidc.api)
    assert status == 200
    assert body["sub"] == "alice"
    assert body["act"] == {"sub": PK_CLIENT}


# -- revocation ------------------------------------------------------------------------------


def test_revoke_logs_out(oidc: OidcProvider) -> None:
    """revoke() revokes the refresh token; using it afterwards needs a new login."""
    cred = DeviceCode(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        scope="api:read",
        prompt=lambda auth: oidc.approve_device(auth.verification_uri, auth.user_code),
        poll_interval=0,
        cache=MemoryCache(),
    )
    token = cred.get_token()
    assert token.refresh_token
    before = oidc.stats()["revocation"]
    assert cred.revoke() is True
    assert oidc.stats()["revocation"] == before + 2  # refresh token, then access token
    assert cred.peek(time.time()) is None
    again = RefreshTokenGrant(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        refresh_token=token.refresh_token,
        cache=MemoryCache(),
    )
    with pytest.raises(InteractionRequired):
        again.get_token()


def test_arevoke_on_trio(oidc: OidcProvider) -> None:
    """arevoke() works from async code too (trio)."""
    cred = PasswordGrant(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        username="bob",
        password="bob-password",
        cache=MemoryCache(),
    )

    async def main() -> bool:
        await cred.aget_token()
        return await cred.arevoke()

    # A JWT access token cannot be revoked by this provider and no refresh token exists:
    # the call succeeds and reports that nothing was revoked.
    assert anyio.run(main, backend="trio") is False


# -- DPoP (RFC 9449) -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_dpop_bound_token_with_proofs(oidc: OidcProvider, kind: str) -> None:
    """dpop=True gets a DPoP token bound to the key; the API checks proof, ath and jkt."""
    cred = ClientCredentials(
        issuer=oidc.issuer,
        client_id=CC_CLIENT[0],
        client_secret=CC_CLIENT[1],
        dpop=True,
        cache=MemoryCache(),
    )
    status, body = call_api(kind, cred, oidc.api + "/orders?page=2")
    assert (status, body["scheme"]) == (200, "DPoP")
    token = cred.get_token()
    assert token.token_type == "DPoP"
    assert cred.dpop_key is not None
    assert token.claims["cnf"] == {"jkt": cred.dpop_key.thumbprint}


def test_dpop_nonce_at_token_endpoint(oidc: OidcProvider) -> None:
    """A token endpoint demanding a nonce is answered once; the nonce is then reused."""
    key = DPoPKey()
    before = oidc.token_requests(NONCE_CLIENT[0], "client_credentials")
    first = ClientCredentials(
        token_url=oidc.token_url,
        client_id=NONCE_CLIENT[0],
        client_secret=NONCE_CLIENT[1],
        dpop=key,
        cache=MemoryCache(),
    )
    assert first.get_token().token_type == "DPoP"
    assert oidc.token_requests(NONCE_CLIENT[0], "client_credentials") == before + 2
    second = ClientCredentials(
        token_url=oidc.token_url,
        client_id=NONCE_CLIENT[0],
        client_secret=NONCE_CLIENT[1],
        dpop=key,
        scope="api:read",
        cache=MemoryCache(),
    )
    status, body = call_api("requests", second, oidc.api)
    assert (status, body["scheme"]) == (200, "DPoP")
    assert oidc.token_requests(NONCE_CLIENT[0], "client_credentials") == before + 3


@pytest.mark.parametrize("kind", KINDS)
def test_dpop_nonce_at_resource(oidc: OidcProvider, kind: str) -> None:
    """A resource's use_dpop_nonce 401 is answered once with the nonce, then remembered."""
    cred = ClientCredentials(
        issuer=oidc.issuer,
        client_id=CC_CLIENT[0],
        client_secret=CC_CLIENT[1],
        dpop=True,
        cache=MemoryCache(),
    )
    before = oidc.stats()["api"]["401"]
    assert call_api(kind, cred, oidc.api + "/nonce")[0] == 200
    assert oidc.stats()["api"]["401"] == before + 1
    assert call_api(kind, cred, oidc.api + "/nonce")[0] == 200
    assert oidc.stats()["api"]["401"] == before + 1


def test_dpop_refresh_of_a_device_login(oidc: OidcProvider) -> None:
    """A public client's DPoP-bound refresh token refreshes with a proof from the same key."""
    cred = DeviceCode(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        scope="api:read",
        prompt=lambda auth: oidc.approve_device(auth.verification_uri, auth.user_code),
        poll_interval=0,
        dpop=True,
        cache=MemoryCache(),
    )
    first = cred.get_token()
    assert first.token_type == "DPoP"
    before = oidc.token_requests(PUBLIC_CLIENT, "refresh_token")
    cred.invalidate(first)
    status, body = call_api("httpx", cred, oidc.api)
    assert (status, body["scheme"], body["sub"]) == (200, "DPoP", "test-user")
    assert oidc.token_requests(PUBLIC_CLIENT, "refresh_token") == before + 1


# -- tls_client_auth (RFC 8705) ---------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_tls_client_auth_with_cert_pair(oidc: OidcProvider, kind: str) -> None:
    """cert=(cert, key) authenticates the client by its TLS certificate; no secret is sent."""
    files = oidc.tls_files
    cred = ClientCredentials(
        token_url=oidc.mtls_origin + "/token",
        client_id="tls-client",
        cert=(files["client_cert"], files["client_key"]),
        verify=files["ca"],
        cache=MemoryCache(),
    )
    before = oidc.token_requests("tls-client", "client_credentials")
    status, body = call_api(kind, cred, oidc.api)
    assert (status, body["client_id"]) == (200, "tls-client")
    assert oidc.token_requests("tls-client", "client_credentials") == before + 1


def test_tls_client_auth_untrusted_certificate(oidc: OidcProvider) -> None:
    """A certificate from another CA is refused with invalid_client."""
    files = oidc.tls_files
    cred = ClientCredentials(
        token_url=oidc.mtls_origin + "/token",
        client_id="tls-client",
        cert=authwire.ClientCertificate(files["other_cert"], files["other_key"]),
        auth_method="tls_client_auth",
        verify=files["ca"],
        cache=MemoryCache(),
    )
    with pytest.raises(TokenRequestError) as info:
        cred.get_token()
    assert (info.value.status, info.value.error) == (401, "invalid_client")


def test_verify_refuses_an_unknown_server_ca(oidc: OidcProvider) -> None:
    """Without the test CA in verify=, the HTTPS token endpoint is not trusted."""
    files = oidc.tls_files
    cred = ClientCredentials(
        token_url=oidc.mtls_origin + "/token",
        client_id="tls-client",
        cert=(files["client_cert"], files["client_key"]),
        retries=0,
        cache=MemoryCache(),
    )
    with pytest.raises(authwire.TokenEndpointUnreachable):
        cred.get_token()


# -- secrets stay secret ------------------------------------------------------------------------


def test_no_planted_secret_in_reprs_errors_or_logs(
    oidc: OidcProvider, planted_secrets: Any
) -> None:
    """Refused secrets, passwords and refresh tokens never reach a repr, an error or a log."""
    secret = planted_secrets.new("client-secret")
    password = planted_secrets.new("password")
    refresh = planted_secrets.new("refresh")
    creds: list[Credential] = [
        ClientCredentials(
            issuer=oidc.issuer, client_id="cc-client", client_secret=secret, cache=MemoryCache()
        ),
        ClientCredentials(
            issuer=oidc.issuer,
            client_id="hs-client",
            client_secret=secret,
            auth_method="client_secret_jwt",
            cache=MemoryCache(),
        ),
        PasswordGrant(
            issuer=oidc.issuer,
            client_id="app",
            client_secret=secret,
            username="alice",
            password=password,
            cache=MemoryCache(),
        ),
        RefreshTokenGrant(
            issuer=oidc.issuer, client_id="public-app", refresh_token=refresh, cache=MemoryCache()
        ),
    ]
    for cred in creds:
        with pytest.raises(authwire.AuthwireError) as info:
            cred.get_token()
        error = info.value
        planted_secrets.check(repr(cred), str(error), repr(error), getattr(error, "snippet", ""))
        cause = error.__cause__
        if cause is not None:
            planted_secrets.check(str(cause))
    planted_secrets.check_logs()


def test_dpop_authorization_code_binds_the_code(oidc: OidcProvider) -> None:
    """With dpop=True the authorization request carries dpop_jkt and the token is bound."""
    opened: list[str] = []
    pages: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)
        follow_in_thread(url + "&login_hint=frank", pages)
        return True

    cred = AuthorizationCode(
        issuer=oidc.issuer,
        client_id=PUBLIC_CLIENT,
        scope="openid api:read",
        browser=browser,
        login_timeout=20,
        dpop=True,
        cache=MemoryCache(),
    )
    status, body = call_api("httpx-trio", cred, oidc.api)
    assert (status, body["scheme"], body["sub"]) == (200, "DPoP", "frank")
    assert cred.dpop_key is not None
    query = dict(parse_qsl(urlsplit(opened[0]).query))
    assert query["dpop_jkt"] == cred.dpop_key.thumbprint
