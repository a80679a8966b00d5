"""The small HTTP clients credentials use to reach token endpoints.

Strictly private. Token requests never go through the user's client, so token bodies
never appear in a user's ``response.history`` and one credential serves every session.
Senders follow no redirects (a token endpoint that redirects is refused rather than
followed with the client secret), read at most ``MAX_BODY`` bytes, and turn every
transport failure into ``TokenEndpointUnreachable`` with the original as ``__cause__``.

The sync sender uses ``httpx`` when it is installed, else ``requests``; the async sender
needs ``httpx``. ``http_client=`` on a credential substitutes the user's own configured
``httpx.Client``, ``httpx.AsyncClient`` or ``requests.Session`` (proxies, corporate CAs).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire._core.redact import redact_text, redact_url
from authwire._version import __version__
from authwire.errors import ConfigurationError, InvalidTokenResponse, TokenEndpointUnreachable

if TYPE_CHECKING:
    import ssl

    import httpx
    import requests

__all__ = [
    "MAX_BODY",
    "AsyncSender",
    "Sender",
    "async_sender",
    "discard_inherited",
    "make_sender",
]

#: The largest token-endpoint response body read, in bytes.
MAX_BODY: Final = 1 << 20
USER_AGENT: Final = f"authwire/{__version__}"


class Sender(Protocol):
    """Sends one ``HttpRequest`` and returns the whole response."""

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request``; raise ``TokenEndpointUnreachable`` if no response came."""
        ...


