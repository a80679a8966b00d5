"""Negotiate: options, channel-binding data and the flow's early exits (no network, no GSSAPI)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from authwire import MutualAuthentication, Negotiate
from authwire._core.flow import Attempt, Call, SchemeFlow, Verdict
from authwire._core.http import Headers, HttpResponse
from authwire._core.schemes.base import RequestInfo
from authwire._core.schemes.negotiate import tls_server_end_point
from authwire.errors import ConfigurationError, MutualAuthenticationError

REQUEST = RequestInfo(method="GET", url="http://server.example/x")


def _first(flow: SchemeFlow) -> Attempt:
    op = next(flow)
    assert isinstance(op, Attempt)
    return op


def _finish(flow: SchemeFlow, response: HttpResponse) -> object:
    with pytest.raises(StopIteration) as stop:
        flow.send(response)
    return stop.value.value


@pytest.mark.parametrize(
    ("value", "member"),
    [
        ("required", MutualAuthentication.REQUIRED),
        ("OPTIONAL", MutualAuthentication.OPTIONAL),
        ("Disabled", MutualAuthentication.DISABLED),
        (MutualAuthentication.OPTIONAL, MutualAuthentication.OPTIONAL),
    ],
)
def test_mutual_authentication_accepts_strings(value: str, member: MutualAuthentication) -> None:
    """Strings of any case and members both select the mode."""
    assert Negotiate(mutual_authentication=value).mutual_authentication is member


def test_bad_options_are_configuration_errors() -> None:
    """An unknown mode, a malformed target_name or a password without principal are refused."""
    with pytest.raises(ConfigurationError, match="required, optional, disabled"):
        Negotiate(mutual_authentication="sometimes")
    with pytest.raises(ConfigurationError, match="HTTP@host"):
        Negotiate(target_name="justahost")
    with pytest.raises(ConfigurationError, match="principal"):
        Negotiate(password="pw")


@pytest.mark.parametrize(
    ("target", "service", "host"),
    [("HTTP@web.example", "HTTP", "web.example"), ("host/web.example", "host", "web.example")],
)
def test_target_name_sets_service_and_host(target: str, service: str, host: str) -> None:
    """target_name splits into the service and the host of the SPN."""
    auth = Negotiate(target_name=target)
    assert (auth.service, auth.hostname_override) == (service, host)


def test_default_is_required_and_repr_hides_password() -> None:
    """REQUIRED is the default; the repr never shows a password."""
    auth = Negotiate(principal="user@EXAMPLE.COM", password="pw-in-repr-8c1d")
    assert auth.mutual_authentication is MutualAuthentication.REQUIRED
    assert "pw-in-repr-8c1d" not in repr(auth)
    assert "password='***'" in repr(auth)
    assert auth.requires_secure  # an NTLM fallback must not go over plain http
    assert not Negotiate().requires_secure  # Kerberos tickets are not replayable secrets


@pytest.mark.parametrize(
    "response",
    [
        HttpResponse(200),
        HttpResponse(401, Headers([("WWW-Authenticate", 'Basic realm="r"')])),
        HttpResponse(500),
    ],
)
def test_no_negotiate_challenge_no_token(response: HttpResponse) -> None:
    """Without a Negotiate challenge the request goes out once, bare, and the flow ends."""
    auth = Negotiate()
    flow = auth.auth_flow(REQUEST)
    assert _first(flow).is_empty
    assert _finish(flow, response) is None
    assert auth.legs_sent == 0


def test_unreplayable_body_is_not_answered() -> None:
    """A 401 for a body that cannot be rewound is returned, not answered."""
    flow = Negotiate().auth_flow(RequestInfo("POST", REQUEST.url, can_replay=False))
    _first(flow)
    challenge = HttpResponse(401, Headers([("WWW-Authenticate", "Negotiate")]))
    assert _finish(flow, challenge) is None


def test_tls_server_end_point_uses_the_signature_hash() -> None:
    """RFC 5929: a SHA-256-signed certificate is hashed with SHA-256, prefixed by the label."""
    pem = trustme.CA().issue_cert("server.example").cert_chain_pems[0].bytes()
    der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    data = tls_server_end_point(der)
    assert data == b"tls-server-end-point:" + hashlib.sha256(der).digest()


# -- the whole exchange, in memory: pyspnego's SPNEGO (NTLM inside) as both ends ----------------

PASSWORD = "unit-spnego-pw-61f0"
SECRET_URL = "http://server.example/x?sig=query-secret-1"


@pytest.fixture
def acceptor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """A factory of in-memory SPNEGO acceptors that know TESTDOM\\alice."""
    spnego = pytest.importorskip("spnego")
    users = tmp_path / "users"
    users.write_text(f"TESTDOM:alice:{PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    # No realm, no ticket cache: pyspnego's Kerberos attempt fails at once instead of
    # looking for a KDC of the host's default realm (a DNS query outside Python).
    (tmp_path / "krb5.conf").write_text("")
    monkeypatch.setenv("KRB5_CONFIG", str(tmp_path / "krb5.conf"))
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'no-ccache'}")

    def make() -> Any:
        return spnego.server(protocol="negotiate", options=spnego.NegotiateOptions.use_negotiate)

    return make


def _client(**kwargs: Any) -> Negotiate:
    import spnego

    auth = Negotiate(principal="TESTDOM\\alice", password=PASSWORD, **kwargs)
    # pyspnego's own SPNEGO, so the exchange needs no KDC (NTLM inside SPNEGO).
    auth._spnego_options = spnego.NegotiateOptions.use_negotiate
    return auth


def _advance(flow: SchemeFlow, value: Any) -> Any:
    """Send ``value``; run Call operations as the drivers do (errors thrown back in)."""
    op = flow.send(value)
    while isinstance(op, Call):
        try:
            result = op.fn(*op.args)
        except Exception as exc:
            op = flow.throw(exc)
        else:
            op = flow.send(result)
    return op


def _challenge(token: bytes | None, status: int = 401, side: str = "WWW") -> HttpResponse:
    value = "Negotiate" + (f" {base64.b64encode(token).decode()}" if token else "")
    name = "WWW-Authenticate" if side == "WWW" else "Proxy-Authenticate"
    return HttpResponse(status, Headers([(name, value)]), url=SECRET_URL)


def _sent(attempt: Attempt, header: str = "Authorization") -> bytes:
    scheme, _, value = attempt.headers[header].partition(" ")
    assert scheme == "Negotiate"
    return base64.b64decode(value)


def _exchange(
    auth: Negotiate, server: Any, header: str = "Authorization"
) -> tuple[SchemeFlow, bytes]:
    """Run the legs up to the final response; return the flow and the server's last token."""
    side = "WWW" if header == "Authorization" else "Proxy"
    status = 401 if side == "WWW" else 407
    flow = auth.auth_flow(RequestInfo("GET", SECRET_URL))
    assert _first(flow).is_empty
    attempt = _advance(flow, _challenge(None, status, side))
    reply = server.step(_sent(attempt, header))
    attempt = _advance(flow, _challenge(reply, status, side))
    final = server.step(_sent(attempt, header))
    assert server.complete
    return flow, final


