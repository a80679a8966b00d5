"""``import authwire, authwire.requests`` (and ``.httpx``) stays cheap: a guard on what it loads.

Issue 2 asks that it cost at most 10 ms over ``import requests`` (``bench/run.py --only d``
measures it). Time is too noisy to assert in a test, so these tests pin the cause
instead: the modules it loads beyond those ``requests`` loads itself.
"""

from __future__ import annotations

import subprocess
import sys

# What the first authenticated request with ``authwire.requests.Auth`` needs at import.
ALLOWED = frozenset(
    {
        "authwire",
        "authwire._core",
        "authwire._core._value",
        "authwire._core.flow",
        "authwire._core.http",
        "authwire._core.origin",
        "authwire._core.schemes",
        "authwire._core.schemes.base",
        "authwire._log",
        "authwire._version",
        "authwire.errors",
        "authwire.requests",
        "authwire.requests._adapter",
        "authwire.requests._auth",
        "authwire.requests._convert",
    }
)

# Costly, and loaded only when something uses them (``dataclasses`` imports ``inspect``,
# ``dis`` and ``ast``: about 5 ms, a third of what authwire's import used to cost).
HEAVY = frozenset(
    {
        "ast",
        "asyncio",
        "cryptography",
        "dataclasses",
        "dis",
        "filelock",
        "httpx",
        "inspect",
        "jwt",
        "keyring",
        "platform",
        "platformdirs",
        "redis",
        "rich",
        "sniffio",
        "spnego",
        "typer",
        "uuid",
    }
)


def _added_by(statement: str, after: str = "requests") -> set[str]:
    """Modules ``statement`` loads in a fresh interpreter after ``import {after}``."""
    code = (
        f"import sys, {after}\n"
        "before = set(sys.modules)\n"
        f"{statement}\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_import_loads_only_the_modules_auth_needs() -> None:
    """Of authwire, only the wire model, flows, origin check and requests glue are loaded."""
    added = _added_by("import authwire, authwire.requests")
    assert "authwire.requests._auth" in added
    assert {m for m in added if m.startswith("authwire")} <= ALLOWED


def test_import_loads_no_heavy_module() -> None:
    """No heavy stdlib or optional module is loaded: not dataclasses, inspect, httpx, jwt..."""
    added = _added_by("import authwire, authwire.requests")
    assert {m.partition(".")[0] for m in added} & HEAVY == set()


def test_the_guard_sees_a_heavy_import() -> None:
    """The check would fail if authwire imported one: a credential module brings dataclasses."""
    added = _added_by("import authwire, authwire.requests, authwire.credentials.static")
    assert "dataclasses" in added
    assert "authwire.credentials.static" in added - ALLOWED


def test_a_credential_loads_no_cache_backend() -> None:
    """A credential needs ``TokenCache`` only: no file, keyring or Redis cache, no ``uuid``."""
    added = _added_by("import authwire, authwire.requests; authwire.StaticToken")
    assert "authwire.caches.base" in added
    backends = {"authwire.caches.file", "authwire.caches.keyring", "authwire.caches.redis"}
    assert added & backends == set()
    packages = {m.partition(".")[0] for m in added}
    assert packages & {"filelock", "keyring", "platform", "redis", "uuid"} == set()


def test_import_authwire_httpx_loads_no_event_loop_helpers() -> None:
    """``authwire.httpx`` loads no asyncio nor sniffio: a sync ``httpx.Client`` needs neither."""
    added = _added_by("import authwire, authwire.httpx", after="httpx")
    assert "authwire.httpx._auth" in added
    assert {m.partition(".")[0] for m in added} & HEAVY == set()
    assert "authwire._aio" not in added
