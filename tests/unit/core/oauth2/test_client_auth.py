"""Client authentication at the token endpoint (RFC 6749 section 2.3)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl

import pytest

from authwire import ConfigurationError, Secret
from authwire._core.oauth2.client_auth import AuthMethod, ClientAuth
from authwire._core.oauth2.token_request import TokenEndpoint, build_token_request

URL = "https://login.example.com/token"


def form_of(client: ClientAuth) -> tuple[dict[str, str], dict[str, str]]:
    request = build_token_request(TokenEndpoint(URL, client), "client_credentials")
    assert request.body is not None
    return dict(parse_qsl(request.body.decode())), dict(request.headers.items_raw())


def test_client_secret_basic_form_encodes_before_base64() -> None:
    """RFC 6749 2.3.1: id and secret are form-urlencoded, then joined and base64-encoded."""
    client = ClientAuth("my client", Secret("p@ss:w/rd+"), AuthMethod.CLIENT_SECRET_BASIC)
    form, headers = form_of(client)
    scheme, _, value = headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == "my+client:p%40ss%3Aw%2Frd%2B"
    assert "client_secret" not in form
    assert "client_id" not in form


def test_client_secret_post_puts_both_in_the_body() -> None:
    """client_secret_post sends client_id and client_secret as form fields, no header."""
    form, headers = form_of(ClientAuth("cid", Secret("csecret"), AuthMethod.CLIENT_SECRET_POST))
    assert form["client_id"] == "cid"
    assert form["client_secret"] == "csecret"
    assert "Authorization" not in headers


def test_public_client_sends_only_its_id() -> None:
    """auth_method none sends client_id alone."""
    form, headers = form_of(ClientAuth("cid", None, AuthMethod.NONE))
    assert form == {"grant_type": "client_credentials", "client_id": "cid"}
    assert "Authorization" not in headers


def test_secrets_are_listed_for_redaction_and_hidden_in_repr() -> None:
    """The secret is on the request's redaction list and never in the ClientAuth repr."""
    client = ClientAuth("cid", Secret("csecret-123"), AuthMethod.CLIENT_SECRET_BASIC)
    request = build_token_request(TokenEndpoint(URL, client), "client_credentials")
    assert "csecret-123" in [s.reveal() for s in request.secrets]
    assert all(isinstance(s, Secret) for s in request.secrets)  # no plain value in locals
    assert "csecret-123" not in repr(client)
    assert "csecret-123" not in repr(request)


def test_post_secret_stays_wrapped_until_the_body_is_encoded() -> None:
    """client_secret_post puts the Secret itself in the form; only the body holds it plain."""
    client = ClientAuth("cid", Secret("csecret-123"), AuthMethod.CLIENT_SECRET_POST)
    form: dict[str, str | Secret[str]] = {}
    client.apply(form, {})
    assert isinstance(form["client_secret"], Secret)
    request = build_token_request(TokenEndpoint(URL, client), "client_credentials")
    assert request.body is not None
    assert b"client_secret=csecret-123" in request.body


@pytest.mark.parametrize("name", [m.value for m in AuthMethod])
def test_methods_parse_from_strings(name: str) -> None:
    """Each method's string value parses to its enum member."""
    assert AuthMethod.parse(name).value == name
    assert AuthMethod.parse(AuthMethod(name)) is AuthMethod(name)


def test_unknown_method_is_a_configuration_error() -> None:
    """An unknown auth_method lists the known ones."""
    with pytest.raises(ConfigurationError, match="client_secret_basic"):
        AuthMethod.parse("client_secret_carrier_pigeon")


@pytest.mark.parametrize("method", [AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST])
def test_secret_methods_need_a_secret(method: AuthMethod) -> None:
    """A client_secret_* method without a secret is refused at construction."""
    with pytest.raises(ConfigurationError, match="needs a client_secret"):
        ClientAuth("cid", None, method)


def test_client_id_is_required() -> None:
    """An empty client_id is refused."""
    with pytest.raises(ConfigurationError, match="client_id"):
        ClientAuth("", Secret("s"))
