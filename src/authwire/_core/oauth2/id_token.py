"""ID token validation with the provider's JWKS (OIDC Core section 3.1.3.7).

Strictly private. PyJWT checks the signature; the claims are then checked here against
the injected clock: ``iss`` (exact), ``aud`` (contains the client id; ``azp`` when there
are several audiences), ``exp``, ``iat`` and ``nbf`` (each with ``leeway`` of clock skew:
a token issued, or valid from, more than that in the future is refused), and ``nonce``
when one was sent.
JWKS documents are cached in memory per URL for 24 hours and fetched again once when an
ID token names a key id the cached set lacks (key rotation).
"""

from __future__ import annotations

import hmac
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final

from authwire._core.flow import Flow
from authwire._core.http import Headers, HttpRequest, HttpResponse, json_or_none
from authwire._core.oauth2.assertion import SIGNING_ALGORITHMS
from authwire._core.redact import redact_url, snippet
from authwire.errors import ConfigurationError, InvalidTokenResponse

__all__ = [
    "ID_TOKEN_LEEWAY",
    "clear_jwks_cache",
    "fetch_jwks_flow",
    "verify_id_token",
    "verify_id_token_flow",
]

#: Seconds of clock skew tolerated on ``exp``, ``iat`` and ``nbf``.
ID_TOKEN_LEEWAY: Final = 60.0
JWKS_TTL: Final = 24 * 3600.0
#: Signature algorithms accepted for ID tokens (never ``none``, never HMAC with a JWKS):
#: the asymmetric ones authwire signs with.
ALGORITHMS: Final = SIGNING_ALGORITHMS

_lock = threading.Lock()
_jwks_cache: dict[str, tuple[dict[str, Any], float]] = {}


def clear_jwks_cache() -> None:
    """Forget every fetched JWKS (tests; a provider that moved)."""
    with _lock:
        _jwks_cache.clear()


def _invalid(reason: str, url: str = "") -> InvalidTokenResponse:
    return InvalidTokenResponse(reason=f"ID token rejected: {reason}", url=url)


def fetch_jwks_flow(
    jwks_uri: str, *, clock: Callable[[], float], refresh: bool = False
) -> Flow[dict[str, Any]]:
    """The JWKS at ``jwks_uri``, from the memory cache unless ``refresh``.

    Raises:
        ConfigurationError: The document is not a JWKS.
    """
    now = clock()
    with _lock:
        entry = _jwks_cache.get(jwks_uri)
    if entry is not None and not refresh and 0 <= now - entry[1] < JWKS_TTL:
        return entry[0]
    response: HttpResponse = yield HttpRequest(
        method="GET", url=jwks_uri, headers=Headers({"Accept": "application/json"})
    )
    data = json_or_none(response.body) if 200 <= response.status < 300 else None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ConfigurationError(
            f"the provider's jwks_uri {redact_url(jwks_uri)} did not give a JWKS "
            f"(HTTP {response.status}: {snippet(response.body)!r})"
        )
    with _lock:
        _jwks_cache[jwks_uri] = (data, now)
    return data


def _seconds(value: Any) -> float | None:
    """A NumericDate claim as a finite number of seconds, or ``None`` for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def _key_for(jwks: Mapping[str, Any], kid: str | None, alg: str) -> Any | None:
    import jwt

    candidates = [
        k
        for k in jwks.get("keys", [])
        if isinstance(k, dict)
        and k.get("use", "sig") == "sig"
        and (kid is None or k.get("kid") == kid)
    ]
    for candidate in candidates:
        try:
            return jwt.PyJWK(candidate, alg).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            continue
    return None


def verify_id_token(
    id_token: str,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    now: float,
    nonce: str | None = None,
    leeway: float = ID_TOKEN_LEEWAY,
) -> dict[str, Any]:
    """The claims of ``id_token`` once its signature and claims check out.

    Args:
        id_token: The compact JWS.
        jwks: The provider's key set.
        issuer: The expected ``iss``.
        client_id: The client, which must be in ``aud``.
        now: The current time (epoch seconds).
        nonce: The nonce sent in the authorization request; ``None`` skips the check
            (a refresh or device login, where none was sent).
        leeway: Seconds of clock skew tolerated on ``exp``, ``iat`` and ``nbf``.

    Returns:
        The verified claims.

    Raises:
        InvalidTokenResponse: For any failed check; the message names which.
    """
    try:
        import jwt
    except ImportError:
        raise ConfigurationError(
            "ID token validation needs PyJWT: pip install 'authwire[jwt]'"
        ) from None
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise _invalid("not a JWS") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:  # a list would not even hash
        raise _invalid(f"algorithm {alg!r} is not accepted")
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    key = _key_for(jwks, kid, alg)
    if key is None:
        raise _invalid(f"no key {kid!r} in the provider's JWKS")
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=[alg],
            audience=client_id,
            issuer=issuer,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat"],
                # Time is checked below against the injected clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise _invalid("bad signature") from None
    except jwt.InvalidAudienceError:
        raise _invalid(f"aud does not contain {client_id!r}") from None
    except jwt.InvalidIssuerError:
        raise _invalid(f"iss is not {redact_url(issuer)!r}") from None
    except jwt.MissingRequiredClaimError as exc:
        raise _invalid(f"claim {exc.claim!r} missing") from None
    except jwt.PyJWTError as exc:
        raise _invalid(type(exc).__name__) from None
    exp = _seconds(claims.get("exp"))
    if exp is None:
        raise _invalid("exp is not a finite number")  # NaN would never expire
    if exp + leeway <= now:
        raise _invalid("expired")
    iat = _seconds(claims.get("iat"))
    if iat is None:
        raise _invalid("iat is not a time")
    if iat > now + leeway:
        raise _invalid(f"issued in the future (iat is {iat - now:.0f} s ahead of this clock)")
    if "nbf" in claims:
        nbf = _seconds(claims["nbf"])
        if nbf is None:
            raise _invalid("nbf is not a time")
        if nbf > now + leeway:
            raise _invalid(f"not valid yet (nbf is {nbf - now:.0f} s ahead of this clock)")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise _invalid("several audiences and azp is not the client")
    if nonce is not None:
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
            raise _invalid("nonce does not match the authorization request")
    return claims


def verify_id_token_flow(
    id_token: str,
    jwks_uri: str,
    *,
    issuer: str,
    client_id: str,
    clock: Callable[[], float],
    nonce: str | None = None,
) -> Flow[dict[str, Any]]:
    """``verify_id_token`` with the JWKS fetched (and refetched once on an unknown kid)."""
    import jwt

    jwks = yield from fetch_jwks_flow(jwks_uri, clock=clock)
    try:
        kid = jwt.get_unverified_header(id_token).get("kid")
    except jwt.PyJWTError:
        kid = None
    known = {k.get("kid") for k in jwks.get("keys", []) if isinstance(k, dict)}
    if kid is not None and kid not in known:
        jwks = yield from fetch_jwks_flow(jwks_uri, clock=clock, refresh=True)
    return verify_id_token(
        id_token, jwks, issuer=issuer, client_id=client_id, now=clock(), nonce=nonce
    )
