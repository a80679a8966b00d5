"""``Refresher`` driven round by round with a ``FakeClock``, then on a thread and a task.

The credential is a real ``CommandCredential`` running a small helper script, so every
refresh is counted by the helper itself; no network is used.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

import authwire
from authwire.credentials.command import CommandCredential
from authwire.errors import AuthwireError, ConfigurationError
from authwire.refresher import Refresher
from authwire.testing import FakeClock

HELPER = textwrap.dedent(
    """
    import json, os, sys
    with open(os.environ["RUNS_FILE"], "a") as f:
        f.write("x")
    if os.path.exists(os.environ["FAIL_FILE"]):
        sys.stderr.write("identity provider down")
        sys.exit(1)
    runs = len(open(os.environ["RUNS_FILE"]).read())
    lifetime = os.environ["LIFETIME"]
    out = {"access_token": f"tok-{runs}"}
    if lifetime:
        out["expires_in"] = float(lifetime)
    print(json.dumps(out))
    """
)


class Helper:
    """A credential helper that counts its runs and fails while ``failing`` is set."""

    def __init__(self, tmp: Path) -> None:
        self.script = tmp / "helper.py"
        self.script.write_text(HELPER)
        self.runs_file = tmp / "runs"
        self.runs_file.write_text("")
        self.fail_file = tmp / "fail"

    @property
    def runs(self) -> int:
        """How many times the helper ran."""
        return len(self.runs_file.read_text())

    @property
    def failing(self) -> bool:
        """Whether the helper exits with an error."""
        return self.fail_file.exists()

    @failing.setter
    def failing(self, value: bool) -> None:
        if value:
            self.fail_file.write_text("1")
        else:
            self.fail_file.unlink(missing_ok=True)

    def cred(self, lifetime: float | None = 600, **kw: Any) -> CommandCredential:
        env = {
            "RUNS_FILE": str(self.runs_file),
            "FAIL_FILE": str(self.fail_file),
            "LIFETIME": "" if lifetime is None else str(lifetime),
        }
        return CommandCredential(
            [sys.executable, str(self.script)], env=env, cache=authwire.MemoryCache(), **kw
        )


@pytest.fixture
def helper(tmp_path: Path) -> Helper:
    """A fresh helper with its own run counter."""
    return Helper(tmp_path)


def test_first_round_fetches_and_schedules_before_the_advisory_window(
    helper: Helper, clock: FakeClock
) -> None:
    """The first round fetches; the next is due at the earliest advisory point (jitter incl.)."""
    cred = helper.cred(clock=clock)
    refresher = Refresher(cred)
    assert refresher.next_refresh_in() == 0
    wait = refresher.step()
    assert helper.runs == 1
    # 600 s token: advisory window 300 s, up to 30 s of jitter, a 10 s margin -> 260 s
    assert wait == pytest.approx(260)
    assert refresher.next_refresh_in() == pytest.approx(260)
    clock.advance(259)
    assert refresher.step() == pytest.approx(1)
    assert helper.runs == 1


def test_requests_never_find_the_token_due(helper: Helper, clock: FakeClock) -> None:
    """Over 30 refreshes, at each refresh moment the token is still fresh for requests."""
    cred = helper.cred(clock=clock)
    refresher = Refresher(cred)
    refresher.step()
    for _ in range(30):
        clock.advance(refresher.next_refresh_in() or 0)
        assert cred.peek(clock()) is not None  # a request now would not wait
        before = cred.get_token()
        refresher.step()
        assert cred.get_token() is not before
    assert helper.runs == 31  # one per round: requests never caused a refresh
    assert (refresher.refreshes, refresher.failures) == (31, 0)


def test_failures_back_off_and_keep_the_token(helper: Helper, clock: FakeClock) -> None:
    """A failed refresh keeps the current token and retries after 5, 10, 20... seconds."""
    errors: list[AuthwireError] = []
    cred = helper.cred(clock=clock)
    refresher = Refresher(cred, retry_delay=5, max_retry_delay=15, on_error=errors.append)
    refresher.step()
    token = cred.get_token()
    clock.advance(refresher.next_refresh_in() or 0)
    helper.failing = True
    waits = []
    for _ in range(4):
        waits.append(refresher.step())
        clock.advance(waits[-1])
    assert waits == [5, 10, 15, 15]
    assert refresher.failures == 4
    assert len(errors) == 4
    assert "identity provider down" in str(errors[0])
    assert cred.get_token() is token  # still valid: used, no request-time refresh
    helper.failing = False
    refresher.step()
    assert cred.get_token() is not token
    assert refresher.next_refresh_in() == pytest.approx(260)
    assert helper.runs == 1 + 4 + 1


def test_token_without_expiry_idles(helper: Helper, clock: FakeClock) -> None:
    """A token that never expires is fetched once; the refresher then has nothing to do."""
    refresher = Refresher(helper.cred(lifetime=None, clock=clock))
    refresher.step()
    assert refresher.next_refresh_in() is None
    clock.advance(10**6)
    refresher.step()
    assert helper.runs == 1


def test_unmanaged_credentials_are_asked_for_a_token() -> None:
    """A credential without a manager (a static token) is fetched once and never again."""
    refresher = Refresher(authwire.StaticToken("static-1"))
    refresher.step()
    assert refresher.refreshes == 1
    assert refresher.next_refresh_in() is None


@pytest.mark.parametrize(
    "kwargs",
    [{"retry_delay": 0}, {"max_retry_delay": -1}, {"min_interval": 0}, {"retry_delay": True}],
)
def test_bad_configuration(kwargs: dict[str, Any]) -> None:
    """Zero or negative delays are refused at construction."""
    with pytest.raises(ConfigurationError):
        Refresher(authwire.StaticToken("t"), **kwargs)


def test_not_a_credential_is_refused() -> None:
    """Anything that is not a credential is refused."""
    with pytest.raises(ConfigurationError):
        Refresher("token")  # type: ignore[arg-type]


def _until(predicate: Any, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_daemon_thread_refreshes_and_stops(helper: Helper) -> None:
    """On a thread, short-lived tokens are renewed ahead of time until ``stop``."""
    cred = helper.cred(lifetime=1.0)
    with Refresher(cred, min_interval=0.05) as refresher:
        assert refresher.running
        _until(lambda: refresher.refreshes >= 3)
        with pytest.raises(ConfigurationError):
            refresher.start()
    assert not refresher.running
    runs = helper.runs
    time.sleep(0.6)  # the thread is gone: no further runs
    assert helper.runs == runs
    assert refresher.failures == 0


@pytest.mark.anyio
async def test_event_loop_task_refreshes(helper: Helper, anyio_backend: str) -> None:
    """On asyncio (``async with``) and trio (``run_async`` in a nursery) tokens are renewed."""
    cred = helper.cred(lifetime=1.0)
    refresher = Refresher(cred, min_interval=0.05)
    if anyio_backend == "asyncio":
        async with refresher:
            assert refresher.running
            with anyio.fail_after(10):
                while refresher.refreshes < 3:
                    await anyio.sleep(0.02)
        assert not refresher.running
    else:
        with pytest.raises(ConfigurationError):
            async with refresher:
                pass
        async with anyio.create_task_group() as tg:
            tg.start_soon(refresher.run_async)
            with anyio.fail_after(10):
                while refresher.refreshes < 3:
                    await anyio.sleep(0.02)
            tg.cancel_scope.cancel()
    assert refresher.failures == 0
    assert refresher.refreshes >= 3
