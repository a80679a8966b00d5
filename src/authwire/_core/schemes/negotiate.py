"""HTTP Negotiate (SPNEGO, RFC 4559) over a pyspnego security context.

Strictly private; re-exported as ``authwire.Negotiate``. ``authwire.NTLM`` shares the flow
(``_core/schemes/ntlm.py``).

The flow, per request:

1. Unless ``force_preemptive``, the request goes out as is. A 401 whose
   ``WWW-Authenticate`` offers the scheme starts a security context for
   ``HTTP@<host>`` (the URL host, or ``hostname_override``/``target_name``).
2. The context's token is sent; while the server answers a 401 *with* a token and the
   context is not complete, the next leg is sent (NTLM takes two). A 401 without a token
   after ours means "refused": it goes back to the caller. At most one round of challenge
   per request, and never more than ``MAX_LEGS`` legs, so no recursion.
3. On the final response the server's token (``WWW-Authenticate: Negotiate <token>``) is
   fed to the context to prove the server's identity (mutual authentication); see
   ``MutualAuthentication`` for what happens when that fails. An error response that
   fails is returned with ``Verdict.STRIP``: the integration empties it.

A proxy's 407 is answered the same way with ``Proxy-Authenticate``/``Proxy-Authorization``
when ``proxy_hostname`` names the proxy.

Every GSSAPI/SSPI call (making a context, ``step``) is a ``Call`` operation, so on the
async path it runs in a worker thread, never on the event loop.

Channel bindings (RFC 5929 ``tls-server-end-point``): over HTTPS the integration hands
the flow the server's certificate of the connection that carried the 401, and the context
is bound to its hash. With ``force_preemptive`` the first token leaves before any
connection is known, so a preemptive token carries no bindings.
"""

from __future__ import annotations

import base64
import binascii
import enum
import threading
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

from authwire._core.flow import Attempt, Call, SchemeFlow, Verdict
from authwire._core.http import HttpResponse
from authwire._core.redact import Secret, redact_url, reveal
from authwire._core.schemes.base import AuthScheme, RequestInfo
from authwire._core.schemes.challenge import find_challenge
from authwire._log import logger
from authwire.errors import ConfigurationError, MutualAuthenticationError

__all__ = [
    "MAX_LEGS",
    "MutualAuthentication",
    "Negotiate",
    "SpnegoScheme",
    "tls_server_end_point",
]

#: The most tokens one request sends; NTLM needs two, Kerberos one.
MAX_LEGS: Final = 3


class MutualAuthentication(enum.Enum):
    """How hard the server must prove its identity (same meaning as requests-kerberos).

    Attributes:
        REQUIRED: The final response must carry a server token that verifies. If it does
            not, a success response raises ``MutualAuthenticationError`` and an error
            response reaches the caller with its body and headers removed.
        OPTIONAL: A server token, when sent, must verify (same handling as REQUIRED);
            a response without one is accepted.
        DISABLED: The server token is not checked.
    """

    REQUIRED = "required"
    OPTIONAL = "optional"
    DISABLED = "disabled"

    @classmethod
    def parse(cls, value: MutualAuthentication | str) -> MutualAuthentication:
        """The member for ``value`` (a member or its name, any case)."""
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise ConfigurationError(
                f"mutual_authentication must be one of required, optional, disabled; got {value!r}"
            ) from None


