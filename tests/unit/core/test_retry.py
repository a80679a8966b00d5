"""``RetryPolicy`` and ``send_with_retries``: bounded, Retry-After honoured, pure decisions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authwire import RetryPolicy
from authwire._core.flow import Flow, Sleep
from authwire._core.http import Headers, HttpRequest, HttpResponse, parse_retry_after
from authwire._core.retry import send_with_retries
from authwire.errors import TokenEndpointUnreachable
from authwire.testing import FakeClock

REQUEST = HttpRequest("POST", "https://login.example.com/token")


def resp(status: int, body: dict[str, Any] | None = None, **headers: str) -> HttpResponse:
    raw = json.dumps(body).encode() if body is not None else b""
    return HttpResponse(status, Headers({k.replace("_", "-"): v for k, v in headers.items()}), raw)


def run(
    flow: Flow[HttpResponse], answers: Sequence[HttpResponse | BaseException]
) -> tuple[int, list[float], HttpResponse]:
    """Drive by hand: returns (requests sent, sleeps, final response)."""
    sent, sleeps, pending = 0, [], list(answers)
    op = next(flow)
    try:
        while True:
            if isinstance(op, Sleep):
                sleeps.append(op.seconds)
                op = flow.send(None)
                continue
            assert op is REQUEST
            sent += 1
            answer = pending.pop(0)
            op = flow.throw(answer) if isinstance(answer, BaseException) else flow.send(answer)
    except StopIteration as stop:
        return sent, sleeps, stop.value


def policy_flow(policy: RetryPolicy, clock: FakeClock | None = None) -> Flow[HttpResponse]:
    return send_with_retries(REQUEST, policy, now=clock or FakeClock(), rand=lambda: 0.5)


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(status: int) -> None:
    """408/425/429/5xx are retried until a good answer."""
    sent, sleeps, final = run(
        policy_flow(RetryPolicy(retries=2, backoff=1)), [resp(status), resp(200)]
    )
    assert (sent, final.status) == (2, 200)
    assert sleeps == [0.5]


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404])
def test_other_statuses_are_not_retried(status: int) -> None:
    """A success or a plain refusal is returned after one request."""
    sent, sleeps, final = run(
        policy_flow(RetryPolicy(retries=5)), [resp(status, {"error": "invalid_client"})]
    )
    assert (sent, sleeps, final.status) == (1, [], status)


def test_temporarily_unavailable_400_is_retried() -> None:
    """A 400 with error=temporarily_unavailable is retried (RFC 6749 5.2)."""
    answers = [resp(400, {"error": "temporarily_unavailable"}), resp(200)]
    sent, _, final = run(policy_flow(RetryPolicy(retries=1, backoff=0)), answers)
    assert (sent, final.status) == (2, 200)


def test_retries_are_bounded() -> None:
    """With retries=3 a dead endpoint sees exactly four requests; the last answer is returned."""
    sent, sleeps, final = run(policy_flow(RetryPolicy(retries=3, backoff=0.1)), [resp(503)] * 10)
    assert sent == 4
    assert len(sleeps) == 3
    assert final.status == 503


def test_zero_retries_sends_once() -> None:
    """retries=0 never retries."""
    sent, sleeps, _ = run(policy_flow(RetryPolicy(retries=0)), [resp(503)])
    assert (sent, sleeps) == (1, [])


def test_backoff_doubles_and_is_capped() -> None:
    """Waits grow as backoff * 2**n (times the jitter draw) up to max_backoff."""
    policy = RetryPolicy(retries=6, backoff=1, max_backoff=5)
    assert [policy.delay(n, None, 1.0) for n in range(6)] == [1, 2, 4, 5, 5, 5]
    assert policy.delay(6, None, 1.0) is None


@given(n=st.integers(min_value=0, max_value=20), u=st.floats(min_value=0, max_value=0.9999))
def test_full_jitter_stays_within_bounds(n: int, u: float) -> None:
    """Each wait is between 0 and min(max_backoff, backoff * 2**n)."""
    policy = RetryPolicy(retries=30, backoff=0.5, max_backoff=10)
    wait = policy.delay(n, None, u)
    assert wait is not None
    assert 0 <= wait <= min(10, 0.5 * 2**n)


def test_retry_after_seconds_is_honoured() -> None:
    """A Retry-After in seconds is waited for exactly, instead of the back-off."""
    sent, sleeps, _ = run(
        policy_flow(RetryPolicy(retries=1)), [resp(429, retry_after="7"), resp(200)]
    )
    assert (sent, sleeps) == (2, [7.0])


def test_retry_after_http_date_is_honoured() -> None:
    """A Retry-After HTTP date is turned into seconds from the injected clock."""
    clock = FakeClock(1_700_000_000.0)
    when = format_datetime(datetime.fromtimestamp(clock() + 12, tz=timezone.utc), usegmt=True)
    _, sleeps, _ = run(
        policy_flow(RetryPolicy(retries=1), clock), [resp(503, retry_after=when), resp(200)]
    )
    assert sleeps == [12.0]


def test_too_long_retry_after_gives_up() -> None:
    """A Retry-After beyond max_retry_after is not waited for: the answer is returned."""
    policy = RetryPolicy(retries=3, max_retry_after=30)
    sent, sleeps, final = run(policy_flow(policy), [resp(429, retry_after="3600")])
    assert (sent, sleeps, final.status) == (1, [], 429)


def test_connection_errors_are_retried_then_raised() -> None:
    """TokenEndpointUnreachable is retried, and raised once the retries are spent."""
    down = TokenEndpointUnreachable(url="https://login.example.com/token", reason="refused")
    flow = policy_flow(RetryPolicy(retries=2, backoff=0))
    sent = [next(flow)]

    def fail_every_send() -> None:
        while True:
            sent.append(flow.throw(down))

    with pytest.raises(TokenEndpointUnreachable):
        fail_every_send()
    assert len(sent) == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 0 ", 0.0),
        ("-3", 0.0),
        ("2.5", 2.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
        ("soon", None),
        ("NaN", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """delta-seconds and HTTP dates parse, never below 0; junk gives None."""
    assert parse_retry_after(value, now=1_700_000_000.0) == expected


@pytest.mark.parametrize("kwargs", [{"retries": -1}, {"backoff": -1.0}, {"max_backoff": -1.0}])
def test_negative_settings_are_refused(kwargs: dict[str, float]) -> None:
    """Negative retries or back-off raise ValueError."""
    with pytest.raises(ValueError, match=">= 0"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@given(st.text(max_size=60) | st.sampled_from(["Mon, 01 Jan 9999 00:00:00 GMT", "1e999", "nan"]))
def test_any_retry_after_is_a_wait_or_none(value: str) -> None:
    """parse_retry_after never raises: a finite wait of at least 0, or None."""
    wait = parse_retry_after(value, now=1_700_000_000.0)
    assert wait is None or wait >= 0
