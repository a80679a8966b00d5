"""A throwaway MIT Kerberos realm (k5test) and Apache with mod_auth_gssapi, for the tests.

``kerberos`` is a session fixture: it creates realm ``KRBTEST.COM`` with its KDC on a free
127.0.0.1 port, gets the user ``user@KRBTEST.COM`` a ticket (``KRB5CCNAME`` and
``KRB5_CONFIG`` are set for this process while the fixture lives), extracts the keytab of
``HTTP/localhost`` and starts Apache on another free port. Locations:

* ``/krb/``          Kerberos via mod_auth_gssapi (``index.html``, an ``echo`` CGI that
  answers with the user, method and body, for the POST replay checks, and a ``fail`` CGI
  that answers 503 with a body and an ``X-Detail`` header);
* ``/krb-tampered/`` the same, but mod_headers changes four characters inside the server's
  mutual-authentication token on every authenticated response;
* ``/krb-nomutual/`` the same, but the server token is removed from non-401 responses;
* ``/krb-deleg/``    the same, storing delegated credentials in ``<root>/deleg``;
* ``/open/``         no authentication (a target for the proxy);
* every location also over HTTPS (``KerberosSite.tls_url``, trustme CA in ``.ca``);
* a forward proxy (``KerberosSite.proxy``, ``ProxyRequests On``) that demands Kerberos
  (407 + ``Proxy-Authenticate: Negotiate``);
* ``/ntlm/``         NTLM through gss-ntlmssp (``GssapiConnectionBound On``), users from
  ``NTLM_USER_FILE``: ``TESTDOM\\alice`` with ``NTLM_PASSWORD``.

The access log records ``<status> <method> <path>`` per request, so tests count the 401s
Apache really sent. URLs use ``localhost`` (the SPN is ``HTTP/localhost``).

``ntlm_acceptor`` is a second, pure-Python NTLM server (pyspnego as acceptor, one context
per keep-alive connection) on a free port. The server lives for the session, but
``NTLM_USER_FILE`` (which pyspnego's initiator reads too) is set only during each test that
asks for it, so no other test sees NTLM credentials in its environment.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import random
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.integration._apache import (
    APACHE_BIN,
    MODULES,
    AccessLog,
    config_head,
    open_tree,
    run_as,
    start_apache,
    write_htdocs,
)
from tests.integration.conftest import ServerProcess, free_port

__all__ = [
    "NTLM_PASSWORD",
    "KerberosSite",
    "NtlmAcceptor",
    "kerberos",
    "ntlm_acceptor",
    "ntlm_acceptor_server",
    "ntlm_tls_acceptor",
    "ntlm_tls_acceptor_server",
]

NTLM_DOMAIN = "TESTDOM"
NTLM_USER = "alice"
NTLM_PASSWORD = "ntlm-pw-5e2d7a"  # a throwaway test password

_GSS_LOCATION = """\
<Location /{name}/>
  AuthType GSSAPI
  AuthName "Kerberos"
  GssapiCredStore keytab:{root}/http.keytab
  GssapiAllowedMech krb5
  Require valid-user
  {extra}
</Location>
"""

_CONFIG = (
    config_head(
        (
            "authn_core",
            "authz_core",
            "authz_user",
            "auth_gssapi",
            "cgi",
            "dir",
            "headers",
            "ssl",
            "socache_shmcb",
            "proxy",
            "proxy_http",
        )
    )
    + """\
<Directory {root}/htdocs>
  Options +ExecCGI
  <Files ~ "^(echo|fail)$">
    SetHandler cgi-script
  </Files>
</Directory>
{locations}
SSLSessionCache shmcb:{root}/run/ssl_scache(512000)
Listen 127.0.0.1:{tls_port}
<VirtualHost 127.0.0.1:{tls_port}>
  SSLEngine on
  SSLCertificateFile {root}/server.crt
  SSLCertificateKeyFile {root}/server.key
</VirtualHost>
Listen 127.0.0.1:{proxy_port}
<VirtualHost 127.0.0.1:{proxy_port}>
  ProxyRequests On
  <Proxy "*">
    AuthType GSSAPI
    AuthName "Proxy"
    GssapiCredStore keytab:{root}/http.keytab
    GssapiAllowedMech krb5
    Require valid-user
  </Proxy>
