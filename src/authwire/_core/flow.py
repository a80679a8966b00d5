"""Flows: protocol logic as generators, run by one sync and one async driver.

Strictly private. A flow is a generator that yields *operations* and receives their
results; it never does I/O itself:

=================  ========================================  ===========================
yielded            sync driver                                async driver
=================  ========================================  ===========================
``HttpRequest``    ``send(request)`` -> ``HttpResponse``      ``await asend(request)``
``Attempt``        (scheme flows) the integration sends the   same
                   user's request with these credentials
``Call``           ``call.fn(*args)``                         ``await call.afn(*args)``, or
                                                              ``fn`` in a worker thread
``Sleep``          ``time.sleep(seconds)``                    ``await sleep(seconds)``
=================  ========================================  ===========================

An exception raised while performing an operation is thrown into the flow, so a flow can
catch a transport error (to retry) or let it propagate. Grants are ``Flow[Token]``; auth
schemes are ``Flow[None]`` over the user's request. Because every flow goes through these
drivers, each grant and scheme works with requests, ``httpx.Client`` and
``httpx.AsyncClient`` from one implementation.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar

from authwire._core._value import Value
from authwire._core.http import HttpRequest, HttpResponse

__all__ = [
    "AsyncRuntime",
    "AsyncStepper",
    "Attempt",
    "Call",
    "Flow",
    "Operation",
    "SchemeFlow",
    "Sleep",
    "SyncStepper",
    "Verdict",
    "drive_async",
    "drive_sync",
]

T = TypeVar("T")
R = TypeVar("R")

_NO_ITEMS: Mapping[str, str] = MappingProxyType({})
_set = object.__setattr__  # how a frozen value's __init__ sets its fields


class Sleep(Value):
    """Wait ``seconds`` before going on (retry back-off, device-code polling)."""

    _fields = ("seconds",)
    __slots__ = _fields

    seconds: float

    def __init__(self, seconds: float) -> None:
        _set(self, "seconds", seconds)


class Call(Value, Generic[R]):
    """Run a function outside the flow and send its result back.

    Attributes:
        fn: The blocking function (run as is by the sync driver).
        afn: An async twin awaited by the async driver; without one, ``fn`` runs in a
            worker thread so the event loop is never blocked.
        args: Positional arguments for either.
        inline: Safe to run on the event loop as is (fast, never blocks), e.g. a memory
            lookup: the async driver then calls ``fn`` directly.
    """

    _fields = ("fn", "afn", "args", "inline")
    __slots__ = _fields

    fn: Callable[..., R]
    afn: Callable[..., Awaitable[R]] | None
    args: tuple[Any, ...]
    inline: bool

    def __init__(
        self,
        fn: Callable[..., R],
        afn: Callable[..., Awaitable[R]] | None = None,
        args: tuple[Any, ...] = (),
        inline: bool = False,
    ) -> None:
        _set(self, "fn", fn)
        _set(self, "afn", afn)
        _set(self, "args", args)
        _set(self, "inline", inline)


class Attempt(Value):
    """Send the user's request with these credentials attached.

    Integrations set each header (replacing one of the same name), add each query
    parameter, and add each cookie to the ``Cookie`` header.

    Attributes:
        headers: Headers to set.
        params: Query parameters to add.
        cookies: Cookies to add.
        state: Whatever the scheme needs to recognise this attempt later (for a bearer
            token, the ``Token`` sent). Never sent, never compared, never shown.
    """

    _fields = ("headers", "params", "cookies", "state")
    __slots__ = _fields
    _compared = ("headers", "params", "cookies")

    headers: Mapping[str, str]
    params: Mapping[str, str]
    cookies: Mapping[str, str]
    state: Any

    def __init__(
        self,
        headers: Mapping[str, str] = _NO_ITEMS,
        params: Mapping[str, str] = _NO_ITEMS,
        cookies: Mapping[str, str] = _NO_ITEMS,
        state: Any = None,
    ) -> None:
        _set(self, "headers", headers)
        _set(self, "params", params)
        _set(self, "cookies", cookies)
        _set(self, "state", state)

    def __repr__(self) -> str:
        names = [
            *self.headers,
            *(f"?{p}" for p in self.params),
            *(f"cookie:{c}" for c in self.cookies),
        ]
        return f"Attempt({', '.join(names)})"

    @property
    def is_empty(self) -> bool:
        """Whether the attempt adds nothing (e.g. Digest before its first challenge)."""
        return not (self.headers or self.params or self.cookies)


Operation = HttpRequest | Attempt | Call[Any] | Sleep
Flow = Generator[Operation, Any, T]
"""A generator that yields operations and returns a ``T``."""


class Verdict(enum.Enum):
    """What a scheme flow may return about the last response it saw.

    Attributes:
        STRIP: The response could not be trusted (Negotiate mutual authentication failed
            on an error response): the integration removes its body and headers before
            the caller sees it.
    """

    STRIP = "strip"


# The return type is ``Any`` so that schemes with nothing to say may simply end; the
# integrations act only on a ``Verdict``.
SchemeFlow = Generator[Operation, Any, Any]
"""An auth scheme's flow over one user request: yields ``Attempt``s, receives ``HttpResponse``s.

