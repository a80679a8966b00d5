"""Logging in and out for a profile: the grant credential behind ``login``/``logout``.

Strictly private. The grant runs with a private in-memory cache; the login is then saved
under the profile's own key (``Profile.save_login``), where ``ProfileCredential`` finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authwire._core.token import Token
from authwire.config import Profile
from authwire.config._credential import _secret
from authwire.credentials._oauth2 import UserGrant
from authwire.errors import ConfigurationError

__all__ = ["LOGIN_GRANTS", "login", "logout", "user_grant"]

#: The grants ``authwire login`` can run, by the profile's ``grant`` name.
LOGIN_GRANTS = ("device_code", "authorization_code")


def _common(profile: Profile) -> dict[str, Any]:
    options: dict[str, Any] = {"client_id": profile.client_id, "scope": profile.scope}
    if profile.issuer:
        options["issuer"] = profile.issuer
    else:
        options["token_url"] = profile.token_url
    if profile.audience:
        options["audience"] = profile.audience
    if profile.auth_method:
        options["auth_method"] = profile.auth_method
    secret = _secret(profile)  # as ProfileCredential reads it
    if secret is not None:
        options["client_secret"] = secret
    return options


def user_grant(
    profile: Profile,
    grant: str,
    *,
    prompt: Callable[[Any], object] | None = None,
    poll_interval: float | None = None,
    browser: Callable[[str], object] | None = None,
) -> UserGrant:
    """The ``DeviceCode`` or ``AuthorizationCode`` credential for ``profile``.

    Endpoints not in discovery come from the profile's extra settings
    (``device_authorization_url``, ``authorization_url``).

    Raises:
        ConfigurationError: ``grant`` is not one ``authwire login`` runs.
        CredentialUnavailable: The profile's client secret variable is not set.
    """
    from authwire.caches.memory import MemoryCache

    options = _common(profile)
    options["cache"] = MemoryCache()
    extra = profile.extra
    if grant == "device_code":
        from authwire.credentials.device_code import DeviceCode

        return DeviceCode(
            device_authorization_url=extra.get("device_authorization_url"),
            prompt=prompt,
            poll_interval=poll_interval,
            **options,
        )
    if grant == "authorization_code":
        from authwire.credentials.authorization_code import AuthorizationCode

        return AuthorizationCode(
            authorization_url=extra.get("authorization_url"),
            browser=browser,
            **options,
        )
    raise ConfigurationError(
        f"profile {profile.name!r} uses the {grant} grant; `{profile.command} login` runs "
        "device_code (--device) or authorization_code (--browser)"
    )


def login(profile: Profile, credential: UserGrant) -> Token:
    """Run the grant and save the token as the profile's login."""
    token = credential.get_token()
    profile.save_login(token)
    return token


def logout(profile: Profile) -> tuple[bool, bool]:
    """Revoke the saved login at the provider, then delete it from the cache.

    The local copy is deleted even when revocation fails (the error is raised after), so
    a logout never leaves a login behind on this machine.

    Returns:
        ``(had_login, revoked)``: whether a login was saved, and whether the provider
        revoked at least one of its tokens.
    """
    token = profile.load_login()
    if token is None:
        return False, False
    grant = profile.grant if profile.grant in LOGIN_GRANTS else "device_code"
    try:
        credential = user_grant(profile, grant)
        credential.manager.cache.set(credential.cache_key, token)
        revoked = credential.revoke(revocation_url=profile.extra.get("revocation_url"))
    finally:
        profile.forget_login()
    return True, revoked