</VirtualHost>
<Location /ntlm/>
  AuthType GSSAPI
  AuthName "NTLM"
  GssapiAllowedMech ntlmssp
  GssapiConnectionBound On
  Require valid-user
</Location>
"""
)

_ECHO_CGI = """\
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'user=%s method=%s length=%s key=%s\\n' "$REMOTE_USER" "$REQUEST_METHOD" \\
  "${CONTENT_LENGTH:-0}" "${HTTP_X_API_KEY:-}"
head -c "${CONTENT_LENGTH:-0}"
"""

_FAIL_CGI = """\
#!/bin/sh
printf 'Status: 503 Service Unavailable\\r\\nX-Detail: internal\\r\\n'
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'failure details for %s\\n' "$REMOTE_USER"
"""

# Four characters well inside the base64 AP-REP are replaced: the token still parses as
# SPNEGO but its encrypted part no longer verifies.
# mod_auth_gssapi puts its token in the "onsuccess" header table; "always" covers error
# responses, so each rule is given for both tables.
_TAMPER = "\n  ".join(
    f'Header {table} edit WWW-Authenticate "^(Negotiate .{{40}}){old}(.*)$" "$1{new}$2"'
    for table in ("onsuccess", "always")
    for old, new in ((".{4}", "AAAA"), ("AAAA", "BBBB"))
)
_NO_MUTUAL = "\n  ".join(
    f'Header {table} unset WWW-Authenticate "expr=%{{REQUEST_STATUS}} != 401"'
    for table in ("onsuccess", "always")
)


def _ports_free(base: int, count: int) -> bool:
    for port in range(base, base + count):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


class KerberosSite(AccessLog):
    """The realm and the Apache in front of it."""

    def __init__(self, realm: Any, root: Path, port: int, proxy_port: int, tls_port: int) -> None:
        self.realm = realm
        self.root = root
        self.port = port
        self.tls_port = tls_port
        self.ca = str(root / "ca.pem")
        self.proxy = f"http://localhost:{proxy_port}"
        self.access_log = root / "access.log"
        self.principal = realm.user_princ
        self.user_password = realm.password("user")

    def url(self, path: str) -> str:
        """An absolute URL on Apache, by the name the SPN is for."""
        return f"http://localhost:{self.port}{path}"

    def tls_url(self, path: str) -> str:
        """The same on Apache's HTTPS port (certificate for ``localhost``, CA ``self.ca``)."""
        return f"https://localhost:{self.tls_port}{path}"

    def statuses(self, since: int, expected: int, timeout: float = 5.0) -> list[int]:
        """Statuses Apache logged after line ``since``, once ``expected`` lines are in."""
        self._wait_lines(since, expected, timeout)
        time.sleep(0.05)  # a late extra line would show up here
        lines = self._lines()[since:]
        return [int(line.split()[0]) for line in lines]

    def fresh_ccache(self, path: Path, *, forwardable: bool = False) -> str:
        """Get the user a new ticket in the cache file ``path``; returns its KRB5CCNAME."""
        name = f"FILE:{path}"
        flags = ["-c", name, *(["-f"] if forwardable else [])]
        self.realm.kinit(self.principal, self.user_password, flags=flags)
        return name

    def delegated(self) -> list[str]:
        """Names of the credential caches Apache stored from delegated tickets."""
        return sorted(p.name for p in (self.root / "deleg").iterdir())


def _start_realm() -> Any:
    import k5test

    for _ in range(50):
        base = random.randrange(20000, 60000, 10)
        if _ports_free(base, 3):
            break
    lo = {
        "kdc": "127.0.0.1:$port0",
        "admin_server": "127.0.0.1:$port1",
        "kpasswd_server": "127.0.0.1:$port2",
    }
    return k5test.K5Realm(
        realm="KRBTEST.COM",
        portbase=base,
        krb5_conf={"realms": {"$realm": lo}},
        kdc_conf={
            "realms": {
                "$realm": {"kdc_listen": "127.0.0.1:$port0", "kdc_tcp_listen": "127.0.0.1:$port0"}
            }
        },
    )


