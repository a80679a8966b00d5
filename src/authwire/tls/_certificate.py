"""``ClientCertificate``: a TLS client certificate loaded into an ``ssl.SSLContext``.

Strictly private module; re-exported as ``authwire.ClientCertificate``.

How each form is loaded, and why no decrypted key ever reaches the disk:

* **PEM pair / PEM with the key inside**: OpenSSL reads the files itself
  (``SSLContext.load_cert_chain``).
* **PEM with an encrypted key**: OpenSSL reads the encrypted file and decrypts it in memory
  with the password handed over by a callback; nothing is written anywhere.
* **PKCS#12** (``.p12``/``.pfx``): Python's ``ssl`` cannot read PKCS#12 and cannot load a key
  from memory. ``cryptography`` opens the bundle in memory, the key is *re-encrypted* with a
  random one-off password (``BestAvailableEncryption``, AES-256) and written with the
  certificates to an anonymous in-memory file (``memfd_create`` on Linux; elsewhere a 0600
  temporary file that is deleted at once), which ``load_cert_chain`` reads with the one-off
  password. So even the fallback file only ever holds an encrypted key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from authwire._core.flow import Attempt, SchemeFlow
from authwire._core.redact import Secret
from authwire._core.schemes.base import AuthScheme, RequestInfo
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    import httpx
    from requests.adapters import HTTPAdapter

    from authwire._core.schemes.base import AuthLike

__all__ = [
    "ClientCertificate",
    "find_client_certificate",
    "refuse_in_auth",
    "split_client_certificate",
]

_PKCS12_SUFFIXES = (".p12", ".pfx")
_ENCRYPTED_MARKERS = (b"BEGIN ENCRYPTED PRIVATE KEY", b"Proc-Type: 4,ENCRYPTED")

Verify = bool | str | os.PathLike[str]


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the {what} {path!r}: {exc.strerror}") from exc


@contextlib.contextmanager
def _in_memory_file(data: bytes) -> Iterator[str]:
    """A path OpenSSL can read ``data`` from, gone when the block ends.

    Linux: an anonymous memory file (never on a disk). Elsewhere: a 0600 temporary file,
    unlinked at once; callers only ever put an *encrypted* key in it.
    """
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None and os.path.isdir("/proc/self/fd"):
        fd = memfd_create("authwire-client-cert", getattr(os, "MFD_CLOEXEC", 0))
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    handle, path = tempfile.mkstemp(prefix="authwire-", suffix=".pem")
    try:
        os.write(handle, data)
        os.close(handle)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


class ClientCertificate(AuthScheme):
    """A TLS client certificate (mutual TLS), from PEM files or a PKCS#12 bundle.

    The certificate and key are read and checked when the object is made, so a missing
    file, an encrypted key without its password, a wrong password or a key that does not
    match the certificate raise ``ConfigurationError`` at once, never mid-request. A
    decrypted private key is never written to disk (see the module notes).

    TLS is set on the connection, not on a request, so plug it in where connections are
    made: ``ssl_context()`` for any client, ``requests_adapter()`` for requests,
    ``httpx_transport()``/``httpx_async_transport()`` (or ``httpx.Client(verify=
    cert.ssl_context())``) for httpx. It is also an auth scheme that adds no header, so it
    composes with ``+`` (``ClientCertificate(...) + ApiKey(...)``), and
    ``requests_adapter(auth=...)`` finds it inside such a combination.

    Args:
        cert: A PEM certificate (chain) file, possibly also holding the key, or a PKCS#12
            file (``.p12``/``.pfx``, or any file that is not PEM).
        key: The PEM private key file, if not inside ``cert``.
        password: The password of an encrypted PEM key or of the PKCS#12 bundle; ``None``
            for an unencrypted key.

    Raises:
        ConfigurationError: The files cannot be read or do not form a usable certificate.

    Example:
        >>> cert = ClientCertificate("client.p12", password="changeit")  # doctest: +SKIP
        >>> session.mount("https://api.example.com/", cert.requests_adapter())  # doctest: +SKIP
    """

    header_names = frozenset()
    requires_secure = False

    def __init__(
        self,
        cert: str | os.PathLike[str],
        key: str | os.PathLike[str] | None = None,
        password: str | bytes | Secret[str] | None = None,
    ) -> None:
        self.cert = os.fspath(cert)
        self.key = os.fspath(key) if key is not None else None
        raw = password.reveal() if isinstance(password, Secret) else password
        self._password: Secret[bytes] | None = (
            Secret(raw.encode() if isinstance(raw, str) else raw) if raw is not None else None
        )
        data = _read(self.cert, "certificate file")
        self._bundle: Secret[bytes] | None = None  # re-encrypted PKCS#12 contents
        self._bundle_password: Secret[bytes] | None = None
        if self.key is None and (
            self.cert.lower().endswith(_PKCS12_SUFFIXES) or b"-----BEGIN" not in data
        ):
            self.format = "pkcs12"
            self._convert_pkcs12(data)
        else:
            self.format = "pem"
            key_data = _read(self.key, "private key file") if self.key else data
            if b"PRIVATE KEY-----" not in key_data:
                raise ConfigurationError(
                    f"no private key in {self.key or self.cert!r}; pass key= (the key's file)"
                )
            if self._password is None and any(m in key_data for m in _ENCRYPTED_MARKERS):
                raise ConfigurationError(
                    f"the private key in {self.key or self.cert!r} is encrypted; pass password="
                )
        # Check everything now: a throwaway context fails exactly as a real one would.
        self.load_into(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))

    def __repr__(self) -> str:
        parts = [f"cert={self.cert!r}"]
        if self.key is not None:
            parts.append(f"key={self.key!r}")
        if self._password is not None:
            parts.append("password='***'")
        return f"ClientCertificate({', '.join(parts)})"

    # -- loading ---------------------------------------------------------------------------

    def _convert_pkcs12(self, data: bytes) -> None:
        try:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.serialization import pkcs12
        except ImportError as exc:  # pragma: no cover - cryptography is a hard need here
            raise ConfigurationError(
                "reading a PKCS#12 file needs the 'cryptography' package "
                "(pip install 'authwire[tls]')"
            ) from exc
        password = self._password.reveal() if self._password is not None else None
        try:
            key, leaf, extra = pkcs12.load_key_and_certificates(data, password)
        except ValueError as exc:
            hint = "wrong password?" if password is not None else "pass password=?"
            raise ConfigurationError(
                f"cannot open the PKCS#12 file {self.cert!r} ({hint}); "
                "PEM files need key= or the key inside the certificate file"
            ) from exc
        if key is None or leaf is None:
            raise ConfigurationError(
                f"the PKCS#12 file {self.cert!r} must hold a certificate and its private key"
            )
        one_off = secrets.token_urlsafe(32).encode()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(one_off),
        )
        for certificate in (leaf, *extra):
            pem += certificate.public_bytes(serialization.Encoding.PEM)
        self._bundle, self._bundle_password = Secret(pem), Secret(one_off)

    def load_into(self, context: ssl.SSLContext) -> None:
        """Load the certificate chain and key into ``context``.

        Raises:
            ConfigurationError: The key cannot be decrypted or does not match.
        """
        where = self.key or self.cert
        asked: list[bool] = []  # OpenSSL says only "PEM lib" for a wrong password

        def give(secret: Secret[bytes] | None) -> bytes:
            asked.append(True)
            # Without a callback OpenSSL would prompt on the terminal for an encrypted key.
            return secret.reveal() if secret is not None else b""

        try:
            if self._bundle is not None:
                with _in_memory_file(self._bundle.reveal()) as path:
                    context.load_cert_chain(path, password=lambda: give(self._bundle_password))
            else:
                context.load_cert_chain(self.cert, self.key, password=lambda: give(self._password))
        except ssl.SSLError as exc:
            reason = exc.reason or ""
            if "MISMATCH" in reason:
                message = f"the private key in {where!r} does not match the certificate"
            elif asked:
                message = f"cannot decrypt the private key in {where!r}: wrong password?"
            else:
                message = f"cannot load the client certificate from {self.cert!r}: {exc.args[-1]}"
            raise ConfigurationError(message) from exc

    def ssl_context(self, verify: Verify = True) -> ssl.SSLContext:
        """A new client ``SSLContext`` presenting this certificate.

        Args:
            verify: ``True`` (default) checks the server against the system's CAs; a path
                to a CA bundle file or directory checks it against those instead; ``False``
                checks nothing (tests only).
        """
        if verify is False:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif verify is True:
            context = ssl.create_default_context()
        else:
            location = os.fspath(verify)
            if os.path.isdir(location):
                context = ssl.create_default_context(capath=location)
            else:
                context = ssl.create_default_context(cafile=location)
        self.load_into(context)
        return context

    # -- integrations ----------------------------------------------------------------------

    def requests_adapter(
        self,
        *,
        auth: AuthLike | None = None,
        server_hostname: str | None = None,
        **adapter_kwargs: Any,
    ) -> HTTPAdapter:
        """A requests transport adapter whose HTTPS connections present this certificate.

        Mount it on the prefix it is for: ``session.mount("https://api.example.com/",
        cert.requests_adapter())``. The server is verified as requests' own ``verify=``
        says (the system CAs by default, a CA bundle path, or ``False``).

        Args:
            auth: Credentials to apply too (an ``authwire.requests.AuthAdapter`` is made).
            server_hostname: The name to send (SNI) and check the server certificate
                against, when the URL holds an IP address or another name.
            **adapter_kwargs: Passed to ``requests.adapters.HTTPAdapter``.
        """
        from authwire.requests._tls import tls_adapter

        return tls_adapter(self, auth=auth, server_hostname=server_hostname, **adapter_kwargs)

    def httpx_transport(
        self, *, verify: Verify = True, server_hostname: str | None = None, **kwargs: Any
    ) -> httpx.BaseTransport:
        """An ``httpx.HTTPTransport`` presenting this certificate (``httpx.Client(transport=)``).

        Args:
            verify: As for ``ssl_context``.
            server_hostname: The TLS name to use when the URL holds an IP or another name.
            **kwargs: Passed to ``httpx.HTTPTransport``.
        """
        from authwire.httpx._tls import sync_transport

        return sync_transport(self.ssl_context(verify), server_hostname, **kwargs)

    def httpx_async_transport(
        self, *, verify: Verify = True, server_hostname: str | None = None, **kwargs: Any
    ) -> httpx.AsyncBaseTransport:
        """The ``httpx.AsyncClient`` twin of ``httpx_transport``."""
        from authwire.httpx._tls import async_transport

        return async_transport(self.ssl_context(verify), server_hostname, **kwargs)

    # -- as a scheme: adds nothing to the request -------------------------------------------

    def fast_attempt(self, now: float) -> Attempt | None:
        """No header to add: the certificate travels in the TLS handshake."""
        return Attempt()

    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """Attach nothing; a 401 is not this scheme's to answer."""
        yield first if first is not None else Attempt()


