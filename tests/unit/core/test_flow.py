"""The flow drivers: one sync and one async driver run every flow the same way."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from authwire._aio import RUNTIME
from authwire._core.flow import (
    AsyncStepper,
    Attempt,
    Call,
    Flow,
    Sleep,
    SyncStepper,
    drive_async,
    drive_sync,
)
from authwire._core.http import HttpRequest, HttpResponse
from authwire.errors import TokenEndpointUnreachable

pytestmark = pytest.mark.anyio


def _unreachable() -> TokenEndpointUnreachable:
    return TokenEndpointUnreachable(url="https://idp.example/token", reason="refused")


def two_legs() -> Flow[tuple[int, int]]:
    """Sends two requests and returns both statuses."""
    first: HttpResponse = yield HttpRequest("GET", "https://a.example/1")
    second: HttpResponse = yield HttpRequest("POST", "https://a.example/2", body=b"x")
    return first.status, second.status


def retrying(attempts: int) -> Flow[int]:
    """Retries a failed send up to ``attempts`` times, counting failures."""
    failures = 0
    while True:
        try:
            response: HttpResponse = yield HttpRequest("GET", "https://a.example/")
        except TokenEndpointUnreachable:
            failures += 1
            if failures >= attempts:
                raise
            yield Sleep(0.25 * failures)
            continue
        return response.status + 1000 * failures


class Transport:
    """An in-process 'server' for the drivers: answers by script, records what it saw."""

    def __init__(self, *outcomes: int | BaseException) -> None:
        self.outcomes = list(outcomes)
        self.seen: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.seen.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return HttpResponse(outcome, url=request.url)

    async def asend(self, request: HttpRequest) -> HttpResponse:
        return self(request)


class RecordingRuntime:
    """An ``AsyncRuntime`` that records sleeps instead of sleeping (no timers in unit tests)."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def run_blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await RUNTIME.run_blocking(fn, *args)


def test_drive_sync_returns_the_flow_value() -> None:
    """drive_sync sends each request in order and returns what the flow returns."""
    transport = Transport(201, 202)
    assert drive_sync(two_legs(), transport) == (201, 202)
    assert [(r.method, r.url) for r in transport.seen] == [
        ("GET", "https://a.example/1"),
        ("POST", "https://a.example/2"),
    ]


async def test_drive_async_matches_drive_sync() -> None:
    """drive_async sends the same requests and returns the same value as drive_sync."""
    sync_t, async_t = Transport(200, 204), Transport(200, 204)
    sync_result = drive_sync(two_legs(), sync_t)
    async_result = await drive_async(two_legs(), async_t.asend, RUNTIME)
    assert async_result == sync_result == (200, 204)
    assert async_t.seen == sync_t.seen


def test_transport_errors_are_thrown_into_the_flow() -> None:
    """A send that raises is thrown into the flow, which may catch it, sleep and retry."""
    transport = Transport(_unreachable(), _unreachable(), 200)
    slept: list[float] = []
    assert drive_sync(retrying(3), transport, sleep=slept.append) == 2200
    assert len(transport.seen) == 3
    assert slept == [0.25, 0.5]


async def test_async_transport_errors_are_thrown_into_the_flow() -> None:
    """The async driver throws send errors into the flow and performs its Sleeps too."""
    transport = Transport(_unreachable(), 200)
    runtime = RecordingRuntime()
    assert await drive_async(retrying(3), transport.asend, runtime) == 1200
    assert runtime.slept == [0.25]


def test_uncaught_error_propagates_and_closes_the_flow() -> None:
    """An error the flow does not catch reaches the caller, and the flow's cleanup has run."""
    cleaned: list[str] = []

    def flow() -> Flow[None]:
        try:
            yield HttpRequest("GET", "https://a.example/")
        finally:
            cleaned.append("closed")

    with pytest.raises(TokenEndpointUnreachable):
        drive_sync(flow(), Transport(_unreachable()))
    assert cleaned == ["closed"]


async def test_async_uncaught_error_propagates_and_closes_the_flow() -> None:
    """The async driver lets an uncaught error out after the flow's cleanup ran."""
    cleaned: list[str] = []

    def flow() -> Flow[None]:
        try:
            yield HttpRequest("GET", "https://a.example/")
        finally:
            cleaned.append("closed")

    with pytest.raises(TokenEndpointUnreachable):
        await drive_async(flow(), Transport(_unreachable()).asend, RUNTIME)
    assert cleaned == ["closed"]


def test_retries_exhausted_raise_the_last_error() -> None:
    """A flow that gives up re-raises the transport error it was given."""
    transport = Transport(_unreachable(), _unreachable())
    with pytest.raises(TokenEndpointUnreachable):
        drive_sync(retrying(2), transport, sleep=lambda s: None)
    assert len(transport.seen) == 2


def calls() -> Flow[list[Any]]:
    """Yields Calls of each kind and returns their results with the threads they ran on."""
    out: list[Any] = []
    out.append((yield Call(lambda x: (x * 2, threading.get_ident()), args=(21,))))
    out.append((yield Call(lambda: ("inline", threading.get_ident()), inline=True)))

    async def twin(x: int) -> tuple[str, int]:
        return f"async {x}", threading.get_ident()

    out.append((yield Call(lambda x: (f"sync {x}", threading.get_ident()), twin, (7,))))
    return out


