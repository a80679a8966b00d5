"""Origins (RFC 6454): where credentials may go.

Strictly private. Security rules 2 and 3 of DESIGN live here:

* credentials are bound to an origin (the first request's, or ``origins=``) and are not
  sent to another; a redirect that leaves the origin loses every header authwire added;
* secrets never travel over plain ``http://`` except to loopback, unless the user passes
  ``allow_insecure=True``. The check looks only at the URL, so it happens before any
  connection or DNS lookup.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from authwire._core._value import Value
from authwire.errors import ConfigurationError, InsecureTransportError

__all__ = ["Origin", "OriginGuard", "is_loopback", "require_secure", "same_origin"]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_MAX_PREFIXES: Final = 32


def _redact_url(url: str) -> str:
    # Only error messages need it: the redaction module (and its regular expressions)
    # is imported then, not on ``import authwire.requests``.
    from authwire._core.redact import redact_url

    return redact_url(url)


class Origin(Value):
    """A scheme, host and port; hosts are compared in lower case, ports with defaults filled."""

    _fields = ("scheme", "host", "port")
    __slots__ = _fields

    scheme: str
    host: str
    port: int

    def __init__(self, scheme: str, host: str, port: int) -> None:
        _set = object.__setattr__
        _set(self, "scheme", scheme)
        _set(self, "host", host)
        _set(self, "port", port)

    @classmethod
    def of(cls, url: str) -> Origin:
        """The origin of an absolute URL.

        Raises:
            ConfigurationError: If ``url`` has no scheme or host.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(f"not a valid URL: {_redact_url(url)!r}") from exc
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower().rstrip(".")
        if not scheme or not host:
            raise ConfigurationError(f"not an absolute URL: {_redact_url(url)!r}")
        return cls(scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme, 0))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if _DEFAULT_PORTS.get(self.scheme) == self.port:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"


def same_origin(a: str, b: str) -> bool:
    """Whether two absolute URLs share scheme, host and port."""
    return Origin.of(a) == Origin.of(b)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine without a DNS lookup (127/8, ::1, localhost)."""
    host = host.lower().strip("[]").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure(url: str, *, allow_insecure: bool = False, what: str = "credentials") -> None:
    """Refuse to send ``what`` to ``url`` unless it is https or loopback http.

    Raises:
        InsecureTransportError: For ``http://`` to anything but loopback (unless
            ``allow_insecure``) and for any scheme other than http and https.
    """
    origin = Origin.of(url)
    if origin.scheme == "https":
        return
    if origin.scheme == "http" and (allow_insecure or is_loopback(origin.host)):
        return
    raise InsecureTransportError(
        f"refusing to send {what} over {origin.scheme}:// to {origin}; use https "
        "(plain http is allowed only to loopback, or with allow_insecure=True)",
        url=_redact_url(url),
    )


def _prefix(url: str) -> str | None:
    """``scheme://netloc/`` as spelled in ``url``, for a fast ``startswith`` check."""
    scheme_end = url.find("://")
    if scheme_end <= 0:
        return None
    slash = url.find("/", scheme_end + 3)
    if slash < 0:
        return None
    netloc = url[scheme_end + 3 : slash]
    if "@" in netloc or "?" in netloc or "#" in netloc:
        return None
    return url[: slash + 1]


class OriginGuard:
    """Decides, per request URL, whether credentials may be attached. Thread-safe.

    The guard binds to the origins given, or else to the first URL it sees. A URL it has
    approved once is remembered by its spelled prefix, so the check on the hot path is
    one ``str.startswith``.

    Args:
        origins: Origins credentials may go to (``"https://api.example.com"``); ``None``
            binds to the first request.
        allow_insecure: Permit plain ``http://`` to non-loopback hosts.
        requires_secure: Whether the credentials are secrets that rule 3 protects.
    """

    __slots__ = ("_allowed", "_fast", "_lock", "_prefixes", "allow_insecure", "requires_secure")

    def __init__(
        self,
        origins: Iterable[str] | None = None,
        *,
        allow_insecure: bool = False,
        requires_secure: bool = True,
    ) -> None:
        self.allow_insecure = allow_insecure
        self.requires_secure = requires_secure
        self._lock = threading.Lock()
        self._allowed: set[Origin] = set()
        self._prefixes: tuple[str, ...] = ()
        self._fast: str | None = None  # matches no URL until something is approved
        for origin in (origins,) if isinstance(origins, str) else origins or ():
            self._allowed.add(self._checked(Origin.of(origin), origin))

    @property
    def prefix(self) -> str | None:
        """The first approved URL's ``scheme://netloc/`` as spelled; fixed once set.

        A URL that starts with it passes ``check``: integrations test that inline.
        """
        return self._fast

    @property
    def origins(self) -> frozenset[Origin]:
        """The origins credentials are bound to (empty until the first request)."""
        return frozenset(self._allowed)

    def _checked(self, origin: Origin, url: str) -> Origin:
        if self.requires_secure:
            require_secure(url, allow_insecure=self.allow_insecure)
        return origin

    def check(self, url: str) -> None:
        """Approve ``url`` or raise.

        Raises:
            InsecureTransportError: If ``url`` is not an origin the credentials are bound
                to, or is plain http where that is not allowed.
        """
        if self._fast is not None and url.startswith(self._fast):
            return
        for prefix in self._prefixes:
            if url.startswith(prefix):
                return
        origin = Origin.of(url)
        with self._lock:
            if not self._allowed:
                self._allowed.add(self._checked(origin, url))
            elif origin not in self._allowed:
                bound = ", ".join(sorted(str(o) for o in self._allowed))
                raise InsecureTransportError(
                    f"credentials are bound to {bound}; refusing to send them to {origin} "
                    "(pass origins=[...] to allow more, or mount an AuthAdapter per origin)",
                    url=_redact_url(url),
                )
            else:
                self._checked(origin, url)
            new_prefix = _prefix(url)
            if new_prefix is not None and len(self._prefixes) < _MAX_PREFIXES:
                if not self._prefixes:
                    self._fast = new_prefix
                self._prefixes = (*self._prefixes, new_prefix)

    def allows(self, url: str) -> bool:
        """Whether credentials may follow a request to ``url`` (used for redirects)."""
        if self._fast is not None and url.startswith(self._fast):
            return True
        try:
            return Origin.of(url) in self._allowed
        except ConfigurationError:
            return False
