"""Grant flows: each yields its token request and returns a ``Token``.

Strictly private. Stepped by hand in the unit tests::

    flow = client_credentials_flow(endpoint, clock=clock)
    request = next(flow)                  # the HttpRequest to send
    flow.send(response)                   # StopIteration.value is the Token
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from authwire._core.flow import Flow
from authwire._core.http import HttpRequest, HttpResponse
from authwire._core.oauth2.token_request import TokenEndpoint, build_token_request
from authwire._core.oauth2.token_response import parse_token_response
from authwire._core.redact import Secret, reveal, wrap_secrets
from authwire._core.retry import DEFAULT_RETRY, RetryPolicy, send_with_retries
from authwire._core.token import Token

__all__ = ["client_credentials_flow", "refresh_token_flow", "token_flow"]

#: The token exchange grant (RFC 8693), whose answers may say ``token_type: N_A``.
_TOKEN_EXCHANGE: Final = "urn:ietf:params:oauth:grant-type:token-exchange"


def _guarded(
    params: Mapping[str, str | Secret[str] | None] | None,
    secrets: Sequence[str | Secret[str]],
) -> dict[str, str | Secret[str] | None]:
    """``params`` with every value listed in ``secrets`` wrapped as a ``Secret``."""
    plain = {reveal(s) for s in secrets}
    return {
        key: Secret(value) if isinstance(value, str) and value in plain else value
        for key, value in (params or {}).items()
    }


def token_flow(
    endpoint: TokenEndpoint,
    grant_type: str,
    params: Mapping[str, str | Secret[str] | None] | None = None,
    *,
    clock: Callable[[], float],
    retry: RetryPolicy = DEFAULT_RETRY,
    secrets: Sequence[str | Secret[str]] = (),
    include_scope: bool = True,
    rand: Callable[[], float] = random.random,
) -> Flow[Token]:
    """Request a token with any grant and parse the answer.

    The answer's ``token_type`` must be one this client can use (RFC 6749 section 7.1):
    ``Bearer``, ``DPoP`` when the endpoint has a DPoP key, and for token exchange
    ``N_A`` (RFC 8693 section 2.2.1: a token that is not an access token, which the
    bearer schemes then refuse to send).

    Args:
        endpoint: The endpoint and client.
        grant_type: The ``grant_type`` value.
        params: Grant-specific parameters. Give secret ones (a password, a refresh token)
            as ``Secret``: they stay wrapped until the body is encoded.
        clock: The wall clock.
        retry: Retries for connection failures, 429 and 5xx.
        secrets: More values never to be shown; plain values of ``params`` found here
            are wrapped too.
        include_scope: Send the endpoint's scope, audience and resources.
        rand: Jitter source for retries.

    Raises:
        TokenRequestError: The endpoint refused (after retries, for retryable errors).
        InvalidTokenResponse: The answer was not a token response, or its ``token_type``
            is not one this client can use.
        TokenEndpointUnreachable: No answer (after retries).
    """
    # Rebound, so that this frame (alive in any traceback of a failed request) holds
    # only wrapped values, whatever the caller passed.
    params = _guarded(params, secrets)
    secrets = wrap_secrets(secrets)
    sent_at = clock()
    made: list[HttpRequest] = []

    def make() -> HttpRequest:
        # Built afresh for every attempt: a client assertion or DPoP proof is single-use.
        at = clock()
        request = build_token_request(
            endpoint, grant_type, params, secrets=secrets, include_scope=include_scope, now=at
        )
        if endpoint.dpop is not None:
            request = endpoint.dpop.sign(request, at)
        made.append(request)
        return request

    def send() -> Flow[HttpResponse]:
        return send_with_retries(make(), retry, now=clock, rand=rand, rebuild=make)

    response = yield from send()
    if endpoint.dpop is not None:
        from authwire._core.oauth2.dpop import is_nonce_challenge

        endpoint.dpop.remember(endpoint.url, response)
        if is_nonce_challenge(response):
            # RFC 9449 section 8: the server wants its nonce in the proof; once more with it.
            response = yield from send()
            endpoint.dpop.remember(endpoint.url, response)
    request = made[-1]
    types = ["Bearer"]
    if endpoint.dpop is not None:
        types.append("DPoP")
    if grant_type == _TOKEN_EXCHANGE:
        types.append("N_A")
    return parse_token_response(
        response,
        received_at=sent_at,
        url=endpoint.url,
        secrets=request.secrets,
        token_types=types,
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
    refresh_token: str | Secret[str],
    *,
    clock: Callable[[], float],
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Flow[Token]:
    """Refreshing an access token (RFC 6749 section 6).

    The scope is not sent, so the server keeps the originally granted one. A response
    without a new refresh token keeps the old one (section 6: the server *may* rotate it).
    """
    if not isinstance(refresh_token, Secret):
        refresh_token = Secret(refresh_token)
    token = yield from token_flow(
        endpoint,
        "refresh_token",
        {"refresh_token": refresh_token},
        clock=clock,
        retry=retry,
        include_scope=False,
    )
    if token.refresh_token is None:
        from dataclasses import replace

        token = replace(token, refresh_token=refresh_token.reveal())
    return token
