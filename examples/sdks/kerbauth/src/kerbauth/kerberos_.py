"""``HTTPKerberosAuth``: requests-kerberos' handler, its options mapped onto ``authwire.Negotiate``.

authwire runs the exchange (one 401, one token, the server's token checked for mutual
authentication, the body replayed), binds credentials to each origin, and empties an
error response that fails mutual authentication unless told not to.

Records are logged to the ``kerbauth`` logger (each request and its outcome) and to
``kerbauth.kerberos_`` (the GSSAPI side: tokens sent, mutual authentication); authwire's
own detailed records stay on the ``authwire`` logger.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Final
from urllib.parse import urlsplit

import requests

import authwire
import authwire.requests

__all__ = ["DISABLED", "OPTIONAL", "REQUIRED", "HTTPKerberosAuth"]

#: Mutual authentication must succeed.
REQUIRED: Final = 1
#: Mutual authentication is checked when the server offers it.
OPTIONAL: Final = 2
#: Mutual authentication is never checked.
DISABLED: Final = 3

_MODES: Final = {
    REQUIRED: authwire.MutualAuthentication.REQUIRED,
    OPTIONAL: authwire.MutualAuthentication.OPTIONAL,
    DISABLED: authwire.MutualAuthentication.DISABLED,
}

log = logging.getLogger("kerbauth")
kerberos_log = logging.getLogger("kerbauth.kerberos_")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class HTTPKerberosAuth(requests.auth.AuthBase):
    """Attaches HTTP Negotiate (Kerberos/SPNEGO) authentication to a requests call.

    Args:
        mutual_authentication: ``REQUIRED`` (default), ``OPTIONAL`` or ``DISABLED``.
        service: The service part of the server's principal. Default ``"HTTP"``.
        delegate: Forward the user's ticket-granting ticket to the server.
        force_preemptive: Send the token with the first request instead of after a 401.
        principal: The client principal to use from the credential cache.
        hostname_override: The host of the server's principal when it differs from the
            URL's host.
        sanitize_mutual_error_response: Empty an error response whose server failed
            mutual authentication (default ``True``).
        send_cbt: Bind the token to the TLS channel (channel bindings). Default ``True``.

    Credentials are bound per origin: each host the object is used with gets its own
    exchange state, and a redirect to another origin loses the ``Authorization`` header.
    """

    def __init__(
        self,
        mutual_authentication: int = REQUIRED,
        service: str = "HTTP",
        delegate: bool = False,
        force_preemptive: bool = False,
        principal: str | None = None,
        hostname_override: str | None = None,
        sanitize_mutual_error_response: bool = True,
        send_cbt: bool = True,
    ) -> None:
        if mutual_authentication not in _MODES:
            raise authwire.ConfigurationError(
                "mutual_authentication must be REQUIRED, OPTIONAL or DISABLED"
            )
        self.mutual_authentication = mutual_authentication
        self.service = service
        self.delegate = delegate
        self.force_preemptive = force_preemptive
        self.principal = principal
        self.hostname_override = hostname_override
        self.sanitize_mutual_error_response = sanitize_mutual_error_response
        self.send_cbt = send_cbt
        self._scheme = self.as_scheme()
        self._per_origin: dict[str, authwire.requests.Auth] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HTTPKerberosAuth({self._scheme!r})"

    def as_scheme(self) -> authwire.Negotiate:
        """The ``authwire.Negotiate`` scheme with these options (for chains and httpx)."""
        target = None
        if self.service != "HTTP":
            target = f"{self.service}@{self.hostname_override}" if self.hostname_override else None
            if target is None:
                raise authwire.ConfigurationError(
                    "service= other than HTTP needs hostname_override="
                )
        return authwire.Negotiate(
            mutual_authentication=_MODES[self.mutual_authentication],
            force_preemptive=self.force_preemptive,
            principal=self.principal,
            hostname_override=None if target else self.hostname_override,
            target_name=target,
            delegate=self.delegate,
            channel_bindings=self.send_cbt,
            sanitize_mutual_error_response=self.sanitize_mutual_error_response,
        )

    def _for(self, url: str) -> authwire.requests.Auth:
        origin = _origin(url)
        auth = self._per_origin.get(origin)
        if auth is None:
            with self._lock:
                auth = self._per_origin.get(origin)
                if auth is None:
                    auth = authwire.requests.Auth(self._scheme, origins=origin)
                    self._per_origin[origin] = auth
        return auth

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Authenticate ``request`` with the exchange state of its origin."""
        url = request.url or ""
        log.debug("HTTPKerberosAuth: %s %s", request.method, _origin(url))
        if self.force_preemptive:
            kerberos_log.debug("preemptive token for %s", _origin(url))
        self._for(url)(request)
        request.register_hook("response", self._handle_response)  # type: ignore[no-untyped-call]
        return request

    def _handle_response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """Log the outcome (the exchange itself is done by authwire's hook before this one)."""
        sent = response.request.headers.get("Authorization", "")
        if isinstance(sent, str) and sent.startswith("Negotiate "):
            kerberos_log.debug(
                "token sent to %s (mutual authentication %s); answer %s",
                _origin(response.url or ""),
                _MODES[self.mutual_authentication].value,
                response.status_code,
            )
        log.debug("handle_response(): returning %s", response.status_code)
        return response