def _write_apache(root: Path, realm: Any, port: int, proxy_port: int, tls_port: int) -> None:
    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    leaf = ca.issue_cert("localhost")
    leaf.private_key_pem.write_to_path(str(root / "server.key"))
    leaf.cert_chain_pems[0].write_to_path(str(root / "server.crt"))
    (root / "run").mkdir()
    (root / "rcache").mkdir()
    names = ("krb", "krb-tampered", "krb-nomutual", "krb-deleg", "ntlm", "open")
    (root / "deleg").mkdir()
    write_htdocs(root, names, {"echo": _ECHO_CGI, "fail": _FAIL_CGI})
    realm.addprinc("HTTP/localhost@KRBTEST.COM")
    realm.extract_keytab("HTTP/localhost@KRBTEST.COM", str(root / "http.keytab"))
    (root / "ntlm_users").write_text(f"{NTLM_DOMAIN}:{NTLM_USER}:{NTLM_PASSWORD}\n")
    locations = "".join(
        _GSS_LOCATION.format(name=name, root=root, extra=extra)
        for name, extra in (
            ("krb", ""),
            ("krb-tampered", _TAMPER),
            ("krb-nomutual", _NO_MUTUAL),
            ("krb-deleg", f"GssapiDelegCcacheDir {root}/deleg"),
        )
    )
    (root / "httpd.conf").write_text(
        _CONFIG.format(
            root=root,
            port=port,
            proxy_port=proxy_port,
            tls_port=tls_port,
            modules=MODULES,
            user=run_as(),
            locations=locations,
        )
    )
    open_tree(root, {"echo", "fail"})
    if os.geteuid() == 0:
        shutil.chown(root / "rcache", "www-data", "www-data")
        shutil.chown(root / "deleg", "www-data", "www-data")
    # www-data workers must read the realm's krb5.conf.
    os.chmod(realm.tmpdir, 0o755)  # noqa: S103 (a throwaway test realm)


