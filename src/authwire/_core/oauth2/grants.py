"""Grant flows: each yields its token request and returns a ``Token``.

Strictly private. Stepped by hand in the unit tests::

    flow = client_credentials_flow(endpoint, clock=clock)
    request = next(flow)                  # the HttpRequest to send
    flow.send(response)                   # StopIteration.value is the Token
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

from authwire._core.flow import Flow
from authwire._core.oauth2.token_request import TokenEndpoint, build_token_request
from authwire._core.oauth2.token_response import parse_token_response
from authwire._core.retry import DEFAULT_RETRY, RetryPolicy, send_with_retries
from authwire._core.token import Token

__all__ = ["client_credentials_flow", "refresh_token_flow", "token_flow"]


def token_flow(
    endpoint: TokenEndpoint,
    grant_type: str,
    params: Mapping[str, str | None] | None = None,
    *,
    clock: Callable[[], float],
    retry: RetryPolicy = DEFAULT_RETRY,
    secrets: Sequence[str] = (),
    include_scope: bool = True,
    rand: Callable[[], float] = random.random,
) -> Flow[Token]:
    """Request a token with any grant and parse the answer.

    Raises:
        TokenRequestError: The endpoint refused (after retries, for retryable errors).
        InvalidTokenResponse: The answer was not a token response.
        TokenEndpointUnreachable: No answer (after retries).
    """
    sent_at = clock()
    request = build_token_request(
        endpoint, grant_type, params, secrets=secrets, include_scope=include_scope, now=sent_at
    )
    if endpoint.dpop is None:
        response = yield from send_with_retries(request, retry, now=clock, rand=rand)
    else:
        from authwire._core.oauth2.dpop import dpop_send_flow

        response = yield from dpop_send_flow(
            request,
            endpoint.dpop,
            lambda signed: send_with_retries(signed, retry, now=clock, rand=rand),
            clock,
        )
    return parse_token_response(
        response, received_at=sent_at, url=endpoint.url, secrets=request.secrets
    )


def client_credentials_flow(
    endpoint: TokenEndpoint,
    *,
    clock: Callable[[], float],
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Flow[Token]:
    """The client credentials grant (RFC 6749 section 4.4)."""
    return (yield from token_flow(endpoint, "client_credentials", clock=clock, retry=retry))


def refresh_token_flow(
    endpoint: TokenEndpoint,
    refresh_token: str,
    *,
    clock: Callable[[], float],
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Flow[Token]:
    """Refreshing an access token (RFC 6749 section 6).

    The scope is not sent, so the server keeps the originally granted one. A response
    without a new refresh token keeps the old one (section 6: the server *may* rotate it).
    """
    token = yield from token_flow(
        endpoint,
        "refresh_token",
        {"refresh_token": refresh_token},
        clock=clock,
        retry=retry,
        secrets=(refresh_token,),
        include_scope=False,
    )
    if token.refresh_token is None:
        from dataclasses import replace

        token = replace(token, refresh_token=refresh_token)
    return token
