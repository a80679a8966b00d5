"""JWT assertions: client authentication and the JWT bearer grant (RFC 7523).

Strictly private. PyJWT (``pip install 'authwire[jwt]'``) is imported only when an
assertion is first built or a key first loaded. Every assertion gets a fresh random
``jti`` and a short lifetime, so a captured one is useless after a minute and cannot be
replayed to a server that remembers ``jti`` values (RFC 7523 section 3, item 7).
"""

from __future__ import annotations

import json
import secrets as _secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from authwire.errors import ConfigurationError

__all__ = [
    "ASSERTION_LIFETIME",
    "CLIENT_ASSERTION_TYPE",
    "SIGNING_ALGORITHMS",
    "SigningKey",
    "build_assertion",
    "client_assertion_claims",
    "hmac_signing_key",
    "load_signing_key",
]

#: Seconds a client assertion stays valid after it is made.
ASSERTION_LIFETIME: Final = 60.0
#: ``client_assertion_type`` for JWT client authentication (RFC 7523 section 2.2).
CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The asymmetric algorithms accepted for ``private_key_jwt`` and the JWT bearer grant.
SIGNING_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_EC_ALGORITHMS: Final = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def _jwt() -> Any:
    try:
        import jwt
    except ImportError:
        raise ConfigurationError("JWT assertions need PyJWT: pip install 'authwire[jwt]'") from None
    return jwt


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key ready to sign assertions. Its ``repr`` never shows the key.

    Attributes:
        key: The ``cryptography`` private key object, or the HMAC secret bytes.
        algorithm: The JWS ``alg``.
        kid: The key id put in the JWT header, if any.
    """

    key: Any = field(repr=False)
    algorithm: str
    kid: str | None = None


def _default_algorithm(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        try:
            return _EC_ALGORITHMS[key.curve.name]
        except KeyError:
            raise ConfigurationError(f"unsupported EC curve {key.curve.name}") from None
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return "EdDSA"
    raise ConfigurationError(f"unsupported private key type {type(key).__name__}")


def load_signing_key(
    key: str | bytes | Mapping[str, Any] | Any,
    *,
    algorithm: str | None = None,
    kid: str | None = None,
    password: bytes | None = None,
) -> SigningKey:
    """A ``SigningKey`` from a PEM private key, a JWK (dict or JSON text) or a key object.

    Args:
        key: PEM text or bytes, a private JWK (``dict`` or JSON string), or a
            ``cryptography`` private key.
        algorithm: The JWS algorithm (``RS256``, ``PS256``, ``ES256``, ...). Default: the
            JWK's ``alg``, else RS256 for RSA, ES256/384/512 by curve for EC, EdDSA for Ed25519.
        kid: The key id for the JWT header. Default: the JWK's ``kid``.
        password: The password of an encrypted PEM key.

    Raises:
        ConfigurationError: The key cannot be read, is public only, or does not fit
            ``algorithm``. The message never contains the key.
    """
    jwt = _jwt()
    from cryptography.hazmat.primitives import serialization

    private: Any
    if isinstance(key, str) and key.lstrip().startswith("{"):
        try:
            key = json.loads(key)
        except ValueError:
            raise ConfigurationError("the private key is neither PEM nor a JSON JWK") from None
    if isinstance(key, Mapping):
        jwk = dict(key)
        if "d" not in jwk:
            raise ConfigurationError("the JWK is a public key; a private key is needed to sign")
        kid = kid or (jwk.get("kid") if isinstance(jwk.get("kid"), str) else None)
        algorithm = algorithm or (jwk.get("alg") if isinstance(jwk.get("alg"), str) else None)
        try:
            private = jwt.PyJWK(jwk, algorithm).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            raise ConfigurationError("the JWK could not be read as a private key") from None
    elif isinstance(key, (str, bytes)):
        data = key.encode() if isinstance(key, str) else key
        try:
            private = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError):
            raise ConfigurationError(
                "the private key could not be read (expected an unencrypted PEM key, "
                "or pass its password)"
            ) from None
    else:
        private = key
    chosen = algorithm or _default_algorithm(private)
    if chosen not in SIGNING_ALGORITHMS:
        known = ", ".join(sorted(SIGNING_ALGORITHMS))
        raise ConfigurationError(f"signing algorithm {chosen!r} is not one of: {known}")
    family = _default_algorithm(private)
    if family[:2] != chosen[:2] and not (family == "RS256" and chosen.startswith("PS")):
        raise ConfigurationError(f"a {family[:2]} key cannot sign with {chosen}")
    return SigningKey(key=private, algorithm=chosen, kid=kid)


def hmac_signing_key(secret: str, algorithm: str = "HS256") -> SigningKey:
    """A ``SigningKey`` for ``client_secret_jwt``: the client secret as HMAC key."""
    return SigningKey(key=secret.encode(), algorithm=algorithm)


def client_assertion_claims(
    client_id: str, audience: str, now: float, lifetime: float = ASSERTION_LIFETIME
) -> dict[str, Any]:
    """The claims of a client assertion (RFC 7523 section 3; OIDC Core section 9).

    ``iss`` and ``sub`` are the client id, ``aud`` the token endpoint, ``jti`` fresh.
    """
    issued = int(now)
    return {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": _secrets.token_urlsafe(24),
        "iat": issued,
        "exp": issued + int(lifetime),
    }


def build_assertion(claims: Mapping[str, Any], key: SigningKey) -> str:
    """``claims`` signed with ``key`` as a compact JWS."""
    jwt = _jwt()
    headers = {"kid": key.kid} if key.kid else None
    token: str = jwt.encode(dict(claims), key.key, algorithm=key.algorithm, headers=headers)
    return token
