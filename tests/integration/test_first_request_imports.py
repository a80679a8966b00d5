"""The first authenticated request of a sync program loads what it needs, and no more.

Modules authwire imports lazily must be imported when a real request needs them (else the
request fails) and only then: a program using ``requests`` or a sync ``httpx.Client``
never loads ``asyncio``. Each case runs in a fresh interpreter against the real loopback
token server and protected API.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from tests.servers.token_server import CLIENT_ID, CLIENT_SECRET, TokenServer

pytestmark = pytest.mark.integration

_PROGRAM = """\
import json, sys
import {client}
import authwire, authwire.{client}
cred = authwire.ClientCredentials(
    sys.argv[1] + "/token", client_id={client_id!r}, client_secret={client_secret!r}
)
{call}
print(json.dumps({{
    "statuses": statuses,
    "loaded": sorted(m for m in ("asyncio", "authwire._aio", "authwire.caches.redis",
                                 {other!r}) if m in sys.modules),
}}))
"""

_CALLS = {
    "requests": (
        "session = requests.Session()\n"
        "session.auth = authwire.requests.Auth(cred)\n"
        "statuses = [session.get(sys.argv[1] + '/api').status_code for _ in range(3)]"
    ),
    "httpx": (
        "with httpx.Client(auth=authwire.httpx.Auth(cred)) as client:\n"
        "    statuses = [client.get(sys.argv[1] + '/api').status_code for _ in range(3)]"
    ),
}


@pytest.fixture
def server() -> Iterator[TokenServer]:
    """A fresh token server and API on a random loopback port."""
    with TokenServer(ttl=60.0) as running:
        yield running


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_first_sync_requests_load_no_event_loop(server: TokenServer, client: str) -> None:
    """Three calls fetch one token; asyncio, a Redis cache and the other HTTP library stay out.

    The token request goes through the HTTP library the program already uses.
    """
    program = _PROGRAM.format(
        client=client,
        other="httpx" if client == "requests" else "requests",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        call=_CALLS[client],
    )
    done = subprocess.run(
        [sys.executable, "-c", program, server.url],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["statuses"] == [200, 200, 200]
    assert server.count("token") == 1
    assert result["loaded"] == []
