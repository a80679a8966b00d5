"""Redaction: no planted secret survives ``redact_text`` or the str/repr of any error."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.leakcheck import SecretPlanter, assert_no_secret, plant

from authwire import (
    ApiKey,
    BasicAuth,
    CacheError,
    ClientCredentials,
    ConfigurationError,
    CredentialUnavailable,
    DigestAuth,
    InsecureTransportError,
    InteractionRequired,
    InvalidTokenResponse,
    MutualAuthenticationError,
    Secret,
    StaticToken,
    Token,
    TokenEndpointUnreachable,
    TokenRequestError,
)
from authwire._core.redact import REDACTED, redact_headers, redact_text, redact_url, snippet

_SECRET_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])
secrets_st = st.text(_SECRET_CHARS, min_size=8, max_size=40).filter(lambda s: s.strip() == s)
surroundings = st.text(max_size=60)


@settings(max_examples=300)
@given(secret=secrets_st, before=surroundings, after=surroundings)
def test_known_secret_never_survives_redact_text(secret: str, before: str, after: str) -> None:
    """A listed secret is removed raw, URL-quoted, JSON-escaped and inside a Basic pair."""
    encoded = [
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        base64.b64encode(f"client:{secret}".encode()).decode(),
    ]
    for form in encoded:
        out = redact_text(before + form + after, [secret, "client"])
        assert form not in out


@settings(max_examples=200)
@given(secret=secrets_st, text=surroundings)
def test_snippet_never_contains_the_secret(secret: str, text: str) -> None:
    """A snippet of any body with the secret in it never holds the secret, cut or not."""
    body = (text * 5 + secret + text).encode()
    out = snippet(body, [secret], limit=60)
    assert secret not in out
    assert len(out) <= 60


@pytest.mark.parametrize(
    "text",
    [
        '{"access_token": "AT-1234567890"}',
        "grant_type=password&password=AT-1234567890&x=1",
        "Authorization: Bearer AT-1234567890",
        'refresh_token="AT-1234567890"',
        "https://x.example/cb?code=AT-1234567890&state=s",
        "client_secret=AT-1234567890",
    ],
)
def test_secret_looking_fields_are_removed_unlisted(text: str) -> None:
    """Values of access_token, password, Bearer, code... are removed without being listed."""
    assert "AT-1234567890" not in redact_text(text)


def test_redact_url_removes_userinfo_password_and_secret_query() -> None:
    """Passwords in the userinfo and secret-looking query values go; the rest stays."""
    out = redact_url("https://bob:hunter2-xyz@idp.example/token?api_key=k-9876543&page=2#frag")
    assert "hunter2-xyz" not in out
    assert "k-9876543" not in out
    assert "bob" in out
    assert "page=2" in out


def test_redact_headers_hides_sensitive_values() -> None:
    """Authorization, cookies and API key headers are masked; others kept."""
    out = redact_headers(
        {"Authorization": "Bearer x", "X-API-Key": "k", "Cookie": "a=b", "Accept": "json"}
    )
    assert out == {"Authorization": "***", "X-API-Key": "***", "Cookie": "***", "Accept": "json"}


def test_secret_wrapper_never_shows_itself() -> None:
    """Secret's str, repr and format are masked; reveal() gives the value; == compares values."""
    value = plant("pw")
    s = Secret(value)
    for text in (str(s), repr(s), f"{s}", f"{s!r:>40}", f"{s}", repr([s])):
        assert_no_secret(text, value)
    assert s.reveal() == value
    assert s == Secret(value)
    assert s != Secret("other")
    assert bool(s)
    assert not Secret("")


