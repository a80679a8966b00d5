"""Secrets stay out of a failed token request's error, logs and frame locals.

Every grant is made to fail at a real loopback token endpoint (``400 invalid_client``,
``invalid_grant`` for a refresh) through ``get_token``, ``aget_token`` and a ``requests``
call with ``authwire.requests.Auth``, with planted secrets that every escaper changes
(``tests.leakcheck.plant(tricky=True)``) and a token URL carrying a userinfo password
and secret query values. Checked, for each: the error's ``str`` and ``repr``, every
``authwire`` log record at DEBUG (the ``planted_secrets`` fixture), and the locals of
every authwire frame of the error's traceback rendered as
``traceback.TracebackException(..., capture_locals=True)`` and error trackers (Sentry)
render them, chained causes included.

Frames of httpx and requests internals are not checked: while a request is being sent
they hold its encoded body, which authwire cannot avoid (docs/security.md, rule 1). With
a ``400`` those frames have returned before the error is raised, so they are not in these
tracebacks at all. The URL's secrets are checked in messages and logs, not in frame
locals: a frame handed the URL as a string holds it as given.

Run as a script, this module prints the measurement reported in the changelog.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
import requests
from tests.leakcheck import SecretPlanter, leaked_forms, plant
from tests.servers.refusing_server import RefusingServer, State

import authwire
import authwire.requests
from authwire import (
    AuthorizationCode,
    ClientCredentials,
    Credential,
    DeviceCode,
    JwtBearer,
    LoginEndpoint,
    PasswordGrant,
    RefreshTokenGrant,
    TokenExchange,
)
from authwire.errors import AuthwireError

pytestmark = pytest.mark.integration

_AUTHWIRE_DIR = str(Path(authwire.__file__).resolve().parent)

#: Modules whose frames another change covers (JwtBearer's assertion and TokenExchange's
#: subject held as ``Secret``): reported by ``frame_leaks`` but not failed on here yet.
OWNED_ELSEWHERE: tuple[str, ...] = ()

CASES = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "password",
    "refresh_token",
    "jwt_bearer",
    "token_exchange",
    "device_code",
    "authorization_code",
    "login_form",
    "login_json",
)
DRIVERS = ("get_token", "aget_token", "requests_auth")


@pytest.fixture(scope="module")
def refusing() -> Iterator[RefusingServer]:
    """The refusing token endpoint, shared by the module's tests."""
    with RefusingServer() as running:
        yield running


@dataclass
class Case:
    """One grant made to fail."""

    credential: Credential
    #: Secrets the credential holds (checked everywhere, frame locals included).
    secrets: list[str] = field(default_factory=list)
    #: Secrets in its URLs (checked in messages, reprs and logs).
    url_secrets: list[str] = field(default_factory=list)
    #: Values that may precede a secret in a Basic pair.
    others: tuple[str, ...] = ("svc", "alice")


def _browser_for(code: str) -> Callable[[str], None]:
    """A browser that plays the provider: back to the listener with ``code``, at once."""

    def browse(url: str) -> None:
        query = dict(parse_qsl(urlsplit(url).query))
        back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        threading.Thread(target=requests.get, args=(back,), kwargs={"timeout": 10}).start()

    return browse


def make_case(name: str, server_url: str, plant: Callable[[str], str], state: State) -> Case:
    """The credential for case ``name``, its secrets made with ``plant(label)``."""
    case = Case(credential=None)  # type: ignore[arg-type]

    def secret(label: str) -> str:
        case.secrets.append(plant(label))
        return case.secrets[-1]

    def url(path: str) -> str:
        # Plain planted secrets: requests encodes a URL's userinfo as latin-1.
        user_pw, query_secret = globals()["plant"]("url-pw"), globals()["plant"]("url-qs")
        case.url_secrets += [user_pw, query_secret]
        base = server_url.replace("http://", f"http://svc:{quote(user_pw, safe='')}@")
        return f"{base}{path}?client_secret={quote(query_secret, safe='')}&x=1"

    common: dict[str, Any] = {"client_id": "svc", "retries": 0}
    token_url = url("/token")
    if name.startswith("client_secret_"):
        case.credential = ClientCredentials(
            token_url, client_secret=secret("cs"), auth_method=name, **common
        )
    elif name == "password":
        case.credential = PasswordGrant(
            token_url,
            username="alice",
            password=secret("pw"),
            client_secret=secret("cs"),
            **common,
        )
    elif name == "refresh_token":
        case.credential = RefreshTokenGrant(
            token_url, refresh_token=secret("rt"), client_secret=secret("cs"), **common
        )
    elif name == "jwt_bearer":
        case.credential = JwtBearer(token_url, assertion=secret("assertion"), **common)
    elif name == "token_exchange":
        case.credential = TokenExchange(
            token_url, subject=secret("subject"), client_secret=secret("cs"), **common
        )
    elif name == "device_code":
        state.device_code = secret("dc")
        case.credential = DeviceCode(
            token_url,
            device_authorization_url=url("/device"),
            prompt=lambda auth: None,
            poll_interval=0,
            client_secret=secret("cs"),
            **common,
        )
    elif name == "authorization_code":
        case.credential = AuthorizationCode(
            token_url,
            authorization_url=server_url + "/authorize",
            browser=_browser_for(secret("code")),
            client_secret=secret("cs"),
            login_timeout=20,
            **common,
        )
    elif name in ("login_form", "login_json"):
        body = "form" if name == "login_form" else "json"
        case.credential = LoginEndpoint(url("/login"), "alice", secret("pw"), body=body, retries=0)
    else:
        raise AssertionError(name)
    return case


