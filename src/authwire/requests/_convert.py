"""``requests`` objects to and from authwire's wire model. Strictly private."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from authwire._core.flow import Attempt
from authwire._core.http import Headers, HttpResponse
from authwire._core.schemes.base import AuthScheme, RequestInfo

__all__ = [
    "apply_attempt",
    "can_replay",
    "peer_certificate",
    "request_info",
    "strip_added",
    "to_http_response",
]


def can_replay(request: requests.PreparedRequest) -> bool:
    """Whether the body can be sent again: none, bytes/str, or a file whose position is known."""
    body: object = request.body  # typed as bytes | str | None, but files pass too
    if body is None or isinstance(body, (bytes, str)):
        return True
    return isinstance(getattr(request, "_body_position", None), int)


def request_info(request: requests.PreparedRequest) -> RequestInfo:
    """What a scheme may know of ``request``."""
    return RequestInfo(
        method=request.method or "GET", url=request.url or "", can_replay=can_replay(request)
    )


def _with_params(url: str, params: dict[str, str] | Any) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def apply_attempt(request: requests.PreparedRequest, attempt: Attempt) -> None:
    """Attach ``attempt``'s credentials to ``request`` in place."""
    headers = request.headers
    for name, value in attempt.headers.items():
        headers[name] = value
    if attempt.params:
        request.url = _with_params(request.url or "", attempt.params)
    if attempt.cookies:
        added = "; ".join(f"{k}={v}" for k, v in attempt.cookies.items())
        existing = headers.get("Cookie")
        headers["Cookie"] = f"{existing}; {added}" if existing else added


def strip_added(request: requests.PreparedRequest, scheme: AuthScheme) -> None:
    """Remove every header and query parameter ``scheme`` may have added."""
    for name in scheme.header_names:
        request.headers.pop(name, None)
    if scheme.param_names and request.url:
        parts = urlsplit(request.url)
        query = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in scheme.param_names
        ]
        request.url = urlunsplit(parts._replace(query=urlencode(query)))


def to_http_response(response: requests.Response) -> HttpResponse:
    """The status and headers of ``response`` (repeated fields kept apart), without the body."""
    raw = response.raw
    raw_headers = getattr(raw, "headers", None)
    if raw_headers is not None and hasattr(raw_headers, "items"):
        pairs = [(str(k), str(v)) for k, v in raw_headers.items()]
    else:
        pairs = list(response.headers.items())
    return HttpResponse(
        status=response.status_code,
        headers=Headers(pairs),
        url=response.url or "",
        peer_certificate=peer_certificate(response),
    )


def peer_certificate(response: requests.Response) -> bytes | None:
    """The DER certificate of the server that sent ``response``, while its connection is held."""
    if not (response.url or "").startswith("https:"):
        return None
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    getpeercert = getattr(sock, "getpeercert", None)
    certificate = getpeercert(True) if getpeercert is not None else None
    return certificate if isinstance(certificate, bytes) else None
