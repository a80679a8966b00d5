"""``DeviceCode``: the device authorization grant (RFC 8628) for CLIs and headless hosts."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from authwire._core.flow import Flow
from authwire._core.oauth2.device import DeviceAuthorization, device_code_flow
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire._core.origin import require_secure
from authwire._core.token import Token
from authwire.credentials._oauth2 import UserGrant
from authwire.errors import ConfigurationError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from authwire.credentials._oauth2 import UserGrantOptions

__all__ = ["DeviceAuthorization", "DeviceCode"]


def print_prompt(auth: DeviceAuthorization) -> None:
    """The default prompt: the instruction on standard error."""
    print(auth.message, file=sys.stderr, flush=True)


class DeviceCode(UserGrant):
    """A user login on another device: show a code, wait while the user approves it.

    The first ``get_token()`` asks for a device code, calls ``prompt`` with the
    ``DeviceAuthorization`` (verification URI, complete URI, user code), then polls the
    token endpoint every ``interval`` seconds (5 more after each ``slow_down``) until the
    user approves. Later tokens come from the refresh token; if it is refused, the device
    login starts again.

    The server's timing is bounded: its ``interval`` is taken as at least 1 second, its
    ``expires_in`` as at most an hour, and no wait goes past the code's expiry, after which
    ``InteractionRequired`` is raised without another poll.

    Args:
        token_url: The token endpoint; or give ``issuer=``.
        device_authorization_url: The device authorization endpoint; default from
            discovery.
        prompt: Shows the user what to do; called once per login with a
            ``DeviceAuthorization``. Default: prints the instruction to standard error.
        poll_interval: Seconds between polls instead of the server's ``interval``.
            ``None`` (default) uses the server's (at least 1), or 5 when it gives none.
            ``0`` polls without waiting (tests). Waits never go past the code's expiry.
        **kwargs: ``issuer``, ``client_id``, ``client_secret``, ``scope``, ``auth_method``
            (``none`` for a public client) and the rest: see ``ClientCredentials``.

    Raises:
        InteractionRequired: From ``get_token``: the user denied, or the code expired.

    Example:
        >>> cred = DeviceCode(issuer="https://login.example.com", client_id="cli",
        ...                   scope="openid offline_access")
        >>> cred.client_id
        'cli'
    """

    _interactive = True

    _grant_name = "device_code"

    def __init__(
        self,
        token_url: str | None = None,
        *,
        device_authorization_url: str | None = None,
        prompt: Callable[[DeviceAuthorization], object] | None = None,
        poll_interval: float | None = None,
        **kwargs: Unpack[UserGrantOptions],
    ) -> None:
        if poll_interval is not None and not (math.isfinite(poll_interval) and poll_interval >= 0):
            raise ConfigurationError("poll_interval must be a finite number >= 0 seconds")
        self._device_url = device_authorization_url
        self._prompt = prompt or print_prompt
        self._poll_interval = poll_interval
        super().__init__(token_url, **kwargs)
        if device_authorization_url:
            require_secure(
                device_authorization_url,
                allow_insecure=self._allow_insecure,
                what=self._grant_name,
            )

    def _identity_extra(self) -> Mapping[str, Any]:
        return {"device_authorization_url": self._device_url}

    def _login_flow(self, endpoint: TokenEndpoint) -> Flow[Token]:
        url = yield from self._url_flow("device_authorization_endpoint", self._device_url)
        return (
            yield from device_code_flow(
                endpoint,
                url,
                prompt=self._prompt,
                clock=self._clock,
                retry=self._retry,
                poll_interval=self._poll_interval,
            )
        )
