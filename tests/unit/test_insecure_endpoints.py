"""Every endpoint a grant talks to, given or discovered, must be https or loopback http.

Against a loopback provider (discovery document, token and revocation endpoints) whose
other endpoints point at plain http off loopback: each is refused with
``InsecureTransportError`` before any name lookup, and ``allow_insecure=True`` lets it
through (to the network guard, which then refuses the connection).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.netguard import NetworkLog
from tests.servers.provider_server import ProviderServer

from authwire import (
    AuthorizationCode,
    ClientCredentials,
    DeviceCode,
    InsecureTransportError,
    MemoryCache,
    PasswordGrant,
    RetryPolicy,
)
from authwire.credentials._oauth2 import OAuth2Credential

#: A host off loopback; the network guard refuses it, and no test may even look it up.
FAR = "far.example.test"
NO_RETRY = RetryPolicy(retries=0)


@pytest.fixture
def provider() -> Iterator[ProviderServer]:
    """The loopback provider on a random port."""
    with ProviderServer() as running:
        yield running


def far(path: str) -> str:
    return f"http://{FAR}{path}"


def looked_up_far(network: NetworkLog) -> bool:
    return any(FAR in str(host) for host in network.lookups)


# -- given explicitly -------------------------------------------------------------------


def test_explicit_revocation_url_refused_before_forgetting_tokens(
    provider: ProviderServer, network: NetworkLog
) -> None:
    """revoke(revocation_url="http://far/...") sends nothing; the token is still revocable."""
    cred = ClientCredentials(
        f"{provider.url}/token", client_id="svc", client_secret="svc-secret-1", cache=MemoryCache()
    )
    cred.get_token()
    with pytest.raises(InsecureTransportError, match=FAR):
        cred.revoke(revocation_url=far("/revoke"))
    assert not looked_up_far(network)
    assert cred.revoke(revocation_url=f"{provider.url}/revoke") is True
    assert provider.count("POST /revoke") == 2  # the refresh token, then the access token


@pytest.mark.anyio
async def test_explicit_revocation_url_refused_async(
    provider: ProviderServer, network: NetworkLog
) -> None:
    """arevoke refuses a plain-http revocation URL off loopback the same way."""
    cred = ClientCredentials(
        f"{provider.url}/token", client_id="svc", client_secret="svc-secret-1", cache=MemoryCache()
    )
    await cred.aget_token()
    with pytest.raises(InsecureTransportError, match=FAR):
        await cred.arevoke(revocation_url=far("/revoke"))
    assert not looked_up_far(network)
    assert provider.count("POST /revoke") == 0


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda **kw: DeviceCode(
                "https://login.example.com/token",
                device_authorization_url=far("/device"),
                client_id="cli",
                **kw,
            ),
            id="device_authorization_url",
        ),
        pytest.param(
            lambda **kw: AuthorizationCode(
                "https://login.example.com/token",
                authorization_url=far("/authorize"),
                client_id="cli",
                **kw,
            ),
            id="authorization_url",
        ),
        pytest.param(
            lambda **kw: PasswordGrant(
                "https://login.example.com/token",
                client_id="cli",
                username="alice",
                password="pw-1",
                jwks_uri=far("/jwks"),
                **kw,
            ),
            id="jwks_uri",
        ),
    ],
)
def test_explicit_endpoint_over_http_refused_at_construction(
    make: Callable[..., OAuth2Credential],
) -> None:
    """A plain-http endpoint off loopback is a construction error, unless allow_insecure."""
    with pytest.raises(InsecureTransportError, match=FAR):
        make()
    make(allow_insecure=True)


# -- discovered -------------------------------------------------------------------------


def _token(cred: OAuth2Credential) -> None:
    cred.get_token()


def _revoke(cred: OAuth2Credential) -> None:
    cred.get_token()
    cred.revoke()


DISCOVERED = [
    pytest.param("token_endpoint", ClientCredentials, {"client_secret": "s-1"}, _token, id="token"),
    pytest.param(
        "revocation_endpoint", ClientCredentials, {"client_secret": "s-1"}, _revoke, id="revocation"
    ),
    pytest.param(
        "device_authorization_endpoint",
        DeviceCode,
        {"auth_method": "none", "prompt": print},
        _token,
        id="device",
    ),
    pytest.param(
        "jwks_uri",
        PasswordGrant,
        {"username": "alice", "password": "pw-1", "auth_method": "none"},
        _token,
        id="jwks",
    ),
]


@pytest.mark.parametrize(("name", "kind", "options", "act"), DISCOVERED)
@pytest.mark.parametrize("allow_insecure", [False, True])
def test_discovered_endpoint_over_http_refused(
    provider: ProviderServer,
    network: NetworkLog,
    name: str,
    kind: Callable[..., OAuth2Credential],
    options: dict[str, Any],
    act: Callable[[OAuth2Credential], None],
    allow_insecure: bool,
) -> None:
    """A discovered endpoint over plain http off loopback is refused before any lookup."""
    provider.state.metadata[name] = far(f"/{name}")
    cred = kind(
        issuer=provider.url,
        client_id="cli",
        cache=MemoryCache(),
        retries=NO_RETRY,
        allow_insecure=allow_insecure,
        **options,
    )
    if not allow_insecure:
        with pytest.raises(InsecureTransportError, match=FAR):
            act(cred)
        assert not looked_up_far(network)
        return
    # allow_insecure: past the check, to the network guard (which refuses the host).
    with pytest.raises(Exception) as info:  # noqa: PT011 - whatever the transport says
        act(cred)
    assert not isinstance(info.value, InsecureTransportError)
    assert looked_up_far(network) or network.refused
