"""``DeviceCode`` against a loopback device endpoint that sends hostile timing.

The flow's own bounds (tests/unit/core/oauth2/test_device.py steps them with a FakeClock)
must also hold through the real drivers: ``get_token`` (``time.sleep``) and ``aget_token``
(asyncio and trio sleeps). The codes live one or two seconds, so each test ends within
that plus a margin; what is asserted is the number of polls the server counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from tests.servers._base import BackgroundServer, JSONHandler, LoopbackServer

from authwire import DeviceCode, InteractionRequired, MemoryCache, RetryPolicy

#: Seconds a test may take beyond the code's lifetime before it counts as a hang.
MARGIN = 8.0


@dataclass
class State:
    """What the device endpoint sends and what it saw."""

    interval: Any = 5
    expires_in: Any = 600
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, Any] = field(default_factory=dict)


class Handler(JSONHandler):
    """``POST /device`` gives codes with the state's timing; ``POST /token`` says pending."""

    server: LoopbackServer[State]

    def do_POST(self) -> None:
        self._body()
        state = self.server.state
        with state.lock:
            state.counts[self.path] += 1
        if self.path == "/device":
            return self._send(
                200,
                {
                    "device_code": "dev-code-1",
                    "user_code": "ABCD-EFGH",
                    "verification_uri": "https://login.example.com/device",
                    "expires_in": state.expires_in,
                    "interval": state.interval,
                },
            )
        self._send(400, {"error": "authorization_pending"})


@pytest.fixture
def device_server() -> Iterator[BackgroundServer[State]]:
    """The device endpoint on a random 127.0.0.1 port."""
    with BackgroundServer(State(), Handler, "device-server") as running:
        yield running


def credential(server: BackgroundServer[State], interval: Any, expires_in: float) -> DeviceCode:
    """A public DeviceCode client of ``server``, which will send this timing."""
    server.state.interval = interval
    server.state.expires_in = expires_in
    return DeviceCode(
        f"{server.url}/token",
        device_authorization_url=f"{server.url}/device",
        client_id="cli",
        auth_method="none",
        prompt=lambda auth: None,
        cache=MemoryCache(),
        retries=RetryPolicy(retries=0),
    )


#: (interval, expires_in, most polls): each was a hang, an OverflowError or a flood.
CASES = [
    pytest.param(10**9, 0.5, 0, id="interval-1e9"),
    pytest.param(1e300, 0.5, 0, id="interval-1e300"),
    pytest.param(0.001, 1.5, 2, id="interval-1ms"),
]


@pytest.mark.parametrize(("interval", "expires_in", "most"), CASES)
def test_sync_get_token_bounded(
    device_server: BackgroundServer[State], interval: Any, expires_in: float, most: int
) -> None:
    """get_token stops with InteractionRequired at the code's expiry, polling at most 1/s."""
    cred = credential(device_server, interval, expires_in)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            cred.get_token()
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(expires_in + MARGIN)
    assert not worker.is_alive(), "get_token still waiting long after the code expired"
    assert len(outcome) == 1
    assert isinstance(outcome[0], InteractionRequired), repr(outcome[0])
    assert device_server.count("/device") == 1
    assert device_server.count("/token") <= most


@pytest.mark.anyio
@pytest.mark.parametrize(("interval", "expires_in", "most"), CASES)
async def test_async_get_token_bounded(
    device_server: BackgroundServer[State], interval: Any, expires_in: float, most: int
) -> None:
    """aget_token stops with InteractionRequired at the code's expiry, polling at most 1/s."""
    cred = credential(device_server, interval, expires_in)
    with anyio.fail_after(expires_in + MARGIN):
        with pytest.raises(InteractionRequired, match="expired"):
            await cred.aget_token()
    assert device_server.count("/device") == 1
    assert device_server.count("/token") <= most
