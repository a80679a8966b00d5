"""Parsing token responses (RFC 6749 sections 5.1 and 5.2) into ``Token`` or a typed error.

Strictly private. Any body at all gives a ``Token``, a ``TokenRequestError`` or an
``InvalidTokenResponse``: never another exception (a Hypothesis test holds us to that).
Servers in the wild are met halfway where it is safe: a numeric ``expires_in`` sent as a
string, a missing ``token_type`` (taken as Bearer), a scope sent as a list, and a
form-encoded body from old endpoints are accepted.

Lifetimes are judged: an ``expires_in`` that is not a finite number (``1e400``, a
``10**400`` too large for a float, ``NaN``) is an ``InvalidTokenResponse``; one longer than
``MAX_LIFETIME`` (a year) is clamped to it with a warning (a token is never trusted for
longer than that without asking again); ``0`` or negative gives a token that is already
expired, which the refresh policy uses for its ``min_lifetime`` floor. When the access
token is a JWT whose ``exp`` is earlier than ``expires_in`` says, the earlier one wins.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl

from authwire._core.http import HttpResponse, parse_retry_after
from authwire._core.redact import Secret, redact_text, redact_url, snippet
from authwire._core.token import Token, decode_jwt_claims, unusable_type_reason
from authwire._log import logger
from authwire.errors import InvalidTokenResponse, TokenRequestError

__all__ = ["MAX_LIFETIME", "finite_number", "parse_token_response"]

#: The longest lifetime taken from a token response, in seconds (one year); longer ones
#: are clamped to it with a warning.
MAX_LIFETIME: Final = 365 * 24 * 3600.0

_KNOWN: Final = frozenset(
    {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "id_token",
        "refresh_expires_in",
    }
)


def finite_number(value: Any) -> float | None:
    """A finite number from a JSON number or numeric string; ``None`` if it is neither.

    Args:
        value: A decoded JSON value.

    Returns:
        The number (booleans, NaN and infinities are not numbers here), or ``None``.
    """
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)  # an int beyond a float's range: OverflowError
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _decode(response: HttpResponse) -> Any:
    ctype = response.headers.get("content-type", "").lower()
    if "application/x-www-form-urlencoded" in ctype:
        return dict(parse_qsl(response.body.decode("utf-8", "replace")))
    return json.loads(response.body)


def _describe_body(body: bytes) -> str:
    head = body.lstrip()[:200].lower()
    if not head:
        return "an empty body"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "an HTML page"
    if head.startswith(b"<"):
        return "an XML or HTML document"
    return "a body that is not JSON"


def _error_fields(
    data: Any, secrets: Sequence[str | Secret[str]]
) -> tuple[str | None, str | None, str | None]:
    """The redacted ``error``, ``error_description`` and ``error_uri`` of an error body."""
    if not isinstance(data, dict):
        return None, None, None
    raw_error, raw_desc, raw_uri = (
        data.get("error"),
        data.get("error_description"),
        data.get("error_uri"),
    )
    error = redact_text(raw_error, secrets)[:100] if isinstance(raw_error, str) else None
    description = redact_text(raw_desc, secrets)[:300] if isinstance(raw_desc, str) else None
    error_uri = redact_text(raw_uri, secrets)[:300] if isinstance(raw_uri, str) else None
    return error, description, error_uri


def parse_token_response(
    response: HttpResponse,
    *,
    received_at: float,
    url: str,
    secrets: Sequence[str | Secret[str]] = (),
    token_types: Collection[str] = ("Bearer",),
) -> Token:
    """The ``Token`` in ``response``, or the typed error it amounts to.

    Args:
        response: The token endpoint's response.
        received_at: Local time (epoch seconds) when the request was sent; ``expires_at``
            is computed from it, so clock skew with the server does not matter.
        url: The token endpoint, for error messages (redacted before use).
        secrets: Values that must not appear in an error (the client secret, the
            refresh token sent, a password).
        token_types: The ``token_type`` values the caller can use, compared without
            case. Default ``("Bearer",)``; add ``"DPoP"`` when the request carried a
            DPoP proof. A missing ``token_type`` is read as Bearer.

    Raises:
        TokenRequestError: For an HTTP error status, or a success status with an ``error``.
        InvalidTokenResponse: For a body that is not a usable token response, including
            a ``token_type`` not in ``token_types`` (RFC 6749 section 7.1).
    """
    where = redact_url(url)
    status = response.status
    excerpt = snippet(response.body, secrets)
    try:
        data = _decode(response)
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    # The decoded body may echo a secret: it is dropped before anything is raised, so
    # that it is not among the locals of the traceback (``capture_locals``, Sentry).
    if status >= 400 or (isinstance(data, dict) and "error" in data):
        error, description, error_uri = _error_fields(data, secrets)
        del data
        raise TokenRequestError(
            url=where,
            status=status if status >= 400 else 400 if status < 300 else status,
            error=error,
            error_description=description,
            error_uri=error_uri,
            snippet=excerpt,
            retry_after=parse_retry_after(response.headers.get("retry-after"), received_at),
        )
    if not 200 <= status < 300:
        reason: Token | str = f"unexpected HTTP status {status}"
    elif data is None:
        reason = f"expected a JSON object, got {_describe_body(response.body)}"
    elif not isinstance(data, dict):
        reason = f"expected a JSON object, got JSON {type(data).__name__}"
    else:
        reason = _read_token(data, received_at, where, token_types, secrets)
    del data
    if isinstance(reason, Token):
        return reason
    raise InvalidTokenResponse(reason=reason, url=where, status=status, snippet=excerpt)


def _read_token(
    data: dict[str, Any],
    received_at: float,
    where: str,
    token_types: Collection[str],
    secrets: Sequence[str | Secret[str]],
) -> Token | str:
    """The ``Token`` in a decoded success body, or why there is none."""
    access_token = data.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        return "no access_token" if access_token is None else "access_token is not a string"
    token_type = data.get("token_type", "Bearer")
    if not isinstance(token_type, str) or not token_type:
        return "token_type is not a string"
    if token_type.lower() not in {t.lower() for t in token_types}:
        return unusable_type_reason(redact_text(token_type, secrets))

    expires_at: float | None = None
    if "expires_in" in data and data["expires_in"] is not None:
        expires_in = finite_number(data["expires_in"])
        if expires_in is None:
            return "expires_in is not a finite number"
        if expires_in > MAX_LIFETIME:
            logger.warning(
                "token endpoint %s sent expires_in %.3g s; clamped to %g s (one year)",
                where,
                expires_in,
                MAX_LIFETIME,
            )
            expires_in = MAX_LIFETIME
        expires_at = received_at + max(expires_in, 0.0)
    exp = finite_number(decode_jwt_claims(access_token).get("exp"))
    if exp is not None and (expires_at is None or exp < expires_at):
        # The token itself says it ends sooner: believe the earlier.
        expires_at = min(exp, received_at + MAX_LIFETIME)

    refresh_token = data.get("refresh_token")
    if refresh_token is not None and not isinstance(refresh_token, str):
        return "refresh_token is not a string"
    id_token = data.get("id_token")
    if id_token is not None and not isinstance(id_token, str):
        return "id_token is not a string"

    scope = data.get("scope")
    if isinstance(scope, list) and all(isinstance(s, str) for s in scope):
        scope = " ".join(scope)
    if scope is not None and not isinstance(scope, str):
        return "scope is not a string"

    refresh_expires_at: float | None = None
    if data.get("refresh_expires_in") is not None:
        refresh_in = finite_number(data["refresh_expires_in"])
        if refresh_in is None:
            return "refresh_expires_in is not a number"
        # Keycloak sends 0 for "does not expire".
        refresh_expires_at = received_at + refresh_in if refresh_in > 0 else None

    return Token(
        access_token=access_token,
        token_type=token_type,
        expires_at=expires_at,
        refresh_token=refresh_token or None,
        scope=scope or None,
        id_token=id_token or None,
        extra={k: v for k, v in data.items() if k not in _KNOWN},
        issued_at=received_at,
        refresh_expires_at=refresh_expires_at,
    )
