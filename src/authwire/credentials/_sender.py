"""The small HTTP clients credentials use to reach token endpoints.

Strictly private. Token requests never go through the user's client, so token bodies
never appear in a user's ``response.history`` and one credential serves every session.
Senders follow no redirects (a token endpoint that redirects is refused rather than
followed with the client secret), read at most ``max_body`` bytes of *decoded* body
(``MAX_BODY`` by default) and stop there, and turn every transport failure into
``TokenEndpointUnreachable`` with the original as ``__cause__``.

Every send honours the current token deadline (``authwire._core.deadline``): the connect
and read timeouts are capped by the time left, the body is read chunk by chunk with the
deadline checked between chunks (a drip-feeding endpoint is cut off), and running out
raises ``TokenEndpointTimeout``. Compressed bodies are inflated here, in bounded steps,
so a gzip bomb costs at most ``max_body`` bytes of memory before it is refused.

The sync sender uses ``httpx`` when it is installed, else ``requests``; the async sender
needs ``httpx``. ``http_client=`` on a credential substitutes the user's own configured
``httpx.Client``, ``httpx.AsyncClient`` or ``requests.Session`` (proxies, corporate CAs).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref
import zlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from authwire._core import deadline as _deadline
from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire._core.redact import redact_text, redact_url
from authwire._version import __version__
from authwire.errors import (
    ConfigurationError,
    InvalidTokenResponse,
    TokenEndpointUnreachable,
)

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

#: The largest token-endpoint response body read by default, in bytes (after decoding).
MAX_BODY: Final = 1 << 20
USER_AGENT: Final = f"authwire/{__version__}"
#: The content codings authwire inflates itself, in bounded steps.
ACCEPT_ENCODING: Final = "gzip, deflate"
#: Raw bytes read from the socket at a time.
_CHUNK: Final = 65536
#: A transport timeout this close to the deadline counts as the deadline passing.
_SLACK: Final = 0.05


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
    reason = f"{type(exc).__name__}: {detail}"
    deadline = _deadline.current()
    if deadline is not None and deadline.left() <= _SLACK:
        # The transport's timeout was the deadline's (capped): say so, typed.
        return deadline.error(request.url, f"no answer in time ({reason})")
    return TokenEndpointUnreachable(url=redact_url(request.url), reason=reason)


def _too_large(request: HttpRequest, status: int, max_body: int) -> InvalidTokenResponse:
    return InvalidTokenResponse(
        reason=f"response body larger than {max_body} bytes (max_body=); the rest was not read",
        url=redact_url(request.url),
        status=status,
    )


def _headers(request: HttpRequest) -> dict[str, str]:
    headers = dict(request.headers.items_raw())
    headers.setdefault("User-Agent", USER_AGENT)
    if not any(name.lower() == "accept-encoding" for name in headers):
        headers["Accept-Encoding"] = ACCEPT_ENCODING
    return headers


def _timeout(timeout: float) -> float:
    """``timeout`` capped by the time left on the current deadline."""
    deadline = _deadline.current()
    return timeout if deadline is None else deadline.cap(timeout)


class _Body:
    """Collects a response body: bounded inflation, a size cap, deadline checks.

    Strictly private. Stops at the cap and checks the deadline between chunks.

    Args:
        request: The request (for errors).
        status: The response status (for errors).
        encoding: The response's ``Content-Encoding``; ``None`` when the transport
            decodes the body itself (requests, which inflates in bounded steps too).
        max_body: The most decoded bytes accepted.
    """

    __slots__ = ("_deadline", "_inflater", "_max", "_request", "_status", "body", "read")

    def __init__(
        self, request: HttpRequest, status: int, encoding: str | None, max_body: int
    ) -> None:
        self._request = request
        self._status = status
        self._max = max_body
        self._deadline = _deadline.current()
        self._inflater = _Inflater(encoding, request, status) if encoding else None
        self.body = bytearray()
        #: Decoded bytes taken in, whether kept or not (what a bomb made us inflate).
        self.read = 0

    def add(self, chunk: bytes) -> None:
        """Take one chunk from the wire; raise when over the cap or out of time."""
        room = self._max + 1 - len(self.body)
        data = self._inflater.feed(chunk, room) if self._inflater is not None else chunk
        self._take(data)
        if self._deadline is not None:
            self._deadline.check(self._request.url, "reading the response body")

    def finish(self) -> bytes:
        """The whole body (the inflater's tail included)."""
        if self._inflater is not None:
            self._take(self._inflater.flush(self._max + 1 - len(self.body)))
        return bytes(self.body)

    def _take(self, data: bytes) -> None:
        self.read += len(data)
        if len(self.body) + len(data) > self._max:
            raise _too_large(self._request, self._status, self._max)
        self.body += data


class _Inflater:
    """Bounded ``gzip``/``deflate`` decoding: never more output than asked for.

    httpx inflates each network chunk whole, so a 64 KiB chunk of a gzip bomb becomes
    tens of MiB before any size check can run; here ``max_length`` bounds every step.
    Strictly private.
    """

    __slots__ = ("_encoding", "_obj", "_raw_fallback", "_request", "_status")

    def __init__(self, encoding: str, request: HttpRequest, status: int) -> None:
        self._request, self._status = request, status
        self._encoding = encoding.strip().lower()
        self._raw_fallback = False
        if self._encoding in ("", "identity"):
            self._obj: Any = None
        elif self._encoding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._encoding == "deflate":
            # RFC 9110 says zlib-wrapped; some servers send raw deflate (httpx accepts both).
            self._obj = zlib.decompressobj()
            self._raw_fallback = True
        else:
            raise self._error(f"unsupported Content-Encoding {encoding[:40]!r}")

    def _error(self, reason: str) -> InvalidTokenResponse:
        return InvalidTokenResponse(
            reason=reason, url=redact_url(self._request.url), status=self._status
        )

    def feed(self, data: bytes, room: int) -> bytes:
        """Inflate ``data``; at most ``room`` bytes come out (more means over the cap)."""
        obj = self._obj
        if obj is None:
            return data
        out = bytearray()
        try:
            while data and len(out) < room:
                try:
                    out += obj.decompress(data, room - len(out))
                except zlib.error:
                    if not self._raw_fallback:
                        raise
                    obj = self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    out += obj.decompress(data, room - len(out))
                self._raw_fallback = False
                if obj.unconsumed_tail:
                    data = obj.unconsumed_tail  # output limit reached: over the cap
                    continue
                if obj.eof and obj.unused_data and self._encoding != "deflate":
                    data = obj.unused_data  # a further gzip member
                    obj = self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    continue
                break
        except zlib.error as exc:
            raise self._error(f"the {self._encoding} body does not decode: {exc}") from None
        return bytes(out)

    def flush(self, room: int) -> bytes:
        """What the decoder still holds, at most ``room`` bytes."""
        if self._obj is None:
            return b""
        try:
            return self._obj.flush(max(room, 1))  # type: ignore[no-any-return]
        except zlib.error as exc:
            raise self._error(f"the {self._encoding} body does not decode: {exc}") from None


def _httpx_request(
    client: httpx.Client | httpx.AsyncClient, request: HttpRequest, timeout: float
) -> httpx.Request:
    return client.build_request(
        request.method,
        request.url,
        headers=_headers(request),
        content=request.body,
        timeout=_timeout(timeout),
    )


def _httpx_body(response: httpx.Response, request: HttpRequest, max_body: int) -> _Body:
    """A ``_Body`` for an httpx response; the body's read timeout capped by the deadline."""
    # httpcore reads the body's read timeout once, when the body starts: shorten it to
    # what is left now (the headers took some of it). The deadline check between chunks
    # does the rest.
    timeouts = response.request.extensions.get("timeout")
    if isinstance(timeouts, dict) and timeouts.get("read") is not None:
        timeouts["read"] = _timeout(timeouts["read"])
    return _Body(
        request, response.status_code, response.headers.get("content-encoding", ""), max_body
    )


def _httpx_response(response: httpx.Response, body: bytes, request: HttpRequest) -> HttpResponse:
    # The body is decoded: its Content-Encoding no longer applies.
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    return HttpResponse(
        status=response.status_code, headers=Headers(headers), body=body, url=request.url
    )


class HttpxSender:
    """A ``Sender`` over an ``httpx.Client``. Strictly private."""

    def __init__(
        self,
        client: httpx.Client | None,
        timeout: float,
        verify: ssl.SSLContext | bool = True,
        max_body: int = MAX_BODY,
    ) -> None:
        import httpx

        self._httpx = httpx
        self._own = client is None
        self._client = client or httpx.Client(
            verify=verify, timeout=timeout, follow_redirects=False
        )
        self._timeout = timeout
        self._max_body = max_body
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
                body = _httpx_body(response, request, self._max_body)
                for chunk in response.iter_raw():
                    body.add(chunk)
                return _httpx_response(response, body.finish(), request)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise _unreachable(request, exc) from exc

    def close(self) -> None:
        if self._own:
            self._client.close()


def _socket_of(response: requests.Response) -> Any:
    """The socket under a requests response, to shorten its timeout; ``None`` if hidden."""
    connection = getattr(response.raw, "connection", None)
    return getattr(connection, "sock", None)


class RequestsSender:
    """A ``Sender`` over a ``requests.Session``. Strictly private."""

    def __init__(
        self, session: requests.Session | None, timeout: float, max_body: int = MAX_BODY
    ) -> None:
        import requests

        self._requests = requests
        self._own = session is None
        self._session = session or requests.Session()
        self._timeout = timeout
        self._max_body = max_body
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
                timeout=_timeout(self._timeout),
                allow_redirects=False,
                stream=True,
            )
            with response:
                # urllib3 inflates in bounded steps (read1 with max_length), so the
                # decoded body is collected as is.
                body = _Body(request, response.status_code, None, self._max_body)
                raw, sock = response.raw, _socket_of(response)
                while True:
                    if sock is not None:
                        # Each read waits at most the time left, not a fresh timeout.
                        with contextlib.suppress(OSError):
                            sock.settimeout(_timeout(self._timeout))
                    chunk = raw.read1(_CHUNK, decode_content=True)
                    if not chunk:
                        break
                    body.add(chunk)
                pairs: list[tuple[str, str]] = []
                raw_headers: Any = raw.headers if raw is not None else None
                if raw_headers is not None and hasattr(raw_headers, "items"):
                    pairs = [(str(k), str(v)) for k, v in raw_headers.items()]
                else:
                    pairs = list(response.headers.items())
                pairs = [(k, v) for k, v in pairs if k.lower() != "content-encoding"]
                return HttpResponse(
                    status=response.status_code,
                    headers=Headers(pairs),
                    body=body.finish(),
                    url=request.url,
                )
        except (requests.RequestException, _urllib3_errors()) as exc:
            raise _unreachable(request, exc) from exc

    def close(self) -> None:
        if self._own:
            self._session.close()


