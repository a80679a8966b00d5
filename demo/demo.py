"""authwire's whole token lifecycle against a real identity provider, step by step.

Run with ``make demo`` (or ``.venv/bin/python demo/demo.py`` after ``scripts/bootstrap.sh``).
It starts, on 127.0.0.1 and random ports:

* a real OpenID provider: node ``oidc-provider`` (``tests/integration/servers/oidc``),
  issuing JWT access tokens that live a few seconds, refresh tokens and device logins, and
  counting every token, discovery and revocation request;
* a small protected API (``demo/api.py``) that checks those JWTs against the provider's
  keys with PyJWT, keeps a deny list of revoked token ids, and counts its 200s and 401s.

Then it narrates, checking each claim by the servers' own counters (exit 1 if one fails):

1. client credentials with discovery: only ``issuer=`` is given;
2. a device-code login (RFC 8628), approved by the demo playing the user on the
   provider's own device page;
3. authenticated calls with requests, httpx and httpx's async client;
4. a proactive refresh before expiry, with the reason from the ``on_refresh`` hook;
5. a token revoked at the API: 401, refresh, the request replayed;
6. a logout that revokes the refresh token at the provider, which then refuses it;
7. a wrong client secret: a typed ``TokenRequestError`` that does not contain it.

Tokens and secrets are never printed: only fingerprints (the first 12 hex digits of a
token's SHA-256), which the API also reports, so you can see which token each call carried.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.integration._oidc (the provider launcher)
sys.path.insert(0, str(ROOT / "demo"))  # for api.py, when run as a script

from api import ProtectedApi, fingerprint  # noqa: E402
from tests.integration._oidc import CC_CLIENT, PUBLIC_CLIENT, OidcProvider  # noqa: E402

import authwire  # noqa: E402
import authwire.httpx  # noqa: E402
import authwire.requests  # noqa: E402
from authwire.credentials.device_code import DeviceAuthorization  # noqa: E402

TTL = 10  #: access token lifetime the provider grants, seconds
LEEWAY = 5.0  #: advisory window: authwire refreshes this many seconds before expiry
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
WRONG_SECRET = "not-the-secret-5f0c"  #: step 7's wrong client secret


def step(number: int, title: str) -> None:
    """Print a step's heading."""
    print(f"\n== Step {number}: {title}", flush=True)


def say(text: str) -> None:
    """Print one line of narration."""
    print(f"   {text}", flush=True)


def expect(condition: bool, what: str) -> None:
    """Stop the demo (exit 1) if authwire did not do what the narration claims."""
    if not condition:
        raise SystemExit(f"demo check failed: {what}")
    say(f"ok: {what}")


def on_refresh(event: authwire.RefreshEvent) -> None:
    """The ``on_refresh`` hook: why each refresh happened (events hold no secrets)."""
    if event.outcome == "failed":
        say(f"[on_refresh] refresh FAILED (reason={event.reason!r}): {event.error}")
        return
    left = (event.expires_at or 0.0) - time.time()
    say(
        f"[on_refresh] reason={event.reason!r} outcome={event.outcome!r}: "
        f"new token {event.token} (expires in {left:.1f}s)"
    )


