"""Shared test setup for every suite: a clean environment, no network, secret-leak checks.

* Each test starts without ``AUTHWIRE_*`` or proxy environment variables.
* For the whole session, ``socket.connect`` and name lookups (``getaddrinfo``,
  ``gethostbyname``) fail for anything but loopback. Loopback servers (the integration
  suites' Apache, redis, oidc-provider...) work; nothing can reach the internet, and a test
  can prove that a refusal happened before any DNS lookup (the ``network`` fixture).
* ``planted_secrets`` plants random secrets and, when the test ends, searches every
  ``authwire`` log record (DEBUG included) for them; ``tests.leakcheck`` has the helpers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from tests.leakcheck import SecretPlanter, capture_logs
from tests.netguard import GUARD, NetworkLog

from authwire.testing import FakeClock

# Property tests judge behaviour, never speed: no per-example deadline and no "too slow"
# health check, so a loaded CI machine (2 cores, several suites) cannot make them flaky.
settings.register_profile(
    "authwire", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("authwire")

#: Environment variables that would change how authwire or the HTTP libraries behave.
_PROXY_VARS = frozenset(
    {
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "WS_PROXY",
        "WSS_PROXY",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    """Install the loopback-only network guard for the whole session."""
    GUARD.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Restore the socket module."""
    GUARD.uninstall()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without AUTHWIRE_* and proxy variables."""
    for name in list(os.environ):
        if name.startswith("AUTHWIRE_") or name.upper() in _PROXY_VARS:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def network() -> NetworkLog:
    """The test's network activity as seen by the guard (refusals and name lookups)."""
    return NetworkLog(GUARD)


@pytest.fixture
def clock() -> FakeClock:
    """A fake wall clock at 1,700,000,000 that moves only when told."""
    return FakeClock()


@pytest.fixture
def planted_secrets() -> Iterator[SecretPlanter]:
    """Plants secrets; at teardown fails if any reached an ``authwire`` log record."""
    with capture_logs() as logs:
        planter = SecretPlanter(logs)
        yield planter
    planter.check_logs()