def test_sync_driver_runs_calls_on_the_calling_thread() -> None:
    """The sync driver runs every Call's fn itself, on the caller's thread."""
    me = threading.get_ident()
    results = drive_sync(calls(), Transport())
    assert results == [(42, me), ("inline", me), ("sync 7", me)]


async def test_async_driver_never_runs_blocking_calls_on_the_loop() -> None:
    """Async: a plain Call runs in a worker thread, an inline one on the loop, afn is awaited."""
    me = threading.get_ident()
    results = await drive_async(calls(), Transport().asend, RUNTIME)
    (doubled, worker), (inline, inline_thread), (twin, twin_thread) = results
    assert doubled == 42
    assert worker != me
    assert inline == "inline"
    assert inline_thread == me
    assert twin == "async 7"
    assert twin_thread == me


@pytest.mark.parametrize("driver", ["sync", "async"])
async def test_a_failing_call_is_thrown_into_the_flow(driver: str) -> None:
    """An exception raised by a Call is thrown into the flow at that yield."""

    def boom() -> None:
        raise KeyError("gone")

    def flow() -> Flow[str]:
        try:
            yield Call(boom)
        except KeyError as exc:
            return f"caught {exc.args[0]}"
        return "not raised"

    if driver == "sync":
        assert drive_sync(flow(), Transport()) == "caught gone"
    else:
        assert await drive_async(flow(), Transport().asend, RUNTIME) == "caught gone"


def test_a_bogus_yield_is_a_type_error() -> None:
    """A flow that yields something that is not an operation is reported as a TypeError."""

    def flow() -> Flow[None]:
        yield "GET /"  # type: ignore[misc]

    with pytest.raises(TypeError, match="not an operation"):
        drive_sync(flow(), Transport())


def test_grant_drivers_refuse_scheme_attempts() -> None:
    """drive_sync runs grant flows only; an Attempt needs an integration."""

    def flow() -> Flow[None]:
        yield Attempt(headers={"X-A": "1"})

    with pytest.raises(TypeError, match="integration"):
        drive_sync(flow(), Transport())


def test_sync_stepper_stops_at_attempts_and_keeps_the_result() -> None:
    """SyncStepper runs side operations itself and stops at each Attempt until the end."""
    slept: list[float] = []

    def flow() -> Flow[str]:
        yield Sleep(1.5)
        value = yield Call(lambda: "called")
        response: HttpResponse = yield Attempt(headers={"X-A": value})
        return f"got {response.status}"

    stepper: SyncStepper[Attempt] = SyncStepper(flow(), slept.append)
    first = stepper.start()
    assert isinstance(first, Attempt)
    assert dict(first.headers) == {"X-A": "called"}
    assert slept == [1.5]
    done_before = stepper.done
    assert stepper.send(HttpResponse(204)) is None
    assert not done_before
    assert stepper.done
    assert stepper.result == "got 204"


async def test_async_stepper_mirrors_the_sync_stepper() -> None:
    """AsyncStepper stops at the same Attempts and ends with the same result."""

    def flow() -> Flow[str]:
        value = yield Call(lambda: "called")
        response: HttpResponse = yield Attempt(headers={"X-A": value})
        return f"got {response.status}"

    stepper: AsyncStepper[Attempt] = AsyncStepper(flow(), RUNTIME)
    first = await stepper.start()
    assert isinstance(first, Attempt)
    assert dict(first.headers) == {"X-A": "called"}
    assert await stepper.send(HttpResponse(204)) is None
    assert stepper.done
    assert stepper.result == "got 204"


@pytest.mark.parametrize("driver", ["sync", "async"])
async def test_stepper_throw_reaches_the_flow(driver: str) -> None:
    """Throwing into a stepper raises at the flow's last yield, which may recover."""

    def flow() -> Flow[str]:
        try:
            yield Attempt(headers={"X-A": "1"})
        except ValueError:
            return "recovered"
        return "not thrown"

    if driver == "sync":
        sync_stepper: SyncStepper[Attempt] = SyncStepper(flow())
        sync_stepper.start()
        assert sync_stepper.throw(ValueError()) is None
        assert sync_stepper.result == "recovered"
    else:
        async_stepper: AsyncStepper[Attempt] = AsyncStepper(flow(), RUNTIME)
        await async_stepper.start()
        assert await async_stepper.throw(ValueError()) is None
        assert async_stepper.result == "recovered"


def test_stepper_close_runs_the_flow_cleanup() -> None:
    """Closing a stepper closes the flow, running its finally blocks."""
    cleaned: list[str] = []

    def flow() -> Flow[None]:
        try:
            yield Attempt()
            yield Attempt()
        finally:
            cleaned.append("closed")

    stepper: SyncStepper[Attempt] = SyncStepper(flow())
    stepper.start()
    stepper.close()
    assert stepper.done
    assert cleaned == ["closed"]


def test_attempt_repr_names_fields_but_never_values() -> None:
    """An Attempt's repr lists what it adds, never the credential values."""
    attempt = Attempt(
        headers={"Authorization": "Bearer tok-123456"},
        params={"api_key": "k-987654"},
        cookies={"sid": "c-555555"},
    )
    text = repr(attempt)
    assert "Authorization" in text
    assert "?api_key" in text
    assert "cookie:sid" in text
    for value in ("tok-123456", "k-987654", "c-555555"):
        assert value not in text
    assert Attempt().is_empty
    assert not attempt.is_empty
