"""Digest and Basic against a real Apache httpd, through requests, httpx and httpx async.

Every behaviour runs through the integrations (``authwire.requests.Auth`` and ``AuthAdapter``,
``httpx.Client`` and ``httpx.AsyncClient`` on asyncio and trio) and is checked twice:
by what the client saw (status, history, the header it sent) and by Apache's access log
(how many 401s Apache really sent).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import anyio
import httpx
import pytest
import requests
from tests.integration._apache import (
    APACHE_PASSWORD,
    APACHE_USER,
    ApacheServer,
    apache_server_fixture,  # noqa: F401 (provides the apache_server fixture)
)
from tests.leakcheck import assert_no_secret, capture_logs

import authwire
import authwire.httpx
import authwire.requests
from authwire._core.schemes.base import AuthLike
from authwire._core.schemes.challenge import parse_challenges

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Result:
    """What a client got back for one call."""

    status: int
    text: str
    history: list[int]
    challenges: list[str]  # WWW-Authenticate of each response in the history
    authorization: str | None  # the Authorization header of the last request sent
    remote_user: str | None


Call = tuple[str, str, bytes | None]  # method, url, body
Runner = Callable[[AuthLike, Sequence[Call]], list[Result]]


def _run_requests(auth: AuthLike, calls: Sequence[Call], adapter: bool = False) -> list[Result]:
    results = []
    with requests.Session() as session:
        if adapter:
            origin = "/".join(calls[0][1].split("/", 3)[:3]) + "/"
            session.mount(origin, authwire.requests.AuthAdapter(auth))
        else:
            session.auth = authwire.requests.Auth(auth)
        for method, url, body in calls:
            r = session.request(method, url, data=body)
            results.append(
                Result(
                    r.status_code,
                    r.text,
                    [h.status_code for h in r.history],
                    [h.headers.get("WWW-Authenticate", "") for h in r.history],
                    r.request.headers.get("Authorization"),
                    r.headers.get("X-Remote-User"),
                )
            )
    return results


def _result(r: httpx.Response) -> Result:
    return Result(
        r.status_code,
        r.text,
        [h.status_code for h in r.history],
        [h.headers.get("WWW-Authenticate", "") for h in r.history],
        r.request.headers.get("Authorization"),
        r.headers.get("X-Remote-User"),
    )


def _run_httpx(auth: AuthLike, calls: Sequence[Call]) -> list[Result]:
    with httpx.Client(auth=authwire.httpx.Auth(auth)) as client:
        return [_result(client.request(m, url, content=body)) for m, url, body in calls]


async def _arun_httpx(auth: AuthLike, calls: Sequence[Call]) -> list[Result]:
    async with httpx.AsyncClient(auth=authwire.httpx.Auth(auth)) as client:
        return [_result(await client.request(m, url, content=body)) for m, url, body in calls]


def _run_httpx_async(backend: str, auth: AuthLike, calls: Sequence[Call]) -> list[Result]:
    return anyio.run(_arun_httpx, auth, calls, backend=backend)


RUNNERS: dict[str, Runner] = {
    "requests": _run_requests,
    "requests-adapter": partial(_run_requests, adapter=True),
    "httpx": _run_httpx,
    "httpx-async-asyncio": partial(_run_httpx_async, "asyncio"),
    "httpx-async-trio": partial(_run_httpx_async, "trio"),
}


@pytest.fixture(params=list(RUNNERS))
def run(request: pytest.FixtureRequest) -> Runner:
    """Runs calls through one integration: requests (Auth or AuthAdapter), httpx, httpx async."""
    return RUNNERS[request.param]


def _digest_params(header: str | None) -> dict[str, str]:
    assert header is not None
    assert header.startswith("Digest ")
    return parse_challenges([header])[0].params


def test_digest_right_password_gets_200(apache_server: ApacheServer, run: Runner) -> None:
    """The right password answers Apache's one challenge and gets the page."""
    mark = apache_server.log_mark()
    auth = authwire.DigestAuth(APACHE_USER, APACHE_PASSWORD)
    [result] = run(auth, [("GET", apache_server.url("/digest/"), None)])
    assert result.status == 200
    assert result.text == "digest ok\n"
    assert result.remote_user == APACHE_USER
    assert result.history == [401]
    assert apache_server.statuses(mark, 2) == [401, 200]


