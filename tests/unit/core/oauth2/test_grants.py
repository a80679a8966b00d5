"""Grant flows stepped by hand: next(flow) gives the request, send() the response, a Token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from tests.leakcheck import SecretPlanter

from authwire import RetryPolicy, Secret, Token, TokenRequestError
from authwire._core.flow import Flow, Sleep
from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire._core.oauth2.client_auth import AuthMethod, ClientAuth
from authwire._core.oauth2.grants import client_credentials_flow, refresh_token_flow
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire.errors import InvalidTokenResponse, TokenEndpointUnreachable
from authwire.testing import FakeClock

URL = "https://login.example.com/oauth2/token"
NO_RETRY = RetryPolicy(retries=0)


def endpoint(**kwargs: Any) -> TokenEndpoint:
    client = ClientAuth("svc", Secret("svc-secret"), AuthMethod.CLIENT_SECRET_POST)
    return TokenEndpoint(URL, client, **kwargs)


def ok(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        status, Headers({"Content-Type": "application/json"}), json.dumps(body).encode(), URL
    )


def form(request: object) -> list[tuple[str, str]]:
    assert isinstance(request, HttpRequest)
    assert request.body is not None
    return parse_qsl(request.body.decode())


def finish(flow: Flow[Token], response: HttpResponse) -> Token:
    with pytest.raises(StopIteration) as stop:
        flow.send(response)
    token = stop.value.value
    assert isinstance(token, Token)
    return token


def test_client_credentials_request_and_token(clock: FakeClock) -> None:
    """The flow POSTs a form to the endpoint and returns the Token from the answer."""
    flow = client_credentials_flow(endpoint(scope="api.read api.write"), clock=clock)
    request = next(flow)
    assert isinstance(request, HttpRequest)
    assert (request.method, request.url) == ("POST", URL)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["accept"] == "application/json"
    assert dict(form(request)) == {
        "grant_type": "client_credentials",
        "client_id": "svc",
        "client_secret": "svc-secret",
        "scope": "api.read api.write",
    }
    token = finish(flow, ok({"access_token": "at1", "expires_in": 60}))
    assert token.access_token == "at1"
    assert token.expires_at == clock() + 60


def test_audience_resource_and_extra_params_are_sent_every_time(clock: FakeClock) -> None:
    """audience, each resource and extra params are in the first request and every re-fetch."""
    ep = endpoint(
        audience="https://api.example.com",
        resource=("https://r1.example", "https://r2.example"),
        extra=(("tenant", "t1"), ("grant_type", "ignored")),
    )
    for _ in range(2):  # the first fetch and a re-fetch build the same request
        pairs = form(next(client_credentials_flow(ep, clock=clock)))
        assert ("audience", "https://api.example.com") in pairs
        assert [v for k, v in pairs if k == "resource"] == [
            "https://r1.example",
            "https://r2.example",
        ]
        assert ("tenant", "t1") in pairs
        assert [v for k, v in pairs if k == "grant_type"] == ["client_credentials"]


def test_expiry_counts_from_when_the_request_was_sent(clock: FakeClock) -> None:
    """expires_at is computed from the local time at sending, whatever the server's clock."""
    flow = client_credentials_flow(endpoint(), clock=clock)
    next(flow)
    sent_at = clock()
    clock.advance(5)  # a slow endpoint
    token = finish(flow, ok({"access_token": "at", "expires_in": 100}))
    assert token.expires_at == sent_at + 100


def test_refresh_sends_the_refresh_token_without_scope(clock: FakeClock) -> None:
    """A refresh sends grant_type=refresh_token and the token, and omits scope (RFC 6749 6)."""
    flow = refresh_token_flow(endpoint(scope="a b"), "rt-old", clock=clock)
    pairs = dict(form(next(flow)))
    assert pairs["grant_type"] == "refresh_token"
    assert pairs["refresh_token"] == "rt-old"
    assert "scope" not in pairs


def test_refresh_keeps_the_old_refresh_token_if_not_rotated(clock: FakeClock) -> None:
    """A response without a new refresh token keeps the one that was used."""
    flow = refresh_token_flow(endpoint(), "rt-old", clock=clock)
    next(flow)
    assert finish(flow, ok({"access_token": "at2"})).refresh_token == "rt-old"


def test_refresh_takes_a_rotated_refresh_token(clock: FakeClock) -> None:
    """A response with a new refresh token replaces the old one."""
    flow = refresh_token_flow(endpoint(), "rt-old", clock=clock)
    next(flow)
    assert (
        finish(flow, ok({"access_token": "at2", "refresh_token": "rt-new"})).refresh_token
        == "rt-new"
    )


