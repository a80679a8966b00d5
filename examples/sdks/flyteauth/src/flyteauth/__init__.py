"""flyteauth: a flytekit-style ``AuthenticationHTTPAdapter`` and authenticators, on authwire."""

from __future__ import annotations

from flyteauth.auth_helper import (
    AuthenticationHTTPAdapter,
    Authenticator,
    get_session,
)

__all__ = ["AuthenticationHTTPAdapter", "Authenticator", "get_session"]
