"""The integration contract for ``requests``: ``authwire.requests.Auth`` and ``AuthAdapter``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from tests.contract.base import (
    Body,
    IntegrationContract,
    MakeClient,
    Reply,
    make_credential,
    open_body,
)
from tests.servers.token_server import TokenServer

import authwire
import authwire.requests
from authwire._core.schemes.base import AuthLike

pytestmark = pytest.mark.integration


class RequestsClient:
    """A ``ContractClient`` over ``requests.Session``s configured by ``configure``."""

    def __init__(self, configure: Callable[[requests.Session], None], proxy: str | None) -> None:
        self._configure = configure
        self._proxy = proxy
        self.sent_urls: list[str] = []
        self._sessions: list[requests.Session] = []
        self.session = self._new_session()

    def __repr__(self) -> str:
        return f"RequestsClient({self.session.auth!r}, {self.session.adapters!r})"

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        if self._proxy:
            session.proxies = {"http": self._proxy, "https": self._proxy}
        self._configure(session)

        def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            self.sent_urls.append(response.request.url or "")

        session.hooks["response"].append(record)
        self._sessions.append(session)
        return session

    def request(
        self, method: str, url: str, *, body: Body | None = None, follow_redirects: bool = True
    ) -> Reply:
        data = open_body(body) if body is not None else None
        try:
            response = self.session.request(
                method, url, data=data, allow_redirects=follow_redirects, timeout=30
            )
        finally:
            if hasattr(data, "close"):
                data.close()
        return Reply(
            status=response.status_code,
            text=response.text,
            url=response.url,
            history=[(r.status_code, r.url, r.text) for r in response.history],
        )

    def hammer(self, url: str, workers: int, keep_going: Callable[[], bool]) -> Counter[int]:
        sessions = [self._new_session() for _ in range(workers)]

        def work(session: requests.Session) -> Counter[int]:
            seen: Counter[int] = Counter()
            while keep_going():
                with session.get(url, timeout=30) as response:
                    seen[response.status_code] += 1
            return seen

        total: Counter[int] = Counter()
        with ThreadPoolExecutor(workers) as pool:
            for seen in pool.map(work, sessions):
                total += seen
        return total

    def close(self) -> None:
        for session in self._sessions:
            session.close()


Configure = Callable[[requests.Session], None]


def _factory(build: Callable[[AuthLike, str, bool], Configure]) -> Iterator[MakeClient]:
    """A ``make_client`` whose clients' sessions are set up by ``build(auth, ...)``."""
    clients: list[RequestsClient] = []

    def make(
        auth: AuthLike,
        *,
        origin: str,
        allow_insecure: bool = False,
        proxy: str | None = None,
    ) -> RequestsClient:
        client = RequestsClient(build(auth, origin, allow_insecure), proxy)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class TestAuth(IntegrationContract):
    """``session.auth = authwire.requests.Auth(x)``."""

    lost_on_same_origin_redirect = {  # noqa: RUF012
        "query": "requests builds the next hop's URL from Location and never re-runs "
        "session.auth on redirects, so an API key query parameter is not re-added",
        "cookie": "requests drops the Cookie header on every redirect and rebuilds it "
        "from the cookie jar, so an API key cookie is not re-added",
    }

    @pytest.fixture
    def make_client(self) -> Iterator[MakeClient]:
        """Sessions (one per thread) sharing one ``authwire.requests.Auth``."""

        def build(auth: AuthLike, origin: str, allow_insecure: bool) -> Configure:
            shared = authwire.requests.Auth(auth, allow_insecure=allow_insecure)

            def configure(session: requests.Session) -> None:
                session.auth = shared

            return configure

        yield from _factory(build)


class TestAuthAdapter(IntegrationContract):
    """``session.mount(origin + "/", authwire.requests.AuthAdapter(x))``."""

    @pytest.fixture
    def make_client(self) -> Iterator[MakeClient]:
        """Sessions (one per thread) with one shared ``AuthAdapter`` mounted on the origin."""

        def build(auth: AuthLike, origin: str, allow_insecure: bool) -> Configure:
            adapter = authwire.requests.AuthAdapter(auth, allow_insecure=allow_insecure)

            def configure(session: requests.Session) -> None:
                session.mount(origin.rstrip("/") + "/", adapter)

            return configure

        yield from _factory(build)


