"""``authwire.Session`` construction, validation and redirect stripping, without a network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from tests.leakcheck import SecretPlanter

import authwire
import authwire.requests
from authwire.errors import ConfigurationError
from authwire.requests._session import DEFAULT_STATUS_TO_RETRY, _SessionAdapter


def test_session_is_exported_at_the_top_and_in_requests() -> None:
    """``authwire.Session`` is ``authwire.requests.Session`` and a ``requests.Session``."""
    assert authwire.Session is authwire.requests.Session
    assert issubclass(authwire.Session, requests.Session)


def test_defaults() -> None:
    """A bare session retries 3 times on the documented statuses and follows redirects."""
    with authwire.Session() as session:
        adapter = session.get_adapter("https://example.com/")
        assert isinstance(adapter, _SessionAdapter)
        retry = adapter.max_retries
        assert retry.total == 3
        assert retry.status_forcelist == DEFAULT_STATUS_TO_RETRY == {413, 429, 500, 502, 503, 504}
        assert retry.respect_retry_after_header is True
        assert "POST" not in retry.allowed_methods
        assert session.allow_redirects is True
        assert session.auth is None


def test_settings_land_where_requests_reads_them(tmp_path: Path) -> None:
    """Headers, referer, proxies, verify, stream and trust_env are set on the session."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read at construction")
    session = authwire.Session(
        headers={"X-App": "1"},
        referer="https://app.example.com/",
        proxies={"https": "http://proxy.example:3128"},
        verify=bundle,
        stream=True,
        trust_env=False,
        retries=1,
        backoff_factor=0,
        status_to_retry=[503],
        allowed_methods=["get", "post"],
    )
    with session:
        assert session.headers["X-App"] == "1"
        assert session.headers["Referer"] == "https://app.example.com/"
        assert session.proxies == {"https": "http://proxy.example:3128"}
        assert session.verify == str(bundle)
        assert (session.stream, session.trust_env) == (True, False)
        retry = session.get_adapter("http://x/").max_retries
        assert (retry.total, retry.status_forcelist) == (1, frozenset({503}))
        assert retry.allowed_methods == frozenset({"GET", "POST"})
        session.update_headers({"X-Later": "2"})
        assert session.headers["X-Later"] == "2"


def test_auth_is_wrapped_and_secret_free(planted_secrets: SecretPlanter) -> None:
    """A credential becomes ``authwire.requests.Auth``; the session's repr has no secret."""
    key = planted_secrets.new("key")
    with authwire.Session(authwire.ApiKey(key)) as session:
        assert isinstance(session.auth, authwire.requests.Auth)
        planted_secrets.check(repr(session), repr(session.auth))


def test_requests_auth_objects_pass_through() -> None:
    """The user's own requests auth object is used as is."""
    auth = requests.auth.HTTPBasicAuth("u", "p")
    with authwire.Session(auth) as session:
        assert session.auth is auth


def test_adapters_are_mounted() -> None:
    """``adapters=`` mounts each adapter on its prefix."""
    adapter = authwire.requests.AuthAdapter(authwire.ApiKey("k"))
    with authwire.Session(adapters={"https://api.example.com/": adapter}) as session:
        assert session.get_adapter("https://api.example.com/v1") is adapter
        assert isinstance(session.get_adapter("https://other.example.com/"), _SessionAdapter)


def test_server_hostname_goes_into_the_pool_key() -> None:
    """The TLS name is part of the https pool key, not of plain http."""
    with authwire.Session(server_hostname="api.example.test") as session:
        adapter = session.get_adapter("https://10.0.0.1/")
        assert isinstance(adapter, _SessionAdapter)
        https = requests.Request("GET", "https://10.0.0.1/").prepare()
        http = requests.Request("GET", "http://10.0.0.1/").prepare()
        _, pool = adapter.build_connection_pool_key_attributes(https, True)
        assert pool["server_hostname"] == pool["assert_hostname"] == "api.example.test"
        _, pool = adapter.build_connection_pool_key_attributes(http, True)
        assert "server_hostname" not in pool


