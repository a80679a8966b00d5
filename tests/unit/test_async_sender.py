"""authwire's async token-endpoint client does no blocking setup on the event loop."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from tests.servers.token_server import TokenServer

import authwire
from authwire.credentials import _sender


@pytest.fixture
def server() -> Iterator[TokenServer]:
    """The loopback token endpoint."""
    with TokenServer(ttl=300.0) as running:
        yield running


@pytest.mark.anyio
async def test_async_refreshes_load_no_certificates_on_the_loop(
    server: TokenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default TLS context (20-100 ms of CA loading) is made once, in a worker thread."""
    monkeypatch.setattr(_sender, "_DEFAULT_CONTEXT", [], raising=False)  # made anew here
    made_in: list[int] = []
    real = ssl.create_default_context

    def recording(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made_in.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", recording)
    for _ in range(3):  # three refreshes, three async clients
        cred = authwire.ClientCredentials(
            f"{server.url}/token",
            client_id=server.state.client_id,
            client_secret=server.state.client_secret,
            cache=authwire.MemoryCache(),
        )
        await cred.aget_token()
    assert server.count("token") == 3
    assert len(made_in) == 1
    assert threading.get_ident() not in made_in
