"""The integration contract: one behaviour suite run against every HTTP client integration.

After google-auth's ``tests/transport/compliance.py``: ``IntegrationContract`` holds the
tests; each ``test_*.py`` in this folder subclasses it and provides one fixture,
``make_client``, returning a factory ``(auth, **options) -> ContractClient``. The
client wraps ``requests``, ``httpx.Client`` or ``httpx.AsyncClient`` behind the small
synchronous ``ContractClient`` surface, so the same test body exercises every integration
over the real loopback ``TokenServer`` (token endpoint + protected API).

Every assertion is about counts the server saw (token requests, 401s, replays) or about
text (headers, error messages, log records), never about how long something took.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlencode

import anyio
import pytest
from anyio.abc import TaskStatus
from anyio.from_thread import BlockingPortal
from tests import leakcheck
from tests.leakcheck import leaked_forms
from tests.servers.token_server import CLIENT_ID, TokenServer

import authwire
from authwire import (
    ApiKey,
    BasicAuth,
    BearerAuth,
    ClientCredentials,
    DigestAuth,
    InsecureTransportError,
    InvalidTokenResponse,
    MemoryCache,
    RetryPolicy,
    StaticToken,
    TokenEndpointError,
    TokenEndpointUnreachable,
    TokenRequestError,
)
from authwire._core.schemes.base import AuthLike

BodyKind = Literal["bytes", "file", "stream"]


@dataclass(frozen=True)
class Body:
    """A request body of one kind: bytes, a seekable file, or a one-shot stream."""

    kind: BodyKind
    data: bytes
    path: Path | None = None


@dataclass
class Reply:
    """What a ``ContractClient`` call returned, in library-neutral form."""

    status: int
    text: str
    url: str
    #: ``(status, url, body text)`` of each earlier response (redirects, 401s replayed).
    history: list[tuple[int, str, str]] = field(default_factory=list)

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.text)


class ContractClient(Protocol):
    """The synchronous face the contract tests drive, whatever the integration."""

    #: Every URL the *user's* client sent (recorded by the client's own hooks).
    sent_urls: list[str]

    def request(
        self,
        method: str,
        url: str,
        *,
        body: Body | None = None,
        follow_redirects: bool = True,
    ) -> Reply:
        """Send one request through the integration."""
        ...

    def hammer(self, url: str, workers: int, keep_going: Callable[[], bool]) -> Counter[int]:
        """GET ``url`` from ``workers`` threads or tasks until ``keep_going()`` is false."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class MakeHandler(Protocol):
    """The client library's own auth handler (``requests.auth.AuthBase``, ``httpx.Auth``).

    Each integration's file provides it as the ``make_handler`` fixture: a handler that
    sets ``header: value`` on every request it sees and counts them in ``.calls``.
    """

    def __call__(self, header: str, value: str) -> Any:
        """A handler setting ``header`` to ``value``."""
        ...


class MakeClient(Protocol):
    """The hook each integration provides (as the ``make_client`` fixture)."""

    def __call__(
        self,
        auth: AuthLike,
        *,
        origin: str,
        allow_insecure: bool = False,
        proxy: str | None = None,
    ) -> ContractClient:
        """A client that authenticates with ``auth``; ``origin`` is where it is bound."""
        ...


def fingerprint(token: str) -> str:
    """The token fingerprint the server echoes (never the token itself)."""
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()[:12]


def make_credential(server: TokenServer, **options: Any) -> ClientCredentials:
    """A ClientCredentials for ``server`` with its own cache and fast retries."""
    options.setdefault("cache", MemoryCache())
    options.setdefault("retries", RetryPolicy(retries=2, backoff=0))
    return ClientCredentials(
        f"{server.url}/token",
        client_id=server.state.client_id,
        client_secret=server.state.client_secret,
        **options,
    )


#: Where authwire's own code lives: frames from these files are authwire's.
_AUTHWIRE_SRC = os.path.dirname(authwire.__file__) + os.sep
#: Ticks of the loop-lag monitor (seconds).
LAG_TICK = 0.010
#: A loop stall longer than this (seconds) fails the test, if authwire caused it.
LAG_LIMIT = 0.050


def _innermost_authwire(frame: Any) -> str | None:
    """The innermost frame of authwire's own code in a stack, as ``file:line (function)``."""
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(_AUTHWIRE_SRC):
            name = code.co_filename[len(_AUTHWIRE_SRC) :]
            return f"{name}:{frame.f_lineno} ({code.co_name})"
        frame = frame.f_back
    return None


@dataclass
class Stall:
    """One late tick of the loop-lag monitor, and where the loop's thread was meanwhile."""

    seconds: float
    #: The innermost authwire frame on the loop's thread at each sample (None: not in it).
    samples: list[str | None]
    #: Whether the loop's thread was only waiting for a CPU (runnable, not running) at
    #: every sample and used little CPU: the machine was busy, not authwire.
    starved: bool = False

    @property
    def culprit(self) -> str | None:
        """The authwire line the loop sat in for the whole stall, or None if none did.

        A blocking call (a lock, a file, a socket) keeps the loop's thread on one line
        for the whole stall, so (nearly) every sample shows the same authwire frame: most
        samples, in one run, are needed. A loaded
        machine that merely delays the loop (other processes, the GIL) shows the
        selector, the test's own code or moving frames instead; and where the loop's
        thread sat on one line only because it got no CPU (runnable at every sample, its
        CPU clock nearly still), the machine is to blame (``starved``). A thread on one
        line that sleeps (a lock, I/O) or burns CPU (certificate loading) is authwire's.
        At least three samples are needed to blame authwire: a stall the sampler could
        not watch is reported, not failed on.
        """
        if len(self.samples) < 3 or self.starved:
            return None
        # The longest run of consecutive samples on one authwire line: the stall's start
        # and end may show the loop on its way in or out of it.
        best, run, previous = None, 0, None
        longest = 0
        for sample in self.samples:
            run = run + 1 if sample == previous else 1
            previous = sample
            if sample is not None and run > longest:
                best, longest = sample, run
        if longest < 3 or longest * 2 < len(self.samples):
            return None
        return best


