"""``AuthorizationCode``: browser login with PKCE and a one-shot loopback listener.

RFC 6749 section 4.1 with RFC 7636 (PKCE S256), RFC 8252 (native apps: a loopback
redirect on 127.0.0.1 and a random port), RFC 9207 (``iss``: checked when present, and
required when the provider advertises ``authorization_response_iss_parameter_supported``)
and OIDC Core (``nonce``).
"""

from __future__ import annotations

import html
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlsplit

from authwire._core.deadline import restart_current
from authwire._core.flow import Call, Flow
from authwire._core.oauth2.grants import token_flow
from authwire._core.oauth2.pkce import (
    AuthorizationRequest,
    build_authorization_url,
    parse_authorization_response,
)
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire._core.origin import require_secure
from authwire._core.redact import Secret
from authwire._core.token import Token
from authwire.credentials._oauth2 import UserGrant
from authwire.errors import AuthwireError, ConfigurationError, InteractionRequired

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from authwire.credentials._oauth2 import UserGrantOptions

__all__ = ["AuthorizationCode"]

_PAGE: Final = (
    "<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p></body></html>"
)
SUCCESS_TITLE: Final = "Signed in"
FAILURE_TITLE: Final = "Sign-in failed"


class _Listener:
    """A one-shot HTTP listener on 127.0.0.1 for the login redirect. Strictly private.

    Only a ``GET`` of ``path`` counts; anything else (a favicon) gets a 404 and the wait
    goes on. The first redirect is answered with a small success or failure page and ends
    the wait, whatever it carried: a forged ``state`` is rejected, not waited past.
    Connections are served in threads with a read timeout, so a browser's idle
    speculative connection cannot hold up the real redirect.
    """

    def __init__(self, host: str, port: int, path: str) -> None:
        listener = self
        self._path = path
        self._request: AuthorizationRequest | None = None
        self._issuer: str | None = None
        self._require_iss = False
        self.result: Secret[str] | None = None
        self.error: AuthwireError | None = None
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            timeout = 5  # seconds a connection may sit idle

            def do_GET(self) -> None:
                listener._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the query holds the code: never log it

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        self._server = Server((host, port), Handler)
        shown = f"[{host}]" if ":" in host else host
        self.redirect_uri = f"http://{shown}:{self._server.server_address[1]}{path}"

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._respond(handler)

    def _respond(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        if parts.path != self._path or self._request is None or self.done:
            body = b"not found"
            handler.send_response(404)
        else:
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            try:
                # The code is secret: wrapped at once, revealed only in the token request.
                self.result = Secret(
                    parse_authorization_response(
                        query, self._request, issuer=self._issuer, require_iss=self._require_iss
                    )
                )
                title, text = SUCCESS_TITLE, "You can close this window and return to the app."
                handler.send_response(200)
            except InteractionRequired as exc:
                self.error = exc
                title, text = FAILURE_TITLE, html.escape(exc.message)
                handler.send_response(400)
            body = _PAGE.format(title=title, text=text).encode()
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Cache-Control", "no-store")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None

    def wait(
        self,
        request: AuthorizationRequest,
        timeout: float,
        issuer: str | None,
        require_iss: bool = False,
    ) -> Secret[str]:
        """Serve until the redirect arrives; the authorization code.

        Raises:
            InteractionRequired: For a failed or forged redirect, or none within ``timeout``.
        """
        self._request, self._issuer, self._require_iss = request, issuer, require_iss
        deadline = time.monotonic() + timeout
        try:
            while not self.done:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise InteractionRequired(
                        f"browser login timed out after {timeout:g} s without a redirect"
                    )
                self._server.timeout = min(left, 0.25)
                self._server.handle_request()
        finally:
            self.close()
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def close(self) -> None:
        self._server.server_close()


class AuthorizationCode(UserGrant):
    """A user login in the system browser (PKCE S256, random ``state`` and ``nonce``).

    The first ``get_token()`` opens the provider's login page in the browser and waits
    on a one-shot listener at ``http://127.0.0.1:<random port>/callback`` for the
    redirect; the page the browser lands on says whether the login worked. Later tokens
    come from the refresh token; if it is refused, the browser login runs again. An ID
    token is validated against the provider's JWKS; its claims are in
    ``id_token_claims``.

    Args:
        token_url: The token endpoint; or give ``issuer=`` (needed for ID token checks).
        authorization_url: The authorization endpoint; default from discovery.
        open_browser: Open the system browser (default). ``False`` prints the URL instead
            (to standard error), for SSH sessions.
        browser: A function that opens a URL, instead of ``webbrowser.open`` (tests drive
            a headless browser with it).
        redirect_host: The listener's address: ``127.0.0.1`` (default) or ``localhost``.
        redirect_port: The listener's port; ``0`` (default) picks a free one. Set it only
            for providers that cannot accept any loopback port (RFC 8252 section 7.3).
        redirect_path: The redirect URI's path. Default ``/callback``.
        login_timeout: Seconds to wait for the redirect. Default 300.
        authorization_params: More authorization request parameters (``prompt``,
            ``login_hint``, ``acr_values``...).
        **kwargs: ``issuer``, ``client_id``, ``client_secret`` (confidential clients),
            ``scope`` (default ``openid``), ``auth_method`` (``none`` for public clients)
            and the rest: see ``ClientCredentials``.

    Raises:
        InteractionRequired: From ``get_token``: the user denied, the state did not
            match, or the login timed out.

    Example:
        >>> cred = AuthorizationCode(issuer="https://login.example.com", client_id="cli",
        ...                          scope="openid offline_access")
        >>> cred.client_id
        'cli'
    """

    _interactive = True

    _grant_name = "authorization_code"

    def __init__(
        self,
        token_url: str | None = None,
        *,
        authorization_url: str | None = None,
        open_browser: bool = True,
        browser: Callable[[str], object] | None = None,
        redirect_host: str = "127.0.0.1",
        redirect_port: int = 0,
        redirect_path: str = "/callback",
        login_timeout: float = 300.0,
        authorization_params: Mapping[str, str] | None = None,
        **kwargs: Unpack[UserGrantOptions],
    ) -> None:
        if redirect_host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigurationError("redirect_host must be a loopback address")
        if not redirect_path.startswith("/"):
            raise ConfigurationError("redirect_path must start with '/'")
        if login_timeout <= 0:
            raise ConfigurationError("login_timeout must be > 0 seconds")
        kwargs.setdefault("scope", "openid")
        self._authorization_url = authorization_url
        self._open_browser = open_browser
        self._browser = browser
        self._redirect = (redirect_host, redirect_port, redirect_path)
        self._login_timeout = login_timeout
        self._auth_params = dict(authorization_params or {})
        super().__init__(token_url, **kwargs)
        if authorization_url:
            require_secure(
                authorization_url, allow_insecure=self._allow_insecure, what=self._grant_name
            )

    def _identity_extra(self) -> Mapping[str, Any]:
        # login_hint, acr_values, an organization...: a different login, another token.
        return {
            "authorization_url": self._authorization_url,
            "authorization_params": sorted(self._auth_params.items()),
        }

    def _show(self, url: str) -> None:
        if self._open_browser and self._browser is not None:
            if self._browser(url) is not False:
                return
        elif self._open_browser:
            # webbrowser.open waits for a console browser (BROWSER=lynx) to exit, and the
            # listener only serves the redirect after this returns: open it on a thread,
            # and print the URL too, since that thread cannot tell us it failed.
            threading.Thread(
                target=webbrowser.open, args=(url,), name="authwire-browser", daemon=True
            ).start()
            print(
                f"Opening a browser to sign in; if none opens, visit:\n{url}",
                file=sys.stderr,
                flush=True,
            )
            return
        print(f"Open this URL in a browser to sign in:\n{url}", file=sys.stderr, flush=True)

    def _login_flow(self, endpoint: TokenEndpoint) -> Flow[Token]:
        auth_url = yield from self._url_flow("authorization_endpoint", self._authorization_url)
        metadata = yield from self._metadata_flow()
        listener = _Listener(*self._redirect)
        try:
            extra = dict(self._auth_params)
            for resource in endpoint.resource:
                extra.setdefault("resource", resource)
            if endpoint.dpop is not None:
                # RFC 9449 section 10: bind the code to the DPoP key, so a stolen code is
                # useless without it.
                extra.setdefault("dpop_jkt", endpoint.dpop.thumbprint)
            request = build_authorization_url(
                auth_url,
                client_id=endpoint.client.client_id,
                redirect_uri=listener.redirect_uri,
                scope=endpoint.scope,
                extra=extra,
            )
            self._nonce = request.nonce
            yield Call(self._show, args=(request.url,))
            issuer = metadata.issuer if metadata else None
            # RFC 9207 section 2.4: a provider that says it sends iss must send it.
            require_iss = bool(
                metadata
                and metadata.raw.get("authorization_response_iss_parameter_supported") is True
            )
            code: Secret[str] = yield Call(
                listener.wait, args=(request, self._login_timeout, issuer, require_iss)
            )
            restart_current()  # the browser wait has its own bound (login_timeout)
        finally:
            listener.close()
        return (
            yield from token_flow(
                endpoint,
                "authorization_code",
                {
                    "code": code,
                    "redirect_uri": listener.redirect_uri,
                    "code_verifier": Secret(request.code_verifier),
                },
                clock=self._clock,
                retry=self._retry,
                include_scope=False,
            )
        )
