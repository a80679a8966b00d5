"""The device flow (RFC 8628) stepped by hand: prompt, polling waits, slow_down, denial, expiry."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import json_values, statuses

from authwire import InteractionRequired, RetryPolicy, Secret, Token, TokenRequestError
from authwire._core.flow import Call, Flow, Sleep
from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire._core.oauth2.client_auth import AuthMethod, ClientAuth
from authwire._core.oauth2.device import (
    DEVICE_GRANT,
    MAX_CODE_LIFETIME,
    MIN_INTERVAL,
    DeviceAuthorization,
    device_code_flow,
    parse_device_authorization_response,
)
from authwire._core.oauth2.token_request import TokenEndpoint
from authwire.errors import InvalidTokenResponse
from authwire.testing import FakeClock

TOKEN_URL = "https://login.example.com/token"
DEVICE_URL = "https://login.example.com/device/code"
CODES = {
    "device_code": "dev-code-9f8e7d",
    "user_code": "WDJB-MJHT",
    "verification_uri": "https://login.example.com/device",
    "verification_uri_complete": "https://login.example.com/device?user_code=WDJB-MJHT",
    "expires_in": 600,
    "interval": 5,
}


def json_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        status, Headers({"Content-Type": "application/json"}), json.dumps(body).encode(), ""
    )


def error(code: str) -> HttpResponse:
    return json_response({"error": code}, 400)


def start(
    clock: FakeClock, codes: dict[str, Any] = CODES, **kwargs: Any
) -> tuple[Flow[Token], list[DeviceAuthorization], list[float]]:
    """Run the flow up to its first poll; return it, the prompts shown and the waits made."""
    endpoint = TokenEndpoint(TOKEN_URL, ClientAuth("cli", method=AuthMethod.NONE), scope="api")
    flow = device_code_flow(
        endpoint,
        DEVICE_URL,
        prompt=lambda auth: None,
        clock=clock,
        retry=RetryPolicy(retries=0),
        **kwargs,
    )
    request = next(flow)
    assert isinstance(request, HttpRequest)
    assert request.url == DEVICE_URL
    assert dict(parse_qsl((request.body or b"").decode())) == {"client_id": "cli", "scope": "api"}
    prompt = flow.send(json_response(codes))
    assert isinstance(prompt, Call)
    shown: list[DeviceAuthorization] = [prompt.args[0]]
    return flow, shown, []


def poll(
    flow: Flow[Token], clock: FakeClock, waits: list[float], previous: HttpResponse | None
) -> Any:
    """Answer the last operation, wait out any Sleep (advancing the clock), return the next."""
    op = flow.send(previous)
    while isinstance(op, Sleep):
        waits.append(op.seconds)
        clock.advance(op.seconds)
        op = flow.send(None)
    return op


def test_prompt_then_poll_until_approved() -> None:
    """The prompt gets both URIs and the code; pending answers keep it polling every 5 s."""
    clock = FakeClock()
    flow, shown, waits = start(clock)
    auth = shown[0]
    assert auth.user_code == "WDJB-MJHT"
    assert auth.verification_uri_complete == CODES["verification_uri_complete"]
    assert "WDJB-MJHT" in auth.message
    assert "dev-code-9f8e7d" not in repr(auth)
    request = poll(flow, clock, waits, None)
    for _ in range(3):
        assert isinstance(request, HttpRequest)
        fields = dict(parse_qsl((request.body or b"").decode()))
        assert fields == {
            "grant_type": DEVICE_GRANT,
            "device_code": "dev-code-9f8e7d",
            "client_id": "cli",
        }
        assert "dev-code-9f8e7d" in [s.reveal() for s in request.secrets]
        request = poll(flow, clock, waits, error("authorization_pending"))
    with pytest.raises(StopIteration) as stop:
        flow.send(json_response({"access_token": "at-1", "token_type": "Bearer"}))
    assert stop.value.value.access_token == "at-1"
    assert waits == [5.0, 5.0, 5.0, 5.0]


def test_slow_down_adds_five_seconds_each_time() -> None:
    """Each slow_down makes every later wait 5 s longer (RFC 8628 section 3.5)."""
    clock = FakeClock()
    flow, _, waits = start(clock)
    request = poll(flow, clock, waits, None)
    request = poll(flow, clock, waits, error("slow_down"))
    request = poll(flow, clock, waits, error("authorization_pending"))
    request = poll(flow, clock, waits, error("slow_down"))
    assert isinstance(request, HttpRequest)
    assert waits == [5.0, 10.0, 10.0, 15.0]


def test_missing_interval_defaults_to_five_and_override_wins() -> None:
    """Without interval= from the server the wait is 5 s; poll_interval replaces it."""
    codes = {k: v for k, v in CODES.items() if k != "interval"}
    clock = FakeClock()
    flow, _, waits = start(clock, codes)
    poll(flow, clock, waits, None)
    assert waits == [5.0]
    flow, _, waits = start(clock, codes, poll_interval=0.5)
    poll(flow, clock, waits, None)
    assert waits == [0.5]


@pytest.mark.parametrize(
    ("code", "message"), [("access_denied", "denied"), ("expired_token", "expired")]
)
def test_denied_or_expired_stops_with_interaction_required(code: str, message: str) -> None:
    """access_denied and expired_token end the flow with a clear InteractionRequired."""
    clock = FakeClock()
    flow, _, waits = start(clock)
    poll(flow, clock, waits, None)
    with pytest.raises(InteractionRequired, match=message):
        poll(flow, clock, waits, error(code))


def test_stops_when_the_code_expires_locally() -> None:
    """Once expires_in has passed it stops without another poll."""
    clock = FakeClock()
    flow, _, waits = start(clock, {**CODES, "expires_in": 12})
    polls = 0

    def run() -> None:
        nonlocal polls
        request = poll(flow, clock, waits, None)
        while True:
            assert isinstance(request, HttpRequest)
            polls += 1
            request = poll(flow, clock, waits, error("authorization_pending"))

    with pytest.raises(InteractionRequired, match="expired"):
        run()
    assert polls == 2  # at 5 s and 10 s; at 15 s the code is gone


def run_pending(clock: FakeClock, codes: dict[str, Any]) -> tuple[list[float], int]:
    """Answer every poll with authorization_pending until the flow ends; (waits, polls).

    The flow must end with ``InteractionRequired`` (the code expired); a flow that polled
    more than 10,000 times fails the test instead of running on.
    """
    flow, _, waits = start(clock, codes)
    polls = 0

    def run() -> None:
        nonlocal polls
        request = poll(flow, clock, waits, None)
        while polls < 10_000:
            assert isinstance(request, HttpRequest)
            polls += 1
            request = poll(flow, clock, waits, error("authorization_pending"))

    with pytest.raises(InteractionRequired, match="expired"):
        run()
    return waits, polls


@pytest.mark.parametrize(
    ("interval", "expires_in", "waits", "polls"),
    [
        (10**9, 2, [2.0], 0),  # was: one wait of 10**9 s (never returns)
        (1e300, 2, [2.0], 0),  # was: time.sleep(1e300) -> OverflowError; a hang on asyncio
        ("1e300", 2, [2.0], 0),  # numbers as strings are read the same way
        (0.001, 2, [1.0, 1.0], 1),  # was: 2,000 polls in 2 s
        (1e300, 1e300, [MAX_CODE_LIFETIME], 0),  # the code's lifetime is capped too
        (5, -30, [], 0),  # a code born expired is not polled
    ],
)
def test_server_timing_is_bounded(
    interval: Any, expires_in: Any, waits: list[float], polls: int
) -> None:
    """Every wait lies in [1 s, time left on the code]; the code's end stops the flow."""
    clock = FakeClock()
    got = run_pending(clock, {**CODES, "interval": interval, "expires_in": expires_in})
    assert got == (waits, polls)


