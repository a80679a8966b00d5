"""dlsdk: a Descartes-Labs-style SDK whose auth module is built on authwire (an example)."""

from __future__ import annotations

from dlsdk.auth import APP, Auth, AuthError, OauthError

__all__ = ["APP", "Auth", "AuthError", "OauthError"]
