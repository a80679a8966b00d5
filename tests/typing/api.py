"""Type-checks the public API as a user would write it (run by ``mypy --strict``)."""

from __future__ import annotations

import httpx
import requests

import authwire
import authwire.httpx
import authwire.requests


def sync_usage() -> str:
    """Exercise the sync surface; mypy checks every type here."""
    cred = authwire.ClientCredentials(
        "https://login.example.com/token", client_id="svc", client_secret="secret"
    )
    token: authwire.Token = cred.get_token()
    scheme = authwire.ApiKey("k") + authwire.BearerAuth(cred)
    session = requests.Session()
    session.auth = authwire.requests.Auth(scheme)
    client = httpx.Client(auth=authwire.httpx.Auth(cred))
    client.close()
    return token.access_token


async def async_usage() -> authwire.Token:
    """Exercise the async surface."""
    cred = authwire.StaticToken("t")
    async with httpx.AsyncClient(auth=authwire.httpx.Auth(cred)) as client:
        await client.get("https://api.example.com/")
    return await cred.aget_token()


def encrypted_caches(redis_url: str) -> list[authwire.TokenCache]:
    """Caches sealing their entries, with keys from each source."""
    rotated = authwire.CacheCipher(authwire.CacheCipher.generate_key(), bytes(32))
    from_env: authwire.CacheCipher = authwire.CacheCipher.from_env()
    from_keyring = authwire.CacheCipher.from_keyring("svc", "cache-key")
    secret_key = authwire.CacheCipher(authwire.Secret(authwire.CacheCipher.generate_key()))
    ids: tuple[str, ...] = rotated.key_ids
    assert ids
    return [
        authwire.FileCache("/tmp/tokens", encryption=rotated),
        authwire.RedisCache(redis_url, encryption=from_env),
        authwire.FileCache(encryption=from_keyring),
        authwire.RedisCache(redis_url, encryption=secret_key),
    ]
