"""``authwire.httpx.Auth``: sync and async auth flows over one authwire scheme.

Strictly private module. ``sync_auth_flow`` and ``async_auth_flow`` are thin shells: the
scheme's flow decides; they attach its attempts and hand back responses, with the sync
or async stepper running side operations (a token refresh, a GSSAPI step) so that the
event loop is never blocked.

httpx follows redirects inside one auth flow and copies every header to each hop,
removing only ``Authorization`` when the origin changes; the auth flow sees only the
final response, and a 401 from another origin is not answered (``_answerable``).

Headers other than ``Authorization`` and ``Cookie`` (``ApiKey(header=...)``, a custom
bearer header) are *withheld*: they are never put on the ``httpx.Request`` that httpx
copies for the next hop. A hop observer adds them to each hop within the bound
origins, just before it is sent, and removes them from any other: the ``trace``
extension that httpcore transports call (propagated by httpx to every hop; a ``trace``
the user set is still called), or ``Auth.request_hook`` installed as a client event
hook, which sees every hop with any transport. A transport that neither calls the
trace nor has the hook (``httpx.MockTransport``, ASGI/WSGI and other non-httpcore
transports) never receives them: it fails closed, with a ``ConfigurationError`` saying
how to install the hook. Query-parameter and cookie keys stay on the request (httpx
drops both on every redirect hop); the observers put them back on same-origin hops.
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
from authwire.errors import ConfigurationError
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
#: Request extension holding a request's ``_Hops`` (shared by its redirect hops).
_HOPS = "authwire.hops"


class _Hops:
    """One user request's state for the hop observers. Strictly private.

    Attributes:
        auth: The ``Auth`` whose request this is.
        attempt: The credentials last attached by the flow (withheld headers included).
        seen: Whether an observer (trace or event hook) has seen a hop being sent since
            the flow last sent the request.
    """

    __slots__ = ("attempt", "auth", "seen")

    def __init__(self, auth: Auth) -> None:
        self.auth = auth
        self.attempt: Attempt | None = None
        self.seen = False

    def __repr__(self) -> str:
        return f"_Hops({self.attempt!r}, seen={self.seen})"


#: The module of ``ClientCertificate``, which an auth object cannot present.
_CERTIFICATES = "authwire.tls._certificate"


def _restore(core_request: Any, attempt: Attempt, withheld: frozenset[str]) -> None:
    """Put ``attempt``'s credentials on an httpcore request to a bound origin.

    The withheld headers are set (replacing any of the same name). httpx builds a
    redirect's URL from ``Location`` and drops the ``Cookie`` header, so an API key sent
    as a parameter or a cookie would be lost within the origin: they are put back.
    """
    added = [(k, v) for k, v in attempt.headers.items() if k.lower() in withheld]
    if added:
        names = {k.lower().encode("latin-1") for k, _ in added}
        headers = core_request.headers
        headers[:] = [(k, v) for k, v in headers if k.lower() not in names]
        headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in added)
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

    A ``+`` chain may hold any ``httpx.Auth`` of one's own (``ApiKey(...) + MyAuth()``):
    authwire's parts are attached first, then each handler's flow runs, in the chain's
    order, over the request as prepared (a 401 goes to the handlers first, then to
    authwire's parts). It runs only for the bound origins, and the headers it sets are
    treated as authwire's: kept off redirect hops to other origins.

    Args:
        auth: A credential (sent as a bearer token), a scheme, or a ``+`` combination.
        origins: Origins the credentials may go to; default: the first request's.
        allow_insecure: Permit plain ``http://`` to hosts other than loopback.

    Raises:
        ConfigurationError: If ``auth`` holds a ``ClientCertificate``, which an auth object
            cannot present (it travels in the TLS handshake); the message says what to use;
            or a ``requests.auth.AuthBase``, which cannot authenticate an httpx request.

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
        module = sys.modules.get("authwire._core.schemes.foreign")  # loaded by any chain with one
        foreign = module.foreign_parts(self.scheme) if module is not None else ()
        for part in foreign:
            if part.kind != "httpx":
                raise ConfigurationError(
                    f"{type(part.handler).__name__} is a requests.auth.AuthBase: it cannot "
                    "authenticate httpx requests (it works on requests' PreparedRequest); use "
                    "an authwire scheme, an httpx.Auth, or authwire.Session for requests"
                )
        self._foreign: tuple[httpx.Auth, ...] = tuple(part.handler for part in foreign)
        self.guard = OriginGuard(
            origins, allow_insecure=allow_insecure, requires_secure=self.scheme.requires_secure
        )
        self._fast = self.scheme.fast_attempt
        # Headers httpx does not strip by itself on a cross-origin redirect.
        self._strip = frozenset(self.scheme.header_names - {"authorization"})
        # Of those, the ones it would copy to a hop to another origin: only the hop
        # observers attach them (httpx drops Cookie on every hop by itself).
        self._withheld = self._strip - {"cookie"}
        # Whether redirect hops need an observer: to attach or strip those headers, or
        # to put back query parameters and cookies that httpx drops on every redirect
        # (it rebuilds the URL from Location and removes the Cookie header).
        self._hops = bool(self._strip or self.scheme.param_names or self._foreign)
        # The last attempt and its part without withheld headers (worked out once).
        self._split: tuple[Attempt, Attempt] | None = None

    def __repr__(self) -> str:
        return f"authwire.httpx.Auth({self.scheme!r})"

    # -- redirect hops -----------------------------------------------------------------

    def _guard_hops(self, request: httpx.Request, is_async: bool) -> _Hops:
        """Give ``request`` its hop state and the trace that observes its hops."""
        hops = _Hops(self)
        extensions = request.extensions
        user_trace = extensions.get("trace")
        if getattr(user_trace, "_authwire", None) is self:
            extensions[_HOPS] = hops  # the request is sent again: a fresh state
            return hops
        allows = self.guard.allows

        def scrub(name: str, info: dict[str, Any]) -> None:
            # Read at each hop: a chain's foreign handlers add names as they run.
            strip = self._strip
            withheld = self._withheld
            if name.endswith(_SEND_HEADERS):
                core_request = info.get("request")
                if core_request is None:
                    return
                state = core_request.extensions.get(_HOPS)
                if state is not None:
                    state.seen = True
                if not allows(_hop_url(core_request)):
                    headers = core_request.headers
                    headers[:] = [
                        (k, v) for k, v in headers if k.decode("latin-1").lower() not in strip
                    ]
                    logger.debug("redirect left the origin; removed authwire's headers")
                    return
                attempt = state.attempt if state is not None else None
                if attempt is not None:
                    _restore(core_request, attempt, withheld)

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
        request.extensions = {**extensions, "trace": trace, _HOPS: hops}
        return hops

    def request_hook(self, request: httpx.Request) -> None:
        """An ``httpx.Client`` request event hook that sees every redirect hop.

        Needed only with a transport that does not call httpcore's ``trace`` extension
        (``httpx.MockTransport``, ASGI/WSGI transports, other non-httpcore transports)
        and a scheme that sends a header other than ``Authorization`` (an API key in
        ``X-API-Key``, a token in a vendor header): without it authwire cannot see the
        hops of a redirect, so it does not send that header at all (and says so with a
        ``ConfigurationError``). With it, each hop within the bound origins gets the
        credentials and any other hop loses them. Harmless with any other transport.

        Example:
            >>> import httpx, authwire, authwire.httpx
            >>> auth = authwire.httpx.Auth(authwire.ApiKey("k-123"))
            >>> client = httpx.Client(
            ...     auth=auth,
            ...     transport=httpx.MockTransport(lambda r: httpx.Response(200)),
            ...     event_hooks={"request": [auth.request_hook]},
            ... )
        """
        hops = request.extensions.get(_HOPS)
        if not isinstance(hops, _Hops) or hops.auth is not self:
            return  # not a request authenticated by this Auth
        hops.seen = True
        attempt = hops.attempt
        headers = request.headers
        if not self.guard.allows(str(request.url)):
            for name in self._strip:
                headers.pop(name, None)
            logger.debug("redirect left the origin; removed authwire's headers")
            return
        if attempt is None:
            return
        for name, value in attempt.headers.items():
            if name.lower() in self._withheld:
                headers[name] = value
        if attempt.params:
            present = set(request.url.params.keys())
            missing = {k: v for k, v in attempt.params.items() if k not in present}
            if missing:
                request.url = request.url.copy_merge_params(missing)
        if attempt.cookies:
            pairs = {p.strip() for value in headers.get_list("cookie") for p in value.split(";")}
            added = [f"{k}={v}" for k, v in attempt.cookies.items() if f"{k}={v}" not in pairs]
            if added:
                existing = headers.get("Cookie")
                joined = "; ".join(added)
                headers["Cookie"] = f"{existing}; {joined}" if existing else joined

    async def arequest_hook(self, request: httpx.Request) -> None:
        """``request_hook`` for ``httpx.AsyncClient`` (whose event hooks are awaited)."""
        self.request_hook(request)

    def _apply(self, request: httpx.Request, attempt: Attempt, hops: _Hops | None) -> None:
        """Attach ``attempt``, all but its withheld headers; the hop observers add those."""
        if hops is None:
            apply_attempt(request, attempt)
            return
        hops.attempt = attempt
        hops.seen = False
        split = self._split
        if split is None or split[0] is not attempt:
            withheld = self._withheld
            visible = attempt
            if any(name.lower() in withheld for name in attempt.headers):
                visible = Attempt(
                    headers={k: v for k, v in attempt.headers.items() if k.lower() not in withheld},
                    params=attempt.params,
                    cookies=attempt.cookies,
                )
            split = self._split = (attempt, visible)
        apply_attempt(request, split[1])

    def _check_seen(self, hops: _Hops | None) -> None:
        """Fail if withheld headers were due but no observer saw the request sent."""
        if hops is None or hops.seen or hops.attempt is None:
            return
        withheld = self._withheld
        names = sorted({k for k in hops.attempt.headers if k.lower() in withheld})
        if not names:
            return
        raise ConfigurationError(
            f"authwire did not send {', '.join(names)}: this client's transport does not "
            "report redirect hops (no httpcore trace events), so authwire cannot keep the "
            "header from following a redirect to another origin. Install the hook: "
            "event_hooks={'request': [auth.request_hook]} (auth.arequest_hook for "
            "httpx.AsyncClient)"
        )

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

    # -- a chain's foreign httpx handlers ------------------------------------------------

    def _withhold_foreign(self, request: httpx.Request, before: httpx.Headers) -> None:
        """Treat the headers a foreign handler set on ``request`` as authwire's own.

        ``Authorization`` stays (httpx strips it itself on a hop to another origin);
        any other header is withheld like an API key's: moved into the request's hop
        state, so the hop observers send it within the bound origins only.
        """
        added = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in ("authorization", "cookie") and before.get(name) != value
        }
        if not added:
            return
        names = frozenset(name.lower() for name in added)
        if not names <= self._withheld:
            self._strip = self._strip | names
            self._withheld = self._withheld | names
            self._split = None
        hops = request.extensions.get(_HOPS)
        if not isinstance(hops, _Hops):
            return  # a request of the handler's own making: it keeps what it set
        attempt = hops.attempt or Attempt()
        hops.attempt = Attempt(
            headers={**attempt.headers, **added},
            params=attempt.params,
            cookies=attempt.cookies,
            state=attempt.state,
        )
        for name in added:
            del request.headers[name]

    def _sync_foreign(
        self, own: Generator[httpx.Request, httpx.Response, None]
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """``own`` (authwire's flow) with each foreign handler's flow nested inside, in order.

        Each request authwire's flow sends passes through the handlers' flows; a
        response goes back up through them (the innermost first), and the one they end
        on goes to authwire's flow.
        """
        try:
            pending = next(own)
        except StopIteration:
            return
        handlers = self._foreign
        while True:
            stack: list[Generator[httpx.Request, httpx.Response, None]] = []
            while True:
                while len(stack) < len(handlers):
                    before = pending.headers.copy()
                    flow = handlers[len(stack)].sync_auth_flow(pending)
                    pending = next(flow)
                    self._withhold_foreign(pending, before)
                    stack.append(flow)
                response = yield pending
                while stack:
                    before = response.request.headers.copy()
                    try:
                        pending = stack[-1].send(response)
                    except StopIteration:
                        stack.pop()
                        continue
                    self._withhold_foreign(pending, before)
                    break
                else:
                    break  # every handler is done with this request
            try:
                pending = own.send(response)
            except StopIteration:
                return

    async def _async_foreign(
        self, own: AsyncGenerator[httpx.Request, httpx.Response]
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """``_sync_foreign`` for ``httpx.AsyncClient``."""
        try:
            pending = await own.__anext__()
        except StopAsyncIteration:
            return
        handlers = self._foreign
        while True:
            stack: list[AsyncGenerator[httpx.Request, httpx.Response]] = []
            while True:
                while len(stack) < len(handlers):
                    before = pending.headers.copy()
                    flow = handlers[len(stack)].async_auth_flow(pending)
                    pending = await flow.__anext__()
                    self._withhold_foreign(pending, before)
                    stack.append(flow)
                response = yield pending
                while stack:
                    before = response.request.headers.copy()
                    try:
                        pending = await stack[-1].asend(response)
                    except StopAsyncIteration:
                        stack.pop()
                        continue
                    self._withhold_foreign(pending, before)
                    break
                else:
                    break
            try:
                pending = await own.asend(response)
            except StopAsyncIteration:
                return

    # -- the flows ---------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow httpx runs for ``httpx.Client``."""
        if self._foreign:
            return self._sync_foreign(self._sync_flow(request))
        return self._sync_flow(request)

    def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow httpx runs for ``httpx.AsyncClient`` (asyncio or trio)."""
        if self._foreign:
            return self._async_foreign(self._async_flow(request))
        return self._async_flow(request)

    def _sync_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow of authwire's own parts, for ``httpx.Client``."""
        self.guard.check(str(request.url))
        hops = self._guard_hops(request, is_async=False) if self._hops else None
        position = body_position(request)
        first = self._fast(time.time())
        stepper: SyncStepper[Attempt]
        if first is not None:
            self._apply(request, first, hops)
            response = yield request
            self._check_seen(hops)
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
            self._apply(request, attempt, hops)
            response = yield request
            self._check_seen(hops)
            if not self._answerable(response):
                stepper.close()
                return
        attempt = stepper.send(to_http_response(response))
        while attempt is not None:
            if not can_replay(request):
                stepper.close()
                return
            rewind(request, position)
            self._apply(request, attempt, hops)
            response = yield request
            self._check_seen(hops)
            if not self._answerable(response):
                stepper.close()
                return
            attempt = stepper.send(to_http_response(response))
        if stepper.result is Verdict.STRIP:
            response.read()
            _strip(response)

    async def _async_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow of authwire's own parts, for ``httpx.AsyncClient``."""
        self.guard.check(str(request.url))
        hops = self._guard_hops(request, is_async=True) if self._hops else None
        first = self._fast(time.time())
        stepper: AsyncStepper[Attempt]
        if first is not None:
            self._apply(request, first, hops)
            response = yield request
            self._check_seen(hops)
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
            self._apply(request, attempt, hops)
            response = yield request
            self._check_seen(hops)
            if not self._answerable(response):
                stepper.close()
                return
        attempt = await stepper.send(to_http_response(response))
        while attempt is not None:
            if not can_replay(request):
                stepper.close()
                return
            self._apply(request, attempt, hops)
            response = yield request
            self._check_seen(hops)
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