def _tampered(token: bytes) -> bytes:
    bad = bytearray(token)
    bad[-3] ^= 0xFF
    return bytes(bad)


def _outcome(flow: SchemeFlow, response: HttpResponse) -> object:
    try:
        op = _advance(flow, response)
    except StopIteration as stop:
        return stop.value
    except MutualAuthenticationError:
        return "raised"
    raise AssertionError(f"the flow asked for more: {op!r}")


@pytest.mark.parametrize(
    ("mode", "status", "token", "expected"),
    [
        ("required", 200, "good", None),
        ("required", 200, "tampered", "raised"),
        ("required", 200, "missing", "raised"),
        ("required", 500, "good", None),
        ("required", 500, "tampered", Verdict.STRIP),
        ("required", 500, "missing", Verdict.STRIP),
        ("optional", 200, "good", None),
        ("optional", 200, "tampered", "raised"),
        ("optional", 200, "missing", None),
        ("optional", 500, "tampered", Verdict.STRIP),
        ("optional", 500, "missing", None),
        ("disabled", 200, "tampered", None),
        ("disabled", 200, "missing", None),
        ("disabled", 500, "tampered", None),
    ],
)
def test_mutual_authentication_table(
    acceptor: Callable[[], Any], mode: str, status: int, token: str, expected: object
) -> None:
    """Each mode treats a verified, tampered or missing server token as documented."""
    flow, final = _exchange(_client(mutual_authentication=mode), acceptor())
    sent = {"good": final, "tampered": _tampered(final), "missing": None}[token]
    response = _challenge(sent, status) if sent else HttpResponse(status, url=SECRET_URL)
    assert _outcome(flow, response) == expected


