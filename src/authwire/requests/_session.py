"""``authwire.requests.Session``: the all-in-one session. Strictly private module.

A ``requests.Session`` configured in one call: credentials (any credential, scheme or
``+`` chain, applied through ``authwire.requests.Auth``), client certificates, TLS
verification and the TLS name to expect when connecting by IP, retries with back-off
through urllib3's ``Retry`` (which honours ``Retry-After``), default headers, a
``Referer``, proxies, redirects and streaming. Every argument is checked at construction,
so a mistake raises ``ConfigurationError`` before the first request.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.util.retry import Retry

from authwire._core.schemes.base import AuthLike, AuthScheme
from authwire.errors import ConfigurationError
from authwire.requests._auth import _CERTIFICATES, Auth, _Exchange, _ForeignHook
from authwire.requests._tls import ClientCertPools

__all__ = ["DEFAULT_STATUS_TO_RETRY", "Session"]

#: Statuses retried by default (as urllib3 and EsriSession do): 413, 429 and the 5xx
#: statuses a gateway or an overloaded server sends.
DEFAULT_STATUS_TO_RETRY: frozenset[int] = frozenset({413, 429, 500, 502, 503, 504})

CertArg = str | os.PathLike[str] | tuple[Any, ...] | Any  # Any: a ClientCertificate


#: Whether the request being sent may be retried whatever its method (``retry=`` of
#: ``Session.request``); ``None``: the session's ``allowed_methods`` decide.
_RETRY_THIS: ContextVar[bool | None] = ContextVar("authwire_retry_this", default=None)


class _SessionRetry(Retry):
    """urllib3's ``Retry``, overridden per request by ``Session.request(retry=...)``.

    Strictly private. ``Retry.new`` copies keep the class, so every attempt of one
    request asks the same question; the answer is read from a context variable set in
    the calling thread for the duration of that one request.
    """

    def _is_method_retryable(self, method: str) -> bool:
        this = _RETRY_THIS.get()
        if this is not None:
            return this
        return bool(super()._is_method_retryable(method))


class _SessionAdapter(ClientCertPools, HTTPAdapter):
    """The session's transport: retries, a client certificate and a TLS name.

    The certificate and the TLS name reach the pools through ``ClientCertPools``.
    """

    __attrs__ = [*HTTPAdapter.__attrs__, "_authwire_server_hostname"]  # noqa: RUF012 (requests pickles these)

    def __init__(
        self,
        *,
        max_retries: Retry,
        certificate: Any,
        server_hostname: str | None,
    ) -> None:
        self._authwire_setup(certificate, server_hostname)
        super().__init__(max_retries=max_retries)


def _retry(
    retries: int,
    backoff_factor: float,
    status_to_retry: Iterable[int],
    allowed_methods: Iterable[str] | None,
) -> Retry:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigurationError(f"retries must be an int >= 0, not {retries!r}")
    if (
        isinstance(backoff_factor, bool)
        or not isinstance(backoff_factor, (int, float))
        or backoff_factor < 0
    ):
        raise ConfigurationError(f"backoff_factor must be a number >= 0, not {backoff_factor!r}")
    if isinstance(status_to_retry, (str, bytes)) or not isinstance(status_to_retry, Iterable):
        raise ConfigurationError("status_to_retry must be a collection of HTTP status codes")
    statuses = frozenset(status_to_retry)
    for status in statuses:
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ConfigurationError(f"status_to_retry holds {status!r}, not an HTTP status")
    if allowed_methods is None:
        methods = Retry.DEFAULT_ALLOWED_METHODS
    else:
        if isinstance(allowed_methods, (str, bytes)) or not isinstance(allowed_methods, Iterable):
            raise ConfigurationError("allowed_methods must be a collection of method names")
        methods = frozenset(m.upper() for m in allowed_methods if isinstance(m, str))
        if len(methods) != len(set(allowed_methods)):
            raise ConfigurationError("allowed_methods must hold method names (strings)")
    return _SessionRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        redirect=False,
        backoff_factor=float(backoff_factor),
        status_forcelist=statuses,
        allowed_methods=methods,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def _auth(auth: Any, origins: Iterable[str] | str | None, allow_insecure: bool) -> Any:
    if auth is None or isinstance(auth, Auth):
        return auth
    if isinstance(auth, requests.auth.AuthBase):
        return auth  # the user's own requests auth, as requests would use it
    if isinstance(auth, tuple):
        raise ConfigurationError(
            "pass authwire.BasicAuth(user, password) rather than a (user, password) tuple"
        )
    try:
        return Auth(auth, origins=origins, allow_insecure=allow_insecure)
    except TypeError as exc:
        raise ConfigurationError(str(exc)) from None


def _without_certificate(auth: Any, cert_given: bool) -> Any:
    """``auth`` without its ``ClientCertificate`` (``None`` if nothing else is left)."""
    if _CERTIFICATES not in sys.modules:
        return auth  # no certificate exists before its module is loaded
    from authwire.tls._certificate import split_client_certificate

    if not isinstance(auth, AuthScheme):
        return auth
    found, rest = split_client_certificate(auth)
    if found is not None and cert_given:
        raise ConfigurationError(
            "a ClientCertificate is both in auth and given as cert=; pass it once"
        )
    return rest


def _client_certificate(cert: Any, cert_password: Any, auth: Any) -> Any:
    """The ``ClientCertificate`` for ``cert`` (or found in ``auth``), checked now."""
    from authwire._core.redact import reveal

    password = reveal(cert_password)
    if password is not None and not isinstance(password, str):
        raise ConfigurationError("cert_password must be a str or authwire.Secret")
    if cert is None:
        if password is not None:
            raise ConfigurationError("cert_password given without cert")
        if auth is None:
            return None
        from authwire.tls import find_client_certificate

        return find_client_certificate(getattr(auth, "scheme", auth))
    from authwire.tls import ClientCertificate

    if isinstance(cert, ClientCertificate):
        if password is not None:
            raise ConfigurationError("cert_password goes to ClientCertificate(), not here")
        return cert
    key: Any = None
    if isinstance(cert, tuple):
        if len(cert) == 3:
            cert, key, password = cert[0], cert[1], reveal(cert[2])
        elif len(cert) == 2:
            cert, key = cert
        else:
            raise ConfigurationError("cert must be a path, (cert, key) or (cert, key, password)")
    for part, what in ((cert, "cert"), (key, "cert key")):
        if part is not None and not isinstance(part, (str, os.PathLike)):
            raise ConfigurationError(f"{what} must be a file path, not {type(part).__name__}")
    return ClientCertificate(cert, key, password)


class Session(requests.Session):
    """A ``requests.Session`` with authentication, TLS, retries and defaults in one call.

    Args:
        auth: A credential (sent as a bearer token), a scheme, a ``+`` combination, an
            ``authwire.requests.Auth`` or any ``requests`` auth object. ``None``: none.
        cert: A client certificate: an ``authwire.ClientCertificate``, a PEM file holding
            certificate and key, a ``(cert, key)`` pair of PEM files, ``(cert, key,
            password)`` for an encrypted key, or a PKCS#12 file. Checked (files, password,
            key matching the certificate) at construction. A ``ClientCertificate`` inside
            ``auth`` (``ClientCertificate(...) + ApiKey(...)``) is presented too, and the
            rest of ``auth`` applied; one both there and here is a ``ConfigurationError``.
        cert_password: The password of an encrypted key or PKCS#12 file (a ``str`` or
            ``authwire.Secret``); never shown in an error.
        verify: ``True`` (default) verifies servers against the default CA bundle, a path
            uses that CA bundle or directory, ``False`` does not verify.
        allow_redirects: Whether redirects are followed by default. Default ``True``.
        headers: Headers sent with every request (added to requests' defaults).
        referer: A ``Referer`` sent with every request (vendor logins bind tokens to it).
        proxies: Proxy URLs by scheme (``{"https": "http://proxy:3128"}``).
        trust_env: Read proxies, ``.netrc`` and CA bundles from the environment, as
            requests does. Default ``True``.
        stream: Whether responses are streamed by default. Default ``False``.
        timeout: Default timeout in seconds (or ``(connect, read)``) for every request.
            ``None`` (default) waits forever, as requests does.
        retries: Further attempts after a connection error, a read error or a status in
            ``status_to_retry``. ``0`` sends each request once. Default 3.
        backoff_factor: urllib3's back-off: retry *n* waits ``backoff_factor * 2**(n-1)``
            seconds. ``0`` retries at once. Default 0.3. A ``Retry-After`` header on 413,
            429 and 503 is honoured instead.
        status_to_retry: Statuses that are retried. Default 413, 429, 500, 502, 503, 504.
        allowed_methods: Methods retried on a status or read error. ``None`` (default):
            urllib3's idempotent methods (not POST or PATCH: a POST that timed out or got
            a 502 may have been carried out, and sending it again may do it twice). Add
            ``"POST"`` to retry POSTs for the whole session (for an API whose POSTs are
            reads or carry an idempotency key), or pass ``retry=True`` to one request.
            A connection that could not be opened is retried whatever the method.
        server_hostname: The TLS name to send (SNI) and verify the certificate against,
            for connecting to a server by IP address or through a tunnel.
        adapters: More transport adapters by URL prefix (``{"https://api/": AuthAdapter(c)}``).
        origins: Origins the credentials may go to; default: the first request's.
        allow_insecure: Permit credentials over plain ``http://`` to hosts other than loopback.

    Raises:
        ConfigurationError: For any argument of the wrong type or value, a missing
            certificate file, or a certificate that cannot be loaded.

    Example:
        >>> import authwire
        >>> with authwire.Session(authwire.ApiKey("k-1"), retries=2) as session:
        ...     session.headers["X-Client"] = "demo"
    """

    def __init__(
        self,
        auth: AuthLike | requests.auth.AuthBase | None = None,
        *,
        cert: CertArg | None = None,
        cert_password: Any = None,
        verify: bool | str | os.PathLike[str] = True,
        allow_redirects: bool = True,
        headers: Mapping[str, str] | None = None,
        referer: str | None = None,
        proxies: Mapping[str, str] | None = None,
        trust_env: bool = True,
        stream: bool = False,
        timeout: float | tuple[float, float] | None = None,
        retries: int = 3,
        backoff_factor: float = 0.3,
        status_to_retry: Iterable[int] = DEFAULT_STATUS_TO_RETRY,
        allowed_methods: Iterable[str] | None = None,
        server_hostname: str | None = None,
        adapters: Mapping[str, BaseAdapter] | None = None,
        origins: Iterable[str] | str | None = None,
        allow_insecure: bool = False,
    ) -> None:
        # Everything is checked before anything is built.
        for name, value in (
            ("allow_redirects", allow_redirects),
            ("trust_env", trust_env),
            ("stream", stream),
            ("allow_insecure", allow_insecure),
        ):
            if not isinstance(value, bool):
                raise ConfigurationError(f"{name} must be True or False, not {value!r}")
        if isinstance(verify, os.PathLike):
            verify = os.fspath(verify)
        if not isinstance(verify, (bool, str)):
            raise ConfigurationError("verify must be True, False or a CA bundle path")
        if isinstance(verify, str) and not os.path.exists(verify):
            raise ConfigurationError(f"verify: CA bundle not found: {verify}")
        the_headers = _str_mapping(headers, "headers")
        the_proxies = _str_mapping(proxies, "proxies")
        if referer is not None and (not isinstance(referer, str) or not referer):
            raise ConfigurationError("referer must be a non-empty string")
        if server_hostname is not None and (
            not isinstance(server_hostname, str) or not server_hostname.strip()
        ):
            raise ConfigurationError("server_hostname must be a non-empty string")
        _check_timeout(timeout)
        retry = _retry(retries, backoff_factor, status_to_retry, allowed_methods)
        mounts = dict(adapters or {})
        for prefix, adapter in mounts.items():
            if not isinstance(prefix, str) or not isinstance(adapter, BaseAdapter):
                raise ConfigurationError(
                    "adapters must map URL prefixes to requests transport adapters"
                )
        certificate = _client_certificate(cert, cert_password, auth)
        # The session's transport presents the certificate: the auth object gets the rest.
        the_auth = _auth(_without_certificate(auth, cert is not None), origins, allow_insecure)

        super().__init__()
        self._authwire_origins = origins
        self._authwire_allow_insecure = allow_insecure
        self._authwire_cert_from_auth = cert is None and certificate is not None
        self.__dict__["_authwire_auth"] = the_auth
        self.client_certificate = certificate
        self.verify = verify
        self.allow_redirects = allow_redirects
        self.trust_env = trust_env
        self.stream = stream
        self.timeout = timeout
        self.retry = retry
        self.server_hostname = server_hostname
        self.headers.update(the_headers)
        if referer is not None:
            self.headers["Referer"] = referer
        self.proxies.update(the_proxies)
        for prefix in ("https://", "http://"):
            self.mount(
                prefix,
                _SessionAdapter(
                    max_retries=retry, certificate=certificate, server_hostname=server_hostname
                ),
            )
        for prefix, adapter in mounts.items():
            self.mount(prefix, adapter)

    def __repr__(self) -> str:
        return f"authwire.Session(auth={self.auth!r})"

    @property
    def auth(self) -> Any:
        """The session's authentication; settable with anything ``auth=`` accepts.

        Setting it does what the constructor does: a credential, scheme or ``+`` chain
        (foreign ``requests`` handlers included) is wrapped in an ``authwire.requests.Auth``
        bound to the session's ``origins`` and ``allow_insecure``; a ``ClientCertificate``
        in it is presented by the session's transport; a plain ``requests`` auth object is
        kept as is; ``None`` removes authentication.

        Raises:
            ConfigurationError: For what the constructor refuses (a ``(user, password)``
                tuple, an unknown object, a second client certificate).
        """
        return self.__dict__.get("_authwire_auth")

    @auth.setter
    def auth(self, value: Any) -> None:
        self.__dict__["_authwire_auth"] = self._build_auth(value)

    def _build_auth(self, value: Any) -> Any:
        """``value`` made into the session's auth, as the constructor does it."""
        origins = getattr(self, "_authwire_origins", None)
        allow_insecure = getattr(self, "_authwire_allow_insecure", False)
        if value is None or isinstance(value, Auth) or _CERTIFICATES not in sys.modules:
            found = None
        else:
            found = _client_certificate(None, None, value)
        current = getattr(self, "client_certificate", None)
        from_auth = getattr(self, "_authwire_cert_from_auth", False)
        if found is not None and current is not None and not from_auth and found is not current:
            raise ConfigurationError(
                "a ClientCertificate is both in auth and given as cert=; pass it once"
            )
        the_auth = _auth(_without_certificate(value, False), origins, allow_insecure)
        if found is not None or from_auth:
            # The transport presents the certificate (or stops presenting the one the
            # previous auth brought).
            self.client_certificate = found
            self._authwire_cert_from_auth = found is not None
            for adapter in self.adapters.values():
                if isinstance(adapter, _SessionAdapter):
                    adapter._authwire_setup(found, self.server_hostname)
        return the_auth

    def update_headers(self, headers: Mapping[str, str]) -> None:
        """Add or replace default headers sent with every request.

        Raises:
            ConfigurationError: If a name or value is not a string.
        """
        self.headers.update(_str_mapping(headers, "headers"))

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send a request with the session's defaults (redirects, timeout) filled in.

        ``auth=`` may also be an authwire credential or scheme, for this request only.

        ``retry=True`` retries this request on the session's statuses and read errors
        whatever its method (a POST known to be safe to repeat); ``retry=False`` never
        retries it after it was sent; ``None`` (default) leaves it to ``allowed_methods``.
        """
        retry = kwargs.pop("retry", None)
        if retry is not None and not isinstance(retry, bool):
            raise ConfigurationError(f"retry must be True, False or None, not {retry!r}")
        auth = kwargs.get("auth")
        if auth is not None and not isinstance(auth, tuple) and not callable(auth):
            kwargs["auth"] = _auth(auth, None, False)
        kwargs.setdefault("allow_redirects", self.allow_redirects)
        if self.timeout is not None:
            kwargs.setdefault("timeout", self.timeout)
        if retry is None:
            return super().request(method, url, *args, **kwargs)
        reset = _RETRY_THIS.set(retry)
        try:
            return super().request(method, url, *args, **kwargs)
        finally:
            _RETRY_THIS.reset(reset)

    # requests' get/options/head force allow_redirects=True; the session's default rules.
    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        """Send a GET request."""
        return self.request("GET", url, **kwargs)

    def options(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        """Send an OPTIONS request."""
        return self.request("OPTIONS", url, **kwargs)

    def head(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        """Send a HEAD request (redirects not followed unless asked, as in requests)."""
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def merge_environment_settings(
        self,
        url: Any,
        proxies: Any,
        stream: Any,
        verify: Any,
        cert: Any,
    ) -> Any:
        """Merge the environment's settings, letting the session's own ``verify`` win.

        requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override a session's
        ``verify`` (psf/requests#3829); a ``verify=`` given to this session is kept.
        """
        if verify is None and self.verify is not True:
            verify = self.verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def rebuild_auth(
        self, prepared_request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        """On a redirect that leaves the credentials' origin, strip all authwire added.

        requests removes only ``Authorization``; this removes every header and query
        parameter authwire's schemes add (API-key headers included) and detaches
        authwire's response hooks, so a 401 from the other origin is never answered with
        credentials.
        """
        hooks = prepared_request.hooks.get("response", [])
        kept = []
        url = prepared_request.url or ""
        for hook in hooks:
            if isinstance(hook, (_Exchange, _ForeignHook)) and not hook.auth.guard.allows(url):
                hook.auth._strip_added(prepared_request)
                continue
            kept.append(hook)
        if len(kept) != len(hooks):
            # The copy shares the hooks dict with the original request: replace, not mutate.
            prepared_request.hooks = {**prepared_request.hooks, "response": kept}
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]


def _str_mapping(value: Mapping[str, str] | None, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{what} must be a mapping of strings")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ConfigurationError(f"{what} must map strings to strings")
    return dict(value)


def _check_timeout(timeout: Any) -> None:
    if timeout is None:
        return
    parts = timeout if isinstance(timeout, tuple) else (timeout,)
    if len(parts) not in (1, 2):
        raise ConfigurationError("timeout must be seconds or (connect, read)")
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, (int, float)) or part <= 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, not {timeout!r}")
