"""``authwire.requests.Auth``: any authwire credential or scheme as a requests ``AuthBase``.

Strictly private module. The hot path (a fresh token or a static key) sets a header and
appends one response hook; nothing else. The hook looks at the response only when it is
a 401 (the scheme's flow answers it: refresh and replay once, or the next Digest or
Negotiate leg) or a redirect (authwire's headers are removed if the redirect leaves the
origin, before requests copies the request for the next hop, and the hook leaves that
request: what the other origin answers is never fed to the scheme).

Only a response from a bound origin is answered: requests copies the hooks to every
redirect hop, so a 401 from another origin reaches the hook too, and must go back to the
caller untouched (no token invalidated or fetched, nothing replayed there).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urljoin

import requests
from requests.cookies import extract_cookies_to_jar
from requests.utils import rewind_body

from authwire._core.flow import Attempt, SyncStepper, Verdict
from authwire._core.origin import OriginGuard
from authwire._core.schemes.base import AuthLike, as_scheme
from authwire._log import logger
from authwire.errors import ConfigurationError
from authwire.requests._convert import (
    apply_attempt,
    can_replay,
    request_info,
    strip_added,
    to_http_response,
)

__all__ = ["Auth"]

_now = time.time  # one global look-up on the hot path, not two

#: The module of ``ClientCertificate``, which an auth object cannot present.
_CERTIFICATES = "authwire.tls._certificate"

Send = Callable[..., requests.Response]

#: The module of ``ForeignAuth``: no chain holds a foreign handler before it is loaded.
_FOREIGN = "authwire._core.schemes.foreign"


def _foreign_parts(scheme: Any) -> tuple[Any, ...]:
    """The chain's foreign handlers (a ``ForeignAuth`` each), without importing their module."""
    module = sys.modules.get(_FOREIGN)
    return module.foreign_parts(scheme) if module is not None else ()


class _Exchange:
    """One user request's authentication: the response hook requests calls. Strictly private."""

    __slots__ = ("auth", "first", "stepper")

    def __init__(
        self, auth: Auth, first: Attempt | None, stepper: SyncStepper[Attempt] | None
    ) -> None:
        self.auth = auth
        self.first = first
        self.stepper = stepper

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        status = response.status_code
        if status == 401 or self.stepper is not None:
            connection = response.connection
            return self.auth._answer(self, response, connection.send, kwargs)
        if 300 <= status < 400:
            self.auth._leave_origin_check(response)
        return response


class _SharedExchange(_Exchange):
    """The hook of the fast path, shared by every request sent with one attempt.

    Strictly private. It is never mutated: on a 401 ``Auth._answer`` swaps it for a
    per-request ``_Exchange`` that keeps that request's flow. Sharing it saves an
    allocation per request on the hot path.
    """

    __slots__ = ()

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        status = response.status_code
        if status == 401:
            return self.auth._answer(self, response, response.connection.send, kwargs)
        if 300 <= status < 400:
            self.auth._leave_origin_check(response)
        return response


class _ForeignHook:
    """A response hook added by a foreign handler of a chain, bound to the chain's origins.

    Strictly private. A response from another origin (a redirect hop) passes untouched,
    so the handler never answers it; a redirect that leaves the origin drops the hook.
    """

    __slots__ = ("auth", "hook")

    def __init__(self, auth: Auth, hook: Callable[..., Any]) -> None:
        self.auth = auth
        self.hook = hook

    def __call__(self, response: requests.Response, **kwargs: Any) -> Any:
        if not self.auth.guard.allows(response.url or ""):
            return response
        return self.hook(response, **kwargs)


