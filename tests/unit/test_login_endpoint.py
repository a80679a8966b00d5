"""``LoginEndpoint``: the login request and its answer, stepped by hand (no network)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from tests.leakcheck import SecretPlanter

import authwire
from authwire._core.flow import Sleep
from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire.credentials.login_endpoint import LoginEndpoint, expiry_from
from authwire.errors import (
    ConfigurationError,
    InsecureTransportError,
    InvalidTokenResponse,
    TokenRequestError,
)
from authwire.testing import FakeClock, make_jwt

URL = "https://gis.example.com/portal/sharing/rest/generateToken"


def _reply(body: Any, status: int = 200) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, Headers({"Content-Type": "application/json"}), raw)


def _run(cred: LoginEndpoint, *responses: HttpResponse) -> tuple[list[HttpRequest], Any]:
    """Step the credential's login flow, answering each request with the next response."""
    flow = cred._token_flow(None)
    sent: list[HttpRequest] = []
    op = next(flow)
    replies = iter(responses)
    try:
        while True:
            if isinstance(op, Sleep):
                op = flow.send(None)
                continue
            assert isinstance(op, HttpRequest)
            sent.append(op)
            op = flow.send(next(replies))
    except StopIteration as stop:
        return sent, stop.value


def _cred(clock: FakeClock, **kw: Any) -> LoginEndpoint:
    kw.setdefault("cache", authwire.MemoryCache())
    return LoginEndpoint(URL, kw.pop("username", "u1"), kw.pop("password", "p1"), clock=clock, **kw)


def test_arcgis_preset_sends_the_generate_token_form(clock: FakeClock) -> None:
    """The ArcGIS preset posts the form fields generateToken expects."""
    cred = LoginEndpoint.arcgis(
        "https://gis.example.com/portal/",
        "u1",
        "p1",
        referer="https://app.example.com",
        expiration=30,
        clock=clock,
        cache=authwire.MemoryCache(),
    )
    expires_ms = int((clock() + 1800) * 1000)
    sent, token = _run(cred, _reply({"token": "tok-1", "expires": expires_ms, "ssl": True}))
    (request,) = sent
    assert request.method == "POST"
    assert request.url == URL
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(request.body.decode())) == {  # type: ignore[union-attr]
        "client": "referer",
        "referer": "https://app.example.com",
        "expiration": "30",
        "f": "json",
        "username": "u1",
        "password": "p1",
    }
    assert token.access_token == "tok-1"
    assert token.expires_at == expires_ms / 1000
    assert cred.as_scheme().header_names == {"x-esri-authorization"}


def test_json_body_with_nested_fields(clock: FakeClock) -> None:
    """A JSON login nests dotted field names and keeps extra fields' types."""
    cred = _cred(
        clock,
        body="json",
        username_field="user.login",
        password_field="user.password",
        extra_fields={"remember": True, "meta.client": "cli"},
        token_path="data.access_token",
    )
    sent, token = _run(cred, _reply({"data": {"access_token": "tok-2", "expires_in": 600}}))
    assert json.loads(sent[0].body or b"") == {
        "remember": True,
        "meta": {"client": "cli"},
        "user": {"login": "u1", "password": "p1"},
    }
    assert sent[0].headers["content-type"] == "application/json"
    assert token.access_token == "tok-2"
    assert token.expires_at == clock() + 600


@pytest.mark.parametrize(
    ("name", "value", "expected_offset"),
    [
        ("expires_in", 600, 600),
        ("expires_in", "600", 600),
        ("expiresIn", 90, 90),
        ("expires", 3600, 3600),  # too small for a date: a lifetime
        ("expires_at", 1_700_000_900, 900),  # epoch seconds
        ("expires", 1_700_000_900_000, 900),  # epoch milliseconds (ArcGIS)
        ("expiresAt", "2023-11-14T22:28:20Z", 0),  # ISO 8601 == 1_700_000_900
        ("exp", 1_700_000_120, 120),
    ],
)
def test_expiry_is_found_next_to_the_token(
    clock: FakeClock, name: str, value: Any, expected_offset: float
) -> None:
    """Each expiry spelling is read as a lifetime, epoch seconds, milliseconds or a date."""
    cred = _cred(clock, token_path="result.token")
    _, token = _run(cred, _reply({"result": {"token": "t", name: value}}))
    if name == "expiresAt":
        assert token.expires_at == 1_700_000_900
    else:
        assert token.expires_at == pytest.approx(clock() + expected_offset)


def test_expiry_at_an_explicit_path_and_from_the_jwt(clock: FakeClock) -> None:
    """``expires_path`` wins; without any expiry field the JWT ``exp`` is used."""
    cred = _cred(clock, token_path="t", expires_path="meta.valid_until")
    _, token = _run(cred, _reply({"t": "x", "expires_in": 5, "meta": {"valid_until": 1.7e9 + 50}}))
    assert token.expires_at == 1.7e9 + 50
    jwt = make_jwt({"exp": 1_700_000_777})
    _, token = _run(_cred(clock, token_path="jwt"), _reply({"jwt": jwt}))
    assert token.expires_at == 1_700_000_777
    _, token = _run(_cred(clock, token_path="t"), _reply({"t": "opaque"}))
    assert token.expires_at is None


