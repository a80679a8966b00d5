"""Origins: the redirect and insecure-transport matrix (DESIGN security rules 2 and 3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.netguard import NetworkLog

from authwire import ClientCredentials, ConfigurationError, InsecureTransportError
from authwire._core.origin import Origin, OriginGuard, is_loopback, require_secure, same_origin


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://API.Example.com/x", Origin("https", "api.example.com", 443)),
        ("https://api.example.com:443/x", Origin("https", "api.example.com", 443)),
        ("http://api.example.com/x", Origin("http", "api.example.com", 80)),
        ("https://api.example.com.:8443", Origin("https", "api.example.com", 8443)),
        ("http://[::1]:8080/", Origin("http", "::1", 8080)),
        ("https://user:pw@api.example.com/", Origin("https", "api.example.com", 443)),
    ],
)
def test_origin_of(url: str, origin: Origin) -> None:
    """Scheme and host are lower-cased, default ports filled, userinfo ignored."""
    assert Origin.of(url) == origin


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://a.example/x", "https://A.EXAMPLE:443/y?q", True),
        ("https://a.example/", "http://a.example/", False),
        ("https://a.example/", "https://a.example:8443/", False),
        ("https://a.example/", "https://b.a.example/", False),
        ("https://a.example/", "https://a.example.evil.example/", False),
        ("http://127.0.0.1:8000/", "http://localhost:8000/", False),
    ],
)
def test_same_origin(a: str, b: str, same: bool) -> None:
    """Same scheme, host and port, nothing else, counts as the same origin."""
    assert same_origin(a, b) is same


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        ("127.0.0.1.nip.io", False),
        ("0.0.0.0", False),
    ],
)
def test_is_loopback_needs_no_dns(host: str, loopback: bool, network: NetworkLog) -> None:
    """Loopback is decided from the name alone: no lookup happens."""
    assert is_loopback(host) is loopback
    assert network.lookups == []


@pytest.mark.parametrize(
    ("url", "allow_insecure", "allowed"),
    [
        ("https://api.example.com/", False, True),
        ("http://127.0.0.1:8080/", False, True),
        ("http://localhost:8080/", False, True),
        ("http://[::1]/", False, True),
        ("http://api.example.com/", False, False),
        ("http://10.1.2.3/", False, False),
        ("http://api.example.com/", True, True),
        ("ftp://api.example.com/", False, False),
        ("ftp://api.example.com/", True, False),
    ],
)
def test_insecure_transport_matrix(url: str, allow_insecure: bool, allowed: bool) -> None:
    """https anywhere; plain http to loopback or with allow_insecure; nothing else."""
    if allowed:
        require_secure(url, allow_insecure=allow_insecure)
    else:
        with pytest.raises(InsecureTransportError, match="refusing to send"):
            require_secure(url, allow_insecure=allow_insecure)


def test_refused_before_any_dns_lookup(network: NetworkLog) -> None:
    """A plain-http token endpoint off loopback is refused at construction, with no lookup."""
    with pytest.raises(InsecureTransportError) as info:
        ClientCredentials(
            "http://login.example.com/token", client_id="c", client_secret="s-very-secret-1"
        )
    assert network.lookups == []
    assert network.refused == []
    assert "s-very-secret-1" not in str(info.value)


def test_refusal_message_never_carries_the_url_password() -> None:
    """The refused URL in the error has its userinfo password removed."""
    with pytest.raises(InsecureTransportError) as info:
        require_secure("http://bob:pw-xyz-123456@api.example.com/")
    assert "pw-xyz-123456" not in str(info.value)
    assert "pw-xyz-123456" not in info.value.url


def test_malformed_url_error_never_carries_the_password() -> None:
    """An unparseable URL is a ConfigurationError without its userinfo password."""
    with pytest.raises(ConfigurationError) as info:
        Origin.of("https://bob:pa[ss-123456@api.example.com/")
    assert "pa[ss-123456" not in str(info.value)


def test_guard_binds_to_the_first_origin() -> None:
    """Without origins=, the first URL binds the guard; another origin is then refused."""
    guard = OriginGuard()
    guard.check("https://api.example.com/v1/a")
    guard.check("https://API.example.com:443/v1/b")
    assert guard.origins == frozenset({Origin("https", "api.example.com", 443)})
    for other in (
        "https://evil.example/",
        "http://api.example.com/",
        "https://api.example.com:8443/",
    ):
        with pytest.raises(InsecureTransportError, match="bound to"):
            guard.check(other)


def test_guard_with_explicit_origins() -> None:
    """origins= lists every origin credentials may go to, nothing more."""
    guard = OriginGuard(["https://a.example", "https://b.example:8443"])
    guard.check("https://a.example/x")
    guard.check("https://b.example:8443/y")
    with pytest.raises(InsecureTransportError):
        guard.check("https://b.example/y")


def test_guard_refuses_insecure_origins_unless_allowed() -> None:
    """A guard for secrets refuses plain http off loopback at binding time."""
    with pytest.raises(InsecureTransportError):
        OriginGuard().check("http://api.example.com/")
    OriginGuard(allow_insecure=True).check("http://api.example.com/")
    OriginGuard().check("http://127.0.0.1:9999/")
    OriginGuard(requires_secure=False).check("http://api.example.com/")


@pytest.mark.parametrize(
    ("target", "follows"),
    [
        ("https://api.example.com/other", True),
        ("https://api.example.com:443/other", True),
        ("http://api.example.com/other", False),
        ("https://api.example.com:8443/other", False),
        ("https://cdn.example.com/other", False),
        ("/relative", False),
        ("not a url", False),
    ],
)
def test_redirect_matrix(target: str, follows: bool) -> None:
    """Credentials follow a redirect only to the bound origin (scheme, host and port)."""
    guard = OriginGuard()
    guard.check("https://api.example.com/start")
    assert guard.allows(target) is follows


def test_fast_path_prefix_does_not_admit_lookalikes() -> None:
    """A remembered prefix is the whole scheme://host/ so lookalike hosts never match it."""
    guard = OriginGuard()
    guard.check("https://api.example.com/")
    assert not guard.allows("https://api.example.com.evil.example/")
    assert not guard.allows("https://api.example.com@evil.example/")
    with pytest.raises(InsecureTransportError):
        guard.check("https://api.example.com@evil.example/")