BAD: list[tuple[str, Any]] = [
    ("retries", -1),
    ("retries", 1.5),
    ("retries", True),
    ("backoff_factor", -0.1),
    ("backoff_factor", "fast"),
    ("status_to_retry", [99]),
    ("status_to_retry", "503"),
    ("status_to_retry", [503.0]),
    ("allowed_methods", "GET"),
    ("allowed_methods", [1]),
    ("verify", "/nonexistent/ca.pem"),
    ("verify", 1),
    ("cert", "/nonexistent/client.pem"),
    ("cert", ("only-one",)),
    ("cert", 42),
    ("cert_password", "pw"),
    ("headers", {"X": 1}),
    ("headers", ["X"]),
    ("proxies", {"https": None}),
    ("referer", ""),
    ("server_hostname", " "),
    ("timeout", 0),
    ("timeout", (1, 2, 3)),
    ("allow_redirects", "yes"),
    ("trust_env", None),
    ("stream", 1),
    ("adapters", {"https://": object()}),
    ("auth", object()),
    ("auth", ("user", "password")),
]


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v!r}" for n, v in BAD])
def test_bad_arguments_raise_configuration_error(name: str, value: Any) -> None:
    """Every wrong argument fails at construction with ``ConfigurationError``."""
    with pytest.raises(ConfigurationError):
        authwire.Session(**{name: value})


def _redirect(session: authwire.Session, url: str, target: str) -> requests.PreparedRequest:
    """Prepare ``url`` as the session would, then rebuild it for a 302 to ``target``."""
    prepared = session.prepare_request(requests.Request("GET", url))
    response = requests.Response()
    response.status_code = 302
    response.headers["Location"] = target
    response.url = url
    response.request = prepared
    nxt = prepared.copy()
    nxt.url = target
    session.rebuild_auth(nxt, response)
    return nxt


def test_rebuild_auth_strips_custom_headers_and_hooks_across_origins() -> None:
    """Leaving the origin removes every authwire header and authwire's 401 hook."""
    auth = authwire.ApiKey("k1", header="X-Custom") + authwire.StaticToken("t1")
    with authwire.Session(auth, headers={"X-Mine": "m"}) as session:
        nxt = _redirect(session, "https://a.example.com/x", "https://b.example.com/y")
        assert "X-Custom" not in nxt.headers
        assert "Authorization" not in nxt.headers
        assert nxt.headers["X-Mine"] == "m"
        assert nxt.hooks["response"] == []


def test_rebuild_auth_keeps_credentials_within_the_origin() -> None:
    """A redirect to the same origin keeps authwire's headers and hook."""
    auth = authwire.ApiKey("k1", header="X-Custom") + authwire.StaticToken("t1")
    with authwire.Session(auth) as session:
        nxt = _redirect(session, "https://a.example.com/x", "https://a.example.com/z")
        assert nxt.headers["X-Custom"] == "k1"
        assert nxt.headers["Authorization"] == "Bearer t1"
        assert len(nxt.hooks["response"]) == 1


def test_env_ca_bundle_does_not_override_the_sessions_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``REQUESTS_CA_BUNDLE`` loses to an explicit ``verify=`` (psf/requests#3829)."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    with authwire.Session(verify=bundle) as session:
        settings = session.merge_environment_settings("https://x/", {}, None, None, None)
        assert settings["verify"] == str(bundle)
    with authwire.Session(verify=False) as session:
        settings = session.merge_environment_settings("https://x/", {}, None, None, None)
        assert settings["verify"] is False
    with authwire.Session() as session:
        settings = session.merge_environment_settings("https://x/", {}, None, None, None)
        assert settings["verify"] == "/etc/ssl/certs/ca-certificates.crt"
