"""OpenID Connect discovery (OIDC Discovery 1.0 section 4; RFC 8414).

Strictly private. ``discover_flow(issuer)`` yields the ``GET`` of the issuer's
``/.well-known/openid-configuration`` and returns its ``ProviderMetadata``. Documents are
kept in a process-wide memory cache for 24 hours, so a process fetches each issuer's
document once however many credentials use it. Anything wrong with the document (not
found, not JSON, for another issuer, an endpoint missing) is a ``ConfigurationError``
that says what is wrong, because it is fixed by changing the ``issuer=`` argument.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from authwire._core.flow import Flow
from authwire._core.http import Headers, HttpRequest, HttpResponse, json_or_none
from authwire._core.redact import redact_url, snippet
from authwire.errors import ConfigurationError

__all__ = [
    "DISCOVERY_TTL",
    "ProviderMetadata",
    "build_discovery_request",
    "clear_discovery_cache",
    "discover_flow",
    "discovery_url",
    "parse_discovery_response",
    "same_issuer",
]

#: How long a fetched discovery document is reused, in seconds (24 hours).
DISCOVERY_TTL: Final = 24 * 3600.0

_WELL_KNOWN: Final = "/.well-known/openid-configuration"


def discovery_url(issuer: str) -> str:
    """The discovery document's URL for ``issuer`` (OIDC Discovery section 4.1)."""
    return issuer.rstrip("/") + _WELL_KNOWN


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What an OpenID provider says about itself.

    Attributes:
        issuer: The issuer identifier, exactly as the document gives it.
        raw: The whole document.
    """

    issuer: str
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)

    def endpoint(self, name: str) -> str:
        """The URL of ``name`` (e.g. ``"token_endpoint"``).

        Raises:
            ConfigurationError: If the document has no such endpoint.
        """
        value = self.raw.get(name)
        if not isinstance(value, str) or not value:
            raise ConfigurationError(
                f"the discovery document of {redact_url(self.issuer)} has no {name}; "
                f"pass the URL explicitly or use a grant this provider supports"
            )
        return value

    def get(self, name: str) -> str | None:
        """The URL of ``name``, or ``None`` if the document has none."""
        value = self.raw.get(name)
        return value if isinstance(value, str) and value else None

    @property
    def token_endpoint(self) -> str:
        """The token endpoint (required for every grant)."""
        return self.endpoint("token_endpoint")


def build_discovery_request(issuer: str) -> HttpRequest:
    """The ``GET`` of ``issuer``'s discovery document."""
    return HttpRequest(
        method="GET",
        url=discovery_url(issuer),
        headers=Headers({"Accept": "application/json"}),
    )


def same_issuer(a: str, b: str) -> bool:
    """Whether two issuer identifiers name the same issuer.

    Section 4.3 wants an exact match; a trailing slash is the one difference seen in
    the wild (Azure AD v1, some Keycloak proxies) that does not change the identity.
    """
    return a.rstrip("/") == b.rstrip("/")


def parse_discovery_response(response: HttpResponse, issuer: str) -> ProviderMetadata:
    """The metadata in ``response``, checked against ``issuer``.

    Raises:
        ConfigurationError: For an HTTP error, a body that is not a JSON object, a
            document for another issuer, or one without a ``token_endpoint``.
    """
    url = redact_url(discovery_url(issuer))
    if not 200 <= response.status < 300:
        raise ConfigurationError(
            f"no OpenID configuration for issuer {redact_url(issuer)!r}: GET {url} answered "
            f"HTTP {response.status}; check the issuer URL"
        )
    data = json_or_none(response.body)
    if not isinstance(data, dict):
        raise ConfigurationError(
            f"the OpenID configuration at {url} is not a JSON object "
            f"(got {snippet(response.body)!r}); check the issuer URL"
        )
    stated = data.get("issuer")
    if not isinstance(stated, str) or not stated:
        raise ConfigurationError(f"the OpenID configuration at {url} has no issuer")
    if not same_issuer(stated, issuer):
        raise ConfigurationError(
            f"the OpenID configuration at {url} is for issuer {redact_url(stated)!r}, "
            f"not {redact_url(issuer)!r}"
        )
    metadata = ProviderMetadata(issuer=stated, raw=MappingProxyType(dict(data)))
    metadata.endpoint("token_endpoint")
    return metadata


class _DiscoveryCache:
    """Issuer -> (metadata, fetched at). Thread-safe. Strictly private."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[ProviderMetadata, float]] = {}

    def get(self, issuer: str, now: float) -> ProviderMetadata | None:
        with self._lock:
            entry = self._entries.get(issuer.rstrip("/"))
        if entry is None or not 0 <= now - entry[1] < DISCOVERY_TTL:
            return None
        return entry[0]

    def put(self, issuer: str, metadata: ProviderMetadata, now: float) -> None:
        with self._lock:
            self._entries[issuer.rstrip("/")] = (metadata, now)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CACHE: Final = _DiscoveryCache()


def clear_discovery_cache() -> None:
    """Forget every fetched discovery document (tests; a provider that moved)."""
    _CACHE.clear()


def discover_flow(issuer: str, *, clock: Callable[[], float]) -> Flow[ProviderMetadata]:
    """``issuer``'s metadata: from the 24-hour memory cache, else fetched.

    Raises:
        ConfigurationError: See ``parse_discovery_response``.
        TokenEndpointUnreachable: The provider could not be reached.
    """
    cached = _CACHE.get(issuer, clock())
    if cached is not None:
        return cached
    response = yield build_discovery_request(issuer)
    metadata = parse_discovery_response(response, issuer)
    _CACHE.put(issuer, metadata, clock())
    return metadata