def test_slow_down_is_bounded_by_the_code_expiry() -> None:
    """slow_down adds 5 s, but no wait runs past the code's expiry (then it stops)."""
    clock = FakeClock()
    flow, _, waits = start(clock, {**CODES, "interval": 1, "expires_in": 12})
    request = poll(flow, clock, waits, None)  # first poll at 1 s
    request = poll(flow, clock, waits, error("slow_down"))  # next at 1 + 6 = 7 s
    assert isinstance(request, HttpRequest)
    with pytest.raises(InteractionRequired, match="expired"):
        poll(flow, clock, waits, error("slow_down"))  # 11 s would pass 12 s: wait 5, stop
    assert waits == [1.0, 6.0, 5.0]


@given(
    interval=st.one_of(json_values, st.floats(allow_nan=True, allow_infinity=True)),
    expires_in=st.one_of(json_values, st.floats(allow_nan=True, allow_infinity=True)),
)
def test_any_server_timing_ends_in_bounded_time_and_polls(interval: Any, expires_in: Any) -> None:
    """Whatever interval and expires_in say, the flow stops within the lifetime cap, waiting
    at least MIN_INTERVAL between polls (only the last wait, up to the expiry, is shorter)."""
    clock = FakeClock()
    begun = clock()
    codes = {**CODES, "interval": interval, "expires_in": expires_in}
    codes = json.loads(json.dumps(codes))  # what a server can actually send
    waits, polls = run_pending(clock, codes)
    assert clock() - begun <= MAX_CODE_LIFETIME
    assert all(w >= MIN_INTERVAL for w in waits[:-1])
    assert polls <= MAX_CODE_LIFETIME / MIN_INTERVAL