class Lifecycle:
    """The steps, against one provider and one API."""

    def __init__(self, provider: OidcProvider, api: ProtectedApi) -> None:
        self.provider = provider
        self.api = api
        self.session = requests.Session()

    def tokens(self, client_id: str, grant_type: str) -> int:
        """Token requests ``client_id`` made with ``grant_type``, by the provider's count."""
        return self.provider.token_requests(client_id, grant_type)

    def call(self, label: str, response: requests.Response | httpx.Response) -> dict[str, Any]:
        """Narrate one API answer; return its JSON body."""
        body: dict[str, Any] = response.json()
        who = body.get("client_id") if body.get("sub") == body.get("client_id") else body.get("sub")
        seen = f"API saw token {body['token']}, caller {who!r}" if body.get("ok") else body
        say(f"{label}: HTTP {response.status_code}, {seen}")
        return body

    def client_credentials(self) -> None:
        """Step 1: a service account via discovery."""
        step(1, "client credentials, with discovery (only issuer= is given)")
        client_id, client_secret = CC_CLIENT
        cred = authwire.ClientCredentials(
            issuer=self.provider.issuer,
            client_id=client_id,
            client_secret=client_secret,
            scope="api:read",
            cache=authwire.MemoryCache(),
            on_refresh=on_refresh,
        )
        say(f"credential: {cred!r}  (no secret in the repr)")
        token = cred.get_token()
        say(f"token: {token!r}, fingerprint {fingerprint(token.access_token)}")
        discovery = self.provider.stats()["discovery"]
        say(
            f"provider counted: {discovery} discovery fetch, "
            f"{self.tokens(client_id, 'client_credentials')} client_credentials token request"
        )
        expect(discovery == 1, "the OpenID configuration was fetched once")
        expect(self.tokens(client_id, "client_credentials") == 1, "one token request")
        self.session.auth = authwire.requests.Auth(cred)
        callers = set()
        for i in range(3):
            response = self.session.get(f"{self.api.url}/reports/{i}")
            callers.add(self.call(f"GET /reports/{i} (requests)", response).get("client_id"))
        expect(callers == {client_id}, "the API accepted the service's token three times")
        expect(self.tokens(client_id, "client_credentials") == 1, "the token was reused")

    def device_login(self) -> authwire.DeviceCode:
        """Step 2: a user login on another device; the demo approves it."""
        step(2, "a device-code login (RFC 8628), approved by the demo playing the user")
        shown: list[DeviceAuthorization] = []
        answers: list[str] = []
        polls_before = self.tokens(PUBLIC_CLIENT, DEVICE_GRANT)

        def user(auth: DeviceAuthorization) -> None:
            """The user, on their phone: busy at first, then confirms on the device page."""
            deadline = time.monotonic() + 15
            while self.tokens(PUBLIC_CLIENT, DEVICE_GRANT) == polls_before:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            say("the user (played by the demo) opens the page, types the code and confirms")
            try:
                page = self.provider.approve_device(auth.verification_uri, auth.user_code)
            except Exception as exc:  # stop the polling rather than wait for the code to expire
                answers.append(f"approval failed: {type(exc).__name__}")
                self.provider.approve_device(auth.verification_uri, auth.user_code, deny=True)
                return
            answers.append("Sign-in Success" if "Sign-in Success" in page else "unexpected page")
            say(f"the provider's device page answers: {answers[-1]}")

        def prompt(auth: DeviceAuthorization) -> None:
            shown.append(auth)
            say("authwire asks the user (through the prompt= callback):")
            for line in auth.message.splitlines():
                say(f"  | {line}")
            threading.Thread(target=user, args=(auth,), daemon=True).start()

        cred = authwire.DeviceCode(
            issuer=self.provider.issuer,
            client_id=PUBLIC_CLIENT,  # a public client: no secret, as a CLI would be
            scope="openid api:read",
            prompt=prompt,
            poll_interval=1,  # the provider asks for 5 s; the demo is in a hurry
            leeway=LEEWAY,
            cache=authwire.MemoryCache(),
            on_refresh=on_refresh,
        )
        try:
            token = cred.get_token()
        except authwire.InteractionRequired as exc:
            expect(False, f"the device login succeeds ({exc}; {answers})")
            raise
        polls = self.tokens(PUBLIC_CLIENT, DEVICE_GRANT) - polls_before
        say(f"logged in after {polls} polls of the token endpoint: {token!r}")
        expect(len(shown) == 1, "the user was prompted once")
        expect(answers == ["Sign-in Success"], "the user approved on the provider's page")
        expect(
            polls >= 2,
            "authwire kept polling on authorization_pending until the user approved",
        )
        expect(token.refresh_token is not None, "a refresh token came with the access token")
        claims = cred.id_token_claims
        expect(
            claims is not None and claims.get("sub") == "test-user",
            "the ID token was verified against the provider's keys (sub 'test-user')",
        )
        return cred

    def authenticated_calls(self, cred: authwire.DeviceCode) -> None:
        """Step 3: the user's token on requests, httpx and async httpx."""
        step(3, "authenticated calls with requests, httpx and httpx.AsyncClient")
        self.session.auth = authwire.requests.Auth(cred)
        before = self.tokens(PUBLIC_CLIENT, DEVICE_GRANT)
        self.call("GET /me (requests)", self.session.get(f"{self.api.url}/me"))
        with httpx.Client(auth=authwire.httpx.Auth(cred)) as client:
            self.call("GET /me (httpx)", client.get(f"{self.api.url}/me"))

        async def async_call() -> httpx.Response:
            async with httpx.AsyncClient(auth=authwire.httpx.Auth(cred)) as client:
                return await client.get(f"{self.api.url}/me")

        body = self.call("GET /me (httpx async)", asyncio.run(async_call()))
        expect(body.get("sub") == "test-user", "the API saw the logged-in user")
        expect(self.api.answers[200] == 6 and self.api.answers[401] == 0, "six 200s, no 401")
        expect(
            self.tokens(PUBLIC_CLIENT, DEVICE_GRANT) == before
            and self.tokens(PUBLIC_CLIENT, "refresh_token") == 0,
            "all three clients used the one token: no new token request",
        )

    def proactive_refresh(self, cred: authwire.DeviceCode) -> None:
        """Step 4: the advisory window refreshes before expiry."""
        step(4, f"proactive refresh: tokens live {TTL}s, authwire refreshes {LEEWAY:.0f}s early")
        token = cred.get_token()
        wait = max(0.0, (token.expires_at or 0.0) - LEEWAY - time.time() + 0.3)
        say(f"waiting {wait:.1f}s: the token is still valid, the API would still accept it")
        time.sleep(wait)
        self.call("GET /me (requests)", self.session.get(f"{self.api.url}/me"))
        expect(
            self.tokens(PUBLIC_CLIENT, "refresh_token") == 1,
            "one refresh_token grant (no new login)",
        )
        expect(self.api.answers[401] == 0, "refreshed before expiry: the API never said 401")

    def rejected_token(self, cred: authwire.DeviceCode) -> None:
        """Step 5: the API revokes the token; authwire refreshes and replays."""
        step(5, "the API revokes the current token: 401 -> refresh -> replay")
        token = cred.get_token()
        self.api.deny(token.claims["jti"])
        say(f"the API operator revokes token {fingerprint(token.access_token)} (its jti)")
        refreshes = self.tokens(PUBLIC_CLIENT, "refresh_token")
        rejected = self.api.answers[401]
        response = self.session.post(f"{self.api.url}/orders", data=b"order=42")
        history = [r.status_code for r in response.history]
        body = self.call(f"POST /orders, history {history}", response)
        say(
            f"counted: {self.api.answers[401] - rejected} 401 at the API, "
            f"{self.tokens(PUBLIC_CLIENT, 'refresh_token') - refreshes} refresh, "
            f"replayed body {body.get('body')!r}"
        )
        expect(response.status_code == 200 and history == [401], "replayed once, then 200")
        expect(self.api.answers[401] - rejected == 1, "exactly one 401")
        expect(
            self.tokens(PUBLIC_CLIENT, "refresh_token") - refreshes == 1,
            "one refresh for the rejected token",
        )
        expect(body.get("body") == "order=42", "the replay carried the same body")

    def logout(self, cred: authwire.DeviceCode) -> None:
        """Step 6: revoke() logs out; the refresh token stops working."""
        step(6, "logout: revoke() at the provider's revocation endpoint")
        token = cred.get_token()
        access_token = token.access_token
        refresh_token = token.refresh_token
        assert refresh_token is not None
        say(f"the session's refresh token: {fingerprint(refresh_token)} (fingerprint)")
        revocations = self.provider.stats()["revocation"]
        revoked = cred.revoke()
        say(
            f"cred.revoke() -> {revoked}; revocation requests: "
            f"{self.provider.stats()['revocation'] - revocations} (refresh token, access token)"
        )
        expect(
            revoked and self.provider.stats()["revocation"] - revocations == 2,
            "both tokens sent to the revocation endpoint; the refresh token revoked",
        )
        expect(cred.peek(time.time()) is None, "the credential forgot its tokens")
        say("someone replays the old refresh token (as a stolen copy would be used):")
        stolen = authwire.RefreshTokenGrant(
            issuer=self.provider.issuer,
            client_id=PUBLIC_CLIENT,
            refresh_token=refresh_token,
            cache=authwire.MemoryCache(),
            retries=0,
        )
        refreshes = self.tokens(PUBLIC_CLIENT, "refresh_token")
        try:
            stolen.get_token()
        except authwire.InteractionRequired as exc:
            cause = exc.__cause__
            error = getattr(cause, "error", None)
            say(f"-> {type(exc).__name__}: {exc} (provider said {error!r})")
            expect(error == "invalid_grant", "the provider refused the revoked refresh token")
        else:
            expect(False, "a revoked refresh token is refused")
        expect(
            self.tokens(PUBLIC_CLIENT, "refresh_token") - refreshes == 1,
            "one refresh attempt, refused, and no retry loop",
        )
        leftover = requests.get(
            f"{self.api.url}/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=5
        )
        say(
            f"the last access token {fingerprint(access_token)}, sent by hand after the logout: "
            f"HTTP {leftover.status_code}"
        )
        expect(
            leftover.status_code == 200,
            f"a JWT access token cannot be recalled: it dies at its exp, at most {TTL}s later "
            "(that is why access tokens are short-lived)",
        )

    def typed_errors(self) -> None:
        """Step 7: a refused token request is a typed error without the secret."""
        step(7, "a refused token request: a typed error, and no secret in it")
        client_id, _ = CC_CLIENT
        wrong = authwire.ClientCredentials(
            issuer=self.provider.issuer,
            client_id=client_id,
            client_secret=WRONG_SECRET,
            auth_method="client_secret_post",  # the secret travels in the form body
            cache=authwire.MemoryCache(),
            retries=0,
        )
        try:
            wrong.get_token()
        except authwire.TokenRequestError as exc:
            say(f"wrong secret -> {type(exc).__name__}(status={exc.status}, error={exc.error!r})")
            say(f"message: {exc}")
            text = f"{exc} {exc.snippet} {exc!r}"
            expect(exc.status == 401 and exc.error == "invalid_client", "401 invalid_client")
            expect(WRONG_SECRET not in text, "the secret is in neither message, snippet nor repr")
        else:
            expect(False, "a wrong secret raises TokenRequestError")