def tls_server_end_point(certificate_der: bytes) -> bytes:
    """The ``tls-server-end-point`` channel binding data for a server certificate (RFC 5929).

    The certificate is hashed with its signature's hash, except that MD5 and SHA-1 are
    replaced by SHA-256 (RFC 5929 section 4.1).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_der_x509_certificate(certificate_der)
    try:
        algorithm = cert.signature_hash_algorithm
    except Exception:  # unknown algorithms (Ed25519...) fall back
        algorithm = None
    if algorithm is None or isinstance(algorithm, (hashes.MD5, hashes.SHA1)):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate_der)
    return b"tls-server-end-point:" + digest.finalize()


class _Side(NamedTuple):
    """Who challenges: the origin server (401) or a proxy (407)."""

    status: int
    challenge: str
    answer: str


_ORIGIN: Final = _Side(401, "WWW-Authenticate", "Authorization")
_PROXY: Final = _Side(407, "Proxy-Authenticate", "Proxy-Authorization")


def _token(response: HttpResponse, scheme: str, side: _Side = _ORIGIN) -> bytes | None:
    """The server token of ``scheme``: ``b""`` if the challenge is bare, ``None`` if absent."""
    challenge = find_challenge(response.headers.get_all(side.challenge), scheme)
    if challenge is None:
        return None
    if not challenge.token68:
        return b""
    try:
        return base64.b64decode(challenge.token68, validate=True)
    except (binascii.Error, ValueError):
        return b"\x00"  # not base64: a token that will not verify


class SpnegoScheme(AuthScheme):
    """The flow shared by ``Negotiate`` and ``NTLM``. Strictly private base.

    Subclasses set ``http_scheme`` and ``protocol`` and say how to make a context.

    Attributes:
        legs_sent: Tokens sent so far, over every request (for tests and metrics).
    """

    http_scheme: str = "Negotiate"
    protocol: str = "negotiate"
    requires_secure = False
    header_names = frozenset({"authorization", "proxy-authorization"})
    proxy_hostname: str | None = None
    #: Whether an error response that fails mutual authentication is emptied.
    sanitize_mutual_error_response: bool = True
    _proxy_needs_name = True  # Kerberos needs the proxy's SPN; NTLM does not

    def __init__(
        self,
        *,
        mutual_authentication: MutualAuthentication | str,
        force_preemptive: bool,
        hostname_override: str | None,
        service: str,
        channel_bindings: bool,
    ) -> None:
        self.mutual_authentication = MutualAuthentication.parse(mutual_authentication)
        self.force_preemptive = force_preemptive
        self.hostname_override = hostname_override
        self.service = service
        self.channel_bindings = channel_bindings
        self._spnego_options: Any = None  # spnego.NegotiateOptions; None = pyspnego's choice
        self._stats_lock = threading.Lock()
        self.legs_sent = 0

    # -- what subclasses provide -------------------------------------------------------------

    def _credentials(self) -> Any:
        """``username``/``password`` keywords for ``spnego.client``."""
        return {}

    def _context_req(self) -> Any:
        import spnego

        # Mutual authentication is always asked for (servers answer with a token either
        # way, and without it pyspnego's SPNEGO sends no optimistic Kerberos token);
        # DISABLED only skips checking the answer.
        return (
            spnego.ContextReq.sequence_detect
            | spnego.ContextReq.integrity
            | spnego.ContextReq.mutual_auth
        )

    # -- pyspnego (run through Call) ---------------------------------------------------------

    def _new_context(self, host: str, binding_data: bytes | None) -> Any:
        try:
            import spnego
            from spnego.channel_bindings import GssChannelBindings
        except ImportError as exc:
            raise ConfigurationError(
                f"{type(self).__name__} needs pyspnego: pip install 'authwire[kerberos]'"
            ) from exc
        kwargs: dict[str, Any] = {
            "hostname": host,
            "service": self.service,
            "protocol": self.protocol,
            "context_req": self._context_req(),
            **self._credentials(),
        }
        if binding_data is not None:
            kwargs["channel_bindings"] = GssChannelBindings(application_data=binding_data)
        if self._spnego_options is not None:
            kwargs["options"] = self._spnego_options
        return spnego.client(**kwargs)

    @staticmethod
    def _step(context: Any, token: bytes | None) -> bytes | None:
        out: bytes | None = context.step(token)
        return out

    # -- the flow ----------------------------------------------------------------------------

    def _host(self, url: str) -> str:
        return self.hostname_override or (urlsplit(url).hostname or "localhost")

    def _attempt(self, token: bytes, context: Any, scheme: str, side: _Side) -> Attempt:
        with self._stats_lock:
            self.legs_sent += 1
        value = f"{scheme} {base64.b64encode(token).decode('ascii')}"
        return Attempt(headers={side.answer: value}, state=context)

    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """Answer the server's (or proxy's) challenge and check its proof of identity."""
        scheme = self.http_scheme
        side = _ORIGIN
        host = self._host(request.url)
        context: Any = None
        if first is not None:
            attempt = first
        elif self.force_preemptive:
            try:
                context, attempt = yield from self._begin(host, None, scheme, side)
            except Exception as exc:  # no ticket yet: go without, answer a 401 if one comes
                logger.warning("%s: no preemptive token for %s: %s", scheme, host, exc)
                attempt = Attempt()
        else:
            attempt = Attempt()
        response: HttpResponse = yield attempt
        legs = 0 if attempt.is_empty else 1
        while request.can_replay and (
            response.status == side.status or (legs == 0 and response.status == _PROXY.status)
        ):
            if legs == 0:
                if response.status == _PROXY.status:
                    side = _PROXY
                    if self.proxy_hostname is None and self._proxy_needs_name:
                        logger.warning(
                            "%s: a proxy asked for credentials (407); pass proxy_hostname= "
                            "(the proxy's Kerberos host name) to answer it",
                            scheme,
                        )
                        return None
                    host = self.proxy_hostname or host
                offered = self._offered(response, side)
                if offered is None:
                    return None  # the server does not offer this scheme here
                scheme = offered
            server_token = _token(response, scheme, side)
            if server_token is None:
                return None
            if legs == 0:
                cbt = self._binding_data(request, response) if side is _ORIGIN else None
                try:
                    context, attempt = yield from self._begin(host, cbt, scheme, side)
                except Exception as exc:  # reported; the caller gets the 401
                    # No ticket, KDC down, unknown SPN: the caller gets the 401.
                    logger.warning("%s: cannot authenticate to %s: %s", scheme, host, exc)
                    return None
            else:
                if not server_token or context.complete or legs >= MAX_LEGS:
                    logger.debug("%s: the server refused the credentials", scheme)
                    return None
                try:
                    out = yield Call(self._step, args=(context, server_token))
                except Exception as exc:  # reported; the caller gets the 401
                    logger.warning("%s: the server's challenge failed: %s", scheme, exc)
                    return None
                if not out:
                    return None
                attempt = self._attempt(out, context, scheme, side)
            legs += 1
            response = yield attempt
        if context is None or response.status == side.status:
            return None
        return (yield from self._check_server(context, response, scheme, side))

    def _begin(self, host: str, cbt: bytes | None, scheme: str, side: _Side) -> Any:
        context = yield Call(self._new_context, args=(host, cbt))
        token = yield Call(self._step, args=(context, None))
        return context, self._attempt(token or b"", context, scheme, side)

    def _offered(self, response: HttpResponse, side: _Side) -> str | None:
        """The scheme name to answer ``response``'s challenge with, if it offers ours."""
        if _token(response, self.http_scheme, side) is not None:
            return self.http_scheme
        return None

    def _binding_data(self, request: RequestInfo, response: HttpResponse) -> bytes | None:
        if not self.channel_bindings or not request.url.lower().startswith("https:"):
            return None
        certificate = response.peer_certificate
        if certificate is None:
            logger.debug("no server certificate from the connection: no channel bindings")
            return None
        logger.debug("channel bindings: tls-server-end-point of the server certificate")
        return tls_server_end_point(certificate)

    def _check_server(
        self, context: Any, response: HttpResponse, scheme: str, side: _Side
    ) -> SchemeFlow:
        """Mutual authentication on the final response; see ``MutualAuthentication``."""
        mode = self.mutual_authentication
        if mode is MutualAuthentication.DISABLED:
            return None
        token = _token(response, scheme, side)
        problem: str | None = None
        if token:
            try:
                yield Call(self._step, args=(context, token))
            except Exception as exc:  # any failure means "not proven"
                problem = f"the server's token did not verify ({type(exc).__name__})"
            else:
                if not context.complete:
                    problem = "the server's token did not complete the security context"
        elif context.complete:
            return None  # already proven (e.g. an NTLM-free SPNEGO exchange ended earlier)
        elif mode is MutualAuthentication.REQUIRED:
            problem = f"the response carries no server token ({side.challenge}: {scheme} ...)"
        if problem is None:
            return None
        if response.status >= 400 and not self.sanitize_mutual_error_response:
            logger.warning(
                "%s: mutual authentication failed on a %d response (%s): returned unverified, "
                "as sanitize_mutual_error_response=False asks",
                self.http_scheme,
                response.status,
                problem,
            )
            return None
        if response.status >= 400:
            logger.warning(
                "%s: mutual authentication failed on a %d response (%s): "
                "its body and headers were removed",
                self.http_scheme,
                response.status,
                problem,
            )
            return Verdict.STRIP
        raise MutualAuthenticationError(
            f"{self.http_scheme}: the server did not prove its identity: {problem}. "
            "Check that the URL host is the server's Kerberos name (SPN HTTP/<host>, or "
            "pass hostname_override=), that no proxy rewrites WWW-Authenticate, and the "
            "clocks; mutual_authentication='optional' accepts servers that send no token",
            url=redact_url(response.url),
        )


