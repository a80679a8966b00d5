"""NTLM over HTTP (``Authorization: NTLM``, or NTLM tokens under ``Negotiate``).

Strictly private; re-exported as ``authwire.NTLM``. The flow is ``SpnegoScheme``'s:
a 401 offering ``NTLM`` (or only ``Negotiate``, as IIS and mod_auth_gssapi with
gss-ntlmssp do) starts an NTLM context through pyspnego's pure-Python NTLM; its
NEGOTIATE message goes out, the server's CHALLENGE comes back in a second 401, and the
AUTHENTICATE message follows. NTLM authenticates the *connection*: the three legs must
share one keep-alive connection, which requests and httpx do as long as each 401's body
is read before the next leg (the integrations do).

NTLM gives no proof of the server's identity, so there is no mutual authentication.
"""

from __future__ import annotations

import re
from typing import Any, Final

from authwire._core.http import HttpResponse
from authwire._core.redact import Secret, reveal
from authwire._core.schemes.negotiate import MutualAuthentication, SpnegoScheme, _Side, _token
from authwire.errors import ConfigurationError

__all__ = ["NTLM"]

#: ``LM:NT`` hashes, each 32 hex digits (the LM half may be all zeros or empty).
_HASH: Final = re.compile(r"^(?:([0-9a-fA-F]{32})?):([0-9a-fA-F]{32})$")


class NTLM(SpnegoScheme):
    r"""NTLM (v2) authentication with a user name and a password or its hash.

    Needs ``pyspnego`` (``pip install 'authwire[ntlm]'``), imported on the first challenge.
    Because an NTLMv2 response can be cracked offline, NTLM is refused over plain http
    to hosts other than loopback unless the integration has ``allow_insecure=True``.

    Args:
        username: ``DOMAIN\\user`` or a UPN (``user@domain``).
        password: The password, or pass-the-hash: ``"LM:NT"`` as 32 hex digits each
            (``":NT"`` or ``"0"*32 + ":NT"`` when there is no LM hash).
        hostname_override: The server name used in the channel bindings' absence for
            the target info; default: the URL host.
        channel_bindings: Bind to the TLS connection (``tls-server-end-point``) over
            HTTPS. On by default.

    Example:
        >>> NTLM("EXAMPLE\\alice", "s3cret!")
        NTLM(username='EXAMPLE\\alice', password='***')
    """

    http_scheme = "NTLM"
    protocol = "ntlm"
    requires_secure = True
    _proxy_needs_name = False

    def __init__(
        self,
        username: str,
        password: str | Secret[str],
        *,
        hostname_override: str | None = None,
        channel_bindings: bool = True,
    ) -> None:
        super().__init__(
            mutual_authentication=MutualAuthentication.DISABLED,
            force_preemptive=False,
            hostname_override=hostname_override,
            service="HTTP",
            channel_bindings=channel_bindings,
        )
        if not username:
            raise ConfigurationError("NTLM needs a user name (DOMAIN\\user or user@domain)")
        self.username = username
        secret = reveal(password) or ""
        match = _HASH.match(secret)
        self._hashes: tuple[str | None, str] | None = (
            (match.group(1), match.group(2)) if match else None
        )
        self._password = Secret(secret)

    def __repr__(self) -> str:
        return f"NTLM(username={self.username!r}, password='***')"

    def _credentials(self) -> dict[str, Any]:
        if self._hashes is not None:
            from spnego._credential import NTLMHash

            lm, nt = self._hashes
            return {"username": NTLMHash(self.username, lm_hash=lm, nt_hash=nt)}
        return {"username": self.username, "password": self._password.reveal()}

    def _offered(self, response: HttpResponse, side: _Side) -> str | None:
        """``NTLM`` if offered, else ``Negotiate`` (raw NTLM tokens, as IIS accepts)."""
        for scheme in ("NTLM", "Negotiate"):
            if _token(response, scheme, side) is not None:
                return scheme
        return None