def test_refresh_error_never_shows_the_refresh_token(clock: FakeClock) -> None:
    """An invalid_grant echoing the refresh token is redacted in the error."""
    flow = refresh_token_flow(endpoint(), "rt-secret-value-1234", clock=clock, retry=NO_RETRY)
    next(flow)
    with pytest.raises(TokenRequestError) as info:
        flow.send(
            ok({"error": "invalid_grant", "error_description": "rt-secret-value-1234 expired"}, 400)
        )
    assert "rt-secret-value-1234" not in str(info.value)
    assert info.value.error == "invalid_grant"


def steps(flow: Flow[Token], *answers: HttpResponse | BaseException) -> Iterator[Any]:
    """Drive ``flow`` by hand, yielding each operation it produced, answering in order."""
    op = next(flow)
    pending = list(answers)
    while True:
        yield op
        try:
            if isinstance(op, Sleep):
                op = flow.send(None)
            else:
                answer = pending.pop(0)
                op = flow.throw(answer) if isinstance(answer, BaseException) else flow.send(answer)
        except StopIteration as stop:
            yield stop.value
            return


def test_503_then_success_retries_after_a_sleep(clock: FakeClock) -> None:
    """A 503 is retried after a back-off Sleep; the second answer gives the token."""
    flow = client_credentials_flow(endpoint(), clock=clock, retry=RetryPolicy(retries=2, backoff=1))
    ops = list(steps(flow, ok({}, 503), ok({"access_token": "at"})))
    kinds = [type(op).__name__ for op in ops]
    assert kinds == ["HttpRequest", "Sleep", "HttpRequest", "Token"]
    assert 0 <= ops[1].seconds <= 1


def test_unreachable_endpoint_is_retried_then_raised(clock: FakeClock) -> None:
    """Connection failures are retried as configured, then TokenEndpointUnreachable propagates."""
    flow = client_credentials_flow(endpoint(), clock=clock, retry=RetryPolicy(retries=1, backoff=0))
    down = TokenEndpointUnreachable(url=URL, reason="refused")
    ops: list[object] = []
    with pytest.raises(TokenEndpointUnreachable):
        ops.extend(steps(flow, down, down))
    assert [type(op).__name__ for op in ops] == ["HttpRequest", "HttpRequest"]


@pytest.mark.parametrize("method", [AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST])
def test_endpoint_echoing_the_request_leaks_nothing(
    method: AuthMethod, clock: FakeClock, planted_secrets: SecretPlanter
) -> None:
    """An endpoint that echoes the whole request (headers, body) back in its error leaks nothing."""
    secret = planted_secrets.new("cs")
    ep = TokenEndpoint(URL, ClientAuth("svc", Secret(secret), method))
    flow = client_credentials_flow(ep, clock=clock, retry=NO_RETRY)
    request = next(flow)
    assert isinstance(request, HttpRequest)
    assert request.body is not None
    auth = request.headers.get("authorization", "")
    echoed = {
        "error": "invalid_client",
        "error_description": f"got {auth} and {request.body.decode()}",
        "received_authorization": auth.partition(" ")[2],
        "received_body": request.body.decode(),
    }
    with pytest.raises(TokenRequestError) as info:
        flow.send(ok(echoed, 401))
    err = info.value
    planted_secrets.check(str(err), repr(err), err.snippet, err.error_description, others=["svc"])


EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


@pytest.mark.parametrize(
    ("grant", "token_type", "accepted"),
    [
        ("client_credentials", "N_A", False),
        ("client_credentials", "MAC", False),
        ("client_credentials", "DPoP", False),  # no DPoP key on this endpoint
        ("client_credentials", "bearer", True),
        (EXCHANGE, "N_A", True),  # RFC 8693 section 2.2.1: not an access token
        (EXCHANGE, "MAC", False),
    ],
)
def test_token_type_must_be_usable(
    clock: FakeClock, grant: str, token_type: str, accepted: bool
) -> None:
    """Each grant accepts only the token types it can use (RFC 6749 section 7.1)."""
    from authwire._core.oauth2.grants import token_flow

    flow = token_flow(endpoint(), grant, clock=clock, retry=NO_RETRY)
    next(flow)
    answer = ok({"access_token": "at-typed", "token_type": token_type})
    if accepted:
        assert finish(flow, answer).access_token == "at-typed"
        return
    with pytest.raises(InvalidTokenResponse, match="token_type"):
        flow.send(answer)
