"""Every wait ends: deadlines, bounded waiters, judged lifetimes and capped bodies.

Real loopback endpoints (``tests/servers/fault_server.py``) through each of authwire's
token senders: requests, httpx sync, and httpx async (on asyncio and trio).
"""

from __future__ import annotations

import logging
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import requests
from tests.servers.fault_server import FaultServer

from authwire import (
    ClientCredentials,
    InvalidTokenResponse,
    JwtBearer,
    MemoryCache,
    Token,
    TokenEndpointTimeout,
)

pytestmark = pytest.mark.integration

SENDERS = ["requests", "httpx", "httpx-async", "httpx-trio"]
#: httpx's nested response-stream generators are left to trio's garbage collector when a
#: body is refused mid-way (``aiter_raw`` itself is closed by authwire): not ours to fix.
TRIO_GC = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    """The fault server, for the whole module."""
    with FaultServer() as server:
        yield server


def credential(url: str, sender: str, **options: Any) -> ClientCredentials:
    """A client-credentials credential on a private cache, using ``sender``."""
    client = requests.Session() if sender == "requests" else None
    return ClientCredentials(
        url,
        client_id="svc",
        client_secret="s3cret-for-tests",
        cache=MemoryCache(),
        http_client=client,
        **options,
    )


def fetch(cred: ClientCredentials, sender: str) -> Token:
    """``get_token`` through ``sender``'s path."""
    if sender == "httpx-async":
        return anyio.run(cred.aget_token)
    if sender == "httpx-trio":
        return anyio.run(cred.aget_token, backend="trio")
    return cred.get_token()


@pytest.mark.parametrize("sender", SENDERS)
def test_a_drip_is_cut_at_the_deadline(faults: FaultServer, sender: str) -> None:
    """Headers at once, then a byte every 0.5 s: timeout=1.5, retries=0 ends within 3 s."""
    cred = credential(faults.token_url("drip"), sender, timeout=1.5, retries=0)
    started = time.monotonic()
    with pytest.raises(TokenEndpointTimeout) as caught:
        fetch(cred, sender)
    elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert caught.value.deadline == 1.5
    assert "/drip/token" in caught.value.url


@pytest.mark.parametrize("sender", SENDERS)
def test_a_hung_endpoint_uses_the_deadline_across_retries(faults: FaultServer, sender: str) -> None:
    """A silent endpoint: two attempts of 1 s share the 2 s deadline, then a typed timeout."""
    before = faults.count("hang")
    cred = credential(faults.token_url("hang"), sender, timeout=1.0, retries=1)
    started = time.monotonic()
    with pytest.raises(TokenEndpointTimeout):
        fetch(cred, sender)
    assert time.monotonic() - started < 2.0 + 2.0
    assert 1 <= faults.count("hang") - before <= 2


@pytest.mark.parametrize("sender", SENDERS)
def test_a_retry_after_longer_than_what_is_left_fails_at_once(
    faults: FaultServer, sender: str
) -> None:
    """429 + Retry-After 29 with a 6 s deadline: one request, an error stating the wait."""
    before = faults.count("retry_after")
    cred = credential(faults.token_url("retry_after/29"), sender, timeout=2.0, retries=2)
    with pytest.raises(TokenEndpointTimeout) as caught:
        fetch(cred, sender)
    assert faults.count("retry_after") - before == 1
    assert caught.value.retry_after == 29
    assert "29 s (Retry-After)" in str(caught.value)


@TRIO_GC
@pytest.mark.parametrize("sender", SENDERS)
def test_a_huge_answer_is_refused_without_reading_the_rest(
    faults: FaultServer, sender: str
) -> None:
    """A 16 MiB answer against max_body=64 KiB: refused; the server wrote far less than it."""
    before = faults.sent("huge")
    cred = credential(faults.token_url(f"huge/{16 << 20}"), sender, max_body=64 << 10)
    with pytest.raises(InvalidTokenResponse, match="larger than 65536 bytes"):
        fetch(cred, sender)
    time.sleep(0.2)  # let the server thread notice the closed connection
    # Socket buffers on loopback hold a few MiB at most; the rest was never sent.
    assert faults.sent("huge") - before < 8 << 20


@TRIO_GC
@pytest.mark.parametrize("sender", SENDERS)
def test_a_gzip_bomb_is_refused_at_the_cap_with_bounded_memory(
    faults: FaultServer, sender: str
) -> None:
    """64 MiB of zeros gzipped to 64 KiB: refused at the 1 MiB cap, peak memory < 8 MiB."""
    cred = credential(faults.token_url(f"gzip/{64 << 20}"), sender)
    from tests.servers.fault_server import gzip_bomb

    gzip_bomb(64 << 20)  # built before measuring
    tracemalloc.start()
    try:
        with pytest.raises(InvalidTokenResponse, match="larger than 1048576 bytes"):
            fetch(cred, sender)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Before the fix httpx inflated a whole 64 KiB network chunk at once: 64 MiB.
    assert peak < 8 << 20