def test_digest_wrong_password_returns_401_without_loop(
    apache_server: ApacheServer, run: Runner
) -> None:
    """A wrong password answers the challenge once, then the 401 goes back to the caller."""
    mark = apache_server.log_mark()
    auth = authwire.DigestAuth(APACHE_USER, "not-the-password")
    [result] = run(auth, [("GET", apache_server.url("/digest/"), None)])
    assert result.status == 401
    assert result.history == [401]
    assert _digest_params(result.authorization)["username"] == APACHE_USER
    assert apache_server.statuses(mark, 2) == [401, 401]


def test_digest_reuses_nonce_with_incrementing_nc(apache_server: ApacheServer, run: Runner) -> None:
    """After one challenge, later requests reuse the nonce with nc 2, 3, 4 and see no 401."""
    mark = apache_server.log_mark()
    auth = authwire.DigestAuth(APACHE_USER, APACHE_PASSWORD)
    url = apache_server.url("/digest/")
    results = run(auth, [("GET", url, None)] * 4)
    assert [r.status for r in results] == [200, 200, 200, 200]
    assert [r.history for r in results] == [[401], [], [], []]
    sent = [_digest_params(r.authorization) for r in results]
    assert len({p["nonce"] for p in sent}) == 1
    assert [p["nc"] for p in sent] == ["00000001", "00000002", "00000003", "00000004"]
    assert len({p["cnonce"] for p in sent}) == 4
    # AuthDigestNcCheck is on: Apache itself verified each nc was new.
    assert apache_server.statuses(mark, 5) == [401, 200, 200, 200, 200]


def test_digest_post_body_replayed_after_challenge(
    apache_server: ApacheServer, run: Runner
) -> None:
    """A POST challenged by Apache is replayed with its body, which the CGI echoes back."""
    mark = apache_server.log_mark()
    auth = authwire.DigestAuth(APACHE_USER, APACHE_PASSWORD)
    body = b"order=42&note=replayed+after+401"
    [result] = run(auth, [("POST", apache_server.url("/digest/echo"), body)])
    assert result.status == 200
    assert result.history == [401]
    assert result.text == f"user={APACHE_USER} method=POST length={len(body)}\n{body.decode()}"
    assert apache_server.statuses(mark, 2) == [401, 200]


def test_digest_stale_nonce_is_answered_once(apache_server: ApacheServer, run: Runner) -> None:
    """An expired nonce gets a stale=true challenge, answered with the new nonce: 200."""
    auth = authwire.DigestAuth(APACHE_USER, APACHE_PASSWORD)
    url = apache_server.url("/stale/")
    [first] = run(auth, [("GET", url, None)])
    assert first.status == 200
    time.sleep(2.0)  # the location's AuthDigestNonceLifetime is 1 s
    mark = apache_server.log_mark()
    [result] = run(auth, [("GET", url, None)])
    assert result.status == 200
    assert result.history == [401]
    assert "stale=true" in result.challenges[0]
    assert (
        _digest_params(result.authorization)["nonce"]
        != _digest_params(first.authorization)["nonce"]
    )
    assert apache_server.statuses(mark, 2) == [401, 200]


def test_digest_password_never_logged(apache_server: ApacheServer, run: Runner) -> None:
    """Neither the password nor HA1 appears in authwire's DEBUG logs or the scheme's repr."""
    auth = authwire.DigestAuth(APACHE_USER, APACHE_PASSWORD)
    with capture_logs() as logs:
        results = run(
            auth,
            [
                ("GET", apache_server.url("/digest/"), None),
                ("POST", apache_server.url("/digest/echo"), b"x=1"),
            ],
        )
    assert [r.status for r in results] == [200, 200]
    for text in [*logs.texts(), repr(auth), str(auth)]:
        assert_no_secret(text, APACHE_PASSWORD, others=[APACHE_USER])


