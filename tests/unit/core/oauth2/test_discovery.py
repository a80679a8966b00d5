"""OIDC discovery stepped by hand: one GET per issuer per day, typed errors for bad documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import json_values, statuses

from authwire import ClientCredentials, ConfigurationError, MemoryCache
from authwire._core.flow import Flow
from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire._core.oauth2.discovery import (
    DISCOVERY_TTL,
    ProviderMetadata,
    clear_discovery_cache,
    discover_flow,
    discovery_url,
    parse_discovery_response,
)
from authwire.testing import FakeClock

ISSUER = "https://login.example.com/tenant"
META = {
    "issuer": ISSUER,
    "token_endpoint": ISSUER + "/oauth2/token",
    "authorization_endpoint": ISSUER + "/oauth2/authorize",
    "jwks_uri": ISSUER + "/keys",
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_discovery_cache()
    yield
    clear_discovery_cache()


def answer(body: Any, status: int = 200, ctype: str = "application/json") -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, Headers({"Content-Type": ctype}), raw, discovery_url(ISSUER))


def run(flow: Flow[ProviderMetadata], response: HttpResponse | None) -> ProviderMetadata:
    """Step ``flow``: answer its one request with ``response`` (``None``: expect no request)."""
    try:
        request = next(flow)
    except StopIteration as stop:
        assert response is None, "the flow sent no request"
        value: ProviderMetadata = stop.value
        return value
    assert response is not None, f"unexpected request {request!r}"
    assert isinstance(request, HttpRequest)
    assert request.method == "GET"
    assert request.url == ISSUER + "/.well-known/openid-configuration"
    with pytest.raises(StopIteration) as stop:
        flow.send(response)
    value = stop.value.value
    return value  # type: ignore[no-any-return]


def test_discovery_url_keeps_the_issuer_path() -> None:
    """The well-known path is appended to the issuer, a trailing slash dropped first."""
    assert discovery_url(ISSUER + "/") == ISSUER + "/.well-known/openid-configuration"


def test_fetched_once_then_cached_for_a_day() -> None:
    """A second discovery within 24 h sends nothing; after 24 h it fetches again."""
    clock = FakeClock()
    first = run(discover_flow(ISSUER, clock=clock), answer(META))
    assert first.token_endpoint == META["token_endpoint"]
    clock.advance(DISCOVERY_TTL - 1)
    assert run(discover_flow(ISSUER + "/", clock=clock), None) is first
    clock.advance(2)
    again = run(discover_flow(ISSUER, clock=clock), answer(META))
    assert again.token_endpoint == META["token_endpoint"]


@pytest.mark.parametrize(
    ("response", "words"),
    [
        (answer({"error": "not found"}, 404), ["no OpenID configuration", "HTTP 404"]),
        (answer(b"<html>login</html>", ctype="text/html"), ["not a JSON object"]),
        (answer([1, 2]), ["not a JSON object"]),
        (answer({**META, "issuer": "https://evil.example"}), ["evil.example", "not"]),
        (answer({k: v for k, v in META.items() if k != "issuer"}), ["has no issuer"]),
        (answer({"issuer": ISSUER}), ["no token_endpoint"]),
    ],
)
def test_bad_documents_are_configuration_errors(response: HttpResponse, words: list[str]) -> None:
    """A missing, non-JSON, foreign or incomplete document names what is wrong."""
    with pytest.raises(ConfigurationError) as info:
        run(discover_flow(ISSUER, clock=FakeClock()), response)
    for word in words:
        assert word in str(info.value)


def test_a_failed_discovery_is_not_cached() -> None:
    """After a bad answer the next discovery asks again."""
    clock = FakeClock()
    with pytest.raises(ConfigurationError):
        run(discover_flow(ISSUER, clock=clock), answer({}, 500))
    assert run(discover_flow(ISSUER, clock=clock), answer(META)).issuer == ISSUER


def test_missing_endpoint_is_named() -> None:
    """Asking for an endpoint the provider does not list names it."""
    metadata = run(discover_flow(ISSUER, clock=FakeClock()), answer(META))
    with pytest.raises(ConfigurationError, match="device_authorization_endpoint"):
        metadata.endpoint("device_authorization_endpoint")
    assert metadata.get("device_authorization_endpoint") is None


def test_credential_uses_discovered_token_endpoint() -> None:
    """A grant with issuer= first GETs discovery, then POSTs to the discovered endpoint."""
    cred = ClientCredentials(
        issuer=ISSUER, client_id="svc", client_secret="svc-secret", cache=MemoryCache()
    )
    flow = cred._token_flow(None)
    request = next(flow)
    assert isinstance(request, HttpRequest)
    assert request.url.endswith("/.well-known/openid-configuration")
    token_request = flow.send(answer(META))
    assert isinstance(token_request, HttpRequest)
    assert (token_request.method, token_request.url) == ("POST", META["token_endpoint"])
    assert "issuer='https://login.example.com/tenant'" in repr(cred)


def test_token_url_and_issuer_are_exclusive() -> None:
    """Exactly one of token_url= and issuer= must be given."""
    with pytest.raises(ConfigurationError, match="exactly one"):
        ClientCredentials(ISSUER + "/token", issuer=ISSUER, client_id="a", client_secret="b")
    with pytest.raises(ConfigurationError, match="exactly one"):
        ClientCredentials(client_id="a", client_secret="b")


_DOC_FIELDS = st.sampled_from(["issuer", "token_endpoint", "jwks_uri", "authorization_endpoint"])


@given(
    status=statuses,
    body=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(_DOC_FIELDS, json_values, max_size=4).map(lambda d: json.dumps(d).encode()),
        json_values.map(lambda v: json.dumps(v).encode()),
    ),
)
def test_any_document_gives_metadata_or_configuration_error(status: int, body: bytes) -> None:
    """Whatever the provider sends, discovery yields metadata or a ConfigurationError."""
    response = HttpResponse(status, Headers({}), body, discovery_url(ISSUER))
    try:
        metadata = parse_discovery_response(response, ISSUER)
    except ConfigurationError:
        return
    assert isinstance(metadata.token_endpoint, str)
