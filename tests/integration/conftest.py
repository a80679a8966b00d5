"""Generic helpers for the integration suites: free ports and server processes.

Peer-specific fixtures (Apache, oidc-provider, redis, ...) live in their own modules next
to this one; they import what they need from here::

    from tests.integration.conftest import ServerProcess, free_port

Every server binds 127.0.0.1 on a port picked here, runs in the foreground as a child of
the test session, and is stopped (``terminate`` then ``kill``) when its fixture ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

__all__ = ["ServerProcess", "free_port", "wait_for_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int,
    host: str = "127.0.0.1",
    *,
    timeout: float = 15.0,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Wait until something accepts TCP connections on ``host:port``.

    Raises:
        RuntimeError: If ``process`` exits first, or nothing listens within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on {host}:{port} after {timeout}s")
        time.sleep(0.02)


class ServerProcess:
    """A server run in the foreground for a test session; a context manager.

    Output goes to ``log`` so that a failed start can show why.

    Args:
        argv: The command line.
        port: The port it listens on when ready (on ``host``).
        log: File that collects the process's stdout and stderr.
        env: The complete environment; default: this process's.
        cwd: Working directory.
        host: The address it binds.
        timeout: Seconds to wait for it to listen.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        port: int,
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        host: str = "127.0.0.1",
        timeout: float = 15.0,
    ) -> None:
        self.argv = list(argv)
        self.port = port
        self.host = host
        self.log = log
        self.env = dict(env) if env is not None else dict(os.environ)
        self.cwd = cwd
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        """Start the process and wait until it listens.

        Raises:
            RuntimeError: If it exits or does not listen in time (with its log's tail).
        """
        with open(self.log, "ab") as out:
            # A session of its own: Apache's prefork MPM signals its whole process group
            # on shutdown, which would otherwise include pytest.
            self.process = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        try:
            wait_for_port(self.port, self.host, timeout=self.timeout, process=self.process)
        except RuntimeError as exc:
            self.stop()
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.argv[0]}: {exc}\n{tail}") from None
        return self

    def stop(self) -> None:
        """Terminate the process (kill it if it does not exit within 10 s)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
