"""NTLM flow stepped by hand against pyspnego's in-memory NTLM acceptor (no network)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.leakcheck import SecretPlanter

from authwire import NTLM
from authwire._core.flow import Attempt, Call, SchemeFlow
from authwire._core.http import Headers, HttpResponse
from authwire._core.schemes.base import RequestInfo

spnego = pytest.importorskip("spnego")

PASSWORD = "unit-ntlm-pw-3b8e"
REQUEST = RequestInfo(method="GET", url="http://127.0.0.1:8080/x")


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An NTLM_USER_FILE for the in-memory acceptor."""
    path = tmp_path / "users"
    path.write_text(f"TESTDOM:alice:{PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(path))
    return


def _run(flow: SchemeFlow, value: Any = None, start: bool = False) -> Any:
    """Advance ``flow``, running Call operations inline, to its next Attempt (or return)."""
    try:
        op = next(flow) if start else flow.send(value)
        while isinstance(op, Call):
            op = flow.send(op.fn(*op.args))
        return op
    except StopIteration as stop:
        return ("done", stop.value)


def _r401(value: str) -> HttpResponse:
    return HttpResponse(401, Headers([("WWW-Authenticate", value)]))


def _token(attempt: Attempt) -> bytes:
    scheme, _, b64 = attempt.headers["Authorization"].partition(" ")
    assert scheme == "NTLM"
    return base64.b64decode(b64)


def test_three_legs_then_done(users: None) -> None:
    """401 -> NEGOTIATE, CHALLENGE -> AUTHENTICATE, 200 -> the flow ends; two tokens sent."""
    auth = NTLM("TESTDOM\\alice", PASSWORD)
    server = spnego.server(protocol="ntlm")
    flow = auth.auth_flow(REQUEST)
    first = _run(flow, start=True)
    assert isinstance(first, Attempt)
    assert first.is_empty
    negotiate = _run(flow, _r401("NTLM"))
    challenge = server.step(_token(negotiate))
    authenticate = _run(flow, _r401("NTLM " + base64.b64encode(challenge).decode()))
    server.step(_token(authenticate))
    assert server.complete
    assert str(server.client_principal).lower() == "testdom\\alice"
    assert _run(flow, HttpResponse(200)) == ("done", None)
    assert auth.legs_sent == 2


def test_pass_the_hash(users: None) -> None:
    """An LM:NT hash authenticates like the password."""
    from spnego._ntlm_raw.crypto import ntowfv1

    auth = NTLM("TESTDOM\\alice", ":" + ntowfv1(PASSWORD).hex())
    server = spnego.server(protocol="ntlm")
    flow = auth.auth_flow(REQUEST)
    _run(flow, start=True)
    challenge = server.step(_token(_run(flow, _r401("NTLM"))))
    server.step(_token(_run(flow, _r401("NTLM " + base64.b64encode(challenge).decode()))))
    assert server.complete


def test_refusal_ends_the_flow() -> None:
    """A bare NTLM challenge after our token means refused: the 401 goes to the caller."""
    flow = NTLM("TESTDOM\\alice", PASSWORD).auth_flow(REQUEST)
    _run(flow, start=True)
    assert isinstance(_run(flow, _r401("NTLM")), Attempt)
    assert _run(flow, _r401("NTLM")) == ("done", None)


@pytest.mark.parametrize(
    "response",
    [HttpResponse(200), _r401('Basic realm="x"'), HttpResponse(403)],
)
def test_nothing_to_answer(response: HttpResponse) -> None:
    """A success, another scheme's challenge or a 403 ends the flow without a token."""
    auth = NTLM("TESTDOM\\alice", PASSWORD)
    flow = auth.auth_flow(REQUEST)
    _run(flow, start=True)
    assert _run(flow, response) == ("done", None)
    assert auth.legs_sent == 0


def test_negotiate_header_when_only_negotiate_is_offered() -> None:
    """Servers that offer only Negotiate (IIS, gss-ntlmssp) get raw NTLM under that name."""
    flow = NTLM("TESTDOM\\alice", PASSWORD).auth_flow(REQUEST)
    _run(flow, start=True)
    attempt = _run(flow, _r401("Negotiate"))
    assert attempt.headers["Authorization"].startswith("Negotiate TlRMTVNTUAAB")


def test_unreplayable_body_is_not_resent() -> None:
    """A body that cannot be rewound is never answered."""
    flow = NTLM("u", PASSWORD).auth_flow(RequestInfo("POST", REQUEST.url, can_replay=False))
    _run(flow, start=True)
    assert _run(flow, _r401("NTLM")) == ("done", None)


def test_repr_and_secrets() -> None:
    """The repr shows the user, never the password; NTLM refuses plain http off loopback."""
    auth = NTLM("TESTDOM\\alice", PASSWORD)
    assert PASSWORD not in repr(auth)
    assert "password='***'" in repr(auth)
    assert auth.requires_secure


def test_no_password_or_hash_in_logs_or_reprs(users: None, planted_secrets: SecretPlanter) -> None:
    """A refused exchange logs nothing secret, DEBUG included, and reprs hide the secret."""
    password = planted_secrets.new("ntlm-password")
    nt_hash = ":" + planted_secrets.new("nthash").encode().hex()[:32].ljust(32, "0")
    for secret in (password, nt_hash):
        auth = NTLM("TESTDOM\\alice", secret)
        server = spnego.server(protocol="ntlm")
        flow = auth.auth_flow(REQUEST)
        _run(flow, start=True)
        challenge = server.step(_token(_run(flow, _r401("NTLM"))))
        authenticate = _run(flow, _r401("NTLM " + base64.b64encode(challenge).decode()))
        with pytest.raises(spnego.exceptions.SpnegoError):
            server.step(_token(authenticate))  # wrong password: the acceptor refuses
        assert _run(flow, _r401("NTLM")) == ("done", None)
        planted_secrets.check(repr(auth), str(auth), others=[secret])
