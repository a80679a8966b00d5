"""``httpx`` objects to and from authwire's wire model. Strictly private."""

from __future__ import annotations

import httpx

from authwire._core.flow import Attempt
from authwire._core.http import Headers, HttpResponse
from authwire._core.schemes.base import RequestInfo

__all__ = [
    "apply_attempt",
    "body_position",
    "can_replay",
    "peer_certificate",
    "request_info",
    "rewind",
    "to_http_response",
]


def body_position(request: httpx.Request) -> int | None:
    """Where a seekable file body starts (so a replay can rewind it), else ``None``."""
    if isinstance(request.stream, httpx.ByteStream) or hasattr(request, "_content"):
        return None
    file = getattr(request.stream, "_stream", None)  # httpx's IteratorByteStream over a file
    try:
        if file is not None and file.seekable():
            return int(file.tell())
    except (AttributeError, OSError, ValueError):
        pass
    return None


def rewind(request: httpx.Request, position: int | None) -> None:
    """Seek a file body back to ``position`` (from ``body_position``) before a replay."""
    if position is not None:
        request.stream._stream.seek(position)  # type: ignore[union-attr]


def can_replay(request: httpx.Request) -> bool:
    """Whether the body can be sent again (bytes, a body already read, or a seekable file)."""
    return (
        isinstance(request.stream, httpx.ByteStream)
        or hasattr(request, "_content")
        or body_position(request) is not None
    )


def request_info(request: httpx.Request) -> RequestInfo:
    """What a scheme may know of ``request``."""
    return RequestInfo(method=request.method, url=str(request.url), can_replay=can_replay(request))


def apply_attempt(request: httpx.Request, attempt: Attempt) -> None:
    """Attach ``attempt``'s credentials to ``request`` in place."""
    for name, value in attempt.headers.items():
        request.headers[name] = value
    if attempt.params:
        request.url = request.url.copy_merge_params(dict(attempt.params))
    if attempt.cookies:
        added = "; ".join(f"{k}={v}" for k, v in attempt.cookies.items())
        existing = request.headers.get("Cookie")
        request.headers["Cookie"] = f"{existing}; {added}" if existing else added


def to_http_response(response: httpx.Response) -> HttpResponse:
    """The status and headers of ``response``, without the body."""
    return HttpResponse(
        status=response.status_code,
        headers=Headers(response.headers.multi_items()),
        url=str(response.url),
        peer_certificate=peer_certificate(response),
    )


def peer_certificate(response: httpx.Response) -> bytes | None:
    """The DER certificate of the TLS server that sent ``response``, if httpcore exposes it."""
    if response.url.scheme != "https":
        return None
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    certificate = ssl_object.getpeercert(True) if ssl_object is not None else None
    return certificate if isinstance(certificate, bytes) else None
