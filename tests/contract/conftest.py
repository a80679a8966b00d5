"""Fixtures for the contract suite: real loopback token servers with planted secrets."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from tests.servers.token_server import TokenServer

# The contract's assertions live in base.py: have pytest explain their failures too.
pytest.register_assert_rewrite("tests.contract.base")


def _planted(server: TokenServer) -> TokenServer:
    """Give ``server`` a fresh random client secret and API key for this test."""
    server.state.client_secret = f"cs-{secrets.token_urlsafe(18)}"
    server.state.api_key = f"ak-{secrets.token_urlsafe(18)}"
    return server


@pytest.fixture
def server() -> Iterator[TokenServer]:
    """The token endpoint and protected API, on a random 127.0.0.1 port, 3 s tokens."""
    with TokenServer(ttl=3.0) as running:
        yield _planted(running)


@pytest.fixture
def other() -> Iterator[TokenServer]:
    """A second server: another origin (another port) for cross-origin redirects."""
    with TokenServer(ttl=3.0) as running:
        yield _planted(running)