def test_expiry_from_rejects_garbage() -> None:
    """A value that is no kind of expiry gives ``None``."""
    assert expiry_from("expires", "soon", 0.0) is None
    assert expiry_from("expires", [1], 0.0) is None
    assert expiry_from("expires", True, 0.0) is None


def test_unreadable_expiry_at_explicit_path_is_invalid(clock: FakeClock) -> None:
    """An explicit ``expires_path`` holding garbage is an ``InvalidTokenResponse``."""
    cred = _cred(clock, token_path="t", expires_path="e")
    with pytest.raises(InvalidTokenResponse, match="not an expiry"):
        _run(cred, _reply({"t": "x", "e": "tomorrow-ish"}))


def test_arcgis_error_in_a_200_is_a_token_request_error(
    clock: FakeClock, planted_secrets: SecretPlanter
) -> None:
    """ArcGIS's HTTP 200 error object becomes ``TokenRequestError``, password scrubbed."""
    password = planted_secrets.new("pw")
    cred = _cred(clock, password=password)
    body = {
        "error": {
            "code": 400,
            "message": "Unable to generate token.",
            "details": [f"Invalid password {password}"],
        }
    }
    with pytest.raises(TokenRequestError) as info:
        _run(cred, _reply(body))
    err = info.value
    assert err.error == "400"
    assert "Unable to generate token." in (err.error_description or "")
    planted_secrets.check(str(err), repr(err), err.snippet, repr(cred))


def test_secret_extra_fields_are_sent_and_scrubbed(
    clock: FakeClock, planted_secrets: SecretPlanter
) -> None:
    """An extra field given as ``Secret`` is sent in the clear and scrubbed from errors."""
    key = planted_secrets.new("key")
    cred = _cred(clock, body="json", extra_fields={"api_key": authwire.Secret(key)})
    with pytest.raises(TokenRequestError) as info:
        _run(cred, _reply({"error": f"key {key} is not valid for this user"}, status=403))
    (request,), _ = _run(cred, _reply({"access_token": "a"}))
    assert json.loads(request.body or b"")["api_key"] == key
    assert key in [s.reveal() for s in request.secrets]
    planted_secrets.check(str(info.value), repr(info.value), info.value.snippet, cred.cache_key)


def test_http_error_with_message_field(clock: FakeClock) -> None:
    """A 401 with ``{"error": "..."}`` carries that text and the status."""
    with pytest.raises(TokenRequestError) as info:
        _run(_cred(clock), _reply({"error": "invalid login or password"}, status=401))
    assert info.value.status == 401
    assert info.value.error == "invalid login or password"
    assert not info.value.retryable


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html><body>Sign in</body></html>", "expected a JSON object"),
        ({"data": {}}, "no token at 'data.access_token'"),
        ({"data": {"access_token": 12}}, "is not a string"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_unusable_answers_are_invalid_token_responses(
    clock: FakeClock, body: Any, reason: str
) -> None:
    """HTML, a missing token or a non-string token give ``InvalidTokenResponse``."""
    with pytest.raises(InvalidTokenResponse, match=reason):
        _run(_cred(clock, token_path="data.access_token"), _reply(body))


def test_server_errors_are_retried(clock: FakeClock) -> None:
    """A 503 is retried (the flow sleeps, then logs in again)."""
    sent, token = _run(
        _cred(clock, token_path="t"), _reply({}, status=503), _reply({"t": "ok", "expires_in": 9})
    )
    assert len(sent) == 2
    assert token.access_token == "ok"


def test_secrets_stay_out_of_repr_and_request_repr(
    clock: FakeClock, planted_secrets: SecretPlanter
) -> None:
    """Neither the credential's repr nor the login request's repr shows the password."""
    password = planted_secrets.new("pw")
    cred = _cred(clock, password=authwire.Secret(password))
    sent, _ = _run(cred, _reply({"access_token": "a"}))
    assert password in [s.reveal() for s in sent[0].secrets]
    planted_secrets.check(repr(cred), repr(sent[0]))


def test_identity_depends_on_user_and_password_fingerprint(clock: FakeClock) -> None:
    """Two users, or two passwords, never share a cache key."""
    a = _cred(clock, username="a")
    assert a.cache_key != _cred(clock, username="b").cache_key
    assert a.cache_key != _cred(clock, username="a", password="other").cache_key
    assert a.cache_key == _cred(clock, username="a").cache_key


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": ""},
        {"username": ""},
        {"password": ""},
        {"body": "xml"},
        {"token_path": ""},
        {"token_path": "a..b"},
        {"header": ""},
        {"timeout": 0},
    ],
)
def test_bad_configuration(kwargs: dict[str, Any]) -> None:
    """Bad arguments raise ``ConfigurationError`` at construction."""
    args = {"url": URL, "username": "u", "password": "p", **kwargs}
    with pytest.raises(ConfigurationError):
        LoginEndpoint(args.pop("url"), args.pop("username"), args.pop("password"), **args)


def test_plain_http_off_loopback_is_refused() -> None:
    """A password is never posted over plain http to another host."""
    with pytest.raises(InsecureTransportError):
        LoginEndpoint("http://gis.example.com/login", "u", "p")
    LoginEndpoint("http://gis.example.com/login", "u", "p", allow_insecure=True)
    LoginEndpoint("http://127.0.0.1:8080/login", "u", "p")