def main() -> int:
    """Run the demo; 0 when every step's check passed."""
    # authwire's own warnings (also secret-free), in line with the narration.
    logging.basicConfig(stream=sys.stdout, format="   [log] %(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    try:
        provider = OidcProvider(access_token_ttl=TTL).start()
    except (RuntimeError, OSError) as exc:  # no node, or no `npm ci` yet
        print(f"demo: cannot start the identity provider: {exc}", file=sys.stderr)
        print("demo: run `make demo` (it bootstraps node and npm packages first)", file=sys.stderr)
        return 1
    try:
        api = ProtectedApi(
            provider.issuer, audience=provider.api, jwks_uri=provider.issuer + "/jwks"
        ).start()
        try:
            print(f"authwire {authwire.__version__} demo")
            print(f"identity provider (node oidc-provider): {provider.issuer}")
            print(f"protected API (demo/api.py, checks the provider's JWTs): {api.url}")
            lifecycle = Lifecycle(provider, api)
            lifecycle.client_credentials()
            cred = lifecycle.device_login()
            lifecycle.authenticated_calls(cred)
            lifecycle.proactive_refresh(cred)
            lifecycle.rejected_token(cred)
            lifecycle.logout(cred)
            lifecycle.typed_errors()
            stats = provider.stats()
            expect(stats["discovery"] == 1, "one discovery fetch served the whole demo")
            print(
                f"\nDone in {time.monotonic() - started:.1f}s: "
                f"{sum(stats['token'].values())} token requests, "
                f"{api.answers[200]} API calls served, {api.answers[401]} 401 answered, "
                f"{stats['revocation']} revocation requests, "
                f"{stats['discovery']} discovery fetch."
            )
            lifecycle.session.close()
        finally:
            api.stop()
    finally:
        provider.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