def find_client_certificate(auth: object) -> ClientCertificate | None:
    """The ``ClientCertificate`` in ``auth`` (itself, or a part of an ``a + b``), if any."""
    if isinstance(auth, ClientCertificate):
        return auth
    for part in getattr(auth, "parts", ()):
        if isinstance(part, ClientCertificate):
            return part
    return None


def split_client_certificate(
    auth: AuthScheme,
) -> tuple[ClientCertificate | None, AuthScheme | None]:
    """``auth``'s client certificate, and ``auth`` without it (``None`` if nothing is left).

    For the integrations that present the certificate in the TLS handshake themselves
    (``authwire.Session``, ``ClientCertificate.requests_adapter``) and apply the rest.

    Raises:
        ConfigurationError: If ``auth`` holds more than one certificate (a TLS connection
            presents one).
    """
    if isinstance(auth, ClientCertificate):
        return auth, None
    parts: tuple[AuthScheme, ...] = getattr(auth, "parts", ())
    certificates = [part for part in parts if isinstance(part, ClientCertificate)]
    if not certificates:
        return None, auth
    if len(certificates) > 1:
        raise ConfigurationError(
            "an auth holds more than one ClientCertificate; a TLS connection presents one"
        )
    rest = [part for part in parts if not isinstance(part, ClientCertificate)]
    if len(rest) == 1:
        return certificates[0], rest[0]
    from authwire._core.schemes.combined import CombinedAuth

    return certificates[0], CombinedAuth(*rest)


def refuse_in_auth(auth: AuthScheme, integration: str) -> None:
    """Raise if ``auth`` holds a ``ClientCertificate``: ``integration`` cannot present it.

    An auth object (``requests`` ``AuthBase``, ``httpx.Auth``) only changes the request;
    the certificate travels in the TLS handshake, which belongs to the transport. Without
    this check the certificate would silently not be sent.

    Raises:
        ConfigurationError: Saying how to present the certificate instead.
    """
    certificate, _rest = split_client_certificate(auth)
    if certificate is None:
        return
    if integration == "authwire.httpx.Auth":
        instead = (
            "present it with the transport: httpx.Client(transport=cert.httpx_transport(), "
            "auth=authwire.httpx.Auth(...the other credentials...)) "
            "(cert.httpx_async_transport() for httpx.AsyncClient)"
        )
    else:
        instead = (
            "use authwire.Session(auth=..., cert=cert), or mount "
            "cert.requests_adapter(auth=...the other credentials...) on a requests.Session"
        )
    raise ConfigurationError(
        f"{integration} cannot present a client certificate ({certificate!r}): it travels "
        f"in the TLS handshake, which an auth object does not control; {instead}"
    )
