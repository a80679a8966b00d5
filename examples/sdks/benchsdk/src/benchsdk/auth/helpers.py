"""Static helpers: log in, and ask the API who a token belongs to.

Each takes ``api_http_host`` (base URL with protocol) and ``verify_ssl``. The login goes
through ``authwire.LoginEndpoint``; the other calls send the token as the API expects it
(the raw token in ``Authorization``) through an ``authwire.Session``, so a token never
follows a redirect to another host and never appears in an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

import authwire

__all__ = [
    "LOGIN_PATH",
    "AuthenticationInfo",
    "get_arthur_internal_user_org",
    "get_auth_info",
    "get_current_org",
    "login_credential",
    "user_login",
]

#: The login endpoint, relative to ``api_http_host``.
LOGIN_PATH = "/api/v3/user_login"
_AUTH_INFO_PATH = "/api/v3/users/me/auth_info"
_CURRENT_ORG_PATH = "/api/v3/organizations/current"


@dataclass(frozen=True)
class AuthenticationInfo:
    """Who a token belongs to.

    Attributes:
        organization_ids: The organizations the user may act in.
        username: The user name.
        user_id: The user's id.
        extra: Every other field the API returned.
    """

    organization_ids: list[str]
    username: str | None = None
    user_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _client(verify_ssl: bool) -> requests.Session:
    client = requests.Session()
    client.verify = verify_ssl
    return client


def login_credential(
    api_http_host: str, login: str, password: str, verify_ssl: bool = True, **options: Any
) -> authwire.LoginEndpoint:
    """The authwire credential behind ``user_login`` and ``AuthRefresher``.

    The token is sent as the API expects it: the raw token in ``Authorization``.
    """
    options.setdefault("http_client", _client(verify_ssl))
    return authwire.LoginEndpoint(
        api_http_host.rstrip("/") + LOGIN_PATH,
        login,
        authwire.Secret(password),
        body="json",
        username_field="login",
        token_path="data.access_token",
        prefix="",
        **options,
    )


def user_login(api_http_host: str, login: str, password: str, verify_ssl: bool = True) -> str:
    """Get a new auth token for ``login`` and ``password``.

    Raises:
        authwire.TokenRequestError: If the login is refused (status and a redacted
            snippet; never the password).
    """
    credential = login_credential(
        api_http_host, login, password, verify_ssl, cache=authwire.MemoryCache()
    )
    return credential.get_token().access_token


def _get(api_http_host: str, path: str, auth_token: str, verify_ssl: bool) -> requests.Response:
    key = authwire.ApiKey(auth_token, header="Authorization")
    with authwire.Session(key, verify=verify_ssl, retries=0, timeout=30) as session:
        return session.get(api_http_host.rstrip("/") + path)


def get_auth_info(
    api_http_host: str, auth_token: str, verify_ssl: bool = True
) -> AuthenticationInfo:
    """The ``AuthenticationInfo`` of ``auth_token``.

    Raises:
        requests.HTTPError: If the API refuses the token.
    """
    response = _get(api_http_host, _AUTH_INFO_PATH, auth_token, verify_ssl)
    response.raise_for_status()
    data = dict(response.json())
    return AuthenticationInfo(
        organization_ids=list(data.pop("organization_ids", [])),
        username=data.pop("username", None),
        user_id=data.pop("user_id", None),
        extra=data,
    )


def get_current_org(api_http_host: str, auth_token: str, verify_ssl: bool = True) -> str | None:
    """The organization id of ``auth_token``, or ``None`` if it has none."""
    response = _get(api_http_host, _CURRENT_ORG_PATH, auth_token, verify_ssl)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    org = response.json().get("id")
    return org if isinstance(org, str) else None


def get_arthur_internal_user_org(
    api_http_host: str, auth_token: str, verify_ssl: bool = True
) -> str | None:
    """The current organization of an internal user's token (first of its auth info)."""
    info = get_auth_info(api_http_host, auth_token, verify_ssl)
    return info.organization_ids[0] if info.organization_ids else None