def every_error(secret: str) -> list[Exception]:
    """One instance of each error class, each built from a field that had the secret in it."""
    scrubbed = redact_text(f"echo {secret}", [secret])
    quoted = quote(secret, safe="")  # a URL carries its userinfo and query percent-encoded
    url = redact_url(f"https://u:{quoted}@idp.example/t?client_secret={quoted}")
    return [
        ConfigurationError(f"bad value {scrubbed}"),
        InsecureTransportError("refused", url=url),
        CredentialUnavailable("nothing", attempts=[("env", scrubbed)]),
        InteractionRequired("log in", attempts=[("cache", scrubbed)]),
        TokenRequestError(
            url=url,
            status=400,
            error="invalid_client",
            error_description=scrubbed,
            snippet=snippet(f'{{"client_secret": "{secret}"}}', [secret]),
        ),
        InvalidTokenResponse(
            reason="not JSON", url=url, status=200, snippet=snippet(secret, [secret])
        ),
        TokenEndpointUnreachable(url=url, reason=scrubbed),
        MutualAuthenticationError("failed", url=url),
        CacheError("unreadable", location=url),
    ]


@settings(max_examples=100)
@given(secret=secrets_st)
def test_no_secret_in_any_error_built_from_redacted_fields(secret: str) -> None:
    """Errors built the way authwire builds them never show the secret in str or repr."""
    quoted = quote(secret, safe="")
    # A "secret" that is part of the fixed wording ("client_s") proves nothing: skip it.
    wording = " ".join(f"{e!s} {e!r}" for e in every_error("\x00"))
    assume(secret not in wording and quoted not in wording)
    for err in every_error(secret):
        for text in (str(err), repr(err), str(err.args)):
            assert secret not in text
            assert quoted not in text


def test_planted_secret_check_in_errors(planted_secrets: object) -> None:
    """The shared leak checker finds nothing in any error built from a planted secret."""
    from tests.leakcheck import SecretPlanter

    assert isinstance(planted_secrets, SecretPlanter)
    secret = planted_secrets.new("client-secret")
    planted_secrets.check(*every_error(secret))


def test_leak_checker_can_fail() -> None:
    """The leak checker itself catches raw, URL-encoded and base64 Basic leaks."""
    secret = plant("cs")
    for leaky in (
        f"x {secret} y",
        quote(secret, safe=""),
        base64.b64encode(f"svc:{secret}".encode()).decode(),
        secret[:20],
    ):
        with pytest.raises(AssertionError, match="secret leaked"):
            assert_no_secret(leaky, secret, others=["svc"])


def test_no_credential_or_scheme_shows_its_secret(planted_secrets: SecretPlanter) -> None:
    """repr and str of every credential and scheme built from planted secrets hold none of them."""
    key, password, token, client_secret = (
        planted_secrets.new("key"),
        planted_secrets.new("pw"),
        planted_secrets.new("tok"),
        planted_secrets.new("cs"),
    )
    cred = ClientCredentials(
        "https://login.example.com/token", client_id="svc", client_secret=client_secret
    )
    objects: list[object] = [
        ApiKey(key),
        ApiKey(Secret(key), query="api_key"),
        ApiKey(key, cookie="k"),
        BasicAuth("alice", password),
        DigestAuth("alice", Secret(password)),
        StaticToken(token),
        StaticToken(Token(token, refresh_token=password)),
        cred,
        cred.as_scheme(),
        ApiKey(key) + StaticToken(token) + BasicAuth("bob", password),
        ApiKey(key).fast_attempt(0),
        BasicAuth("alice", password).fast_attempt(0),
    ]
    planted_secrets.check(*objects, cred.cache_key, others=["alice", "bob", "svc"])


def test_log_leak_check_can_fail() -> None:
    """A planted secret in any authwire log record (DEBUG, args or extra) is caught."""
    import logging

    from tests.leakcheck import capture_logs

    logger = logging.getLogger("authwire.test")

    def in_args(secret: str) -> None:
        logger.debug("sent %s", secret)

    def in_extra(secret: str) -> None:
        logger.info("ok", extra={"detail": {"token": secret}})

    for emit in (in_args, in_extra):
        with capture_logs() as logs:
            planter = SecretPlanter(logs)
            secret = planter.new("tok")
            emit(secret)
            with pytest.raises(AssertionError, match="secret leaked"):
                planter.check_logs()


# -- escaped echoes (HTML, JSON \u and \/ escapes, mixes) -------------------------------

