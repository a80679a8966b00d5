"""PKCE, ``state`` and ``nonce`` for the authorization code grant.

Strictly private. RFC 7636 (PKCE, S256 only: ``plain`` protects nothing against an
attacker who can read the authorization request), RFC 6749 sections 4.1.1-4.1.2
(authorization request and response), RFC 9207 (``iss`` in the response), and
OIDC Core section 3.1.2.1 (``nonce``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authwire._core.oauth2.discovery import same_issuer
from authwire.errors import InteractionRequired

__all__ = [
    "AuthorizationRequest",
    "build_authorization_url",
    "make_code_verifier",
    "make_state",
    "parse_authorization_response",
    "s256_challenge",
]


def make_code_verifier() -> str:
    """A fresh PKCE ``code_verifier``: 64 URL-safe characters (RFC 7636 section 4.1)."""
    return secrets.token_urlsafe(48)


def s256_challenge(verifier: str) -> str:
    """The S256 ``code_challenge`` of ``verifier`` (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_state() -> str:
    """A fresh unguessable ``state`` or ``nonce`` value (128+ bits)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """One browser login's secrets: what was sent, what must come back.

    Attributes:
        url: The authorization URL to open in the browser.
        redirect_uri: Where the provider sends the browser back.
        state: The ``state`` that must come back unchanged.
        nonce: The ``nonce`` the ID token must carry.
        code_verifier: The PKCE verifier sent with the code.
    """

    url: str = field(repr=False)
    redirect_uri: str
    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)


def build_authorization_url(
    authorization_endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str | None,
    extra: Mapping[str, str] = {},
    state: str | None = None,
    nonce: str | None = None,
    code_verifier: str | None = None,
) -> AuthorizationRequest:
    """An authorization request with PKCE S256, a random ``state`` and a random ``nonce``.

    Args:
        authorization_endpoint: The provider's authorization endpoint.
        client_id: The client identifier.
        redirect_uri: The loopback URL the listener serves.
        scope: The scope, space-separated.
        extra: More query parameters (``login_hint``, ``prompt``, ``resource``...).
        state: A fixed state (tests); default random.
        nonce: A fixed nonce (tests); default random.
        code_verifier: A fixed verifier (tests); default random.
    """
    state = state or make_state()
    nonce = nonce or make_state()
    verifier = code_verifier or make_code_verifier()
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "code_challenge": s256_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if scope:
        params["scope"] = scope
    for key, value in extra.items():
        params.setdefault(key, value)
    parts = urlsplit(authorization_endpoint)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    url = urlunsplit(parts._replace(query=urlencode(query)))
    return AuthorizationRequest(
        url=url, redirect_uri=redirect_uri, state=state, nonce=nonce, code_verifier=verifier
    )


def parse_authorization_response(
    query: Mapping[str, str],
    request: AuthorizationRequest,
    *,
    issuer: str | None = None,
    require_iss: bool = False,
) -> str:
    """The authorization ``code`` from the redirect's query parameters.

    Args:
        query: The query parameters the browser brought back.
        request: The request this answers.
        issuer: The expected issuer: an ``iss`` parameter must equal it (RFC 9207).
        require_iss: The provider advertises ``authorization_response_iss_parameter_supported``:
            a response without ``iss`` is then refused (RFC 9207 section 2.4), since a
            mix-up attacker's response would lack it.

    Raises:
        InteractionRequired: For a mismatched or missing ``state`` (checked first, so a
            forged redirect never gets further), an error answer (``access_denied``...),
            a wrong or (with ``require_iss``) missing ``iss``, or no ``code``.
    """
    got = query.get("state", "")
    if not hmac.compare_digest(got.encode(), request.state.encode()):
        raise InteractionRequired(
            "browser login rejected: the redirect's state does not match the request "
            "(a forged or stale redirect)"
        )
    if "error" in query:
        error = query["error"][:100]
        description = query.get("error_description", "")[:200]
        detail = f": {description}" if description else ""
        raise InteractionRequired(f"browser login failed: {error}{detail}")
    if issuer is not None and "iss" in query and not same_issuer(query["iss"], issuer):
        raise InteractionRequired(
            "browser login rejected: the redirect came from another issuer (RFC 9207)"
        )
    if issuer is not None and require_iss and "iss" not in query:
        raise InteractionRequired(
            "browser login rejected: the provider sends iss with its redirects and this "
            "one has none (RFC 9207; a redirect from another provider?)"
        )
    code = query.get("code")
    if not code:
        raise InteractionRequired("browser login failed: the redirect carried no code")
    return code