class Negotiate(SpnegoScheme):
    """Kerberos (or NTLM fallback) through SPNEGO, as ``Authorization: Negotiate``.

    Uses the Kerberos ticket cache (``kinit``; ``KRB5CCNAME``) unless ``username`` and
    ``password`` are given. Needs ``pyspnego`` (``pip install 'authwire[kerberos]'``),
    imported only when the first token is made.

    Args:
        mutual_authentication: ``REQUIRED`` (default), ``OPTIONAL`` or ``DISABLED``, as a
            ``MutualAuthentication`` or its name; see that enum.
        force_preemptive: Send the first token with the request instead of waiting for a
            401 (saves a round trip; the token carries no channel bindings).
        principal: The client principal to use from the credential cache
            (``user@REALM``); default: the cache's default principal.
        hostname_override: The host of the server's principal (``HTTP/<host>``) when it
            differs from the URL host (a load balancer, an IP address).
        target_name: The whole service name, ``"HTTP@host"`` or ``"HTTP/host"``; overrides
            ``hostname_override`` and the service.
        delegate: Forward the ticket-granting ticket to the server (unconstrained
            delegation), for servers that act on the user's behalf.
        channel_bindings: Bind the token to the TLS connection (``tls-server-end-point``)
            over HTTPS. On by default.
        password: With ``principal``, get a ticket with this password instead of the
            cache (requires pyspnego's ``krb5`` extra).
        proxy_hostname: The proxy's host name (its SPN is ``HTTP/<proxy_hostname>``). A
            407 from a proxy is answered with ``Proxy-Authorization`` only when it is set,
            and only where the client shows the 407 (plain-http requests through a proxy;
            requests and httpx handle an HTTPS tunnel's 407 themselves).
        sanitize_mutual_error_response: ``True`` (default) empties the body and headers
            of an error response that fails mutual authentication: they come from a server
            that did not prove who it is. ``False`` returns it as received (with a
            warning), for callers that need to read such an error page.

    Example:
        >>> Negotiate(mutual_authentication="optional")
        Negotiate(mutual_authentication='optional')
    """

    def __init__(
        self,
        *,
        mutual_authentication: MutualAuthentication | str = MutualAuthentication.REQUIRED,
        force_preemptive: bool = False,
        principal: str | None = None,
        hostname_override: str | None = None,
        target_name: str | None = None,
        delegate: bool = False,
        channel_bindings: bool = True,
        password: str | Secret[str] | None = None,
        proxy_hostname: str | None = None,
        sanitize_mutual_error_response: bool = True,
    ) -> None:
        service = "HTTP"
        if target_name is not None:
            sep = "@" if "@" in target_name else "/"
            if sep not in target_name:
                raise ConfigurationError(
                    f"target_name must look like 'HTTP@host' or 'HTTP/host', got {target_name!r}"
                )
            service, hostname_override = target_name.split(sep, 1)
        super().__init__(
            mutual_authentication=mutual_authentication,
            force_preemptive=force_preemptive,
            hostname_override=hostname_override,
            service=service,
            channel_bindings=channel_bindings,
        )
        if password is not None and principal is None:
            raise ConfigurationError("password= needs principal= (the user it belongs to)")
        self.principal = principal
        self.delegate = delegate
        self.proxy_hostname = proxy_hostname
        if not isinstance(sanitize_mutual_error_response, bool):
            raise ConfigurationError("sanitize_mutual_error_response must be True or False")
        self.sanitize_mutual_error_response = sanitize_mutual_error_response
        self._password = Secret(reveal(password)) if password is not None else None
        # With a password SPNEGO may fall back to NTLM, whose response can be cracked
        # offline: then plain http is refused off loopback, as for NTLM itself.
        self.requires_secure = self._password is not None

    def __repr__(self) -> str:
        parts = [f"mutual_authentication={self.mutual_authentication.value!r}"]
        if self.principal:
            parts.append(f"principal={self.principal!r}")
        if self.hostname_override:
            parts.append(f"hostname_override={self.hostname_override!r}")
        if self.force_preemptive:
            parts.append("force_preemptive=True")
        if self.delegate:
            parts.append("delegate=True")
        if not self.sanitize_mutual_error_response:
            parts.append("sanitize_mutual_error_response=False")
        if self._password is not None:
            parts.append("password='***'")
        return f"Negotiate({', '.join(parts)})"

    def _credentials(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.principal is not None:
            out["username"] = self.principal
        if self._password is not None:
            out["password"] = self._password.reveal()
        return out

    def _context_req(self) -> Any:
        import spnego

        req = super()._context_req()
        if self.delegate:
            req |= spnego.ContextReq.delegate
        return req
