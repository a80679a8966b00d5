"""The session's network guard really refuses off-loopback connections and lookups."""

from __future__ import annotations

import socket

import pytest
from tests.netguard import NetworkBlocked, NetworkLog, _host_allowed


def test_off_loopback_connect_is_refused(network: NetworkLog) -> None:
    """Connecting to a public address raises NetworkBlocked and is recorded."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(NetworkBlocked):
            sock.connect(("192.0.2.1", 443))
        with pytest.raises(NetworkBlocked):
            sock.connect_ex(("192.0.2.1", 443))
    assert network.refused == [("connect", "192.0.2.1"), ("connect", "192.0.2.1")]


def test_off_loopback_lookups_are_refused(network: NetworkLog) -> None:
    """DNS lookups of public names raise NetworkBlocked and are listed."""
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(NetworkBlocked):
        socket.gethostbyname("example.org")
    assert network.lookups == ["example.com", "example.org"]


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("api.localhost", True),
        (None, True),
        ("example.com", False),
        ("10.0.0.1", False),
        (b"8.8.8.8", False),
    ],
)
def test_only_loopback_hosts_are_allowed(host: object, allowed: bool) -> None:
    """Loopback addresses and names pass; everything else is refused."""
    assert _host_allowed(host) is allowed
