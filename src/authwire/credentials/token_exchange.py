"""``TokenExchange``: OAuth 2.0 token exchange (RFC 8693)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from authwire._core.flow import Call, Flow
from authwire._core.oauth2.grants import token_flow
from authwire._core.redact import Secret
from authwire._core.token import Token
from authwire.caches.base import identity_fingerprint
from authwire.credentials._oauth2 import OAuth2Credential
from authwire.credentials.base import Credential, ManagedCredential
from authwire.credentials.static import StaticToken
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from authwire.credentials._oauth2 import OAuth2Options

__all__ = ["TokenExchange"]

#: ``grant_type`` of token exchange (RFC 8693 section 2.1).
TOKEN_EXCHANGE_GRANT: Final = "urn:ietf:params:oauth:grant-type:token-exchange"
#: The token type URI of an access token (RFC 8693 section 3).
ACCESS_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:access_token"


async def _aget(credential: Credential) -> Secret[str]:
    return Secret((await credential.aget_token()).access_token)


def _get(credential: Credential) -> Secret[str]:
    return Secret(credential.get_token().access_token)


def _held(part: Credential | str | Secret[str] | None) -> Credential | Secret[str] | None:
    """A subject or actor as held: a token string wrapped in a ``Secret``."""
    if part is None or isinstance(part, (Credential, Secret)):
        return part
    return Secret(part)


def _part_identity(
    part: Credential | Secret[str] | None, role: str, instance: str
) -> Mapping[str, str] | None:
    """What identifies a subject or actor in the cache key; never the token itself.

    A token (a string or a ``StaticToken``) by its keyed fingerprint; a managed credential
    (a grant, ``CommandCredential``...) by its own cache key, which holds its identity;
    a credential exposing a ``cache_key`` string by that. Any other credential (a chain,
    ``EnvironmentCredential``, your own class) cannot say whose token it will give, so it
    is identified by a random value of this ``TokenExchange``: its exchanged tokens are
    never shared with another ``TokenExchange``.
    """
    if part is None:
        return None
    if isinstance(part, Secret):
        return {"token": identity_fingerprint(part.reveal(), purpose=f"{role}_token")}
    if isinstance(part, StaticToken):
        token = part.get_token().access_token
        return {"token": identity_fingerprint(token, purpose=f"{role}_token")}
    if isinstance(part, ManagedCredential):
        return {"credential": part.cache_key}
    key = getattr(part, "cache_key", None)
    if isinstance(key, str) and key:
        return {"credential": key}
    return {"instance": instance}


class TokenExchange(OAuth2Credential):
    """A token for another audience or with delegation, in exchange for one you have.

    The subject token (and the optional actor token) come from other credentials, fetched
    (and refreshed) through them each time a new exchanged token is needed, or are given
    as strings (held as ``authwire.Secret``).

    The cache key holds a keyed one-way fingerprint of a subject or actor token given as
    a string or ``StaticToken``, and the cache key of a subject or actor credential, so
    the tokens exchanged for two users never share a cache entry. A credential with no
    cache identity of its own (``CredentialChain``, ``EnvironmentCredential``,
    ``ProfileCredential``, your own ``Credential``) gets a random one per
    ``TokenExchange``: its exchanged tokens are cached for that object only.

    Args:
        token_url: The token endpoint; or give ``issuer=``.
        subject: The credential (or token, a string or ``authwire.Secret``) whose token is
            exchanged.
        subject_token_type: Its type URI. Default: access token.
        actor: The credential (or token) of the party acting, for delegation.
        actor_token_type: Its type URI. Default: access token.
        requested_token_type: The type URI wanted, if any.
        **kwargs: ``issuer``, ``client_id``, ``client_secret``, ``audience``,
            ``resource``, ``scope`` and the rest: see ``ClientCredentials``.

    Example:
        >>> from authwire import StaticToken
        >>> cred = TokenExchange("https://login.example.com/token", client_id="gw",
        ...                      client_secret="s", subject=StaticToken("user-token"),
        ...                      audience="orders")
        >>> cred.client_id
        'gw'
    """

    _grant_name = "token_exchange"

    def __init__(
        self,
        token_url: str | None = None,
        *,
        subject: Credential | str | Secret[str],
        subject_token_type: str = ACCESS_TOKEN_TYPE,
        actor: Credential | str | Secret[str] | None = None,
        actor_token_type: str = ACCESS_TOKEN_TYPE,
        requested_token_type: str | None = None,
        **kwargs: Unpack[OAuth2Options],
    ) -> None:
        held = _held(subject)
        if held is None or (isinstance(held, Secret) and not held.reveal()):
            raise ConfigurationError("TokenExchange needs a subject credential or token")
        self._actor = _held(actor)
        if isinstance(self._actor, Secret) and not self._actor.reveal():
            raise ConfigurationError("TokenExchange's actor= token is empty")
        self._subject: Credential | Secret[str] = held
        self._subject_type = subject_token_type
        self._actor_type = actor_token_type
        self._requested = requested_token_type
        # Identifies a subject or actor credential that has no cache identity of its own.
        self._instance = secrets.token_hex(16)
        super().__init__(token_url, **kwargs)

    def _identity_extra(self) -> Mapping[str, Any]:
        return {
            "subject": _part_identity(self._subject, "subject", self._instance),
            "subject_token_type": self._subject_type,
            "actor": _part_identity(self._actor, "actor", self._instance),
            "actor_token_type": self._actor_type if self._actor is not None else None,
            "requested": self._requested,
        }

    def _token_of(self, part: Credential | Secret[str]) -> Flow[Secret[str]]:
        # Kept wrapped until the body is encoded: no frame holds the plain token.
        if isinstance(part, Secret):
            return part
        value: Secret[str] = yield Call(_get, afn=_aget, args=(part,))
        return value

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        endpoint = yield from self._endpoint_flow()
        subject_token = yield from self._token_of(self._subject)
        params: dict[str, str | Secret[str] | None] = {
            "subject_token": subject_token,
            "subject_token_type": self._subject_type,
            "requested_token_type": self._requested,
        }
        hidden = [subject_token]
        if self._actor is not None:
            actor_token = yield from self._token_of(self._actor)
            params["actor_token"] = actor_token
            params["actor_token_type"] = self._actor_type
            hidden.append(actor_token)
        return (
            yield from token_flow(
                endpoint,
                TOKEN_EXCHANGE_GRANT,
                params,
                clock=self._clock,
                retry=self._retry,
                secrets=tuple(hidden),
            )
        )
