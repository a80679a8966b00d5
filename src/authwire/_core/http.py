"""The wire model: HTTP requests and responses as plain values.

Strictly private. Integrations convert their library's objects to and from these in one
small module each (``authwire.requests._convert``, ``authwire.httpx._convert``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from authwire._core._value import Value

if TYPE_CHECKING:
    from authwire._core.redact import Secret

__all__ = [
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "form_body",
    "json_or_none",
    "parse_retry_after",
]

_set = object.__setattr__  # how a frozen value's __init__ sets its fields


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive multi-map of HTTP headers.

    ``headers["name"]`` joins repeated fields with ``", "`` (RFC 9110 section 5.3);
    ``get_all(name)`` gives them one by one (``WWW-Authenticate`` needs that).
    """

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        pairs = tuple(items.items() if isinstance(items, Mapping) else items)
        self._items: tuple[tuple[str, str], ...] = pairs
        index: dict[str, list[str]] = {}
        for name, value in pairs:
            index.setdefault(name.lower(), []).append(value)
        self._index = index

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._index[name.lower()])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def get_all(self, name: str) -> list[str]:
        """Every value of the field ``name``, in order; empty if absent."""
        return list(self._index.get(name.lower(), ()))

    def items_raw(self) -> tuple[tuple[str, str], ...]:
        """The fields as received, names in their original case, repeats kept."""
        return self._items

    def __repr__(self) -> str:
        from authwire._core.redact import redact_headers

        return f"Headers({redact_headers(dict(self._items))!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._index == other._index
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class HttpRequest(Value):
    """An HTTP request a flow wants sent.

    Attributes:
        method: The method, upper case.
        url: The absolute URL.
        headers: Request headers.
        body: The body, or ``None``.
        secrets: Values in this request that must never be logged or echoed in an error
            (the client secret, a password, an assertion), each held as a ``Secret`` so
            that no traceback's locals or error tracker shows them. Not sent.
    """

    _fields = ("method", "url", "headers", "body", "secrets")
    __slots__ = _fields
    _compared = ("method", "url", "headers", "body")
    _shown = ("method", "url", "headers")

    method: str
    url: str
    headers: Headers
    body: bytes | None
    secrets: tuple[Secret[str], ...]

    def __init__(
        self,
        method: str,
        url: str,
        headers: Headers | None = None,
        body: bytes | None = None,
        secrets: Iterable[str | Secret[str]] = (),
    ) -> None:
        _set(self, "method", method)
        _set(self, "url", url)
        _set(self, "headers", Headers() if headers is None else headers)
        _set(self, "body", body)
        if secrets:
            from authwire._core.redact import wrap_secrets

            secrets = wrap_secrets(secrets)
        _set(self, "secrets", secrets)

    def __repr__(self) -> str:
        from authwire._core.redact import redact_url

        return (
            f"HttpRequest(method={self.method!r}, url={redact_url(self.url)!r}, "
            f"headers={self.headers!r})"
        )


class HttpResponse(Value):
    """An HTTP response handed back to a flow.

    Attributes:
        status: The status code.
        headers: Response headers.
        body: The body as received (``b""`` when the flow does not need it).
        url: The URL the response came from, when known.
        peer_certificate: The DER certificate of the TLS server that sent the response,
            when the integration could read it (Negotiate channel bindings need it).
    """

    _fields = ("status", "headers", "body", "url", "peer_certificate")
    __slots__ = _fields
    _compared = ("status", "headers", "body", "url")
    _shown = ("status", "headers", "url")

    status: int
    headers: Headers
    body: bytes
    url: str
    peer_certificate: bytes | None

    def __init__(
        self,
        status: int,
        headers: Headers | None = None,
        body: bytes = b"",
        url: str = "",
        peer_certificate: bytes | None = None,
    ) -> None:
        _set(self, "status", status)
        _set(self, "headers", Headers() if headers is None else headers)
        _set(self, "body", body)
        _set(self, "url", url)
        _set(self, "peer_certificate", peer_certificate)

    def __repr__(self) -> str:
        from authwire._core.redact import redact_url

        return (
            f"HttpResponse(status={self.status!r}, headers={self.headers!r}, "
            f"url={redact_url(self.url)!r})"
        )

    def json(self) -> Any:
        """The body decoded as JSON (raises ``ValueError`` if it is not)."""
        return json.loads(self.body)


def json_or_none(body: bytes) -> Any:
    """``body`` decoded as JSON, or ``None`` if it is not JSON.

    Malformed JSON, bytes that are not UTF-8 and nesting deeper than the decoder goes
    (``RecursionError``) all give ``None``.
    """
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def form_body(
    params: Mapping[str, str | Secret[str]] | Iterable[tuple[str, str | Secret[str]]],
) -> bytes:
    """``application/x-www-form-urlencoded`` bytes for ``params`` (RFC 6749 appendix B).

    A value held as a ``Secret`` is revealed here, in the encoding, and nowhere before:
    the frames that built the form hold only the wrapper.
    """
    from authwire._core.redact import reveal

    items = params.items() if isinstance(params, Mapping) else params
    return urlencode([(k, reveal(v)) for k, v in items]).encode("ascii")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date).

    Returns ``None`` when the header is absent or unreadable, and never less than 0.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # "NaN" and "inf" parse as floats but are no wait at all (NaN would crash a sleep).
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - now, 0.0)
