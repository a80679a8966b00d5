"""``authwire.httpx.Auth``: sync and async auth flows over one authwire scheme.

Strictly private module. ``sync_auth_flow`` and ``async_auth_flow`` are thin shells: the
scheme's flow decides; they attach its attempts and hand back responses, with the sync
or async stepper running side operations (a token refresh, a GSSAPI step) so that the
event loop is never blocked.

httpx follows redirects inside one auth flow and copies every header to each hop,
removing only ``Authorization`` when the origin changes. For schemes that add other
headers (``ApiKey(header=...)``, a custom bearer header) each request carries a
``trace`` extension (propagated by httpx to every hop) that removes those headers
just before a hop to another origin is sent; a ``trace`` the user set is still called.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import httpx

from authwire._core.flow import AsyncStepper, Attempt, SyncStepper, Verdict
from authwire._core.origin import OriginGuard
from authwire._core.schemes.base import AuthLike, as_scheme
from authwire._log import logger
from authwire.httpx._convert import (
    apply_attempt,
    body_position,
    can_replay,
    request_info,
    rewind,
    to_http_response,
)

if TYPE_CHECKING:
    from authwire._aio import Runtime

__all__ = ["Auth"]

_SEND_HEADERS = "send_request_headers.started"
#: Request extension holding the attempt whose params and cookies a same-origin hop keeps.
_ATTEMPT = "authwire.attempt"

#: The module of ``ClientCertificate``, which an auth object cannot present.
_CERTIFICATES = "authwire.tls._certificate"


def _restore(core_request: Any, attempt: Attempt) -> None:
    """Put ``attempt``'s query parameters and cookies back on a same-origin redirect hop.

    httpx builds a redirect's URL from ``Location`` and drops the ``Cookie`` header, so
    an API key sent as a parameter or a cookie would be lost within the origin.
    """
    if attempt.params:
        url = core_request.url
        target = bytes(url.target).decode("latin-1")
        query = target.partition("?")[2]
        present = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
        missing = [(k, v) for k, v in attempt.params.items() if k not in present]
        if missing:
            joiner = "&" if query else ("" if target.endswith("?") else "?")
            url.target = (target + joiner + urlencode(missing)).encode("latin-1")
    if attempt.cookies:
        headers = core_request.headers
        values = [v.decode("latin-1") for k, v in headers if k.lower() == b"cookie"]
        pairs = {p.strip() for value in values for p in value.split(";")}
        missing_cookies = [
            f"{k}={v}" for k, v in attempt.cookies.items() if f"{k}={v}" not in pairs
        ]
        if missing_cookies:
            value = "; ".join([*values, *missing_cookies])
            headers[:] = [(k, v) for k, v in headers if k.lower() != b"cookie"]
            headers.append((b"Cookie", value.encode("latin-1")))


def _hop_url(core_request: Any) -> str:
    url = core_request.url
    target = bytes(url.target)
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        # Absolute form: a plain-http request sent through a forward proxy. The hop goes
        # to the target's origin, not to the proxy's.
        return target.decode("latin-1")
    scheme, host, port = url.scheme.decode(), url.host.decode(), url.port
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}/" if port is not None else f"{scheme}://{host}/"


class Auth(httpx.Auth):
    """Authenticates ``httpx.Client`` and ``httpx.AsyncClient`` requests with authwire.

    Credentials are bound to the first request's origin (or ``origins=``); sending them
    elsewhere raises ``InsecureTransportError``, and redirect hops to another origin lose
    every header authwire added. Secrets are refused over plain http except to loopback
    unless ``allow_insecure=True``.

    Args:
        auth: A credential (sent as a bearer token), a scheme, or a ``+`` combination.
        origins: Origins the credentials may go to; default: the first request's.
        allow_insecure: Permit plain ``http://`` to hosts other than loopback.

    Raises:
        ConfigurationError: If ``auth`` holds a ``ClientCertificate``, which an auth object
            cannot present (it travels in the TLS handshake); the message says what to use.

    Example:
        >>> import httpx, authwire, authwire.httpx
        >>> auth = authwire.httpx.Auth(authwire.ApiKey("k-123"))
        >>> client = httpx.Client(auth=auth)
    """

    def __init__(
        self,
        auth: AuthLike,
        *,
        origins: Iterable[str] | str | None = None,
        allow_insecure: bool = False,
    ) -> None:
        self.scheme = as_scheme(auth)
        if _CERTIFICATES in sys.modules:  # no certificate exists before its module loads
            from authwire.tls._certificate import refuse_in_auth

            refuse_in_auth(self.scheme, "authwire.httpx.Auth")
        self.guard = OriginGuard(
            origins, allow_insecure=allow_insecure, requires_secure=self.scheme.requires_secure
        )
        self._fast = self.scheme.fast_attempt
        # Headers httpx does not strip by itself on a cross-origin redirect.
        self._strip = frozenset(self.scheme.header_names - {"authorization"})
        # Whether redirect hops need our trace: to strip those headers when leaving the
        # origin, or to put back query parameters and cookies that httpx drops on every
        # redirect (it rebuilds the URL from Location and removes the Cookie header).
        self._hops = bool(self._strip or self.scheme.param_names)

    def __repr__(self) -> str:
        return f"authwire.httpx.Auth({self.scheme!r})"

    # -- redirect hops -----------------------------------------------------------------

    def _guard_hops(self, request: httpx.Request, is_async: bool) -> None:
        """Install the trace that strips our custom headers from cross-origin hops."""
        extensions = request.extensions
        user_trace = extensions.get("trace")
        if getattr(user_trace, "_authwire", None) is self:
            return
        strip = self._strip
        allows = self.guard.allows

        def scrub(name: str, info: dict[str, Any]) -> None:
            if name.endswith(_SEND_HEADERS):
                core_request = info.get("request")
                if core_request is None:
                    return
                if not allows(_hop_url(core_request)):
                    headers = core_request.headers
                    headers[:] = [
                        (k, v) for k, v in headers if k.decode("latin-1").lower() not in strip
                    ]
                    logger.debug("redirect left the origin; removed authwire's headers")
                    return
                attempt = core_request.extensions.get(_ATTEMPT)
                if attempt is not None:
                    _restore(core_request, attempt)

        trace: Callable[[str, dict[str, Any]], Any]
        if is_async:

            async def atrace(name: str, info: dict[str, Any]) -> None:
                scrub(name, info)
                if user_trace is not None:
                    await user_trace(name, info)

            trace = atrace
        else:

            def strace(name: str, info: dict[str, Any]) -> None:
                scrub(name, info)
                if user_trace is not None:
                    user_trace(name, info)

            trace = strace
        setattr(trace, "_authwire", self)  # noqa: B010 (marks our own wrapper)
        request.extensions = {**extensions, "trace": trace}

    def _apply(self, request: httpx.Request, attempt: Attempt) -> None:
        """Attach ``attempt``; remember it for redirect hops if it has params or cookies."""
        apply_attempt(request, attempt)
        if self._hops and (attempt.params or attempt.cookies):
            extensions = request.extensions
            if getattr(extensions.get("trace"), "_authwire", None) is self:
                extensions[_ATTEMPT] = attempt  # our own copy, shared by the redirect hops

    def _answerable(self, response: httpx.Response) -> bool:
        """Whether the scheme may see ``response``: it came from a bound origin.

        httpx follows redirects before the flow sees a response, so the response may be
        another origin's. Its 401 (or Digest, Negotiate, DPoP-nonce leg) is not ours to
        answer: it goes back to the caller untouched, with no token invalidated or
        fetched and nothing replayed.
        """
        if self.guard.allows(str(response.url)):
            return True
        logger.debug("%s from another origin returned as is", response.status_code)
        return False

    # -- the flows ---------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow httpx runs for ``httpx.Client``."""
        self.guard.check(str(request.url))
        if self._hops:
            self._guard_hops(request, is_async=False)
        position = body_position(request)
        first = self._fast(time.time())
        stepper: SyncStepper[Attempt]
        if first is not None:
            self._apply(request, first)
            response = yield request
            if response.status_code != 401 or not self._answerable(response):
                return
            stepper = SyncStepper(self.scheme.auth_flow(request_info(request), first))
            stepper.start()
        else:
            stepper = SyncStepper(self.scheme.auth_flow(request_info(request)))
            attempt = stepper.start()
            if attempt is None:
                yield request
                return
            self._apply(request, attempt)
            response = yield request
            if not self._answerable(response):
                stepper.close()
                return
        attempt = stepper.send(to_http_response(response))
        while attempt is not None:
            if not can_replay(request):
                stepper.close()
                return
            rewind(request, position)
            self._apply(request, attempt)
            response = yield request
            if not self._answerable(response):
                stepper.close()
                return
            attempt = stepper.send(to_http_response(response))
        if stepper.result is Verdict.STRIP:
            response.read()
            _strip(response)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow httpx runs for ``httpx.AsyncClient`` (asyncio or trio)."""
        self.guard.check(str(request.url))
        if self._hops:
            self._guard_hops(request, is_async=True)
        first = self._fast(time.time())
        stepper: AsyncStepper[Attempt]
        if first is not None:
            self._apply(request, first)
            response = yield request
            if response.status_code != 401 or not self._answerable(response):
                return
            stepper = AsyncStepper(self.scheme.auth_flow(request_info(request), first), _runtime())
            await stepper.start()
        else:
            stepper = AsyncStepper(self.scheme.auth_flow(request_info(request)), _runtime())
            attempt = await stepper.start()
            if attempt is None:
                yield request
                return
            self._apply(request, attempt)
            response = yield request
            if not self._answerable(response):
                stepper.close()
                return
        attempt = await stepper.send(to_http_response(response))
        while attempt is not None:
            if not can_replay(request):
                stepper.close()
                return
            self._apply(request, attempt)
            response = yield request
            if not self._answerable(response):
                stepper.close()
                return
            attempt = await stepper.send(to_http_response(response))
        if stepper.result is Verdict.STRIP:
            await response.aread()
            _strip(response)


def _strip(response: httpx.Response) -> None:
    """Empty a response whose sender could not be authenticated (its body is already read)."""
    response._content = b""
    response.headers = httpx.Headers()


def _runtime() -> Runtime:
    """The event-loop helpers, imported when an async flow first needs them.

    Not at import: they import ``asyncio`` (about 15 ms), which a sync ``httpx.Client``
    never needs; an ``httpx.AsyncClient`` on asyncio has it loaded already.
    """
    from authwire._aio import RUNTIME

    return RUNTIME
