"""A real Apache httpd with Basic and Digest locations, for the integration suites.

``apache_server`` is a session fixture (import ``apache_server_fixture`` to use it). It
writes a throwaway ServerRoot under the system temp dir (workers run as ``www-data`` when
the tests run as root, so the tree is world readable, unlike pytest's own tmp dirs),
creates the password files at test time, starts ``/usr/sbin/apache2 -DFOREGROUND`` on a
free 127.0.0.1 port and stops it at the end.

Locations (user ``alice``, password ``APACHE_PASSWORD``):

* ``/basic/``  Basic auth (``htpasswd`` file, bcrypt);
* ``/digest/`` Digest (RFC 2617 MD5, ``qop="auth"``) with nonce-count checking on;
* ``/stale/``  Digest with a 1-second nonce lifetime, for ``stale=true`` challenges.

Each has ``index.html`` and a CGI ``echo`` that answers with the user, the method and
the request body. Apache 2.4 offers only ``algorithm=MD5`` (``AuthDigestAlgorithm``
accepts ``MD5`` and ``MD5-sess``; there is no SHA-256), so SHA-256 Digest is covered by
the loopback token server's ``/digest?alg=SHA-256`` instead.

The access log records ``<status> <method> <path>`` per request, so tests count the 401s
Apache really sent (``ApacheServer.statuses``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from tests.integration.conftest import ServerProcess, free_port

__all__ = [
    "APACHE_BIN",
    "APACHE_PASSWORD",
    "APACHE_USER",
    "MODULES",
    "AccessLog",
    "ApacheServer",
    "apache_server_fixture",
    "config_head",
    "open_tree",
    "run_as",
    "start_apache",
    "write_htdocs",
]

APACHE_BIN = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
APACHE_USER = "alice"
APACHE_PASSWORD = "apache-pw-4c1f9e"  # a throwaway test password
DIGEST_REALM = "digest-realm"

_HEAD = """\
ServerRoot {root}
ServerName localhost
Listen 127.0.0.1:{port}
PidFile {root}/httpd.pid
DefaultRuntimeDir {root}/run
ErrorLog {root}/error.log
LogLevel warn
{user}
"""

_MIDDLE = """\
StartServers 2
MinSpareServers 2
MaxSpareServers 4
KeepAlive On
LogFormat "%>s %m %U" counts
CustomLog {root}/access.log counts
DocumentRoot {root}/htdocs
DirectoryIndex index.html
Header always set X-Remote-User "expr=%{{REMOTE_USER}}"
"""


def config_head(modules: Sequence[str]) -> str:
    """The start of an httpd.conf both Apache fixtures share, as a ``str.format`` template.

    It leaves ``{root}``, ``{port}``, ``{modules}`` (``MODULES``) and ``{user}`` (``run_as``)
    to fill in, loads the prefork MPM and ``modules`` (names such as ``"authn_core"``) in
    order, and sets keep-alive, the ``<status> <method> <path>`` access log, htdocs and the
    ``X-Remote-User`` header.
    """
    loads = "".join(
        f"LoadModule {name}_module {{modules}}/mod_{name}.so\n"
        for name in ("mpm_prefork", *modules)
    )
    return _HEAD + loads + _MIDDLE


_CONFIG = (
    config_head(
        (
            "authn_core",
            "authn_file",
            "authz_core",
            "authz_user",
            "auth_basic",
            "auth_digest",
            "cgi",
            "dir",
            "headers",
        )
    )
    + """\
AuthDigestShmemSize 65536
<Directory {root}/htdocs>
  Options +ExecCGI
  <Files "echo">
    SetHandler cgi-script
  </Files>
</Directory>
<Location /basic/>
  AuthType Basic
  AuthName "basic-realm"
  AuthBasicProvider file
  AuthUserFile {root}/htpasswd
  Require valid-user
</Location>
<Location /digest/>
  AuthType Digest
  AuthName "{realm}"
  AuthDigestDomain /digest/
  AuthDigestProvider file
  AuthUserFile {root}/htdigest
  AuthDigestNonceLifetime 300
  AuthDigestNcCheck On
  Require valid-user
</Location>
<Location /stale/>
  AuthType Digest
  AuthName "{realm}"
  AuthDigestDomain /stale/
  AuthDigestProvider file
  AuthUserFile {root}/htdigest
  AuthDigestNonceLifetime 1
  Require valid-user
