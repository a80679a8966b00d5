"""``AuthenticationHTTPAdapter``: the SDK's ``requests`` adapter that adds auth headers.

The seed's adapter asks an *authenticator* for a header and, on a 401, asks it to refresh
and sends the request again. Here the authenticator wraps an authwire credential and the
adapter is an ``authwire.requests.AuthAdapter``: the refresh on 401 is compare-and-
invalidate (many threads seeing one 401 cause one refresh), the body is rewound for the
replay, and the header never goes to another origin.
"""

from __future__ import annotations

from typing import Any

import requests

import authwire
from authwire.requests import AuthAdapter

__all__ = ["AuthenticationHTTPAdapter", "Authenticator", "get_session"]

#: ``HTTPAdapter``'s positional parameters, in order (the seed passes ``*args`` through).
_ADAPTER_ARGS = ("pool_connections", "pool_maxsize", "max_retries", "pool_block")


class Authenticator:
    """Gives the header to send and refreshes it: the seed's authenticator interface.

    Args:
        credential: Any authwire credential (``ClientCredentials``, ``DeviceCode``,
            ``PasswordGrant``...).
        header_key: The header the token goes in. Default ``authorization``.
    """

    def __init__(self, credential: authwire.Credential, header_key: str = "authorization") -> None:
        self.credential = credential
        self.header_key = header_key

    def __repr__(self) -> str:
        return f"Authenticator({self.credential!r})"

    def get_credentials(self) -> authwire.Token:
        """The current token (obtained or renewed if needed)."""
        return self.credential.get_token()

    def refresh_credentials(self) -> None:
        """Drop the current token: the next call gets a new one."""
        self.credential.invalidate(self.credential.get_token())

    def fetch_grpc_call_auth_metadata(self) -> tuple[str, str]:
        """``(header_key, "Bearer <token>")`` for the next call."""
        return self.header_key, f"Bearer {self.get_credentials().access_token}"


class AuthenticationHTTPAdapter(AuthAdapter):
    """A ``requests`` adapter that adds authentication headers to a session's requests.

    If the response is a 401, the credentials are refreshed and the request sent again,
    once.

    Args:
        authenticator: An ``Authenticator`` or an authwire credential.
        *args: ``HTTPAdapter``'s ``pool_connections``, ``pool_maxsize``, ``max_retries``,
            ``pool_block``, in that order.
        **kwargs: The same by name, and ``origins=``/``allow_insecure=`` for authwire.
    """

    def __init__(
        self, authenticator: Authenticator | authwire.Credential, *args: Any, **kwargs: Any
    ) -> None:
        if len(args) > len(_ADAPTER_ARGS):
            raise TypeError(f"at most {len(_ADAPTER_ARGS)} positional adapter arguments")
        kwargs.update(zip(_ADAPTER_ARGS, args, strict=False))
        if not isinstance(authenticator, Authenticator):
            authenticator = Authenticator(authenticator)
        self.authenticator = authenticator
        scheme = authwire.BearerAuth(authenticator.credential, header=authenticator.header_key)
        super().__init__(scheme, **kwargs)

    def add_auth_header(self, request: requests.PreparedRequest) -> None:
        """Add the authentication header to ``request`` (for callers that send it themselves)."""
        key, value = self.authenticator.fetch_grpc_call_auth_metadata()
        request.headers[key] = value


def get_session(
    endpoint: str, authenticator: Authenticator | authwire.Credential, **adapter_kwargs: Any
) -> requests.Session:
    """The SDK's ``requests.Session``: the adapter mounted on ``endpoint``, bound to it.

    Example:
        >>> import authwire
        >>> cred = authwire.StaticToken("t-1")
        >>> session = get_session("https://flyte.example.com", cred)
    """
    session = requests.Session()
    adapter_kwargs.setdefault("origins", endpoint)
    session.mount(
        endpoint.rstrip("/") + "/", AuthenticationHTTPAdapter(authenticator, **adapter_kwargs)
    )
    return session