class LoopLagMonitor:
    """Detects event-loop stalls and which of them authwire caused.

    A task on the loop sleeps ``LAG_TICK`` and measures how late it wakes; a watchdog
    thread samples the loop thread's Python stack every 5 ms while a tick is overdue.
    A tick later than ``LAG_LIMIT`` is a stall; ``check()`` fails on every stall during
    which the loop's thread stayed on one line of authwire's code (see ``Stall.culprit``).

    Why stacks and not a baseline: on a shared 2-core CI machine the loop's lag without
    authwire varies from run to run and minute to minute, so no fixed baseline separates
    "the machine was busy" from "authwire blocked the loop"; the stack says which it was.
    Works on asyncio and trio (it uses anyio).
    """

    def __init__(self) -> None:
        self.stalls: list[Stall] = []
        self.ticks = 0
        self._loop_thread: int | None = None
        self._native_id: int | None = None
        self._last = 0.0
        self._samples: list[str | None] = []
        self._states: list[str] = []
        self._cpu_at_tick = 0.0
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="loop-lag", daemon=True)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """The ticking task (run it on the loop to watch)."""
        self._loop_thread = threading.get_ident()
        self._native_id = threading.get_native_id()
        self._last = time.monotonic()
        self._cpu_at_tick = self._loop_cpu()
        self._watchdog.start()
        task_status.started()
        try:
            while True:
                await anyio.sleep(LAG_TICK)
                self._tick()
        finally:
            # Cancelled (the test is over): the loop runs this as soon as it is free
            # again, so a stall the last tick was caught in is measured here.
            self._tick()
            self._stop.set()

    def _tick(self) -> None:
        now = time.monotonic()
        cpu = self._loop_cpu()
        with self._mutex:
            late = now - self._last - LAG_TICK
            samples, self._samples = self._samples, []
            states, self._states = self._states, []
            self._last = now
        used, self._cpu_at_tick = cpu - self._cpu_at_tick, cpu
        self.ticks += 1
        if late > LAG_LIMIT:
            starved = bool(states) and set(states) == {"R"} and used < late / 2
            self.stalls.append(Stall(late, samples, starved))

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            with self._mutex:
                overdue = time.monotonic() - self._last > LAG_TICK + 0.015
            if not overdue:
                continue
            frame = sys._current_frames().get(self._loop_thread or 0)
            where = _innermost_authwire(frame)
            del frame
            state = self._loop_state()
            with self._mutex:
                self._samples.append(where)
                if state is not None:
                    self._states.append(state)

    def _loop_state(self) -> str | None:
        """The loop thread's scheduler state (``R`` runnable, ``S`` sleeping...), on Linux."""
        try:
            with open(f"/proc/self/task/{self._native_id}/stat") as stat:
                return stat.read().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            return None

    def _loop_cpu(self) -> float:
        """CPU seconds the loop's thread (the caller) has used; 0 where unknown."""
        try:
            return time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID)
        except (AttributeError, OSError):
            return 0.0

    @classmethod
    def start(cls, portal: BlockingPortal) -> tuple[LoopLagMonitor, Callable[[], None]]:
        """Start watching the portal's loop; returns the monitor and a function to stop it."""
        monitor = cls()
        future, _ = portal.start_task(monitor.run)

        def stop() -> None:
            future.cancel()
            monitor._stop.set()
            monitor._watchdog.join(5)

        return monitor, stop

    def check(self) -> None:
        """Fail if authwire stalled the loop for more than ``LAG_LIMIT``; report the rest."""
        blamed = [(s.seconds, s.culprit) for s in self.stalls if s.culprit is not None]
        other = [round(s.seconds, 3) for s in self.stalls if s.culprit is None]
        if other:
            print(f"loop stalls not caused by authwire (busy machine): {other}")
        assert not blamed, f"authwire blocked the event loop: {blamed}"


#: Names that may precede a secret in a Basic pair (``base64(name:secret)``).
BASIC_NAMES = (CLIENT_ID, "alice")


def leaks(text: str, *secrets: str) -> list[str]:
    """Which forms of ``secrets`` (raw, encoded, in a Basic pair, truncated) occur in ``text``."""
    return leaked_forms(text, *secrets, others=BASIC_NAMES)


def assert_no_secret(text: object, *secrets: str) -> None:
    """Fail if any form of ``secrets`` occurs in ``str(text)`` or ``repr(text)``."""
    leakcheck.assert_no_secret(text, *secrets, others=BASIC_NAMES)