@pytest.fixture(scope="session")
def kerberos() -> Iterator[KerberosSite]:
    """A KDC, a user with a ticket and Apache with mod_auth_gssapi, for the session."""
    for binary in ("/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", APACHE_BIN):
        if not os.path.exists(binary):
            pytest.skip(f"{binary} is missing: apt-get install krb5-kdc krb5-admin-server apache2")
    if not os.path.exists(f"{MODULES}/mod_auth_gssapi.so"):
        pytest.skip("mod_auth_gssapi is missing: apt-get install libapache2-mod-auth-gssapi")
    for module in ("k5test", "gssapi", "krb5"):  # in requirements-dev.txt: a gap is a bug
        try:
            __import__(module)
        except ImportError:
            pytest.fail(
                f"python package {module!r} is missing: pip install -r requirements-dev.txt"
            )
    saved = {name: os.environ.get(name) for name in ("KRB5_CONFIG", "KRB5CCNAME")}
    realm = _start_realm()
    root = Path(tempfile.mkdtemp(prefix="authwire-krb-"))
    process: ServerProcess | None = None
    try:
        os.environ["KRB5_CONFIG"] = realm.env["KRB5_CONFIG"]
        os.environ["KRB5CCNAME"] = realm.env["KRB5CCNAME"]
        port, proxy_port, tls_port = free_port(), free_port(), free_port()
        _write_apache(root, realm, port, proxy_port, tls_port)
        process = start_apache(
            root,
            port,
            {
                "KRB5_CONFIG": realm.env["KRB5_CONFIG"],
                "KRB5RCACHEDIR": str(root / "rcache"),
                "NTLM_USER_FILE": str(root / "ntlm_users"),
            },
        )
        yield KerberosSite(realm, root, port, proxy_port, tls_port)
    finally:
        if process is not None:
            process.stop()
        realm.stop()
        shutil.rmtree(root, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- a pure-Python NTLM acceptor ------------------------------------------------------------


class _NtlmHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # NTLM authenticates the connection: keep-alive needed
    ctx: Any = None  # one handler instance per TCP connection
    server: NtlmAcceptor

    def _send(self, code: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        import spnego

        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.requests.append((self.command, self.headers.get("Authorization", "")))
            self.server.connections.add(self.client_address)
        scheme, _, b64 = (self.headers.get("Authorization") or "").partition(" ")
        if scheme not in ("NTLM", "Negotiate") or not b64:
            self._send(401, b"auth required", [("WWW-Authenticate", "NTLM")])
            return
        if self.ctx is None or self.ctx.complete:
            self.ctx = spnego.server(protocol="ntlm", channel_bindings=self.server.bindings)
        try:
            out = self.ctx.step(base64.b64decode(b64))
        except spnego.exceptions.SpnegoError:
            self.ctx = None
            self._send(401, b"denied", [("WWW-Authenticate", "NTLM")])
            return
        header = [("WWW-Authenticate", f"NTLM {base64.b64encode(out).decode()}")] if out else []
        if not self.ctx.complete:
            self._send(401, b"", header)
            return
        user = str(self.ctx.client_principal)
        digest = hashlib.sha256(body).hexdigest()
        self._send(200, f"user={user} body={digest}\n".encode(), [("X-Remote-User", user)])

    do_GET = _handle
    do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class NtlmAcceptor(ThreadingHTTPServer):
    """The pyspnego NTLM server; records (method, Authorization) and client connections."""

    daemon_threads = True

    def __init__(
        self, tls: ssl.SSLContext | None = None, bindings: Any = None, users: Path | None = None
    ) -> None:
        super().__init__(("127.0.0.1", 0), _NtlmHandler)
        self.users = users  # the NTLM_USER_FILE naming the accepted users
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.bindings = bindings  # GssChannelBindings the client must match, or None
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.connections: set[tuple[str, int]] = set()

    @property
    def url(self) -> str:
        """The server's URL."""
        return f"{self.scheme}://localhost:{self.server_address[1]}/"

    def reset(self) -> None:
        """Forget what was recorded."""
        with self.lock:
            self.requests.clear()
            self.connections.clear()


@contextlib.contextmanager
def _acceptor(
    users: Path, tls: ssl.SSLContext | None = None, bindings: Any = None
) -> Iterator[NtlmAcceptor]:
    users.write_text(
        f"{NTLM_DOMAIN}:{NTLM_USER}:{NTLM_PASSWORD}\n:{NTLM_USER}@testdom.example:{NTLM_PASSWORD}\n"
    )
    server = NtlmAcceptor(tls, bindings, users)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def _users_file(server: NtlmAcceptor) -> Iterator[NtlmAcceptor]:
    """Point ``NTLM_USER_FILE`` at ``server``'s users for one test only.

    pyspnego's acceptor reads its users from that variable, but so does pyspnego's
    *initiator*: while it is set, ``Negotiate()`` without a Kerberos ticket falls back to
    NTLM with the file's first user. Left set for the session (as it once was), it made
    the Kerberos tests that expect no credentials at all send an NTLM token when they ran
    after the NTLM tests in one process.
    """
    saved = os.environ.get("NTLM_USER_FILE")
    os.environ["NTLM_USER_FILE"] = str(server.users)
    try:
        yield server
    finally:
        if saved is None:
            os.environ.pop("NTLM_USER_FILE", None)
        else:
            os.environ["NTLM_USER_FILE"] = saved


@pytest.fixture(scope="session")
def ntlm_acceptor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NtlmAcceptor]:
    """A pyspnego NTLM acceptor on a free loopback port, for the whole session."""
    with _acceptor(tmp_path_factory.mktemp("ntlm") / "ntlm_users") as server:
        yield server


@pytest.fixture
def ntlm_acceptor(ntlm_acceptor_server: NtlmAcceptor) -> Iterator[NtlmAcceptor]:
    """The NTLM acceptor, with ``NTLM_USER_FILE`` naming its users during this test only."""
    with _users_file(ntlm_acceptor_server) as server:
        yield server


@pytest.fixture(scope="session")
def ntlm_tls_acceptor_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[NtlmAcceptor, str]]:
    """The NTLM acceptor over HTTPS, demanding tls-server-end-point channel bindings.

    Yields the server and the CA bundle path to verify it with.
    """
    import trustme
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from spnego.channel_bindings import GssChannelBindings

    from authwire._core.schemes.negotiate import tls_server_end_point

    directory = tmp_path_factory.mktemp("ntlm-tls")
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost")
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(context)
    der = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_bytes(Encoding.DER)
    bindings = GssChannelBindings(application_data=tls_server_end_point(der))
    with _acceptor(directory / "ntlm_users", context, bindings) as server:
        yield server, str(directory / "ca.pem")


@pytest.fixture
def ntlm_tls_acceptor(
    ntlm_tls_acceptor_server: tuple[NtlmAcceptor, str],
) -> Iterator[tuple[NtlmAcceptor, str]]:
    """The HTTPS NTLM acceptor and its CA bundle, ``NTLM_USER_FILE`` set during this test."""
    server, ca = ntlm_tls_acceptor_server
    with _users_file(server):
        yield server, ca
