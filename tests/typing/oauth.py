"""Type-checks the OAuth 2.0 / OIDC grants as a user would write them (never executed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import requests

import authwire
import authwire.httpx
import authwire.requests


def every_grant(issuer: str, pem: str) -> list[authwire.Credential]:
    """Construct each grant with its own arguments; mypy checks every keyword."""
    service = authwire.ClientCredentials(
        issuer=issuer, client_id="svc", private_key=pem, key_id="k1", signing_alg="PS256"
    )
    password = authwire.PasswordGrant(
        issuer=issuer, client_id="cli", username="alice", password=authwire.Secret("pw")
    )
    refresh = authwire.RefreshTokenGrant(
        "https://login.example.com/token", client_id="cli", refresh_token="rt"
    )

    def show(auth: authwire.DeviceAuthorization) -> None:
        print(auth.verification_uri, auth.user_code, auth.verification_uri_complete)

    device = authwire.DeviceCode(issuer=issuer, client_id="cli", prompt=show, dpop=True)
    browser = authwire.AuthorizationCode(
        issuer=issuer, client_id="cli", open_browser=False, authorization_params={"prompt": "login"}
    )
    bearer = authwire.JwtBearer(issuer=issuer, client_id="svc", assertion_key=pem, subject="robot")
    exchange = authwire.TokenExchange(
        issuer=issuer, client_id="gw", client_secret="s", subject=password, actor=service
    )
    on_behalf = authwire.TokenExchange(
        issuer=issuer, client_id="gw", subject=authwire.Secret("user-token"), actor="gw-token"
    )
    projected = authwire.JwtBearer(
        issuer=issuer, client_id="svc", assertion=lambda: "eyJ...", cache_identity="robot@prod"
    )
    mtls = authwire.ClientCredentials(
        issuer=issuer, client_id="tls", cert=("c.pem", "k.pem"), verify="ca.pem"
    )
    return [
        service,
        password,
        refresh,
        device,
        browser,
        bearer,
        exchange,
        on_behalf,
        projected,
        mtls,
    ]


def use(cred: authwire.AuthorizationCode) -> Mapping[str, Any] | None:
    """Tokens, verified ID token claims and logout, sync."""
    session = requests.Session()
    session.auth = authwire.requests.Auth(cred)
    token: authwire.Token = cred.get_token()
    print(token.token_type)
    claims = cred.id_token_claims
    revoked: bool = cred.revoke()
    print(revoked)
    return claims


async def ause(cred: authwire.DeviceCode, key: authwire.DPoPKey) -> bool:
    """The async twins."""
    async with httpx.AsyncClient(auth=authwire.httpx.Auth(cred)) as client:
        await client.get("https://api.example.com/")
    print(key.thumbprint)
    return await cred.arevoke()