class AsyncSender(Protocol):
    """The async twin of ``Sender``."""

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request``; raise ``TokenEndpointUnreachable`` if no response came."""
        ...


def _unreachable(request: HttpRequest, exc: BaseException) -> TokenEndpointUnreachable:
    detail = redact_text(str(exc), request.secrets)[:200] or type(exc).__name__
    return TokenEndpointUnreachable(
        url=redact_url(request.url), reason=f"{type(exc).__name__}: {detail}"
    )


def _too_large(request: HttpRequest, status: int) -> InvalidTokenResponse:
    return InvalidTokenResponse(
        reason=f"response body larger than {MAX_BODY} bytes",
        url=redact_url(request.url),
        status=status,
    )


def _headers(request: HttpRequest) -> dict[str, str]:
    headers = dict(request.headers.items_raw())
    headers.setdefault("User-Agent", USER_AGENT)
    return headers


def _add_chunk(body: bytearray, chunk: bytes, request: HttpRequest, status: int) -> None:
    """Append ``chunk`` to ``body``; refuse a body over ``MAX_BODY`` bytes."""
    body += chunk
    if len(body) > MAX_BODY:
        raise _too_large(request, status)


def _httpx_request(
    client: httpx.Client | httpx.AsyncClient, request: HttpRequest, timeout: float
) -> httpx.Request:
    return client.build_request(
        request.method,
        request.url,
        headers=_headers(request),
        content=request.body,
        timeout=timeout,
    )


def _httpx_response(
    response: httpx.Response, body: bytearray, request: HttpRequest
) -> HttpResponse:
    return HttpResponse(
        status=response.status_code,
        headers=Headers(response.headers.multi_items()),
        body=bytes(body),
        url=request.url,
    )


class HttpxSender:
    """A ``Sender`` over an ``httpx.Client``. Strictly private."""

    def __init__(
        self, client: httpx.Client | None, timeout: float, verify: ssl.SSLContext | bool = True
    ) -> None:
        import httpx

        self._httpx = httpx
        self._own = client is None
        self._client = client or httpx.Client(
            verify=verify, timeout=timeout, follow_redirects=False
        )
        self._timeout = timeout
        self._finalizer: weakref.finalize[Any, Any] | None = None
        if self._own:
            # Credentials have no close(): release our pooled connection when we are
            # collected, instead of leaving an unclosed socket (a ResourceWarning).
            self._finalizer = weakref.finalize(self, self._client.close)

    def send(self, request: HttpRequest) -> HttpResponse:
        httpx = self._httpx
        try:
            req = _httpx_request(self._client, request, self._timeout)
            response = self._client.send(req, stream=True, follow_redirects=False)
            try:
                body = bytearray()
                for chunk in response.iter_bytes():
                    _add_chunk(body, chunk, request, response.status_code)
            finally:
                response.close()
            return _httpx_response(response, body, request)
        except httpx.HTTPError as exc:
            raise _unreachable(request, exc) from exc

    def close(self) -> None:
        if self._own:
            self._client.close()


class RequestsSender:
    """A ``Sender`` over a ``requests.Session``. Strictly private."""

    def __init__(self, session: requests.Session | None, timeout: float) -> None:
        import requests

        self._requests = requests
        self._own = session is None
        self._session = session or requests.Session()
        self._timeout = timeout
        self._finalizer: weakref.finalize[Any, Any] | None = None
        if self._own:
            self._finalizer = weakref.finalize(self, self._session.close)

    def send(self, request: HttpRequest) -> HttpResponse:
        requests = self._requests
        try:
            response = self._session.request(
                request.method,
                request.url,
                headers=_headers(request),
                data=request.body,
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
            )
            with response:
                body = bytearray()
                for chunk in response.iter_content(chunk_size=65536):
                    _add_chunk(body, chunk, request, response.status_code)
                pairs: list[tuple[str, str]] = []
                raw_headers: Any = response.raw.headers if response.raw is not None else None
                if raw_headers is not None and hasattr(raw_headers, "items"):
                    pairs = [(str(k), str(v)) for k, v in raw_headers.items()]
                else:
                    pairs = list(response.headers.items())
                return HttpResponse(
                    status=response.status_code,
                    headers=Headers(pairs),
                    body=bytes(body),
                    url=request.url,
                )
        except requests.RequestException as exc:
            raise _unreachable(request, exc) from exc

    def close(self) -> None:
        if self._own:
            self._session.close()


class AsyncHttpxSender:
    """An ``AsyncSender`` over an ``httpx.AsyncClient``. Strictly private."""

    def __init__(self, client: httpx.AsyncClient, timeout: float) -> None:
        import httpx

        self._httpx = httpx
        self._client = client
        self._timeout = timeout

    async def send(self, request: HttpRequest) -> HttpResponse:
        httpx = self._httpx
        try:
            req = _httpx_request(self._client, request, self._timeout)
            response = await self._client.send(req, stream=True, follow_redirects=False)
            try:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    _add_chunk(body, chunk, request, response.status_code)
            finally:
                await response.aclose()
            return _httpx_response(response, body, request)
        except httpx.HTTPError as exc:
            raise _unreachable(request, exc) from exc


def _close_quietly(close: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):
        close()


def discard_inherited(sender: object) -> None:
    """Close a sender a forked child inherited from its parent, without using it.

    Its pooled connections are the parent's sockets: a token request on one of them
    would interleave with the parent's on the same connection. The child closes its
    copies (the parent's stay open) in a short-lived daemon thread, because a thread of
    the parent may have held the client's pool lock at the fork, and the child must not
    wait for a thread that does not exist in it. A user's own client is left alone.
    """
    finalizer = getattr(sender, "_finalizer", None)
    if finalizer is None:
        return
    close = finalizer.detach()  # (client, close, args, kwargs), or None if already done
    if close is None:
        return
    _, function, _, _ = close
    threading.Thread(
        target=_close_quietly, args=(function,), name="authwire-fork-close", daemon=True
    ).start()


def make_sender(http_client: Any, timeout: float) -> Sender:
    """The sync sender for a credential.

    Args:
        http_client: ``None`` for authwire's own client, or the user's ``httpx.Client`` or
            ``requests.Session``. An ``httpx.AsyncClient`` alone leaves sync callers with
            authwire's own client.
        timeout: Seconds for connecting and for reading.

    Raises:
        ConfigurationError: If neither httpx nor requests is installed, or ``http_client``
            is of an unknown kind.
    """
    kind = _kind(http_client)
    if kind == "requests":
        return RequestsSender(http_client, timeout)
    if kind == "httpx":
        return HttpxSender(http_client, timeout)
    # Prefer the library the program already loaded: importing httpx costs a requests
    # user ~300 ms on the first token request (and the reverse, less). Otherwise httpx.
    loaded = "requests" in sys.modules and "httpx" not in sys.modules
    for make in (RequestsSender, HttpxSender) if loaded else (HttpxSender, RequestsSender):
        try:
            return make(None, timeout)
        except ImportError:
            pass
    raise ConfigurationError(
        "authwire needs httpx or requests to reach token endpoints: "
        "pip install 'authwire[httpx]' or 'authwire[requests]'"
    )


@contextlib.asynccontextmanager
async def async_sender(
    http_client: Any, timeout: float, verify: ssl.SSLContext | bool = True
) -> AsyncIterator[AsyncSender]:
    """An async sender for one refresh.

    authwire's own ``httpx.AsyncClient`` (checking the server with ``verify``) is made per
    refresh (refreshes are rare), so it is never shared between event loops or between
    asyncio and trio.

    Raises:
        ConfigurationError: If httpx is not installed.
    """
    if _kind(http_client) == "httpx-async":
        yield AsyncHttpxSender(http_client, timeout)
        return
    try:
        import httpx
    except ImportError:
        raise ConfigurationError(
            "async token requests need httpx: pip install 'authwire[httpx]'"
        ) from None
    if verify is True:
        # Loading the system CAs takes 20-100 ms: once, in a worker thread, not per
        # refresh on the event loop.
        from authwire._aio import RUNTIME

        verify = (
            _DEFAULT_CONTEXT[0]
            if _DEFAULT_CONTEXT
            else await RUNTIME.run_blocking(_default_context)
        )
    async with httpx.AsyncClient(verify=verify, timeout=timeout, follow_redirects=False) as client:
        yield AsyncHttpxSender(client, timeout)


#: The default TLS context of authwire's async clients, made on first use (a 1-list).
_DEFAULT_CONTEXT: list[ssl.SSLContext] = []
_DEFAULT_CONTEXT_LOCK = threading.Lock()


def _default_context() -> ssl.SSLContext:
    """The default context of httpx (system CAs, ``SSL_CERT_FILE``), made once per process."""
    with _DEFAULT_CONTEXT_LOCK:
        if not _DEFAULT_CONTEXT:
            import httpx

            _DEFAULT_CONTEXT.append(httpx.create_ssl_context())
        return _DEFAULT_CONTEXT[0]


def _kind(http_client: Any) -> str | None:
    if http_client is None:
        return None
    module = type(http_client).__module__
    if module.startswith("httpx"):
        import httpx

        if isinstance(http_client, httpx.AsyncClient):
            return "httpx-async"
        if isinstance(http_client, httpx.Client):
            return "httpx"
    if module.startswith("requests"):
        import requests

        if isinstance(http_client, requests.Session):
            return "requests"
    raise ConfigurationError(
        f"http_client must be an httpx.Client, httpx.AsyncClient or requests.Session, "
        f"not {type(http_client).__name__}"
    )