def _urllib3_errors() -> type[Exception]:
    """urllib3's base error: ``raw.read1`` raises them unwrapped by requests."""
    import urllib3.exceptions

    return urllib3.exceptions.HTTPError


class AsyncHttpxSender:
    """An ``AsyncSender`` over an ``httpx.AsyncClient``. Strictly private."""

    def __init__(self, client: httpx.AsyncClient, timeout: float, max_body: int = MAX_BODY) -> None:
        import httpx

        self._httpx = httpx
        self._client = client
        self._timeout = timeout
        self._max_body = max_body

    async def send(self, request: HttpRequest) -> HttpResponse:
        deadline = _deadline.current()
        if deadline is None:
            return await self._send(request)
        import anyio

        # On an event loop the deadline is a hard bound: the whole exchange is cancelled
        # when it passes, whatever the server trickles.
        left = deadline.left()
        with anyio.move_on_after(left) as scope:
            return await self._send(request)
        assert scope.cancelled_caught
        cause = TimeoutError(f"the exchange was cancelled after {left:.3g} s")
        raise deadline.error(request.url, "no complete answer in time") from cause

    async def _send(self, request: HttpRequest) -> HttpResponse:
        httpx = self._httpx
        try:
            req = _httpx_request(self._client, request, self._timeout)
            response = await self._client.send(req, stream=True, follow_redirects=False)
            try:
                body = _httpx_body(response, request, self._max_body)
                # Closed here, not by the garbage collector, when the body is refused.
                raw = response.aiter_raw()
                async with contextlib.aclosing(raw) as chunks:  # type: ignore[type-var]
                    async for chunk in chunks:
                        body.add(chunk)
                return _httpx_response(response, body.finish(), request)
            finally:
                await response.aclose()
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