It returns ``None``, or a ``Verdict`` the integration acts on."""


class AsyncRuntime(Protocol):
    """What the async driver needs from the running event loop (asyncio or trio)."""

    async def sleep(self, seconds: float) -> None:
        """Sleep without blocking the loop."""
        ...

    async def run_blocking(self, fn: Callable[..., R], *args: Any) -> R:
        """Run a blocking function in a worker thread."""
        ...


class SyncStepper(Generic[R]):
    """Runs a flow's side operations synchronously until it asks to send something.

    ``start()`` and ``send(response)`` return the next request-like operation
    (an ``HttpRequest`` or ``Attempt``) or ``None`` once the flow has finished, whose
    value is then in ``result``. Integrations whose sending is split across callbacks
    (a requests response hook) use this instead of ``drive_sync``.
    """

    __slots__ = ("_flow", "_sleep", "done", "result")

    def __init__(self, flow: Flow[Any], sleep: Callable[[float], None] = time.sleep) -> None:
        self._flow = flow
        self._sleep = sleep
        self.done = False
        self.result: Any = None

    def start(self) -> R | None:
        """Advance to the first request-like operation."""
        return self._advance(lambda: next(self._flow))

    def send(self, value: Any) -> R | None:
        """Give the flow the response to its last operation."""
        return self._advance(lambda: self._flow.send(value))

    def throw(self, exc: BaseException) -> R | None:
        """Raise ``exc`` inside the flow at its last operation."""
        return self._advance(lambda: self._flow.throw(exc))

    def close(self) -> None:
        """Abandon the flow."""
        self._flow.close()
        self.done = True

    def _advance(self, resume: Callable[[], Operation]) -> R | None:
        try:
            op = resume()
            while True:
                if isinstance(op, (HttpRequest, Attempt)):
                    return op  # type: ignore[return-value]
                try:
                    if isinstance(op, Call):
                        value = op.fn(*op.args)
                    elif isinstance(op, Sleep):
                        value = self._sleep(op.seconds)
                    else:
                        raise TypeError(f"a flow yielded {op!r}, which is not an operation")
                except Exception as exc:
                    op = self._flow.throw(exc)
                else:
                    op = self._flow.send(value)
        except StopIteration as stop:
            self.done = True
            self.result = stop.value
            return None


class AsyncStepper(Generic[R]):
    """The async twin of ``SyncStepper``: ``Call`` awaits ``afn`` or uses a worker thread."""

    __slots__ = ("_flow", "_runtime", "done", "result")

    def __init__(self, flow: Flow[Any], runtime: AsyncRuntime) -> None:
        self._flow = flow
        self._runtime = runtime
        self.done = False
        self.result: Any = None

    async def start(self) -> R | None:
        """Advance to the first request-like operation."""
        return await self._advance(False, None)

    async def send(self, value: Any) -> R | None:
        """Give the flow the response to its last operation."""
        return await self._advance(True, value)

    async def throw(self, exc: BaseException) -> R | None:
        """Raise ``exc`` inside the flow at its last operation."""
        try:
            op = self._flow.throw(exc)
        except StopIteration as stop:
            self.done = True
            self.result = stop.value
            return None
        return await self._run(op)

    def close(self) -> None:
        """Abandon the flow."""
        self._flow.close()
        self.done = True

    async def _advance(self, has_value: bool, value: Any) -> R | None:
        try:
            op = self._flow.send(value) if has_value else next(self._flow)
        except StopIteration as stop:
            self.done = True
            self.result = stop.value
            return None
        return await self._run(op)

    async def _run(self, op: Operation) -> R | None:
        runtime = self._runtime
        try:
            while True:
                if isinstance(op, (HttpRequest, Attempt)):
                    return op  # type: ignore[return-value]
                try:
                    if isinstance(op, Call):
                        if op.afn is not None:
                            value = await op.afn(*op.args)
                        elif op.inline:
                            value = op.fn(*op.args)
                        else:
                            value = await runtime.run_blocking(op.fn, *op.args)
                    elif isinstance(op, Sleep):
                        await runtime.sleep(op.seconds)
                        value = None
                    else:
                        raise TypeError(f"a flow yielded {op!r}, which is not an operation")
                except Exception as exc:
                    op = self._flow.throw(exc)
                else:
                    op = self._flow.send(value)
        except StopIteration as stop:
            self.done = True
            self.result = stop.value
            return None


def drive_sync(
    flow: Flow[T],
    send: Callable[[HttpRequest], HttpResponse],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``flow`` to completion, sending each ``HttpRequest`` with ``send``.

    Exceptions raised by ``send`` are thrown into the flow, which may handle them.
    """
    stepper: SyncStepper[HttpRequest] = SyncStepper(flow, sleep)
    request = stepper.start()
    while request is not None:
        if not isinstance(request, HttpRequest):
            raise TypeError("drive_sync runs grant flows; scheme attempts need an integration")
        try:
            response = send(request)
        except Exception as exc:
            request = stepper.throw(exc)
        else:
            request = stepper.send(response)
    return stepper.result  # type: ignore[no-any-return]


async def drive_async(
    flow: Flow[T],
    asend: Callable[[HttpRequest], Awaitable[HttpResponse]],
    runtime: AsyncRuntime,
) -> T:
    """Run ``flow`` to completion on an event loop; the async twin of ``drive_sync``."""
    stepper: AsyncStepper[HttpRequest] = AsyncStepper(flow, runtime)
    request = await stepper.start()
    while request is not None:
        if not isinstance(request, HttpRequest):
            raise TypeError("drive_async runs grant flows; scheme attempts need an integration")
        try:
            response = await asend(request)
        except Exception as exc:
            request = await stepper.throw(exc)
        else:
            request = await stepper.send(response)
    return stepper.result  # type: ignore[no-any-return]