class Auth(requests.auth.AuthBase):
    """Authenticates requests with an authwire credential or scheme.

    Credentials are bound to the first request's origin (or ``origins=``): sending them
    elsewhere raises ``InsecureTransportError``, and a redirect that leaves the origin
    loses every header authwire added. Secrets are refused over plain http except to
    loopback unless ``allow_insecure=True``.

    A ``+`` chain may hold any ``requests.auth.AuthBase`` of one's own
    (``ApiKey(...) + MyAuth()``): it runs in the chain's order, only for the bound
    origins; the headers it sets are removed and the response hooks it adds are dropped
    when a redirect leaves them, and it is run again on every replay.

    Args:
        auth: A credential (sent as a bearer token), a scheme, or a ``+`` combination.
        origins: Origins the credentials may go to; default: the first request's.
        allow_insecure: Permit plain ``http://`` to hosts other than loopback.

    Raises:
        ConfigurationError: If ``auth`` holds a ``ClientCertificate``, which an auth object
            cannot present (it travels in the TLS handshake); the message says what to use;
            or an ``httpx.Auth``, which cannot authenticate a requests request.

    Example:
        >>> import authwire, authwire.requests, requests
        >>> session = requests.Session()
        >>> session.auth = authwire.requests.Auth(authwire.ApiKey("k-123"))
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

            refuse_in_auth(self.scheme, "authwire.requests.Auth")
        self._foreign = _foreign_parts(self.scheme)
        for part in self._foreign:
            if part.kind != "requests":
                raise ConfigurationError(
                    f"{type(part.handler).__name__} is an httpx.Auth: it cannot authenticate "
                    "requests' requests; use an authwire scheme or a requests.auth.AuthBase"
                )
        #: Lower-case names of the headers the chain's foreign handlers have set.
        self._foreign_headers: set[str] = set()
        self.guard = OriginGuard(
            origins, allow_insecure=allow_insecure, requires_secure=self.scheme.requires_secure
        )
        self._fast = self.scheme.fast_attempt
        self._check = self.guard.check
        self._prefix: str | None = None  # the guard's prefix, once it has one
        # The last fast attempt, its single header (if that is all it adds) and its hook.
        self._hot: tuple[Attempt, tuple[str, str] | None, _SharedExchange] | None = None

    def __repr__(self) -> str:
        return f"authwire.requests.Auth({self.scheme!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url: str = request.url  # type: ignore[assignment]
        prefix = self._prefix
        if prefix is None or not url.startswith(prefix):
            self._check(url)  # the origin check; raises if the URL is not allowed
            self._prefix = self.guard.prefix
        attempt = self._fast(_now())
        if attempt is not None and self._foreign:
            self._apply(request, attempt)
            request.hooks["response"].append(_Exchange(self, attempt, None))
            return request
        if attempt is not None:
            hot = self._hot  # one read: another thread may replace it meanwhile
            if hot is None or hot[0] is not attempt:
                hot = self._hot = self._heat(attempt)
            header = hot[1]
            if header is not None:
                request.headers[header[0]] = header[1]
            else:
                apply_attempt(request, attempt)
            request.hooks["response"].append(hot[2])
            return request
        return self._start_flow(request)

    def _heat(self, attempt: Attempt) -> tuple[Attempt, tuple[str, str] | None, _SharedExchange]:
        """What the hot path needs for ``attempt``, worked out once per attempt."""
        headers = attempt.headers
        header = None
        if len(headers) == 1 and not attempt.params and not attempt.cookies:
            header = next(iter(headers.items()))
        return attempt, header, _SharedExchange(self, attempt, None)

    def _start_flow(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        stepper: SyncStepper[Attempt] = SyncStepper(self.scheme.auth_flow(request_info(request)))
        attempt = stepper.start()
        if attempt is not None:
            self._apply(request, attempt)
        request.hooks["response"].append(
            _Exchange(self, None, stepper if attempt is not None else None)
        )
        return request

    def _apply(self, request: requests.PreparedRequest, attempt: Attempt) -> None:
        """Attach ``attempt``, running the chain's foreign handlers in their places."""
        if not self._foreign:
            apply_attempt(request, attempt)
            return
        from authwire._core.schemes.combined import CombinedAuth
        from authwire._core.schemes.foreign import ForeignAuth

        scheme = self.scheme
        parts = scheme.parts if isinstance(scheme, CombinedAuth) else (scheme,)
        states = attempt.state
        if not (isinstance(states, tuple) and len(states) == len(parts)):
            apply_attempt(request, attempt)
            states = (None,) * len(parts)
        for part, state in zip(parts, states, strict=True):
            if isinstance(part, ForeignAuth):
                self._run_foreign(request, part.handler)
            elif isinstance(state, Attempt):
                apply_attempt(request, state)

    def _run_foreign(self, request: requests.PreparedRequest, handler: Any) -> None:
        """Run one foreign handler on ``request``, noting the headers and hooks it adds."""
        before = dict(request.headers)
        hooks = request.hooks.setdefault("response", [])
        known = {id(hook) for hook in hooks}
        result = handler(request)
        if result is not None and result is not request:
            request.__dict__.update(result.__dict__)  # as requests does with auth's result
        for name, value in request.headers.items():
            if before.get(name) != value:
                self._foreign_headers.add(name.lower())
        hooks = request.hooks.get("response", [])
        for index, hook in enumerate(hooks):
            if id(hook) not in known and not isinstance(hook, (_Exchange, _ForeignHook)):
                hooks[index] = _ForeignHook(self, hook)

    def _strip_added(self, request: requests.PreparedRequest) -> None:
        """Remove what the chain added: its schemes' headers and parameters, its handlers'."""
        strip_added(request, self.scheme)
        for name in tuple(self._foreign_headers):  # a snapshot: other threads may add
            request.headers.pop(name, None)

    # -- after the response ------------------------------------------------------------

    def _answer(
        self, exchange: _Exchange, response: requests.Response, send: Send, kwargs: dict[str, Any]
    ) -> requests.Response:
        """Feed ``response`` to the scheme's flow and replay while it asks to."""
        if not self.guard.allows(response.url or ""):
            # A redirect hop's answer from an origin the credentials are not bound to: not
            # ours to answer, whatever it asks (a 401, a Digest or Negotiate leg).
            logger.debug("%s from another origin returned as is", response.status_code)
            return response
        stepper = exchange.stepper
        if stepper is None:
            if isinstance(exchange, _SharedExchange):
                # This request's flow needs state of its own: a private exchange takes
                # the shared hook's place (later redirect hops call the private one).
                shared, exchange = exchange, _Exchange(self, exchange.first, None)
                hooks = response.request.hooks["response"]
                for index, hook in enumerate(hooks):
                    if hook is shared:
                        hooks[index] = exchange
            stepper = SyncStepper(
                self.scheme.auth_flow(request_info(response.request), exchange.first)
            )
            stepper.start()  # yields the attempt that was already sent
            exchange.stepper = stepper
        if stepper.done:
            return response
        try:
            attempt = stepper.send(to_http_response(response))
        except BaseException:
            response.close()  # the caller never gets it: give its connection back
            raise
        while attempt is not None:
            if not can_replay(response.request):
                logger.debug(
                    "not replaying %s %s: its body cannot be rewound",
                    response.request.method,
                    response.status_code,
                )
                stepper.close()
                break
            response = self._replay(response, attempt, send, kwargs)
            try:
                attempt = stepper.send(to_http_response(response))
            except BaseException:
                response.close()
                raise
        if stepper.result is Verdict.STRIP:
            _strip(response)
        if 300 <= response.status_code < 400:
            self._leave_origin_check(response)
        return response

    def _replay(
        self, response: requests.Response, attempt: Attempt, send: Send, kwargs: dict[str, Any]
    ) -> requests.Response:
        """Send ``response.request`` again with ``attempt``'s credentials, on the same pool."""
        response.content  # noqa: B018 - read the body so the connection can be reused
        response.close()
        original = response.request
        request = original.copy()
        # A copy shares its hooks with the original, whose hooks are running now: foreign
        # handlers run again on the copy add theirs to a list of its own (never called:
        # the replay is sent past requests' hook dispatch).
        hooks = request.hooks
        request.hooks = {"response": []}
        self._apply(request, attempt)
        request.hooks = hooks
        # Later redirect hops copy the original request: give it the new credentials too.
        for name, value in attempt.headers.items():
            original.headers[name] = value
        if isinstance(getattr(request, "_body_position", None), int):
            rewind_body(request)
        jar = request._cookies  # type: ignore[attr-defined]
        if jar is not None:
            extract_cookies_to_jar(jar, original, response.raw)  # type: ignore[no-untyped-call]
            request.prepare_cookies(jar)
            if attempt.cookies:
                apply_attempt(request, Attempt(cookies=attempt.cookies))
        replay = send(request, **kwargs)
        replay.history.extend([*response.history, response])
        replay.request = request
        return replay

    def _leave_origin_check(self, response: requests.Response) -> None:
        """Before requests follows a redirect, strip our credentials if it leaves the origin."""
        location = response.headers.get("location")
        if not location:
            return
        target = urljoin(response.url, location)
        if not self.guard.allows(target):
            logger.debug("redirect leaves the origin; removing authwire's credentials")
            # requests copies the request it was first given (the one a 401 replay's
            # response keeps in its history), not the replay, for the next hop: strip both.
            for request in (response.request, *(r.request for r in response.history)):
                self._strip_added(request)
                # The copy takes the hooks too: it leaves authwire behind (as
                # authwire.Session's rebuild_auth does), so nothing that comes back from
                # there, or from a later hop, is answered with credentials. A new dict:
                # copies of a request share its hooks.
                hooks = request.hooks.get("response", [])
                kept = [
                    h
                    for h in hooks
                    if not (isinstance(h, (_Exchange, _ForeignHook)) and h.auth is self)
                ]
                if len(kept) != len(hooks):
                    request.hooks = {**request.hooks, "response": kept}


def _strip(response: requests.Response) -> None:
    """Empty a response whose sender could not be authenticated (read first, to free the pool)."""
    response.content  # noqa: B018
    response._content = b""
    response.headers = requests.structures.CaseInsensitiveDict()