def make_sender(http_client: Any, timeout: float, max_body: int = MAX_BODY) -> Sender:
    """The sync sender for a credential.

    Args:
        http_client: ``None`` for authwire's own client, or the user's ``httpx.Client`` or
            ``requests.Session``. An ``httpx.AsyncClient`` alone leaves sync callers with
            authwire's own client.
        timeout: Seconds for connecting and for each read (capped by the deadline).
        max_body: The largest response body read, in bytes.

    Raises:
        ConfigurationError: If neither httpx nor requests is installed, or ``http_client``
            is of an unknown kind.
    """
    kind = _kind(http_client)
    if kind == "requests":
        return RequestsSender(http_client, timeout, max_body)
    if kind == "httpx":
        return HttpxSender(http_client, timeout, max_body=max_body)
    # Prefer the library the program already loaded: importing httpx costs a requests
    # user ~300 ms on the first token request (and the reverse, less). Otherwise httpx.
    loaded = "requests" in sys.modules and "httpx" not in sys.modules
    makers: tuple[Any, ...] = (RequestsSender, HttpxSender)
    for make in makers if loaded else makers[::-1]:
        try:
            sender: Sender = make(None, timeout, max_body=max_body)
        except ImportError:
            continue
        return sender
    raise ConfigurationError(
        "authwire needs httpx or requests to reach token endpoints: "
        "pip install 'authwire[httpx]' or 'authwire[requests]'"
    )


@contextlib.asynccontextmanager
async def async_sender(
    http_client: Any,
    timeout: float,
    verify: ssl.SSLContext | bool = True,
    max_body: int = MAX_BODY,
) -> AsyncIterator[AsyncSender]:
    """An async sender for one refresh.

    authwire's own ``httpx.AsyncClient`` (checking the server with ``verify``) is made per
    refresh (refreshes are rare), so it is never shared between event loops or between
    asyncio and trio.

    Raises:
        ConfigurationError: If httpx is not installed.
    """
    if _kind(http_client) == "httpx-async":
        yield AsyncHttpxSender(http_client, timeout, max_body)
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
        yield AsyncHttpxSender(client, timeout, max_body)


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