# -- the other ways of using authwire with requests ------------------------------------

Send = Callable[[AuthLike, str], requests.Response]


def _per_call(auth: AuthLike, url: str) -> requests.Response:
    """``requests.get(url, auth=authwire.requests.Auth(x))``: a fresh Auth per call."""
    return requests.get(url, auth=authwire.requests.Auth(auth), timeout=30)


def _per_call_shared() -> Send:
    """``requests.get(url, auth=shared)``: one Auth given to each call."""
    shared: dict[int, authwire.requests.Auth] = {}

    def send(auth: AuthLike, url: str) -> requests.Response:
        the_auth = shared.setdefault(id(auth), authwire.requests.Auth(auth))
        return requests.get(url, auth=the_auth, timeout=30)

    return send


def _authwire_session() -> Send:
    """``authwire.Session(x)``, one session for the test."""
    sessions: dict[int, authwire.Session] = {}

    def send(auth: AuthLike, url: str) -> requests.Response:
        session = sessions.setdefault(id(auth), authwire.Session(auth, retries=0))
        return session.get(url, timeout=30)

    return send


@pytest.fixture(params=["requests.get(auth=Auth)", "shared Auth per call", "authwire.Session"])
def send(request: pytest.FixtureRequest) -> Send:
    """One way of sending a request through authwire with requests."""
    if request.param == "requests.get(auth=Auth)":
        return _per_call
    if request.param == "shared Auth per call":
        return _per_call_shared()
    return _authwire_session()


@pytest.mark.parametrize("placement", ["bearer", "custom-bearer", "digest"])
def test_401_from_other_origin_not_answered_per_call(
    server: TokenServer, other: TokenServer, send: Send, placement: str
) -> None:
    """Per-call ``auth=`` and ``authwire.Session``: another origin's 401 behind a redirect
    is returned as is, costing no token request, no invalidation and no replay there."""
    auth: AuthLike
    if placement == "digest":
        auth = authwire.DigestAuth("alice", "s3cret!")
    elif placement == "custom-bearer":
        auth = authwire.BearerAuth(make_credential(server), header="X-Auth-Token")
    else:
        auth = make_credential(server)
    if placement != "digest":
        assert send(auth, f"{server.url}/public").status_code == 200  # holds a token now
    tokens_before = server.count("token")
    target = f"{other.url}/echo?" + urlencode({"status": "401", "challenge": "Bearer"})
    response = send(auth, f"{server.url}/redirect?" + urlencode({"to": target}))
    assert response.status_code == 401
    assert server.count("token") == tokens_before
    assert other.count("GET /echo") == 1
    (seen,) = other.state.seen
    assert "authorization" not in seen["headers"], seen
    assert "x-auth-token" not in seen["headers"], seen
    assert "at-" not in json.dumps(seen)
    if placement == "bearer":
        assert send(auth, f"{server.url}/api").status_code == 200
        assert server.count("token") == 1  # the good token was never invalidated


def test_other_origin_redirecting_back_not_answered(
    server: TokenServer, other: TokenServer
) -> None:
    """A -> other origin -> back to A: the hop back carries nothing and its 401 is not
    answered (the request left authwire when it left the origin), as with authwire.Session."""
    cred = make_credential(server)
    session = requests.Session()
    session.trust_env = False
    session.auth = authwire.requests.Auth(cred)
    assert session.get(f"{server.url}/api", timeout=30).status_code == 200
    back = f"{other.url}/redirect?" + urlencode({"to": f"{server.url}/api"})
    response = session.get(f"{server.url}/redirect?" + urlencode({"to": back}), timeout=30)
    assert response.status_code == 401
    assert server.count("token") == 1
    assert server.count("api_401") == 1


# -- the user's own requests handlers in a chain; the Session.auth setter -----------------


