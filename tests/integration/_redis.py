"""A real ``redis-server`` for the integration suites: loopback, free port, no persistence.

Usage in a test module::

    from tests.integration._redis import RedisServer, redis_or_skip

    @pytest.fixture(scope="module")
    def redis_url(tmp_path_factory):
        with redis_or_skip(tmp_path_factory.mktemp("redis")) as server:
            yield server.url
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.conftest import ServerProcess, free_port

__all__ = ["RedisServer", "redis_or_skip"]

REDIS_SERVER = "/usr/bin/redis-server"


class RedisServer(ServerProcess):
    """``redis-server`` on 127.0.0.1 with snapshots and the AOF off (nothing on disk)."""

    def __init__(self, workdir: Path) -> None:
        port = free_port()
        super().__init__(
            [
                shutil.which("redis-server") or REDIS_SERVER,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            port=port,
            log=workdir / "redis.log",
            cwd=workdir,
        )

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def redis_or_skip(workdir: Path) -> Iterator[RedisServer]:
    """A running ``RedisServer``; skips the test if redis-server is not installed."""
    if shutil.which("redis-server") is None and not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with RedisServer(workdir) as server:
        yield server