#: Secrets built from the characters escapers change, plus any others.
_ESCAPED_CHARS = st.sampled_from(list("&<>'\"/\\ +=%;#éü€中😀")) | st.characters(
    codec="utf-8", exclude_categories=["Cs", "Cc"]
)
tricky_secrets = (
    st.tuples(st.text(_ESCAPED_CHARS, min_size=1, max_size=12), st.text(min_size=4, max_size=12))
    .map(lambda parts: "k3y" + parts[0] + "Z" + parts[1].replace("\x00", "0"))
    .filter(lambda s: s.strip() == s)
)


def _html_numeric(text: str, hexa: bool) -> str:
    return "".join(
        c if c.isascii() and c.isalnum() else (f"&#x{ord(c):X};" if hexa else f"&#{ord(c)};")
        for c in text
    )


def escaped_echoes(secret: str) -> list[str]:
    """The ways real servers echo ``secret``: escaped by HTML, JSON or both."""
    import html

    as_json = json.dumps(secret)[1:-1]
    return [
        html.escape(secret),  # &amp; &lt; &#x27; &quot;
        html.escape(secret).replace("/", "&#x2F;"),  # OWASP's encoder
        _html_numeric(secret, hexa=False),
        _html_numeric(secret, hexa=True),
        as_json,  # \u00e9, surrogate pairs
        as_json.replace("/", "\\/"),  # PHP json_encode
        re.sub(r"\\u[0-9a-f]{4}", lambda m: m.group(0).upper().replace("\\U", "\\u"), as_json),
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(as_json),  # a JSON string put into an HTML page
        json.dumps(html.escape(secret))[1:-1],  # an HTML fragment put into JSON
        quote_plus(secret),
    ]


@settings(max_examples=250)
@given(secret=tricky_secrets, before=surroundings, after=surroundings)
def test_escaped_echo_never_keeps_part_of_the_secret(secret: str, before: str, after: str) -> None:
    """An escaped echo goes whole: no part before (or after) its first escaped character."""
    head, tail = secret[:4], secret[-4:]
    for echo in escaped_echoes(secret):
        out = redact_text(f"{before}<{echo}>{after}", [secret])
        assert f"<{REDACTED}>" in out, echo
        text = snippet(f"rejected [{echo}] for {before!r}", [secret], limit=400)
        assert f"[{REDACTED}]" in text, echo
        assert f"[{head}" not in text
        assert f"{tail}]" not in text


@settings(max_examples=100)
@given(secret=tricky_secrets)
def test_escaped_echo_never_reaches_a_token_error(secret: str) -> None:
    """A token endpoint echoing the secret escaped leaves none of it in the error."""
    import html

    from authwire._core.http import HttpResponse
    from authwire._core.oauth2.token_response import parse_token_response

    description = f"bad client_secret [{html.escape(secret)}]"
    body = json.dumps({"error": "invalid_client", "error_description": description}).encode()
    with pytest.raises(TokenRequestError) as caught:
        parse_token_response(
            HttpResponse(400, body=body),
            received_at=0.0,
            url="https://idp.example/t",
            secrets=[secret],
        )
    err = caught.value
    for text in (str(err), repr(err), err.snippet, err.error_description or ""):
        assert f"[{REDACTED}]" in text or "[" not in text
        for echo in escaped_echoes(secret):
            assert echo not in text


def test_planted_tricky_secret_checker_catches_every_escaped_echo() -> None:
    """The leak checker finds a tricky planted secret in each escaped echo, and its prefix."""
    secret = plant("pw", tricky=True)
    prefix = secret[: secret.index("&")]
    for leaky in (*escaped_echoes(secret), prefix):
        with pytest.raises(AssertionError, match="secret leaked"):
            assert_no_secret(f"x {leaky} y", secret)


def test_whitespace_in_a_secret_survives_no_snippet() -> None:
    """A secret holding runs of spaces is removed before the snippet folds whitespace."""
    secret = "pw  two\u00a0\u00a0spaces-0123456789"
    out = snippet(f"error: {secret} rejected", [secret])
    assert out == f"error: {REDACTED} rejected"


