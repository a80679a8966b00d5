"""``benchsdk.auth``: login helpers and ``AuthRefresher``, as the seed's ``client.auth``."""

from __future__ import annotations

from benchsdk.auth.helpers import (
    AuthenticationInfo,
    get_arthur_internal_user_org,
    get_auth_info,
    get_current_org,
    user_login,
)
from benchsdk.auth.refresh import AuthRefresher

__all__ = [
    "AuthRefresher",
    "AuthenticationInfo",
    "get_arthur_internal_user_org",
    "get_auth_info",
    "get_current_org",
    "user_login",
]