def fail(credential: Credential, driver: str, api: str) -> BaseException:
    """Run ``credential`` through ``driver`` until it fails; the error raised."""
    try:
        if driver == "get_token":
            credential.get_token()
        elif driver == "aget_token":
            asyncio.run(credential.aget_token())
        else:
            requests.get(api, auth=authwire.requests.Auth(credential), timeout=10)
    except AuthwireError as exc:
        return exc
    raise AssertionError("the credential did not fail")


def _chain(te: traceback.TracebackException) -> Iterator[traceback.TracebackException]:
    seen: set[int] = set()
    todo = [te]
    while todo:
        current = todo.pop()
        if id(current) not in seen:
            seen.add(id(current))
            yield current
            todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def frame_leaks(
    exc: BaseException, secrets: list[str], others: tuple[str, ...] = ()
) -> list[tuple[str, str, str]]:
    """Every ``(file, function, local)`` whose rendered value holds a secret.

    Locals are rendered as ``capture_locals=True`` renders them (``repr``), through the
    error's cause and context chains.
    """
    te = traceback.TracebackException.from_exception(exc, capture_locals=True)
    return [
        (frame.filename, frame.name, name)
        for each in _chain(te)
        for frame in each.stack
        for name, text in (frame.locals or {}).items()
        if leaked_forms(text, *secrets, others=others)
    ]


def authwire_leaks(leaks: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The leaks in authwire's own frames (but those of ``OWNED_ELSEWHERE``)."""
    return [
        leak
        for leak in leaks
        if str(Path(leak[0]).resolve()).startswith(_AUTHWIRE_DIR)
        and not leak[0].endswith(OWNED_ELSEWHERE)
    ]


def _tricky(planted: SecretPlanter) -> Callable[[str], str]:
    return lambda label: planted.new(label, tricky=True)


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("name", CASES)
def test_no_secret_in_error_logs_or_frame_locals(
    name: str, driver: str, refusing: RefusingServer, planted_secrets: SecretPlanter
) -> None:
    """A refused token request shows no planted secret in its error, logs or locals."""
    case = make_case(name, refusing.url, _tricky(planted_secrets), refusing.state)
    exc = fail(case.credential, driver, refusing.url + "/api")
    planted_secrets.check(exc, case.credential, others=case.others)
    assert not authwire_leaks(frame_leaks(exc, case.secrets, case.others))


@pytest.mark.parametrize("name", CASES)
def test_escaped_echo_of_a_secret_reaches_no_error_log_or_local(
    name: str, refusing: RefusingServer, planted_secrets: SecretPlanter
) -> None:
    """A server echoing the request's values, HTML- and JSON-escaped, leaks none of them."""
    case = make_case(name, refusing.url, _tricky(planted_secrets), refusing.state)
    refusing.state.echo = True
    try:
        exc = fail(case.credential, "get_token", refusing.url + "/api")
    finally:
        refusing.state.echo = False
    assert "rejected: " in f"{exc} {exc.__cause__}"  # the echo was read
    planted_secrets.check(exc, exc.__cause__, case.credential, others=case.others)
    assert not authwire_leaks(frame_leaks(exc, case.secrets, case.others))


def test_frame_check_can_fail(planted_secrets: SecretPlanter) -> None:
    """A plain secret held in a local of a frame on the error's path is found."""
    secret = planted_secrets.new("pw", tricky=True)

    def holder(password: str) -> None:
        raise RuntimeError("refused")

    try:
        holder(secret)
    except RuntimeError as exc:
        leaks = frame_leaks(exc, [secret])
    assert ("holder", "password") in [(function, local) for _, function, local in leaks]


def measure() -> dict[str, int]:  # pragma: no cover - run as a script
    """Count the cases that leak (in frames of any library, in authwire's, in messages)."""
    totals = Counter[str]()
    with RefusingServer() as server:
        for echo in (False, True):
            server.state.echo = echo
            for name in CASES:
                for driver in DRIVERS:
                    case = make_case(
                        name, server.url, lambda label: plant(label, tricky=True), server.state
                    )
                    exc = fail(case.credential, driver, server.url + "/api")
                    leaks = frame_leaks(exc, case.secrets, case.others)
                    everything = [*case.secrets, *case.url_secrets]
                    shown = leaked_forms(f"{exc!s} {exc!r} {case.credential!r}", *everything)
                    mine = [
                        leak
                        for leak in leaks
                        if str(Path(leak[0]).resolve()).startswith(_AUTHWIRE_DIR)
                    ]
                    totals["cases"] += 1
                    totals["leak in a frame of any library"] += bool(leaks)
                    totals["leak in an authwire frame"] += bool(mine)
                    totals["leak in message or repr"] += bool(shown)
                    if "-v" in sys.argv and (mine or shown):
                        where = sorted({f"{Path(f).name}:{fn}:{loc}" for f, fn, loc in mine})
                        print(f"{name:20} {driver:14} echo={echo!s:5} shown={bool(shown)} {where}")
    return dict(totals)


if __name__ == "__main__":  # pragma: no cover - the measurement reported in the changelog
    print(json.dumps(measure(), indent=1))
