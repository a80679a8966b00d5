"""``TokenExchange``: OAuth 2.0 token exchange (RFC 8693)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from authwire._core.flow import Call, Flow
from authwire._core.oauth2.grants import token_flow
from authwire._core.token import Token
from authwire.credentials._oauth2 import OAuth2Credential
from authwire.credentials.base import Credential
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from authwire.credentials._oauth2 import OAuth2Options

__all__ = ["TokenExchange"]

#: ``grant_type`` of token exchange (RFC 8693 section 2.1).
TOKEN_EXCHANGE_GRANT: Final = "urn:ietf:params:oauth:grant-type:token-exchange"
#: The token type URI of an access token (RFC 8693 section 3).
ACCESS_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:access_token"


async def _aget(credential: Credential) -> str:
    return (await credential.aget_token()).access_token


def _get(credential: Credential) -> str:
    return credential.get_token().access_token


class TokenExchange(OAuth2Credential):
    """A token for another audience or with delegation, in exchange for one you have.

    The subject token (and the optional actor token) come from other credentials, fetched
    (and refreshed) through them each time a new exchanged token is needed, or are given
    as strings.

    Args:
        token_url: The token endpoint; or give ``issuer=``.
        subject: The credential (or token string) whose token is exchanged.
        subject_token_type: Its type URI. Default: access token.
        actor: The credential (or token string) of the party acting, for delegation.
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
        subject: Credential | str,
        subject_token_type: str = ACCESS_TOKEN_TYPE,
        actor: Credential | str | None = None,
        actor_token_type: str = ACCESS_TOKEN_TYPE,
        requested_token_type: str | None = None,
        **kwargs: Unpack[OAuth2Options],
    ) -> None:
        if not subject:
            raise ConfigurationError("TokenExchange needs a subject credential or token")
        self._subject = subject
        self._subject_type = subject_token_type
        self._actor = actor
        self._actor_type = actor_token_type
        self._requested = requested_token_type
        super().__init__(token_url, **kwargs)

    def _identity_extra(self) -> Mapping[str, Any]:
        def describe(part: Credential | str | None) -> str | None:
            if part is None or isinstance(part, str):
                return None if part is None else "token"
            key = getattr(part, "cache_key", None)
            return key if isinstance(key, str) else repr(part)

        return {
            "subject": describe(self._subject),
            "actor": describe(self._actor),
            "requested": self._requested,
        }

    def _token_of(self, part: Credential | str) -> Flow[str]:
        if isinstance(part, str):
            return part
        value: str = yield Call(_get, afn=_aget, args=(part,))
        return value

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        endpoint = yield from self._endpoint_flow()
        subject_token = yield from self._token_of(self._subject)
        params: dict[str, str | None] = {
            "subject_token": subject_token,
            "subject_token_type": self._subject_type,
            "requested_token_type": self._requested,
        }
        secrets = [subject_token]
        if self._actor is not None:
            actor_token = yield from self._token_of(self._actor)
            params["actor_token"] = actor_token
            params["actor_token_type"] = self._actor_type
            secrets.append(actor_token)
        return (
            yield from token_flow(
                endpoint,
                TOKEN_EXCHANGE_GRANT,
                params,
                clock=self._clock,
                retry=self._retry,
                secrets=tuple(secrets),
            )
        )