@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("raw", ["1e400", "1" + "0" * 400, "NaN"])
def test_an_absurd_expires_in_is_an_invalid_token_response(
    faults: FaultServer, sender: str, raw: str
) -> None:
    """expires_in beyond a float (10**400), infinite or NaN: InvalidTokenResponse, no crash."""
    cred = credential(faults.token_url(f"expires/{raw}"), sender)
    with pytest.raises(InvalidTokenResponse, match="expires_in is not a finite number"):
        fetch(cred, sender)


def test_years_long_expires_in_is_clamped_with_a_warning(
    faults: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A ten-year expires_in is clamped to one year, and said so."""
    cred = credential(faults.token_url(f"expires/{10 * 365 * 86400}"), "httpx")
    with caplog.at_level(logging.WARNING, logger="authwire"):
        token = cred.get_token()
    assert token.lifetime == pytest.approx(365 * 86400)
    assert sum("clamped" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("raw", ["0", "-5"])
def test_an_expired_on_arrival_token_is_reused_with_one_warning(
    faults: FaultServer, sender: str, raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    """20 calls against expires_in 0 or -5: one token request, one warning."""
    before = faults.count("expires")
    cred = credential(faults.token_url(f"expires/{raw}"), sender)
    with caplog.at_level(logging.WARNING, logger="authwire"):
        tokens = {fetch(cred, sender).access_token for _ in range(20)}
    assert len(tokens) == 1
    assert faults.count("expires") - before == 1
    assert sum("already expired" in r.getMessage() for r in caplog.records) == 1


def test_the_floor_is_a_knob(faults: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    """min_lifetime=0 asks at every call (the old behaviour), still with one warning."""
    before = faults.count("expires")
    cred = credential(faults.token_url("expires/0"), "httpx", min_lifetime=0)
    with caplog.at_level(logging.WARNING, logger="authwire"):
        for _ in range(3):
            cred.get_token()
    assert faults.count("expires") - before == 3
    assert sum("already expired" in r.getMessage() for r in caplog.records) == 1


def test_a_jwt_exp_earlier_than_expires_in_wins(faults: FaultServer) -> None:
    """expires_in 3600 but the JWT says exp in 120 s: the token expires in 120 s."""
    token = credential(faults.token_url("jwt/120"), "httpx").get_token()
    assert token.expires_at is not None
    assert token.expires_at - time.time() == pytest.approx(120, abs=5)


def _stuck_assertion(release: threading.Event, calls: list[int]) -> Any:
    """A JwtBearer assertion callable whose first call blocks until ``release``."""

    def assertion() -> str:
        calls.append(1)
        if len(calls) == 1:
            release.wait(30)
        return "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."

    return assertion


def test_waiters_are_bounded_and_one_new_flight_replaces_a_stuck_leader(
    faults: FaultServer,
) -> None:
    """A leader stuck past its deadline: waiters give up at their own deadline, and later
    callers start exactly one new flight (no hang, no stampede)."""
    release, calls = threading.Event(), []
    cred = JwtBearer(
        faults.token_url("ok"),
        assertion=_stuck_assertion(release, calls),
        subject="stuck-test",
        client_id="svc",
        cache=MemoryCache(),
        deadline=1.0,
    )
    before = faults.count("ok")

    def lead() -> None:
        # Released long past its deadline: its own request then times out at once.
        with pytest.raises(TokenEndpointTimeout):
            cred.get_token()

    leader = threading.Thread(target=lead)
    leader.start()
    while not calls:
        time.sleep(0.01)
    # Waiters arriving at once: their own 1 s deadline ends before the flight is stale.
    errors: list[BaseException] = []
    started = time.monotonic()

    def wait() -> None:
        try:
            cred.get_token()
        except TokenEndpointTimeout as exc:
            errors.append(exc)

    waiters = [threading.Thread(target=wait) for _ in range(5)]
    for t in waiters:
        t.start()
    for t in waiters:
        t.join(10)
    assert len(errors) == 5
    assert time.monotonic() - started < 1.0 + 2.0
    # Past the leader's deadline (1 s) and grace (1 s): ten callers, one new flight.
    time.sleep(max(0.0, started + 2.2 - time.monotonic()))
    results: list[Token] = []
    late = [threading.Thread(target=lambda: results.append(cred.get_token())) for _ in range(10)]
    for t in late:
        t.start()
    for t in late:
        t.join(10)
    assert len(results) == 10
    assert len({t.access_token for t in results}) == 1
    assert len(calls) == 2  # the stuck one and exactly one takeover
    assert faults.count("ok") - before == 1
    release.set()
    leader.join(10)