@pytest.mark.parametrize("token", ["tampered", "missing"])
def test_unsanitized_error_response_returned_as_is(acceptor: Callable[[], Any], token: str) -> None:
    """``sanitize_mutual_error_response=False``: an unproven error response is not emptied."""
    flow, final = _exchange(
        _client(mutual_authentication="required", sanitize_mutual_error_response=False),
        acceptor(),
    )
    sent = _tampered(final) if token == "tampered" else None
    response = _challenge(sent, 500) if sent else HttpResponse(500, url=SECRET_URL)
    assert _outcome(flow, response) is None


def test_unsanitized_success_still_raises(acceptor: Callable[[], Any]) -> None:
    """Turning sanitizing off never lets an unproven success response through."""
    flow, final = _exchange(_client(sanitize_mutual_error_response=False), acceptor())
    assert _outcome(flow, _challenge(_tampered(final), 200)) == "raised"


def test_mutual_authentication_error_is_secret_free(acceptor: Callable[[], Any]) -> None:
    """The error says what to check, with the URL redacted and no password."""
    flow, final = _exchange(_client(), acceptor())
    with pytest.raises(MutualAuthenticationError) as info:
        _advance(flow, _challenge(_tampered(final), 200))
    text = str(info.value) + repr(info.value) + info.value.url
    assert "hostname_override" in str(info.value)
    assert PASSWORD not in text
    assert "query-secret-1" not in text


def test_a_refused_token_returns_the_401(acceptor: Callable[[], Any]) -> None:
    """A bare challenge after our token ends the flow: one round per request, no loop."""
    auth = _client()
    flow = auth.auth_flow(REQUEST)
    _first(flow)
    assert isinstance(_advance(flow, _challenge(None)), Attempt)
    assert _outcome(flow, _challenge(None)) is None
    assert auth.legs_sent == 1


def test_preemptive_token_goes_first(acceptor: Callable[[], Any]) -> None:
    """force_preemptive attaches a token to the very first attempt."""
    flow = _client(force_preemptive=True).auth_flow(REQUEST)
    op = next(flow)
    while isinstance(op, Call):
        op = flow.send(op.fn(*op.args))
    assert isinstance(op, Attempt)
    assert _sent(op)


def test_proxy_challenge_gets_proxy_authorization(acceptor: Callable[[], Any]) -> None:
    """A 407 is answered with Proxy-Authorization when proxy_hostname is set."""
    flow, final = _exchange(
        _client(proxy_hostname="proxy.example"), acceptor(), "Proxy-Authorization"
    )
    ok = HttpResponse(
        200, Headers([("Proxy-Authenticate", f"Negotiate {base64.b64encode(final).decode()}")])
    )
    assert _outcome(flow, ok) is None


def test_proxy_challenge_without_a_name_is_returned() -> None:
    """Without proxy_hostname the 407 is returned untouched (the SPN would be a guess)."""
    flow = Negotiate().auth_flow(REQUEST)
    _first(flow)
    assert _outcome(flow, _challenge(None, 407, "Proxy")) is None


def test_every_gssapi_call_is_a_call_operation(acceptor: Callable[[], Any]) -> None:
    """Context creation and steps are Call operations, so async drivers run them off-loop."""
    flow = _client().auth_flow(REQUEST)
    _first(flow)
    op = flow.send(_challenge(None))
    calls = 0
    while isinstance(op, Call):
        calls += 1
        assert op.afn is None
        assert not op.inline
        op = flow.send(op.fn(*op.args))
    assert calls == 2  # make the context, first step
    assert isinstance(op, Attempt)


def test_preemptive_without_credentials_goes_bare(
    acceptor: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no ticket and no password a preemptive attempt falls back to a bare request."""
    monkeypatch.delenv("NTLM_USER_FILE")  # else pyspnego's NTLM would find a default user
    auth = Negotiate(force_preemptive=True)  # the fixture leaves an empty ticket cache
    flow = auth.auth_flow(REQUEST)
    op = next(flow)
    while isinstance(op, Call):
        try:
            result = op.fn(*op.args)
        except Exception as exc:
            op = flow.throw(exc)
        else:
            op = flow.send(result)
    assert isinstance(op, Attempt)
    assert op.is_empty
    assert auth.legs_sent == 0