_hosts = st.sampled_from(
    ["api.example.com", "API.example.com", "api.example.com.", "evil.example", "127.0.0.1", "[::1]"]
)
_urls = st.builds(
    lambda scheme, userinfo, host, port, path: f"{scheme}://{userinfo}{host}{port}{path}",
    st.sampled_from(["https", "http", "HTTPS"]),
    st.sampled_from(["", "user@", "api.example.com@", "u:p@"]),
    _hosts,
    st.sampled_from(["", ":443", ":80", ":8443"]),
    st.sampled_from(["/", "/x?y=1", "", "/@evil.example/", "#frag"]),
)


@settings(max_examples=300)
@given(first=_urls, other=_urls)
def test_guard_allows_exactly_the_bound_origin(first: str, other: str) -> None:
    """Fast path or not, a URL is allowed exactly when its origin is the bound one."""
    guard = OriginGuard(requires_secure=False)
    guard.check(first)
    bound = Origin.of(first)
    assert guard.allows(first)
    assert guard.allows(other) is (Origin.of(other) == bound)
    if Origin.of(other) == bound:
        guard.check(other)
    else:
        with pytest.raises(InsecureTransportError):
            guard.check(other)


@settings(max_examples=300)
@given(st.text(max_size=60) | _urls.map(lambda u: u.replace("/", "[", 1)))
def test_any_text_is_an_origin_or_a_configuration_error(text: str) -> None:
    """Origin.of never raises anything but ConfigurationError, whatever the text."""
    try:
        origin = Origin.of(text)
    except ConfigurationError:
        return
    assert origin.scheme
    assert origin.host