def test_other_errors_propagate() -> None:
    """An unexpected error (invalid_client) is raised as TokenRequestError."""
    clock = FakeClock()
    flow, _, waits = start(clock)
    poll(flow, clock, waits, None)
    with pytest.raises(TokenRequestError) as info:
        poll(flow, clock, waits, error("invalid_client"))
    assert info.value.error == "invalid_client"


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (error("invalid_scope"), TokenRequestError),
        (json_response({"user_code": "X"}), InvalidTokenResponse),
        (HttpResponse(200, Headers({}), b"<html>", ""), InvalidTokenResponse),
    ],
)
def test_bad_device_authorization_answers(response: HttpResponse, kind: type[Exception]) -> None:
    """Refusals and incomplete answers from the device endpoint are typed errors."""
    with pytest.raises(kind):
        parse_device_authorization_response(response, received_at=0.0, url=DEVICE_URL)


def test_confidential_client_authenticates_at_device_endpoint() -> None:
    """A client with a secret authenticates the device request too (Basic)."""
    endpoint = TokenEndpoint(TOKEN_URL, ClientAuth("cli", Secret("cli-secret-123")))
    flow = device_code_flow(endpoint, DEVICE_URL, prompt=print, clock=FakeClock())
    request = next(flow)
    assert isinstance(request, HttpRequest)
    assert request.headers["Authorization"].startswith("Basic ")
    assert "cli-secret-123" in [s.reveal() for s in request.secrets]


_DEVICE_FIELDS = st.sampled_from(
    ["device_code", "user_code", "verification_uri", "expires_in", "interval", "error"]
)


@given(
    status=statuses,
    body=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(_DEVICE_FIELDS, json_values, max_size=6).map(
            lambda d: json.dumps(d).encode()
        ),
    ),
)
def test_any_device_answer_gives_codes_or_a_typed_error(status: int, body: bytes) -> None:
    """Any answer from the device endpoint is parsed or refused with an authwire error."""
    response = HttpResponse(status, Headers({}), body, DEVICE_URL)
    try:
        auth = parse_device_authorization_response(response, received_at=0.0, url=DEVICE_URL)
    except (TokenRequestError, InvalidTokenResponse):
        return
    assert auth.device_code
    assert auth.interval > 0
