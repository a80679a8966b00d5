"""``AuthorizationCode`` and RFC 9207: ``iss`` in the redirect, required when advertised.

The provider is a real loopback server (discovery and token endpoint); the "browser" is a
thread that sends the redirect to authwire's real listener, with or without ``iss``.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from tests.servers.provider_server import ProviderServer

from authwire import AuthorizationCode, InteractionRequired, MemoryCache, RetryPolicy


@pytest.fixture
def provider() -> Iterator[ProviderServer]:
    """The loopback provider, advertising a loopback authorization endpoint."""
    with ProviderServer() as running:
        running.state.id_token = False
        running.state.metadata["authorization_endpoint"] = f"{running.url}/authorize"
        yield running


def redirecting_browser(iss: str | None) -> Callable[[str], bool]:
    """A browser that sends the login redirect back with ``code``, ``state`` and ``iss``."""

    def browse(url: str) -> bool:
        query = dict(parse_qsl(urlsplit(url).query))
        back = {"code": "code-1", "state": query["state"]}
        if iss is not None:
            back["iss"] = iss

        def follow() -> None:
            target = f"{query['redirect_uri']}?{urlencode(back)}"
            try:
                urllib.request.urlopen(target, timeout=10).close()
            except urllib.error.HTTPError as exc:  # the listener's 400 failure page
                exc.close()

        threading.Thread(target=follow, daemon=True).start()
        return True

    return browse


def login(provider: ProviderServer, iss: str | None) -> AuthorizationCode:
    """A public AuthorizationCode client of ``provider`` whose browser answers with ``iss``."""
    return AuthorizationCode(
        issuer=provider.url,
        client_id="cli",
        auth_method="none",
        browser=redirecting_browser(iss),
        login_timeout=10,
        cache=MemoryCache(),
        retries=RetryPolicy(retries=0),
    )


@pytest.mark.parametrize("advertised", [True, False])
def test_redirect_with_the_issuers_iss_is_accepted(
    provider: ProviderServer, advertised: bool
) -> None:
    """The provider's own iss passes, whether or not it advertises sending it."""
    provider.state.metadata["authorization_response_iss_parameter_supported"] = advertised
    cred = login(provider, provider.url)
    assert cred.get_token().access_token.startswith("at-")
    assert provider.count("POST /token") == 1


def test_redirect_without_iss_refused_when_advertised(provider: ProviderServer) -> None:
    """RFC 9207 section 2.4: advertised, so a redirect without iss is refused, no code used."""
    provider.state.metadata["authorization_response_iss_parameter_supported"] = True
    cred = login(provider, None)
    with pytest.raises(InteractionRequired, match="RFC 9207"):
        cred.get_token()
    assert provider.count("POST /token") == 0


def test_redirect_without_iss_accepted_when_not_advertised(provider: ProviderServer) -> None:
    """A provider that does not advertise iss (most older ones) still works without it."""
    cred = login(provider, None)
    assert cred.get_token().access_token.startswith("at-")
    assert provider.count("POST /token") == 1