def test_basic_right_password_is_sent_preemptively(
    apache_server: ApacheServer, run: Runner
) -> None:
    """Basic credentials go with the first request: 200 and no 401 at all."""
    mark = apache_server.log_mark()
    auth = authwire.BasicAuth(APACHE_USER, APACHE_PASSWORD)
    results = run(auth, [("GET", apache_server.url("/basic/"), None)] * 2)
    assert [(r.status, r.history, r.remote_user) for r in results] == [(200, [], APACHE_USER)] * 2
    assert apache_server.statuses(mark, 2) == [200, 200]


def test_basic_wrong_password_returns_401_once(apache_server: ApacheServer, run: Runner) -> None:
    """A wrong Basic password gets Apache's 401 back after one request, with no retry."""
    mark = apache_server.log_mark()
    auth = authwire.BasicAuth(APACHE_USER, "not-the-password")
    [result] = run(auth, [("GET", apache_server.url("/basic/"), None)])
    assert result.status == 401
    assert result.history == []
    assert apache_server.statuses(mark, 1) == [401]


def test_basic_post_body_reaches_apache(apache_server: ApacheServer, run: Runner) -> None:
    """A POST with Basic auth reaches the CGI with its body and the authenticated user."""
    mark = apache_server.log_mark()
    auth = authwire.BasicAuth(APACHE_USER, APACHE_PASSWORD)
    body = b"hello=apache"
    [result] = run(auth, [("POST", apache_server.url("/basic/echo"), body)])
    assert result.status == 200
    assert result.text == f"user={APACHE_USER} method=POST length={len(body)}\n{body.decode()}"
    assert apache_server.statuses(mark, 1) == [200]


def _threads_requests(auth: AuthLike, url: str, workers: int, calls: int) -> list[Result]:
    shared = authwire.requests.Auth(auth)
    results: list[Result] = []

    def work() -> None:
        with requests.Session() as session:
            session.auth = shared
            for _ in range(calls):
                r = session.get(url)
                results.append(
                    Result(
                        r.status_code, r.text, [h.status_code for h in r.history], [], None, None
                    )
                )

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _threads_httpx(auth: AuthLike, url: str, workers: int, calls: int) -> list[Result]:
    results: list[Result] = []
    with httpx.Client(auth=authwire.httpx.Auth(auth)) as client:

        def work() -> None:
            for _ in range(calls):
                results.append(_result(client.get(url)))

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return results


async def _atasks_httpx(auth: AuthLike, url: str, workers: int, calls: int) -> list[Result]:
    results: list[Result] = []
    async with httpx.AsyncClient(auth=authwire.httpx.Auth(auth)) as client:

        async def work() -> None:
            for _ in range(calls):
                results.append(_result(await client.get(url)))

        async with anyio.create_task_group() as group:
            for _ in range(workers):
                group.start_soon(work)
    return results


CONCURRENT: dict[str, Callable[[AuthLike, str, int, int], list[Result]]] = {
    "requests-threads": _threads_requests,
    "httpx-threads": _threads_httpx,
    "httpx-async-tasks": lambda *args: anyio.run(_atasks_httpx, *args),
}


@pytest.mark.parametrize("kind", list(CONCURRENT))
def test_digest_concurrent_callers_all_get_200(apache_server: ApacheServer, kind: str) -> None:
    """Eight callers sharing one DigestAuth all get 200, with at most one 401 each.

    Apache checks that each nonce count is above the last one it saw, so concurrent
    requests on a shared nonce that overtake each other are refused; the refused one is
    answered with a fresh nonce of its own and succeeds.
    """
    mark = apache_server.log_mark()
    auth = authwire.DigestAuth(APACHE_USER, APACHE_PASSWORD)
    results = CONCURRENT[kind](auth, apache_server.url("/digest/"), 8, 10)
    assert [r.status for r in results] == [200] * 80
    assert all(r.history in ([], [401]) for r in results)
    retried = sum(len(r.history) for r in results)
    assert sorted(apache_server.statuses(mark, 80 + retried)) == [200] * 80 + [401] * retried
