"""The device authorization grant (RFC 8628): polling as yields and waits.

Strictly private. ``device_code_flow`` asks for a device code, shows the user where to go
(a ``Call`` of the prompt callback), then polls the token endpoint, waiting with ``Sleep``
between polls: at ``interval`` seconds (5 if the server gives none, section 3.5), 5 more
after each ``slow_down``, going on through ``authorization_pending``, and stopping with
``InteractionRequired`` on ``access_denied``, ``expired_token`` or when the code expires.

The server's timing is not trusted: a server ``interval`` below ``MIN_INTERVAL`` is raised
to it, the code's lifetime is capped at ``MAX_CODE_LIFETIME``, and no wait goes past the
moment the code expires; so a hostile or broken ``interval`` (``0.001``, ``10**9``,
``1e300``) can neither flood the endpoint nor hang the caller.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from authwire._core.deadline import restart_current
from authwire._core.flow import Call, Flow, Sleep
from authwire._core.http import HttpRequest, HttpResponse, json_or_none
from authwire._core.oauth2.grants import token_flow
from authwire._core.oauth2.token_request import TokenEndpoint, build_form_request
from authwire._core.oauth2.token_response import finite_number
from authwire._core.redact import Secret, redact_text, redact_url, snippet
from authwire._core.retry import DEFAULT_RETRY, RetryPolicy, send_with_retries
from authwire._core.token import Token
from authwire.errors import InteractionRequired, InvalidTokenResponse, TokenRequestError

__all__ = [
    "DEFAULT_INTERVAL",
    "DEVICE_GRANT",
    "MAX_CODE_LIFETIME",
    "MIN_INTERVAL",
    "DeviceAuthorization",
    "build_device_authorization_request",
    "device_code_flow",
    "parse_device_authorization_response",
]

#: ``grant_type`` of the device access token request (RFC 8628 section 3.4).
DEVICE_GRANT: Final = "urn:ietf:params:oauth:grant-type:device_code"
#: Seconds between polls when the server gives no ``interval`` (section 3.5).
DEFAULT_INTERVAL: Final = 5.0
#: Seconds added to the interval after each ``slow_down`` (section 3.5).
SLOW_DOWN_STEP: Final = 5.0
#: The shortest wait between polls a server may ask for, in seconds.
MIN_INTERVAL: Final = 1.0
#: The longest a device code is waited for, in seconds, whatever ``expires_in`` says
#: (providers give 5 to 30 minutes).
MAX_CODE_LIFETIME: Final = 3600.0
#: The code's lifetime when the server gives no ``expires_in``, in seconds.
DEFAULT_CODE_LIFETIME: Final = 600.0


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    """What the user needs to approve a device login (RFC 8628 section 3.2).

    Attributes:
        verification_uri: Where the user goes.
        user_code: What the user types there.
        verification_uri_complete: A URI with the code filled in (for a QR code), if given.
        expires_at: When the codes expire (epoch seconds); at most ``MAX_CODE_LIFETIME``
            after they were asked for.
        interval: Seconds to wait between polls: the server's, at least ``MIN_INTERVAL``.
        device_code: The device code; secret, never shown.
    """

    verification_uri: str
    user_code: str
    verification_uri_complete: str | None
    expires_at: float
    interval: float
    device_code: str = field(repr=False)

    @property
    def message(self) -> str:
        """The instruction to show the user."""
        text = f"To sign in, open {self.verification_uri} and enter the code {self.user_code}"
        if self.verification_uri_complete:
            text += f"\n(or open {self.verification_uri_complete})"
        return text


def build_device_authorization_request(
    url: str, endpoint: TokenEndpoint, *, now: float | None = None
) -> HttpRequest:
    """The ``POST`` to the device authorization endpoint (section 3.1)."""
    return build_form_request(url, endpoint, {}, now=now)


def parse_device_authorization_response(
    response: HttpResponse,
    *,
    received_at: float,
    url: str,
    secrets: Sequence[str | Secret[str]] = (),
) -> DeviceAuthorization:
    """The ``DeviceAuthorization`` in ``response`` (section 3.2).

    Raises:
        TokenRequestError: The endpoint refused (an OAuth error answer).
        InvalidTokenResponse: The answer lacks ``device_code``, ``user_code`` or
            ``verification_uri``.
    """
    where = redact_url(url)
    data = json_or_none(response.body)
    if response.status >= 400 or not isinstance(data, dict) or "error" in data:
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            description = data.get("error_description")
            # Redacted like a token endpoint's answer: a server may echo the client secret.
            raise TokenRequestError(
                url=where,
                status=response.status if response.status >= 400 else 400,
                error=redact_text(data["error"], secrets)[:100],
                error_description=(
                    redact_text(description, secrets)[:300]
                    if isinstance(description, str)
                    else None
                ),
                snippet=snippet(response.body, secrets),
            )
        raise InvalidTokenResponse(
            reason="the device authorization answer is not a JSON object",
            url=where,
            status=response.status,
            snippet=snippet(response.body, secrets),
        )
    # "verification_url" is Google's spelling of the same thing.
    uri = data.get("verification_uri") or data.get("verification_url")
    values = (data.get("device_code"), data.get("user_code"), uri)
    if not all(isinstance(v, str) and v for v in values):
        raise InvalidTokenResponse(
            reason="the device authorization answer lacks device_code, user_code "
            "or verification_uri",
            url=where,
            status=response.status,
            snippet=snippet(response.body, (*secrets, str(data.get("device_code", "")))),
        )
    complete = data.get("verification_uri_complete")
    expires_in = finite_number(data.get("expires_in"))
    interval = finite_number(data.get("interval"))
    lifetime = DEFAULT_CODE_LIFETIME if expires_in is None else expires_in
    return DeviceAuthorization(
        verification_uri=str(uri),
        user_code=str(data["user_code"]),
        verification_uri_complete=complete if isinstance(complete, str) and complete else None,
        expires_at=received_at + min(max(lifetime, 0.0), MAX_CODE_LIFETIME),
        interval=max(interval, MIN_INTERVAL)
        if interval is not None and interval > 0
        else DEFAULT_INTERVAL,
        device_code=str(data["device_code"]),
    )


def _expired() -> InteractionRequired:
    return InteractionRequired(
        "the device code expired before the login was approved; start it again"
    )


def device_code_flow(
    endpoint: TokenEndpoint,
    device_authorization_url: str,
    *,
    prompt: Callable[[DeviceAuthorization], object],
    clock: Callable[[], float],
    retry: RetryPolicy = DEFAULT_RETRY,
    poll_interval: float | None = None,
    rand: Callable[[], float] = random.random,
) -> Flow[Token]:
    """The whole device login: code, prompt, polls, token.

    Args:
        endpoint: The token endpoint and client.
        device_authorization_url: The device authorization endpoint.
        prompt: Shows the user the ``DeviceAuthorization`` (called once, before polling).
        clock: The wall clock.
        retry: Retries for connection failures and 5xx answers.
        poll_interval: Seconds between polls instead of the server's ``interval`` (a
            ``slow_down`` still adds 5). ``None`` (default) uses the server's, at least
            ``MIN_INTERVAL``, or 5. Being the caller's own choice, it has no floor (``0``
            polls without waiting, for tests).
        rand: Jitter source for retries.

    No wait goes past the code's expiry: once it is reached the flow stops without
    another poll, so it ends at most ``MAX_CODE_LIFETIME`` seconds (plus the polls' own
    time) after it began.

    Raises:
        InteractionRequired: The user denied (``access_denied``) or the code expired
            before the user approved (``expired_token``, or ``expires_in`` passed).
        TokenRequestError: Any other refusal.
    """
    now = clock()
    request = build_device_authorization_request(device_authorization_url, endpoint, now=now)
    response = yield from send_with_retries(request, retry, now=clock, rand=rand)
    auth = parse_device_authorization_response(
        response, received_at=now, url=device_authorization_url, secrets=request.secrets
    )
    yield Call(prompt, args=(auth,))
    # A DeviceAuthorization may come from elsewhere than the parser: bound it again.
    expires_at = min(auth.expires_at, now + MAX_CODE_LIFETIME)
    if poll_interval is None:
        interval = max(auth.interval, MIN_INTERVAL) if auth.interval > 0 else DEFAULT_INTERVAL
    else:
        interval = poll_interval
    while True:
        left = expires_at - clock()
        if left <= 0:
            raise _expired()
        if interval >= left:
            # The next poll would come after the code expired: wait it out, then stop.
            yield Sleep(left)
            raise _expired()
        if interval > 0:
            yield Sleep(interval)
        # Waiting for the person is not the endpoint's time: each poll gets the whole deadline.
        restart_current()
        if clock() >= expires_at:
            raise _expired()
        try:
            return (
                yield from token_flow(
                    endpoint,
                    DEVICE_GRANT,
                    {"device_code": Secret(auth.device_code)},
                    clock=clock,
                    retry=retry,
                    include_scope=False,
                    rand=rand,
                )
            )
        except TokenRequestError as exc:
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            if exc.error == "access_denied":
                raise InteractionRequired("the device login was denied by the user") from exc
            if exc.error == "expired_token":
                raise _expired() from exc
            raise