class HeaderAuth(requests.auth.AuthBase):
    """A user's own requests handler: sets one header, counts the requests it saw."""

    def __init__(self, header: str, value: str) -> None:
        self.header = header
        self.value = value
        self.calls = 0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self.calls += 1
        request.headers[self.header] = self.value
        return request


@pytest.fixture
def make_handler() -> Callable[[str, str], HeaderAuth]:
    """The ``MakeHandler`` of the contract: a ``requests.auth.AuthBase``."""
    return HeaderAuth


def test_chain_parts_apply_in_order(server: TokenServer) -> None:
    """On a header both set, the later part of the chain wins, whichever library wrote it."""
    first = authwire.ApiKey("from-authwire", header="X-Who") + HeaderAuth("X-Who", "from-handler")
    second = HeaderAuth("X-Who", "from-handler") + authwire.ApiKey("from-authwire", header="X-Who")
    for chain, expected in ((first, "from-handler"), (second, "from-authwire")):
        response = requests.get(
            f"{server.url}/echo", auth=authwire.requests.Auth(chain), timeout=30
        )
        assert response.json()["headers"]["x-who"] == expected


def test_requests_digest_handler_answers_its_challenge_in_a_chain(server: TokenServer) -> None:
    """requests' own ``HTTPDigestAuth`` in a chain answers its 401 through its response hook."""
    chain = authwire.ApiKey("k-1") + requests.auth.HTTPDigestAuth("alice", "s3cret!")
    with authwire.Session(chain, retries=0) as session:
        assert session.get(f"{server.url}/digest").status_code == 200
    assert server.count("digest_ok") == 1


def test_httpx_handler_refused_in_a_requests_chain() -> None:
    """An ``httpx.Auth`` cannot run on a requests request: a ``ConfigurationError`` says so."""
    import httpx

    chain = authwire.ApiKey("k-1") + httpx.BasicAuth("a", "b")
    with pytest.raises(authwire.ConfigurationError, match=r"httpx\.Auth"):
        authwire.requests.Auth(chain)
    with pytest.raises(authwire.ConfigurationError, match=r"httpx\.Auth"):
        authwire.Session(chain)


def test_session_auth_setter_accepts_a_credential(server: TokenServer) -> None:
    """``s = authwire.Session(); s.auth = credential`` works as ``Session(credential)`` does."""
    with authwire.Session(retries=0) as session:
        session.auth = make_credential(server)
        assert isinstance(session.auth, authwire.requests.Auth)
        assert session.get(f"{server.url}/api").status_code == 200
        assert session.get(f"{server.url}/api").status_code == 200
    assert server.count("token") == 1


def test_session_auth_setter_accepts_what_the_constructor_accepts(server: TokenServer) -> None:
    """Scheme, chain with a handler, requests auth and ``None`` set; a tuple is refused."""
    handler = HeaderAuth("X-Signed", "yes")
    with authwire.Session(retries=0) as session:
        session.auth = authwire.ApiKey(server.state.api_key, header="X-API-Key") + handler
        seen = session.get(f"{server.url}/echo").json()["headers"]
        assert (seen["x-api-key"], seen["x-signed"]) == (server.state.api_key, "yes")
        session.auth = HeaderAuth("X-Plain", "1")
        assert session.get(f"{server.url}/echo").json()["headers"]["x-plain"] == "1"
        session.auth = None
        assert "x-plain" not in session.get(f"{server.url}/echo").json()["headers"]
        with pytest.raises(authwire.ConfigurationError, match="BasicAuth"):
            session.auth = ("alice", "s3cret!")
        with pytest.raises(authwire.ConfigurationError):
            session.auth = object()


def test_session_auth_setter_keeps_origin_binding(server: TokenServer, other: TokenServer) -> None:
    """Credentials set after construction are bound to the session's ``origins=``."""
    with authwire.Session(origins=server.url, retries=0) as session:
        session.auth = authwire.ApiKey(server.state.api_key)
        with pytest.raises(authwire.InsecureTransportError):
            session.get(f"{other.url}/echo")
    assert other.state.seen == []
