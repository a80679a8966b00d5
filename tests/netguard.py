"""A loopback-only network guard for the test session (installed by ``tests/conftest.py``).

``socket.connect``/``connect_ex`` and name lookups (``getaddrinfo``, ``gethostbyname``) fail
with ``NetworkBlocked`` for anything but loopback, so no test can touch the network, and a
test can prove a refusal happened before any DNS lookup (``NetworkLog.lookups``).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

__all__ = ["GUARD", "NetworkBlocked", "NetworkLog"]


class NetworkBlocked(RuntimeError):
    """A test tried to reach something other than loopback."""


def _hosts_file_loopback_names() -> frozenset[str]:
    """Names that /etc/hosts maps to a loopback address (resolved without DNS)."""
    names: set[str] = set()
    try:
        with open("/etc/hosts", encoding="utf-8") as fh:
            for line in fh:
                fields = line.split("#", 1)[0].split()
                if len(fields) >= 2 and _is_loopback_ip(fields[0]):
                    names.update(n.lower() for n in fields[1:])
    except OSError:
        pass
    return frozenset(names)


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


_LOOPBACK_NAMES = _hosts_file_loopback_names() | {"localhost"}


def _host_allowed(host: object) -> bool:
    if host is None:
        return True  # passive lookup for bind()
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.lower().strip("[]").rstrip(".")
    return (
        name in ("", "0.0.0.0", "::")  # wildcard binds
        or _is_loopback_ip(name)
        or name in _LOOPBACK_NAMES
        or name.endswith(".localhost")
    )


class _NetworkGuard:
    """Wraps the socket functions; records (and refuses) every off-loopback attempt."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, object]] = []
        self.lookups: list[object] = []
        self._connect = socket.socket.connect
        self._connect_ex = socket.socket.connect_ex
        self._getaddrinfo = socket.getaddrinfo
        self._gethostbyname = socket.gethostbyname

    def install(self) -> None:
        guard = self

        def connect(sock: socket.socket, address: Any) -> None:
            guard._check_address(sock, address)
            return guard._connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            guard._check_address(sock, address)
            return guard._connect_ex(sock, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            guard.lookups.append(host)
            guard._check_host("getaddrinfo", host)
            return guard._getaddrinfo(host, *args, **kwargs)

        def gethostbyname(host: str) -> str:
            guard.lookups.append(host)
            guard._check_host("gethostbyname", host)
            return guard._gethostbyname(host)

        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        socket.getaddrinfo = getaddrinfo
        socket.gethostbyname = gethostbyname

    def uninstall(self) -> None:
        socket.socket.connect = self._connect  # type: ignore[method-assign]
        socket.socket.connect_ex = self._connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = self._getaddrinfo
        socket.gethostbyname = self._gethostbyname

    def _check_host(self, what: str, host: object) -> None:
        if not _host_allowed(host):
            self.attempts.append((what, host))
            raise NetworkBlocked(f"tests may not reach {host!r} ({what}): loopback only")

    def _check_address(self, sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return  # unix sockets, netlink: local by nature
        host = address[0] if isinstance(address, tuple) and address else address
        self._check_host("connect", host)


GUARD = _NetworkGuard()


class NetworkLog:
    """What one test tried to reach; see the ``network`` fixture."""

    def __init__(self, guard: _NetworkGuard) -> None:
        self._guard = guard
        self._attempts_at = len(guard.attempts)
        self._lookups_at = len(guard.lookups)

    @property
    def refused(self) -> list[tuple[str, object]]:
        """Off-loopback connections and lookups refused since the test began."""
        return self._guard.attempts[self._attempts_at :]

    @property
    def lookups(self) -> list[object]:
        """Every host name looked up since the test began, loopback included."""
        return self._guard.lookups[self._lookups_at :]
