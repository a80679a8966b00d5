"""httpx redirect hops with and without httpcore's ``trace`` events (issue 22, item 9).

authwire.httpx sees a redirect's hops through httpcore's ``trace`` extension, or through
``Auth.request_hook`` installed as a client event hook. A transport that calls neither
(here ``httpx.MockTransport``, which forwards each request to the real loopback servers
without a trace) must fail closed: a header httpx would copy to the next hop is not sent
at all, and the caller is told how to install the hook. The real httpcore transport and
the hook keep the credentials within the origin and off every other one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.contract.base import _placement
from tests.servers.token_server import TokenServer

import authwire.httpx
from authwire import ConfigurationError

pytestmark = pytest.mark.integration

#: Placements whose header httpx would copy to the next hop: authwire withholds them.
WITHHELD = {"header", "custom-bearer"}


@pytest.fixture
def forward() -> Iterator[httpx.Client]:
    """A plain client the mock transport forwards through (no auth, no redirects)."""
    with httpx.Client(trust_env=False, timeout=30) as plain:
        yield plain


def _mock(plain: httpx.Client) -> httpx.MockTransport:
    """A non-httpcore transport (it calls no trace) in front of the real servers."""

    def handler(request: httpx.Request) -> httpx.Response:
        sent = plain.request(
            request.method, request.url, headers=request.headers, content=request.content
        )
        return httpx.Response(sent.status_code, headers=sent.headers, content=sent.content)

    return httpx.MockTransport(handler)


def _get(
    auth: Any, url: str, *, transport: str, hook: bool, is_async: bool, plain: httpx.Client
) -> httpx.Response:
    """GET ``url`` (following redirects) with ``httpx.Client`` or ``httpx.AsyncClient``."""
    the_auth = authwire.httpx.Auth(auth)
    options: dict[str, Any] = {"auth": the_auth, "follow_redirects": True, "trust_env": False}
    if transport == "mock":
        options["transport"] = _mock(plain)
    if not is_async:
        if hook:
            options["event_hooks"] = {"request": [the_auth.request_hook]}
        with httpx.Client(**options) as client:
            return client.get(url)

    async def main() -> httpx.Response:
        if hook:
            options["event_hooks"] = {"request": [the_auth.arequest_hook]}
        async with httpx.AsyncClient(**options) as client:
            return await client.get(url)

    return asyncio.run(main())


PARAMS = [
    pytest.param(transport, hook, is_async, id=f"{transport}-{'hook' if hook else 'nohook'}-{kind}")
    for transport in ("mock", "real")
    for hook in (False, True)
    for is_async, kind in ((False, "sync"), (True, "async"))
]


@pytest.mark.parametrize("placement", ["header", "query", "cookie", "custom-bearer"])
@pytest.mark.parametrize(("transport", "hook", "is_async"), PARAMS)
def test_cross_origin_hop_never_carries_credentials(
    server: TokenServer,
    other: TokenServer,
    forward: httpx.Client,
    placement: str,
    transport: str,
    hook: bool,
    is_async: bool,
) -> None:
    """A redirect to another origin carries no API key or token, whatever the transport.

    Unobserved (mock transport, no hook), a header key is not sent at all and the caller
    gets a ``ConfigurationError`` naming the hook; query and cookie keys need no observer
    (httpx drops both on every hop).
    """
    auth, carried = _placement(placement, server)
    url = f"{server.url}/redirect?to={other.url}/echo"
    fails_closed = transport == "mock" and not hook and placement in WITHHELD
    if fails_closed:
        with pytest.raises(ConfigurationError, match="request_hook"):
            _get(auth, url, transport=transport, hook=hook, is_async=is_async, plain=forward)
    else:
        response = _get(auth, url, transport=transport, hook=hook, is_async=is_async, plain=forward)
        assert response.status_code == 200
    (seen,) = other.state.seen
    assert not carried(seen), seen
    assert server.state.api_key not in json.dumps(seen)
    assert "at-" not in json.dumps(seen)


@pytest.mark.parametrize("placement", ["header", "query", "cookie", "custom-bearer"])
@pytest.mark.parametrize(("transport", "hook", "is_async"), PARAMS)
def test_same_origin_hop_keeps_credentials_when_observed(
    server: TokenServer,
    forward: httpx.Client,
    placement: str,
    transport: str,
    hook: bool,
    is_async: bool,
) -> None:
    """A redirect within the origin keeps the credentials when a trace or the hook sees it.

    Unobserved, a header key is withheld (``ConfigurationError``), and a query or cookie
    key is not put back on the hop (httpx drops them): nothing is guessed.
    """
    auth, carried = _placement(placement, server)
    url = f"{server.url}/redirect?to=/echo"
    observed = transport == "real" or hook
    if not observed and placement in WITHHELD:
        with pytest.raises(ConfigurationError, match="request_hook"):
            _get(auth, url, transport=transport, hook=hook, is_async=is_async, plain=forward)
        (seen,) = server.state.seen
        assert not carried(seen), seen
        return
    response = _get(auth, url, transport=transport, hook=hook, is_async=is_async, plain=forward)
    assert response.status_code == 200
    (seen,) = server.state.seen
    assert carried(seen) is observed, seen


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_hook_sends_header_key_through_mock_transport(
    server: TokenServer, forward: httpx.Client, is_async: bool
) -> None:
    """With the hook, a header API key reaches its own origin through a non-httpcore transport."""
    auth, _ = _placement("header", server)
    response = _get(
        auth, f"{server.url}/apikey", transport="mock", hook=True, is_async=is_async, plain=forward
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True}
