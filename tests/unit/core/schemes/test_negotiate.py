"""Negotiate: options, channel-binding data and the flow's early exits (no network, no GSSAPI)."""

from __future__ import annotations

import hashlib

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from authwire import MutualAuthentication, Negotiate
from authwire._core.flow import Attempt, SchemeFlow
from authwire._core.http import Headers, HttpResponse
from authwire._core.schemes.base import RequestInfo
from authwire._core.schemes.negotiate import tls_server_end_point
from authwire.errors import ConfigurationError

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
