"""``EsriSession``: the seed's session, its names and defaults, on ``authwire.Session``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

import authwire

__all__ = ["DEFAULT_METHOD_WHITELIST", "DEFAULT_STATUS_TO_RETRY", "EsriSession"]

#: Statuses retried by default, in the seed's order.
DEFAULT_STATUS_TO_RETRY: tuple[int, ...] = (413, 429, 503, 500, 502, 504)
#: Methods retried by default: POST included, as most ArcGIS REST calls are POSTs (queries
#: with long parameters), which the services treat as reads.
DEFAULT_METHOD_WHITELIST: tuple[str, ...] = (
    "POST",
    "DELETE",
    "GET",
    "HEAD",
    "OPTIONS",
    "PUT",
    "TRACE",
)


def _for_authwire(auth: Any) -> Any:
    """What ``authwire.Session`` gets for a handler: its scheme, or the object itself."""
    as_scheme = getattr(auth, "as_scheme", None)
    return (
        as_scheme() if callable(as_scheme) and not isinstance(auth, authwire.Credential) else auth
    )


class EsriSession:
    """An HTTP session for ArcGIS services: authentication, TLS, retries, referer.

    Args:
        auth: A handler (``EsriBuiltInAuth(...)``, ``a + b``, your own
            ``requests.auth.AuthBase``, or any authwire credential or scheme).
        cert: A client certificate: ``(cert, key)`` PEM files or one file holding both.
        verify_cert: ``False`` ignores certificate errors. Default ``True``.
        allow_redirects: Whether redirects are followed. Default ``True``.
        headers: Headers added to every request.
        referer: The ``Referer`` sent with every request (tokens are bound to it).
            Default ``"http"``.
        **kwargs: ``trust_env`` (default ``True``), ``stream`` (default ``False``),
            ``check_hostname`` (``False`` with ``headers={"Host": name}``: verify the
            certificate for that name when connecting by IP), ``retries`` (default 3),
            ``backoff_factor`` (default 0.3), ``status_to_retry`` (default
            ``(413, 429, 503, 500, 502, 504)``), ``method_whitelist`` (default: POST,
            DELETE, GET, HEAD, OPTIONS, PUT, TRACE), ``proxies``.

    Raises:
        authwire.ConfigurationError: For an unknown keyword or a bad value, and for
            ``check_hostname=False`` without a ``Host`` header (see the README).
    """

    allow_redirects: bool | None = None

    def __init__(
        self,
        auth: Any = None,
        cert: Any = None,
        verify_cert: bool = True,
        allow_redirects: bool = True,
        headers: Mapping[str, str] | None = None,
        referer: str = "http",
        **kwargs: Any,
    ) -> None:
        known = {
            "trust_env",
            "stream",
            "check_hostname",
            "retries",
            "backoff_factor",
            "status_to_retry",
            "method_whitelist",
            "proxies",
        }
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise authwire.ConfigurationError(f"EsriSession got unknown keywords: {unknown}")
        headers = dict(headers or {})
        server_hostname = None
        if kwargs.get("check_hostname", True) is False:
            host = next((v for k, v in headers.items() if k.lower() == "host"), None)
            if host is None:
                raise authwire.ConfigurationError(
                    "check_hostname=False needs the certificate's name in headers={'Host': ...}: "
                    "authwire then verifies the certificate for that name (it never skips the "
                    "name alone); verify_cert=False skips all verification"
                )
            server_hostname = host.split(":")[0]
        self._options: dict[str, Any] = {
            "verify": verify_cert,
            "allow_redirects": allow_redirects,
            "headers": headers,
            "referer": referer,
            "trust_env": kwargs.get("trust_env", True),
            "stream": kwargs.get("stream", False),
            "retries": kwargs.get("retries", 3),
            "backoff_factor": kwargs.get("backoff_factor", 0.3),
            "status_to_retry": tuple(kwargs.get("status_to_retry", DEFAULT_STATUS_TO_RETRY)),
            "allowed_methods": tuple(kwargs.get("method_whitelist", DEFAULT_METHOD_WHITELIST)),
            "proxies": kwargs.get("proxies"),
            "server_hostname": server_hostname,
        }
        self.allow_redirects = allow_redirects
        self._auth = auth
        self._cert = cert
        self._session = self._build()

    def _build(self) -> authwire.Session:
        return authwire.Session(_for_authwire(self._auth), cert=self._cert, **self._options)

    def __repr__(self) -> str:
        return f"EsriSession(auth={self._auth!r})"

    def __enter__(self) -> EsriSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- properties ----------------------------------------------------------------------

    @property
    def adapters(self) -> dict[str, Any]:
        """The mounted transport adapters, by URL prefix."""
        return dict(self._session.adapters)

    @property
    def auth(self) -> Any:
        """Get/Set the authentication handler (what was given, not authwire's wrapper)."""
        return self._auth

    @auth.setter
    def auth(self, value: Any) -> None:
        self._session.auth = _for_authwire(value)  # the setter does what auth= does
        self._auth = value

    @property
    def cert(self) -> Any:
        """Get/Set the client certificate; setting it rebuilds the connection pools."""
        return self._cert

    @cert.setter
    def cert(self, value: Any) -> None:
        old, self._cert = self._session, value
        headers = dict(old.headers)
        self._session = self._build()
        self._session.headers.clear()
        self._session.headers.update(headers)
        old.close()

    @property
    def headers(self) -> Any:
        """Gets/Sets the headers sent with every request."""
        return self._session.headers

    @headers.setter
    def headers(self, value: Mapping[str, str]) -> None:
        self._session.headers.clear()
        self._session.headers.update(value)

    @property
    def proxies(self) -> Any:
        """Proxy URLs by scheme (or scheme and host)."""
        return self._session.proxies

    @proxies.setter
    def proxies(self, value: Mapping[str, str]) -> None:
        self._session.proxies = dict(value)

    @property
    def referer(self) -> str | None:
        """Gets/Sets the ``Referer`` sent with every request."""
        value = self._session.headers.get("Referer")
        return value if isinstance(value, str) else None

    @referer.setter
    def referer(self, value: str) -> None:
        self._session.headers["Referer"] = value

    @property
    def stream(self) -> bool:
        """Gets/Sets whether responses are streamed."""
        return bool(self._session.stream)

    @stream.setter
    def stream(self, value: bool) -> None:
        self._session.stream = value

    @property
    def verify_cert(self) -> bool:
        """Get/Set whether server certificates are verified."""
        return self._session.verify is not False

    @verify_cert.setter
    def verify_cert(self, value: bool) -> None:
        self._session.verify = value

    @property
    def status_to_retry(self) -> tuple[int, ...]:
        """The statuses retried."""
        return tuple(self._options["status_to_retry"])

    @property
    def method_whitelist(self) -> tuple[str, ...]:
        """The methods retried."""
        return tuple(self._options["allowed_methods"])

    # -- methods -------------------------------------------------------------------------

    def update_headers(self, values: Mapping[str, str]) -> None:
        """Add or replace headers sent with every request."""
        self._session.update_headers(values)

    def mount(self, prefix: str, adapter: Any) -> None:
        """Register a transport adapter for a URL prefix (longest prefix wins)."""
        self._session.mount(prefix, adapter)

    def close(self) -> None:
        """Close every adapter, and so the session."""
        self._session.close()

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", self.allow_redirects)
        return self._session.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """Send a GET request."""
        return self._send("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> requests.Response:
        """Send a HEAD request."""
        return self._send("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> requests.Response:
        """Send an OPTIONS request."""
        return self._send("OPTIONS", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        """Send a DELETE request."""
        return self._send("DELETE", url, **kwargs)

    def post(
        self, url: str, data: Any = None, json: Any = None, **kwargs: Any
    ) -> requests.Response:
        """Send a POST request."""
        return self._send("POST", url, data=data, json=json, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        """Send a PUT request."""
        return self._send("PUT", url, data=data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        """Send a PATCH request."""
        return self._send("PATCH", url, data=data, **kwargs)