def test_quoted_json_fields_are_removed_unlisted() -> None:
    """A JSON password field inside HTML (&quot;) or inside a JSON string (\\") is removed."""
    import html

    inner = json.dumps({"password": "AT-1234567890"})
    for text in (html.escape(inner), json.dumps(inner)):
        assert "AT-1234567890" not in redact_text(text)


# -- secrets in configured URLs ---------------------------------------------------------


def _secret_url(planted: SecretPlanter, path: str = "/token") -> str:
    """A URL with a password in its userinfo and three secret query values."""
    pw, cs, key, tok = (quote(planted.new(label), safe="") for label in ("upw", "qcs", "qk", "qt"))
    return f"https://svc:{pw}@idp.example{path}?client_secret={cs}&api_key={key}&token={tok}&x=1"


def test_no_url_secret_in_any_credential_repr(planted_secrets: SecretPlanter) -> None:
    """A URL's userinfo password and secret query values appear in no repr of any credential."""
    import authwire.httpx
    import authwire.requests
    from authwire import (
        AuthorizationCode,
        DeviceCode,
        JwtBearer,
        LoginEndpoint,
        PasswordGrant,
        RefreshTokenGrant,
        Session,
        TokenExchange,
    )
    from authwire._core.http import HttpRequest, HttpResponse
    from authwire.refresher import Refresher

    url = _secret_url(planted_secrets)
    common: dict[str, object] = {"client_id": "svc", "client_secret": "cs-not-planted"}
    creds = []
    for where in ({"token_url": url}, {"issuer": _secret_url(planted_secrets, "/realm")}):
        creds += [
            ClientCredentials(**where, **common),  # type: ignore[arg-type]
            PasswordGrant(**where, username="alice", password="pw", **common),  # type: ignore[arg-type]
            RefreshTokenGrant(**where, refresh_token="rt", **common),  # type: ignore[arg-type]
            AuthorizationCode(**where, **common),  # type: ignore[arg-type]
            DeviceCode(**where, **common),  # type: ignore[arg-type]
            JwtBearer(**where, assertion="a", client_id="svc"),  # type: ignore[arg-type]
            TokenExchange(**where, subject="s", **common),  # type: ignore[arg-type]
        ]
    creds.append(LoginEndpoint(_secret_url(planted_secrets, "/login"), "alice", "pw"))
    objects: list[object] = []
    for cred in creds:
        objects += [cred, cred.as_scheme(), authwire.requests.Auth(cred), Refresher(cred)]
        objects += [authwire.httpx.Auth(cred)]
        endpoint = getattr(cred, "_endpoint", None)
        if endpoint is not None:
            objects.append(endpoint)
    with Session(auth=creds[0]) as session:
        objects.append(session)
    objects += [HttpRequest("POST", url), HttpResponse(400, url=url)]
    planted_secrets.check(*objects, others=["svc"])


def test_no_url_secret_in_errors_about_urls(planted_secrets: SecretPlanter) -> None:
    """Errors naming a configured URL (discovery, token endpoint) show it redacted."""
    from authwire._core.http import HttpResponse
    from authwire._core.oauth2.discovery import parse_discovery_response

    issuer = _secret_url(planted_secrets, "/realm")
    other = _secret_url(planted_secrets, "/other")
    errors: list[Exception] = []
    for response in (
        HttpResponse(404),
        HttpResponse(200, body=json.dumps({"issuer": other}).encode()),
    ):
        with pytest.raises(ConfigurationError) as caught:
            parse_discovery_response(response, issuer)
        errors.append(caught.value)
    url = _secret_url(planted_secrets)
    errors += [
        TokenRequestError(url=url, status=400, error="invalid_client"),
        InvalidTokenResponse(reason="not JSON", url=url, status=200),
        TokenEndpointUnreachable(url=url, reason="refused"),
        InsecureTransportError("refused", url=url),
        MutualAuthenticationError("failed", url=url),
    ]
    planted_secrets.check(*errors, *(getattr(e, "url", "") for e in errors), others=["svc"])