def _post_form(url: str, client_id: str, secret: str) -> str:
    """POST a client-credentials form (secret in it and in Basic) and return the body."""
    import urllib.error
    import urllib.parse
    import urllib.request

    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode(), headers={"Authorization": f"Basic {basic}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        with exc:
            return str(exc.read().decode())


class _Recorder:
    """Records ``socket.getaddrinfo`` and ``socket.socket.connect`` calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lookups: list[object] = []
        self.connects: list[object] = []
        real_getaddrinfo = socket.getaddrinfo
        real_connect = socket.socket.connect

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            self.lookups.append(host)
            return real_getaddrinfo(host, *args, **kwargs)

        def connect(sock: socket.socket, address: Any) -> Any:
            self.connects.append(address)
            return real_connect(sock, address)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)


Carried = Callable[[dict[str, Any]], bool]


def _placement(kind: str, server: TokenServer) -> tuple[AuthLike, Carried]:
    """An auth of ``kind`` and a test of whether an echoed request carried it."""
    key = server.state.api_key

    def header(name: str, value: str) -> Carried:
        return lambda seen: seen["headers"].get(name, "") == value

    def bearer_in(name: str) -> Carried:
        return lambda seen: seen["headers"].get(name, "").startswith("Bearer at-")

    if kind == "header":
        return ApiKey(key, header="X-API-Key"), header("x-api-key", key)
    if kind == "query":
        return ApiKey(key, query="api_key"), lambda seen: seen["query"].get("api_key") == key
    if kind == "cookie":
        cookie = f"api_key={key}"
        return ApiKey(
            key, cookie="api_key"
        ), lambda seen: cookie in seen["headers"].get("cookie", "")
    if kind == "custom-bearer":
        custom = BearerAuth(make_credential(server), header="X-Auth-Token")
        return custom, bearer_in("x-auth-token")
    assert kind == "bearer"
    return make_credential(server), bearer_in("authorization")


PLACEMENTS = ["header", "query", "cookie", "bearer", "custom-bearer"]


class IntegrationContract:
    """Behaviours every integration must show, against the real loopback token server.

    Subclasses provide the ``make_client`` fixture (a ``MakeClient``) and may set
    ``workers`` (threads or tasks for the concurrency test) and ``file_bodies``.
    """

    #: Concurrent callers in the concurrency test (threads, or tasks for async clients).
    workers: int = 64
    #: Whether the client can send a (seekable) file object as a body.
    file_bodies: bool = True
    #: Placements (see ``PLACEMENTS``) known NOT to survive a same-origin redirect with
    #: this integration, with the reason; their test is a strict xfail (it fails the suite
    #: the day they start working, so the entry gets removed).
    lost_on_same_origin_redirect: dict[str, str] = {}  # noqa: RUF012

    # -- bearer tokens ---------------------------------------------------------------

    def test_bearer_token_applied(self, server: TokenServer, make_client: MakeClient) -> None:
        """A credential's token is sent as a bearer token and the API accepts it."""
        client = make_client(make_credential(server), origin=server.url)
        reply = client.request("GET", f"{server.url}/api")
        assert reply.status == 200
        (issued,) = server.issued_tokens()
        assert reply.json()["token"] == fingerprint(issued)
        assert server.count("token") == 1

    def test_token_cached_across_calls(self, server: TokenServer, make_client: MakeClient) -> None:
        """Twenty calls through one credential cause a single token request."""
        client = make_client(make_credential(server), origin=server.url)
        statuses = [client.request("GET", f"{server.url}/api").status for _ in range(20)]
        assert statuses == [200] * 20
        assert server.count("token") == 1
        assert server.count("api_ok") == 20

    def test_refreshed_before_expiry(self, server: TokenServer, make_client: MakeClient) -> None:
        """A token inside its advisory window is replaced before use, with no 401 seen."""
        server.state.ttl = 1.0  # advisory window: the last half (about 0.5 s) of its life
        client = make_client(make_credential(server), origin=server.url)
        first = client.request("GET", f"{server.url}/api").json()["token"]
        time.sleep(0.65)  # into the advisory window; the token is still valid at the server
        second = client.request("GET", f"{server.url}/api")
        assert second.status == 200
        assert second.json()["token"] != first
        assert server.count("token") == 2
        assert server.count("api_401") == 0

    def test_revoked_token_refetched_and_replayed_once(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """A revoked token gives one 401, one new token and one replay; the caller sees 200."""
        client = make_client(make_credential(server), origin=server.url)
        assert client.request("GET", f"{server.url}/api").status == 200
        server.revoke_all()
        reply = client.request("GET", f"{server.url}/api")
        assert reply.status == 200
        assert server.count("token") == 2
        assert server.count("api_401") == 1
        assert server.count("GET /api") == 3
        assert [status for status, _, _ in reply.history] == [401]

    def test_second_401_returned_to_caller(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """When the fresh token is refused too, that 401 goes back to the caller: no loop."""
        client = make_client(make_credential(server), origin=server.url)
        server.state.reject_all = True
        reply = client.request("GET", f"{server.url}/api")
        assert reply.status == 401
        assert server.count("api_401") == 2
        assert server.count("token") == 2
        assert client.request("GET", f"{server.url}/api").status == 401
        assert server.count("api_401") == 4

    @pytest.mark.parametrize("kind", ["bytes", "file"])
    def test_seekable_body_rewound_and_replayed(
        self, server: TokenServer, make_client: MakeClient, tmp_path: Path, kind: BodyKind
    ) -> None:
        """A bytes or file body is sent again, whole, when a 401 is answered by a replay."""
        if kind == "file" and not self.file_bodies:
            pytest.skip("this client cannot send a synchronous file object")
        payload = b"payload-" + bytes(range(256)) * 64
        path = tmp_path / "body.bin"
        path.write_bytes(payload)
        client = make_client(make_credential(server), origin=server.url)
        assert client.request("GET", f"{server.url}/api").status == 200
        server.revoke_all()
        reply = client.request("POST", f"{server.url}/api", body=Body(kind, payload, path))
        assert reply.status == 200
        assert reply.json()["body_length"] == len(payload)
        assert reply.json()["body"].encode("latin-1") == payload
        assert server.count("POST /api") == 2
        assert server.count("api_401") == 1

    def test_stream_body_not_replayed(self, server: TokenServer, make_client: MakeClient) -> None:
        """A one-shot stream body is not replayed: the 401 is the caller's answer."""
        client = make_client(make_credential(server), origin=server.url)
        assert client.request("GET", f"{server.url}/api").status == 200
        server.revoke_all()
        reply = client.request("POST", f"{server.url}/api", body=Body("stream", b"chunk" * 100))
        assert reply.status == 401
        assert server.count("POST /api") == 1
        assert server.count("api_401") == 1

    # -- concurrency -----------------------------------------------------------------

    def test_concurrent_callers_one_token_request_per_expiry(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """Many callers across three expiries of a 3 s token: one token request each time."""
        check_single_flight(server, make_client, self.workers, expiries=3)

    def test_concurrent_callers_refreshing_near_expiry_count_exactly(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """With a 0.6 s leeway, three expiries of a 3 s token cost exactly 1 + 3 token requests.

        The default windows refresh a 3 s token at half-life (two generations per 3 s);
        here each generation lives about 2.4 s, so 9.2 s of load sees the first token and
        exactly one refresh per expiry, however many callers ask.
        """
        figures = check_single_flight(server, make_client, self.workers, expiries=3, leeway=0.6)
        assert figures["token_requests"] == 3 + 1

    # -- bad input from the token endpoint ----------------------------------------------

    @pytest.mark.parametrize(
        ("mode", "error", "status", "token_requests"),
        [
            ("html", TokenRequestError, 502, 3),  # retryable status: 1 try + 2 retries
            ("html200", InvalidTokenResponse, 200, 1),
            ("not_json", InvalidTokenResponse, 200, 1),
            ("json_list", InvalidTokenResponse, 200, 1),
            ("missing_access_token", InvalidTokenResponse, 200, 1),
            ("wrong_types", InvalidTokenResponse, 200, 1),
            ("expires_in_garbage", InvalidTokenResponse, 200, 1),
            ("down", TokenRequestError, 503, 3),
        ],
    )
    def test_bad_token_response_gives_typed_error(
        self,
        server: TokenServer,
        make_client: MakeClient,
        mode: str,
        error: type[TokenEndpointError],
        status: int,
        token_requests: int,
    ) -> None:
        """Each malformed or refusing answer raises its typed error after bounded tries."""
        client = make_client(make_credential(server), origin=server.url)
        server.set_mode(mode)
        with pytest.raises(error) as info:
            client.request("GET", f"{server.url}/api")
        err = info.value
        assert type(err) is error
        assert err.status == status
        assert err.url.endswith("/token")
        assert server.count("token") == token_requests
        assert server.count("GET /api") == 0
        assert_no_secret(err, server.state.client_secret)

    @pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
    @pytest.mark.parametrize(("mode", "status"), [("echo_secret", 400), ("echo_secret_html", 500)])
    def test_echoed_secret_absent_from_error(
        self,
        server: TokenServer,
        make_client: MakeClient,
        caplog: pytest.LogCaptureFixture,
        auth_method: str,
        mode: str,
        status: int,
    ) -> None:
        """A token endpoint that echoes the client secret back: the error never holds it."""
        caplog.set_level(logging.DEBUG)
        secret = server.state.client_secret
        server.set_mode(mode)
        assert leaks(_post_form(f"{server.url}/token", CLIENT_ID, secret), secret)  # it echoes
        server.reset()
        cred = make_credential(server, auth_method=auth_method)
        client = make_client(cred, origin=server.url)
        server.set_mode(mode)
        with pytest.raises(TokenRequestError) as info:
            client.request("GET", f"{server.url}/api")
        err = info.value
        assert err.status == status
        for text in (str(err), repr(err), repr(err.args), repr(vars(err)), caplog.text):
            assert_no_secret(text, secret)
        import pickle

        assert_no_secret(pickle.loads(pickle.dumps(err)), secret)  # noqa: S301

    @pytest.mark.parametrize("token_type", ["MAC", "N_A", "pop", "DPoP"])
    def test_token_type_not_understood_is_never_sent(
        self, server: TokenServer, make_client: MakeClient, token_type: str
    ) -> None:
        """RFC 6749 section 7.1: a MAC, N_A, pop or unbound DPoP token is refused, not sent."""
        server.state.token_type = token_type
        client = make_client(make_credential(server), origin=server.url)
        with pytest.raises(InvalidTokenResponse, match=f"token_type '{token_type}'") as info:
            client.request("GET", f"{server.url}/echo")
        assert server.count("token") == 1
        assert server.count("GET /echo") == 0
        assert_no_secret(info.value, server.state.client_secret)

    @pytest.mark.parametrize("token_type", ["bearer", "BEARER"])
    def test_bearer_token_type_in_any_case(
        self, server: TokenServer, make_client: MakeClient, token_type: str
    ) -> None:
        """``bearer`` in any case is sent as ``Authorization: Bearer``."""
        server.state.token_type = token_type
        client = make_client(make_credential(server), origin=server.url)
        assert (
            client.request("GET", f"{server.url}/echo")
            .json()["headers"]["authorization"]
            .startswith("Bearer at-")
        )

    def test_static_token_type_sent_as_given(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """StaticToken(token_type="SSWS") is the user's word: sent as ``SSWS <token>``."""
        client = make_client(StaticToken("st-okta-1", token_type="SSWS"), origin=server.url)
        seen = client.request("GET", f"{server.url}/echo").json()
        assert seen["headers"]["authorization"] == "SSWS st-okta-1"

    def test_expires_in_as_string_accepted(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """``expires_in`` sent as a numeric string is accepted like a number."""
        server.set_mode("expires_in_string")
        client = make_client(make_credential(server), origin=server.url)
        assert client.request("GET", f"{server.url}/api").status == 200
        assert client.request("GET", f"{server.url}/api").status == 200
        assert server.count("token") == 1

    @pytest.mark.parametrize("mode", ["rate_limit_once", "error_500_once"])
    def test_transient_token_error_retried(
        self, server: TokenServer, make_client: MakeClient, mode: str
    ) -> None:
        """A 429 or 503 from the token endpoint is retried once and the call succeeds."""
        server.set_mode(mode)
        client = make_client(make_credential(server), origin=server.url)
        assert client.request("GET", f"{server.url}/api").status == 200
        assert server.count("token") == 2

    def test_slow_token_endpoint_times_out(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """A token endpoint slower than ``timeout`` gives TokenEndpointUnreachable, no hang."""
        server.set_mode("slow")
        cred = make_credential(server, timeout=0.3, retries=0)
        client = make_client(cred, origin=server.url)
        with pytest.raises(TokenEndpointUnreachable) as info:
            client.request("GET", f"{server.url}/api")
        assert info.value.__cause__ is not None
        assert server.count("token") == 1
        assert server.count("GET /api") == 0

    def test_dead_token_endpoint_unreachable(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """A token endpoint nobody listens on gives TokenEndpointUnreachable with its cause."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{sock.getsockname()[1]}/token"
        cred = ClientCredentials(
            dead,
            client_id="svc",
            client_secret=server.state.client_secret,
            cache=MemoryCache(),
            retries=RetryPolicy(retries=1, backoff=0),
        )
        client = make_client(cred, origin=server.url)
        with pytest.raises(TokenEndpointUnreachable) as info:
            client.request("GET", f"{server.url}/api")
        assert isinstance(info.value.__cause__, Exception)
        assert_no_secret(info.value, server.state.client_secret)
        assert server.count("GET /api") == 0

    # -- security ----------------------------------------------------------------------

    @pytest.mark.parametrize("placement", PLACEMENTS)
    @pytest.mark.parametrize("target", ["other-port", "localhost"])
    def test_cross_origin_redirect_strips_added_credentials(
        self,
        server: TokenServer,
        other: TokenServer,
        make_client: MakeClient,
        placement: str,
        target: str,
    ) -> None:
        """A redirect to another origin arrives without anything authwire added."""
        auth, carried = _placement(placement, server)
        if target == "other-port":
            destination, seen_by = f"{other.url}/echo", other
        else:
            destination = server.url.replace("127.0.0.1", "localhost") + "/echo"
            seen_by = server
        client = make_client(auth, origin=server.url)
        reply = client.request("GET", f"{server.url}/redirect?to={destination}")
        assert reply.status == 200
        (seen,) = seen_by.state.seen
        assert seen["headers"]["host"].startswith("127.0.0.1" if target == "other-port" else "loc")
        assert not carried(seen), seen
        key = server.state.api_key
        assert key not in json.dumps(seen)
        assert "at-" not in json.dumps(seen)

    @pytest.mark.parametrize("placement", PLACEMENTS)
    def test_same_origin_redirect_keeps_credentials(
        self,
        server: TokenServer,
        make_client: MakeClient,
        placement: str,
        request: pytest.FixtureRequest,
    ) -> None:
        """A redirect within the origin still carries the credentials."""
        reason = self.lost_on_same_origin_redirect.get(placement)
        if reason is not None:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
        auth, carried = _placement(placement, server)
        client = make_client(auth, origin=server.url)
        reply = client.request("GET", f"{server.url}/redirect?to=/echo")
        assert reply.status == 200
        (seen,) = server.state.seen
        assert carried(seen), seen

    @pytest.mark.parametrize("placement", ["bearer", "custom-bearer", "digest"])
    def test_401_from_other_origin_after_redirect_not_answered(
        self, server: TokenServer, other: TokenServer, make_client: MakeClient, placement: str
    ) -> None:
        """Another origin's 401 behind a redirect goes back as is: no token, no replay there.

        The redirect target answers ``401 WWW-Authenticate: Bearer`` (or a Digest
        challenge): the good token is neither invalidated nor replaced, and the other
        origin sees exactly one request, carrying no credential.
        """
        challenge = {
            "bearer": "Bearer",
            "custom-bearer": "Bearer",
            "digest": 'Digest realm="other", nonce="n0nce", qop="auth", algorithm=MD5',
        }[placement]
        if placement == "digest":
            auth: AuthLike = DigestAuth("alice", "s3cret!")
        else:
            auth = _placement(placement, server)[0]
        client = make_client(auth, origin=server.url)
        if placement != "digest":
            assert client.request("GET", f"{server.url}/public").status == 200  # holds a token
        tokens_before = server.count("token")
        target = f"{other.url}/echo?" + urlencode({"status": "401", "challenge": challenge})
        reply = client.request("GET", f"{server.url}/redirect?" + urlencode({"to": target}))
        assert reply.status == 401
        assert reply.url.startswith(other.url)
        assert server.count("token") == tokens_before
        assert other.count("GET /echo") == 1  # nothing replayed there
        (seen,) = other.state.seen
        assert "authorization" not in seen["headers"], seen
        assert "x-auth-token" not in seen["headers"], seen
        issued = server.issued_tokens()
        assert not [t for t in issued if t in json.dumps(seen)]
        if placement == "bearer":
            # The token was not invalidated: the next call uses it, with no token request.
            assert client.request("GET", f"{server.url}/api").status == 200
            assert server.count("token") == tokens_before == 1

    @pytest.mark.parametrize("placement", ["bearer", "custom-bearer"])
    def test_cross_origin_redirect_after_replay_strips_fresh_token(
        self, server: TokenServer, other: TokenServer, make_client: MakeClient, placement: str
    ) -> None:
        """A 401 replayed with a fresh token, then redirected elsewhere: the hop carries nothing."""
        auth, _ = _placement(placement, server)
        client = make_client(auth, origin=server.url)
        target = f"{other.url}/echo"
        url = f"{server.url}/guarded-redirect?" + urlencode({"to": target})
        assert client.request("GET", f"{server.url}/public").status == 200
        if placement == "bearer":
            assert client.request("GET", f"{server.url}/api").status == 200
        else:
            client.request("GET", url)  # fetches the first token
            other.state.seen.clear()
        server.revoke_all()
        reply = client.request("GET", url)
        assert reply.status == 200
        assert server.count("guarded_401") == 1  # the revoked token, then the fresh one
        (seen,) = other.state.seen
        assert "authorization" not in seen["headers"], seen
        assert "x-auth-token" not in seen["headers"], seen
        assert "at-" not in json.dumps(seen)

    @pytest.mark.parametrize("kind", ["bearer", "api-key", "basic", "client-credentials"])
    def test_refused_over_plain_http_before_any_lookup(
        self,
        server: TokenServer,
        make_client: MakeClient,
        monkeypatch: pytest.MonkeyPatch,
        kind: str,
    ) -> None:
        """Secrets to a plain-http non-loopback host are refused before DNS or a connection."""
        recorder = _Recorder(monkeypatch)
        auths: dict[str, Callable[[], AuthLike]] = {
            "bearer": lambda: StaticToken("static-token-value"),
            "api-key": lambda: ApiKey("k-value"),
            "basic": lambda: BasicAuth("alice", "s3cret!"),
            "client-credentials": lambda: make_credential(server),
        }
        client = make_client(auths[kind](), origin="http://api.example.invalid")
        with pytest.raises(InsecureTransportError):
            client.request("GET", "http://api.example.invalid/api")
        assert recorder.lookups == []
        assert recorder.connects == []
        assert server.count("token") == 0

    def test_token_url_refused_over_plain_http(self) -> None:
        """A plain-http token endpoint off loopback is refused when the credential is made."""
        with pytest.raises(InsecureTransportError):
            ClientCredentials(
                "http://login.example.invalid/token", client_id="a", client_secret="b"
            )

    @pytest.mark.parametrize("kind", ["bearer", "api-key", "basic"])
    def test_allow_insecure_opt_in(
        self, server: TokenServer, make_client: MakeClient, kind: str
    ) -> None:
        """With ``allow_insecure=True`` the credentials go over plain http (via a proxy)."""
        auths: dict[str, AuthLike] = {
            "bearer": StaticToken("static-token-value"),
            "api-key": ApiKey("k-value"),
            "basic": BasicAuth("alice", "s3cret!"),
        }
        expected = {
            "bearer": ("authorization", "Bearer static-token-value"),
            "api-key": ("x-api-key", "k-value"),
            "basic": ("authorization", "Basic " + base64.b64encode(b"alice:s3cret!").decode()),
        }[kind]
        client = make_client(
            auths[kind], origin="http://api.example.invalid", allow_insecure=True, proxy=server.url
        )
        reply = client.request("GET", "http://api.example.invalid/echo")
        assert reply.status == 200
        (seen,) = server.state.seen
        assert seen["headers"]["host"] == "api.example.invalid"
        assert seen["headers"][expected[0]] == expected[1]

    def test_secrets_absent_from_debug_logs(
        self,
        server: TokenServer,
        other: TokenServer,
        make_client: MakeClient,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Fetch, refresh on 401, redirect away and fail: no DEBUG record holds a secret."""
        caplog.set_level(logging.DEBUG)
        caplog.set_level(logging.DEBUG, logger="authwire")
        secret = server.state.client_secret
        key = server.state.api_key
        cred = make_credential(server)
        client = make_client(ApiKey(key) + cred, origin=server.url)
        assert client.request("GET", f"{server.url}/both").status == 200
        server.revoke_all()
        assert client.request("GET", f"{server.url}/both").status == 200
        assert client.request("GET", f"{server.url}/redirect?to={other.url}/echo").status == 200
        assert client.request("GET", f"{server.url}/redirect?to=/echo").status == 200
        cred.clear()
        server.set_mode("echo_secret")
        with pytest.raises(TokenRequestError):
            client.request("GET", f"{server.url}/both")
        tokens = server.issued_tokens()
        assert len(tokens) >= 1
        assert server.count("token") == 3
        assert any(r.name.startswith("authwire") for r in caplog.records)
        texts = [caplog.text]
        for record in caplog.records:
            texts.append(record.getMessage())
            texts.extend(repr(value) for value in vars(record).values())
        for text in texts:
            assert not leaks(text, secret, key, *tokens)

    def test_reprs_hold_no_secret(self, server: TokenServer, make_client: MakeClient) -> None:
        """Credentials, schemes, tokens and the integration's auth objects repr without secrets."""
        secret, key = server.state.client_secret, server.state.api_key
        cred = make_credential(server)
        token = cred.get_token()
        objects: list[object] = [
            cred,
            token,
            ApiKey(key),
            ApiKey(key, query="api_key"),
            ApiKey(key, cookie="api_key"),
            BasicAuth("alice", secret),
            DigestAuth("alice", secret),
            StaticToken(token.access_token),
            ApiKey(key) + cred,
            authwire.Secret(secret),
        ]
        for obj in objects:
            assert_no_secret(obj, secret, key, token.access_token)
        client = make_client(ApiKey(key) + cred, origin=server.url)
        assert client.request("GET", f"{server.url}/both").status == 200
        assert_no_secret(client, secret, key, token.access_token)
        for name in ("auth", "_auth", "adapter"):
            if hasattr(client, name):
                assert_no_secret(getattr(client, name), secret, key, token.access_token)

    def test_no_token_json_in_response_history(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """Token requests go through the credential's own client, never the user's."""
        client = make_client(make_credential(server), origin=server.url)
        assert client.request("GET", f"{server.url}/api").status == 200
        server.revoke_all()
        reply = client.request("GET", f"{server.url}/redirect?to=/api")
        assert reply.status == 200
        assert server.count("token") == 2
        statuses = [status for status, _, _ in reply.history]
        assert 302 in statuses
        assert set(statuses) <= {302, 401}  # requests keeps only the redirect; httpx both
        assert server.count("api_401") == 1
        for _, url, text in reply.history:
            assert "/token" not in url
            assert "access_token" not in text
        assert client.sent_urls
        assert not [url for url in client.sent_urls if "/token" in url]
        agents = server.state.token_user_agents
        assert agents == [f"authwire/{authwire.__version__}"] * 2

    # -- other schemes through the integration --------------------------------------------

    def test_basic_auth(self, server: TokenServer, make_client: MakeClient) -> None:
        """BasicAuth is accepted by a Basic-protected endpoint; a wrong password is not."""
        good = make_client(BasicAuth("alice", "s3cret!"), origin=server.url)
        assert good.request("GET", f"{server.url}/basic").status == 200
        bad = make_client(BasicAuth("alice", "wrong"), origin=server.url)
        assert bad.request("GET", f"{server.url}/basic").status == 401
        assert server.count("GET /basic") == 2

    @pytest.mark.parametrize("alg", ["MD5", "SHA-256"])
    def test_digest_auth(self, server: TokenServer, make_client: MakeClient, alg: str) -> None:
        """DigestAuth answers the challenge once, then reuses the nonce with counting."""
        client = make_client(DigestAuth("alice", "s3cret!"), origin=server.url)
        for _ in range(3):
            reply = client.request("GET", f"{server.url}/digest?alg={alg}")
            assert reply.status == 200
            assert reply.json()["alg"] == alg
        assert server.count("digest_ok") == 3
        assert server.count("digest_challenge") == 1

    def test_digest_stale_nonce_retried(self, server: TokenServer, make_client: MakeClient) -> None:
        """A nonce the server calls stale is replaced from the new challenge; the call succeeds."""
        client = make_client(DigestAuth("alice", "s3cret!"), origin=server.url)
        assert client.request("GET", f"{server.url}/digest").status == 200
        with server.state.lock:
            for nonce in server.state.nonces:
                server.state.nonces[nonce] = 0.0  # expired: the next answer is stale=true
        assert client.request("GET", f"{server.url}/digest").status == 200
        assert server.count("digest_challenge") == 2
        assert server.count("digest_ok") == 2
        assert server.count("GET /digest") == 4

    def test_digest_wrong_password_401_no_loop(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """A wrong Digest password ends in a 401 after one answered challenge, not a loop."""
        client = make_client(DigestAuth("alice", "wrong"), origin=server.url)
        assert client.request("GET", f"{server.url}/digest").status == 401
        assert server.count("GET /digest") == 2

    def test_api_key_plus_client_credentials(
        self, server: TokenServer, make_client: MakeClient
    ) -> None:
        """``ApiKey + ClientCredentials`` sends both, and a 401 refreshes and replays both."""
        client = make_client(
            ApiKey(server.state.api_key) + make_credential(server), origin=server.url
        )
        assert client.request("GET", f"{server.url}/both").status == 200
        server.revoke_all()
        reply = client.request("GET", f"{server.url}/both")
        assert reply.status == 200
        assert server.count("api_401") == 1
        assert server.count("token") == 2
        assert server.count("GET /both") == 3

    # -- the client library's own handlers in a ``+`` chain ---------------------------------

    def test_foreign_handler_joins_a_chain(
        self, server: TokenServer, make_client: MakeClient, make_handler: MakeHandler
    ) -> None:
        """``ApiKey(...) + MyHandler()`` sends both parts' headers, once each request."""
        handler = make_handler("X-Signed", "by-handler")
        key = server.state.api_key
        client = make_client(ApiKey(key, header="X-API-Key") + handler, origin=server.url)
        for _ in range(2):
            assert client.request("GET", f"{server.url}/echo").status == 200
        for seen in server.state.seen:
            assert seen["headers"]["x-signed"] == "by-handler"
            assert seen["headers"]["x-api-key"] == key
        assert handler.calls == 2

    def test_foreign_handler_first_in_a_chain(
        self, server: TokenServer, make_client: MakeClient, make_handler: MakeHandler
    ) -> None:
        """``MyHandler() + credential``: the handler may come first; a 401 still replays."""
        handler = make_handler("X-Signed", "by-handler")
        client = make_client(handler + make_credential(server), origin=server.url)
        assert client.request("GET", f"{server.url}/api").status == 200
        server.revoke_all()
        assert client.request("GET", f"{server.url}/api").status == 200
        assert server.count("token") == 2
        assert server.count("GET /api") == 3

    def test_foreign_handler_headers_stripped_on_cross_origin_redirect(
        self,
        server: TokenServer,
        other: TokenServer,
        make_client: MakeClient,
        make_handler: MakeHandler,
    ) -> None:
        """A redirect to another origin carries neither the handler's headers nor authwire's."""
        key = server.state.api_key
        chain = ApiKey(key, header="X-API-Key") + make_handler("X-Signed", "by-handler")
        client = make_client(chain, origin=server.url)
        reply = client.request("GET", f"{server.url}/redirect?to={other.url}/echo")
        assert reply.status == 200
        (seen,) = other.state.seen
        assert "x-signed" not in seen["headers"]
        assert key not in json.dumps(seen)

    def test_foreign_handler_headers_kept_on_same_origin_redirect(
        self, server: TokenServer, make_client: MakeClient, make_handler: MakeHandler
    ) -> None:
        """A redirect within the origin keeps the handler's headers."""
        chain = ApiKey(server.state.api_key) + make_handler("X-Signed", "by-handler")
        client = make_client(chain, origin=server.url)
        reply = client.request("GET", f"{server.url}/redirect?to={server.url}/echo")
        assert reply.status == 200
        (seen,) = server.state.seen
        assert seen["headers"]["x-signed"] == "by-handler"

    def test_foreign_handler_bound_to_the_origin(
        self,
        server: TokenServer,
        other: TokenServer,
        make_client: MakeClient,
        make_handler: MakeHandler,
    ) -> None:
        """The chain is bound to its origin: elsewhere the handler never runs, nothing is sent.

        An ``Auth`` refuses the other origin (``InsecureTransportError``); an adapter
        mounted on the origin is not used for it at all.
        """
        handler = make_handler("X-Signed", "by-handler")
        key = server.state.api_key
        client = make_client(ApiKey(key) + handler, origin=server.url)
        assert client.request("GET", f"{server.url}/echo").status == 200
        try:
            client.request("GET", f"{other.url}/echo")
        except InsecureTransportError:
            assert other.state.seen == []
        assert handler.calls == 1
        assert "x-signed" not in json.dumps(other.state.seen)
        assert key not in json.dumps(other.state.seen)


def check_single_flight(
    server: TokenServer,
    make_client: MakeClient,
    workers: int,
    expiries: int,
    leeway: float | None = None,
) -> dict[str, float]:
    """Hammer one credential with ``workers`` callers across ``expiries`` token lifetimes.

    Asserts: callers see zero 401s (the server refused at most tokens that reached it
    after expiring, and those were replayed); never two token requests at once; never a
    second token request within one token generation (consecutive requests at least a
    quarter of the lifetime apart, where a race would put them milliseconds apart); every
    fetched token served requests. Returns (and prints) the figures measured.
    """
    server.state.ttl = 3.0
    server.state.token_delay = 0.05  # widens the window in which a broken lock would race
    options = {} if leeway is None else {"leeway": leeway}
    client = make_client(make_credential(server, **options), origin=server.url)
    statuses = client.hammer(f"{server.url}/api", workers, _until_expiries(server, expiries))
    figures = assert_single_flight(server, statuses, expiries)
    print(f"single flight, {workers} callers: {figures}")  # shown with pytest -rP
    return figures


def _until_expiries(server: TokenServer, expiries: int) -> Callable[[], bool]:
    ttl = server.state.ttl

    def keep_going() -> bool:
        times = server.state.token_times
        return not times or time.monotonic() - times[0] < expiries * ttl + 0.2

    return keep_going


def assert_single_flight(
    server: TokenServer, statuses: Mapping[int, int], expiries: int
) -> dict[str, float]:
    """The assertions of ``check_single_flight`` on what the server counted."""
    ttl = server.state.ttl
    times = server.token_times()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    duplicates = [gap for gap in gaps if gap < ttl / 4]
    calls = sum(statuses.values())
    assert dict(statuses) == {200: calls}, (statuses, server.state.expired_uses[:20])
    # The server may refuse a request that reached it after its token expired (it was
    # attached inside the token's last tenth of life while the refresh was in flight, and
    # the loaded machine delayed it); authwire then refreshes and replays, so callers still
    # see 200. Any other 401 (an unknown or wrong token) is a failure.
    late = len(server.state.expired_uses)
    assert server.count("api_401") == late
    assert duplicates == [], f"token requests within one generation: {gaps}"
    assert server.state.token_inflight_max == 1
    assert times[-1] - times[0] >= (expiries - 1) * ttl
    assert len(times) >= expiries + 1
    assert len(server.state.tokens_used) == len(times)
    return {"calls": calls, "token_requests": len(times), "late_401s": late}


def body_chunks(data: bytes) -> Iterator[bytes]:
    """``data`` as a one-shot generator of chunks."""
    for i in range(0, len(data), 100):
        yield data[i : i + 100]


def open_body(body: Body) -> Any:
    """The object to pass as the request body for a sync client (caller closes files)."""
    if body.kind == "bytes":
        return body.data
    if body.kind == "file":
        assert body.path is not None
        return body.path.open("rb")
    return body_chunks(body.data)


__all__ = [
    "Body",
    "ContractClient",
    "IntegrationContract",
    "MakeClient",
    "Reply",
    "assert_single_flight",
    "body_chunks",
    "check_single_flight",
    "make_credential",
    "open_body",
]