</Location>
"""
)

_ECHO_CGI = """\
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'user=%s method=%s length=%s\\n' "$REMOTE_USER" "$REQUEST_METHOD" "${CONTENT_LENGTH:-0}"
head -c "${CONTENT_LENGTH:-0}"
"""


def run_as() -> str:
    """The ``User``/``Group`` lines for httpd.conf: ``www-data`` when the tests run as root."""
    return "User www-data\nGroup www-data" if os.geteuid() == 0 else ""


def write_htdocs(root: Path, locations: Sequence[str], scripts: Mapping[str, str]) -> None:
    """Give each location under ``root/htdocs`` an ``index.html`` and the CGI ``scripts``.

    Args:
        root: The ServerRoot.
        locations: Folder names under htdocs (``index.html`` says ``"<name> ok"``).
        scripts: CGI file name to shell script text; each is made executable.
    """
    for location in locations:
        folder = root / "htdocs" / location
        folder.mkdir(parents=True)
        (folder / "index.html").write_text(f"{location} ok\n")
        for name, text in scripts.items():
            script = folder / name
            script.write_text(text)
            script.chmod(0o755)


def open_tree(root: Path, executables: Collection[str]) -> None:
    """Make the tree readable by the ``www-data`` workers, keeping ``executables`` runnable."""
    for path in [root, *root.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
        elif path.name not in executables:
            path.chmod(0o644)


def start_apache(root: Path, port: int, env: Mapping[str, str] | None = None) -> ServerProcess:
    """Start ``apache2 -f root/httpd.conf -DFOREGROUND``; return once it listens on ``port``.

    Args:
        root: The ServerRoot holding ``httpd.conf``; Apache's output goes to ``stdout.log``.
        port: The port to wait for.
        env: More environment for Apache, beyond ``PATH`` and ``LANG=C``.
    """
    return ServerProcess(
        [APACHE_BIN, "-f", str(root / "httpd.conf"), "-DFOREGROUND"],
        port=port,
        log=root / "stdout.log",
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C", **(env or {})},
    ).start()


class AccessLog:
    """Reads the ``<status> <method> <path>`` access log at ``self.access_log``."""

    access_log: Path

    def log_mark(self) -> int:
        """The number of access-log lines so far (pass it to ``statuses``)."""
        return len(self._lines())

    def _lines(self) -> list[str]:
        try:
            return self.access_log.read_text().splitlines()
        except FileNotFoundError:
            return []

    def _wait_lines(self, since: int, expected: int, timeout: float) -> list[str]:
        """Lines after ``since``, once ``expected`` are in or ``timeout`` seconds have passed.

        Apache writes a request's log line just after sending the response, so the line
        of the last response may land a moment after the client has read it.
        """
        deadline = time.monotonic() + timeout
        while True:
            lines = self._lines()[since:]
            if len(lines) >= expected or time.monotonic() > deadline:
                return lines
            time.sleep(0.01)


class ApacheServer(AccessLog):
    """A running Apache; ``url(path)`` builds URLs, ``statuses()`` reads the access log.

    Args:
        root: The ServerRoot (config, password files, htdocs, logs).
        port: The port Apache listens on, on 127.0.0.1.
    """

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.access_log = root / "access.log"
        self._process: ServerProcess | None = None

    def url(self, path: str) -> str:
        """An absolute URL on this server."""
        return self.base + path

    # -- set-up ------------------------------------------------------------------------

    def write_config(self) -> None:
        """Write httpd.conf, password files, htdocs and the echo CGI."""
        root = self.root
        (root / "run").mkdir()
        write_htdocs(root, ("basic", "digest", "stale"), {"echo": _ECHO_CGI})
        subprocess.run(
            ["htpasswd", "-bcB", str(root / "htpasswd"), APACHE_USER, APACHE_PASSWORD],
            check=True,
            capture_output=True,
        )
        ha1 = hashlib.md5(f"{APACHE_USER}:{DIGEST_REALM}:{APACHE_PASSWORD}".encode()).hexdigest()  # noqa: S324 (Digest's own hash)
        (root / "htdigest").write_text(f"{APACHE_USER}:{DIGEST_REALM}:{ha1}\n")
        (root / "httpd.conf").write_text(
            _CONFIG.format(
                root=root, port=self.port, modules=MODULES, user=run_as(), realm=DIGEST_REALM
            )
        )
        open_tree(root, {"echo"})

    def start(self) -> ApacheServer:
        """Write the config and start Apache in the foreground; wait until it listens."""
        self.write_config()
        self._process = start_apache(self.root, self.port)
        return self

    def stop(self) -> None:
        """Stop Apache."""
        if self._process is not None:
            self._process.stop()
            self._process = None

    # -- the access log ----------------------------------------------------------------

    def statuses(self, since: int, expected: int, timeout: float = 5.0) -> list[int]:
        """Statuses Apache logged after line ``since``, once ``expected`` requests are in.

        Raises:
            AssertionError: If fewer than ``expected`` lines arrive within ``timeout``.
        """
        lines = self._wait_lines(since, expected, timeout)
        assert len(lines) >= expected, f"expected {expected} log lines, got {lines}"
        return [int(line.split()[0]) for line in lines]


@pytest.fixture(scope="session", name="apache_server")
def apache_server_fixture() -> Iterator[ApacheServer]:
    """A real Apache on a free 127.0.0.1 port, for the whole session."""
    if not os.path.exists(APACHE_BIN):
        pytest.fail(f"{APACHE_BIN} is missing: apt-get install apache2")
    root = Path(tempfile.mkdtemp(prefix="authwire-apache-"))
    server = ApacheServer(root, free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
