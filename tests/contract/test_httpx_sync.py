"""The integration contract for ``httpx.Client`` with ``authwire.httpx.Auth``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests.contract.base import Body, IntegrationContract, MakeClient, Reply, open_body
from tests.servers.token_server import TokenServer

import authwire.httpx
from authwire._core.schemes.base import AuthLike

pytestmark = pytest.mark.integration


def to_reply(response: httpx.Response) -> Reply:
    """A library-neutral ``Reply`` from an httpx response (body already read)."""
    return Reply(
        status=response.status_code,
        text=response.text,
        url=str(response.url),
        history=[(r.status_code, str(r.url), r.text) for r in response.history],
    )


class HttpxClient:
    """A ``ContractClient`` over one ``httpx.Client`` shared by every thread."""

    def __init__(self, auth: authwire.httpx.Auth, proxy: str | None) -> None:
        self.auth = auth
        self.sent_urls: list[str] = []
        self.client = httpx.Client(
            auth=auth,
            proxy=proxy,
            trust_env=False,
            timeout=30,
            follow_redirects=True,
            # Keep-alive room for every connection: httpcore 1.0.9's pool closes a "surplus
            # idle" connection by counting all connections (not idle ones) against the
            # keep-alive limit (20), and can close one already assigned to a waiting thread,
            # which then fails with EBADF. That race is the pool's, not authwire's.
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            event_hooks={"request": [self._record]},
        )

    def __repr__(self) -> str:
        return f"HttpxClient({self.auth!r})"

    def _record(self, request: httpx.Request) -> None:
        self.sent_urls.append(str(request.url))

    def request(
        self, method: str, url: str, *, body: Body | None = None, follow_redirects: bool = True
    ) -> Reply:
        content = open_body(body) if body is not None else None
        try:
            response = self.client.request(
                method, url, content=content, follow_redirects=follow_redirects
            )
        finally:
            if hasattr(content, "close"):
                content.close()
        return to_reply(response)

    def hammer(self, url: str, workers: int, keep_going: Callable[[], bool]) -> Counter[int]:
        def work(_: int) -> Counter[int]:
            seen: Counter[int] = Counter()
            while keep_going():
                seen[self.client.get(url).status_code] += 1
            return seen

        total: Counter[int] = Counter()
        with ThreadPoolExecutor(workers) as pool:
            for seen in pool.map(work, range(workers)):
                total += seen
        return total

    def close(self) -> None:
        self.client.close()


class TestHttpxClient(IntegrationContract):
    """``httpx.Client(auth=authwire.httpx.Auth(x))``."""

    @pytest.fixture
    def make_client(self) -> Iterator[MakeClient]:
        """Clients authenticated by ``authwire.httpx.Auth``; closed after the test."""
        clients: list[HttpxClient] = []

        def make(
            auth: AuthLike,
            *,
            origin: str,
            allow_insecure: bool = False,
            proxy: str | None = None,
        ) -> HttpxClient:
            client = HttpxClient(authwire.httpx.Auth(auth, allow_insecure=allow_insecure), proxy)
            clients.append(client)
            return client

        yield make
        for client in clients:
            client.close()


# -- the user's own httpx handlers in a chain ---------------------------------------------


class HeaderAuth(httpx.Auth):
    """A user's own httpx handler: sets one header, counts the requests it saw."""

    def __init__(self, header: str, value: str) -> None:
        self.header = header
        self.value = value
        self.calls = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.calls += 1
        request.headers[self.header] = self.value
        yield request


@pytest.fixture
def make_handler() -> Callable[[str, str], HeaderAuth]:
    """The ``MakeHandler`` of the contract: an ``httpx.Auth``."""
    return HeaderAuth


def test_httpx_digest_handler_answers_its_challenge_in_a_chain(server: TokenServer) -> None:
    """httpx's own ``DigestAuth`` in a chain answers its 401 inside authwire's flow."""
    chain = authwire.ApiKey("k-1") + httpx.DigestAuth("alice", "s3cret!")
    with httpx.Client(auth=authwire.httpx.Auth(chain)) as client:
        assert client.get(f"{server.url}/digest").status_code == 200
        assert client.get(f"{server.url}/digest").status_code == 200
    assert server.count("digest_ok") == 2


def test_requests_handler_refused_in_an_httpx_chain() -> None:
    """A ``requests.auth.AuthBase`` cannot run on an httpx request: a ``ConfigurationError``."""
    import requests

    chain = authwire.ApiKey("k-1") + requests.auth.HTTPBasicAuth("a", "b")
    with pytest.raises(authwire.ConfigurationError, match=r"requests\.auth\.AuthBase"):
        authwire.httpx.Auth(chain)
