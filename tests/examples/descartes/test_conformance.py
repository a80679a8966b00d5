"""Conformance of ``dlsdk.Auth`` with the Descartes Labs ``Auth`` page (seed 004).

Each documented item of the page, then (indented) its test or the reason it cannot be:

- ``Auth()`` reads ``token_info.json`` by default
    -> test_default_reads_token_info_json
- ``DESCARTESLABS_TOKEN_INFO_PATH`` moves the default file (read)
    -> test_token_info_path_variable_moves_the_file
- ``descarteslabs auth login`` saves to that file
    -> test_auth_command_names_the_sdk (the login saving into the file: tests/unit/test_app.py)
- ``DESCARTESLABS_TOKEN`` / ``jwt_token``: used, never refreshed
    -> test_jwt_token_is_used_and_not_refreshed
- ``DESCARTESLABS_CLIENT_ID`` + ``_CLIENT_SECRET`` refresh
    -> test_client_id_and_secret_from_environment
- ``client_id`` + ``client_secret`` parameters refresh
    -> test_client_id_and_secret_parameters
- cached between instances per client id + secret, secret not revealed
    -> test_cached_between_instances_without_the_secret
- id + secret + valid ``jwt_token``: the token is used until it expires
    -> test_valid_jwt_used_until_it_expires
- ``DESCARTESLABS_REFRESH_TOKEN`` ≡ ``DESCARTESLABS_CLIENT_SECRET``
    -> test_refresh_token_variable_is_the_client_secret
- ``refresh_token`` ≡ ``client_secret``; if both differ: warning, rt wins
    -> test_refresh_token_parameter_wins_with_a_warning
- one value from the environment, the other as parameter
    -> test_mixing_environment_and_parameters
- ``token_info_path`` alone: read from it (switch accounts)
    -> test_token_info_path_alone_reads_it
- ``token_info_path`` + credentials: written to the file
    -> test_given_credentials_are_written
- ... matching credentials in the file: its token used and refreshed
    -> test_matching_file_token_is_used
- ... conflicting credentials in the file: overwritten
    -> test_conflicting_file_is_overwritten
- ``domain``: the identity service used
    -> every test (the loopback server's URL)
- ``scope``: the token fields asked for
    -> test_scope_is_sent
- ``leeway`` default 500: renewed inside it
    -> test_leeway_default_renews_inside_it
- ``token_info_path=None``: never read from a file
    -> test_token_info_path_none_never_reads_a_file
- ``client_id`` parameter beats the variable and the file
    -> test_client_id_parameter_wins
- ``client_secret`` needs a client id
    -> test_secret_without_client_id_is_denied
- ``jwt_token`` of another client id: discarded; no secret: access denied
    -> test_mismatched_jwt_is_discarded
- ``retries``: default 5 retries, 1-10 s back-off; an int or a ``Retry``
    -> test_retries_default_and_forms
- warnings: missing token_info file; no credentials
    -> test_warnings_for_missing_file_and_no_credentials
- ``from_environment_or_token_json(**kwargs)``
    -> test_from_environment_or_token_json
- ``get_default_auth()`` / ``set_default_auth()``
    -> test_default_auth_singleton
- ``.token`` (str), ``.payload`` (dict)
    -> test_token_and_payload
- ``.namespace``: the user id (40 hex digits)
    -> test_namespace (approximated: the page gives only the format; SHA-1 of ``sub``)
- ``.all_acl_subjects``, ``.all_owner_acl_subjects``
    -> test_acl_subjects (approximated: the page does not define the subjects' spelling)
- ``AuthError`` / ``OauthError`` raised by the properties
    -> test_secret_without_client_id_is_denied, test_refused_refresh_is_an_oauth_error
- ``_suppress_warning``
    -> test_warnings_for_missing_file_and_no_credentials

Not honoured, and why: the login command logs in with authwire's device flow (the seed's
pastes a token blob from a web page); the user's command name is ``dlsdk auth``, not the
seed's trademark. Both are listed in ``examples/sdks/descartes/README.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from dlsdk import APP, Auth, AuthError, OauthError
from typer.testing import CliRunner

from authwire.testing import make_jwt

from ._iam import CLIENT_ID, REFRESH_TOKEN, IamServer


@pytest.fixture(scope="module")
def iam() -> Iterator[IamServer]:
    """The loopback identity service."""
    with IamServer() as server:
        yield server


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, iam: IamServer) -> Path:
    """A private home, cache and config; no DESCARTESLABS_* variables but the service's URL."""
    for name in list(os.environ):
        if name.startswith("DESCARTESLABS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("DESCARTESLABS_IAM_URL", iam.url)
    APP.set_default(None)
    return tmp_path


def write_info(path: Path, **fields: str) -> Path:
    """A token_info.json the way the seed's login writes it (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields))
    path.chmod(0o600)
    return path


def jwt(client: str = CLIENT_ID, expires_in: float = 3600, sub: str = "someone") -> str:
    """An unsigned JWT for ``client``."""
    return make_jwt({"aud": client, "sub": sub, "exp": int(time.time() + expires_in)})


def quiet(**kwargs: object) -> Auth:
    """``Auth(**kwargs)`` with its warnings recorded, not raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Auth(**kwargs)  # type: ignore[arg-type]


def test_default_reads_token_info_json(home: Path, iam: IamServer) -> None:
    """Without arguments, ~/.descarteslabs/token_info.json gives the credentials."""
    write_info(
        home / ".descarteslabs" / "token_info.json",
        client_id=CLIENT_ID,
        refresh_token=REFRESH_TOKEN,
    )
    before = iam.token_requests()
    auth = Auth()
    assert auth.client_id == CLIENT_ID
    assert auth.payload["aud"] == CLIENT_ID
    assert iam.token_requests() == before + 1


def test_token_info_path_variable_moves_the_file(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESCARTESLABS_TOKEN_INFO_PATH names the file read by default."""
    other = write_info(home / "elsewhere.json", client_id=CLIENT_ID, refresh_token=REFRESH_TOKEN)
    monkeypatch.setenv("DESCARTESLABS_TOKEN_INFO_PATH", str(other))
    auth = Auth()
    assert auth.token_info_path == str(other)
    assert auth.payload["aud"] == CLIENT_ID


def test_jwt_token_is_used_and_not_refreshed(
    monkeypatch: pytest.MonkeyPatch, iam: IamServer
) -> None:
    """DESCARTESLABS_TOKEN (or jwt_token) is used as is; no token request is made."""
    token = jwt()
    monkeypatch.setenv("DESCARTESLABS_TOKEN", token)
    before = iam.token_requests()
    assert Auth().token == token
    assert quiet(jwt_token=token, token_info_path=None).token == token
    assert iam.token_requests() == before


def test_client_id_and_secret_from_environment(
    monkeypatch: pytest.MonkeyPatch, iam: IamServer
) -> None:
    """DESCARTESLABS_CLIENT_ID + DESCARTESLABS_CLIENT_SECRET get tokens from the service."""
    monkeypatch.setenv("DESCARTESLABS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("DESCARTESLABS_CLIENT_SECRET", REFRESH_TOKEN)
    auth = Auth()
    assert auth.payload["aud"] == CLIENT_ID
    assert iam.forms()[-1]["grant_type"] == "refresh_token"


def test_client_id_and_secret_parameters(iam: IamServer) -> None:
    """client_id + client_secret get tokens from the service."""
    auth = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN)
    assert auth.payload["aud"] == CLIENT_ID


def test_cached_between_instances_without_the_secret(home: Path, iam: IamServer) -> None:
    """Two instances with the same id and secret share one token; the cache holds no secret."""
    before = iam.token_requests()
    first = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN).token
    second = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN).token
    assert first == second
    assert iam.token_requests() == before + 1
    files = [p for p in (home / "cache" / "dlsdk").rglob("*") if p.is_file()]
    assert files
    for file in files:
        assert REFRESH_TOKEN not in file.read_text(errors="replace")


def test_valid_jwt_used_until_it_expires(iam: IamServer) -> None:
    """With id and secret, a valid jwt_token is used; an expired one is replaced."""
    valid = jwt()
    before = iam.token_requests()
    auth = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN, jwt_token=valid)
    assert auth.token == valid
    assert iam.token_requests() == before
    expired = jwt(expires_in=-10)
    fresh = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN, jwt_token=expired).token
    assert fresh != expired


def test_refresh_token_variable_is_the_client_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """DESCARTESLABS_REFRESH_TOKEN works where DESCARTESLABS_CLIENT_SECRET does."""
    monkeypatch.setenv("DESCARTESLABS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("DESCARTESLABS_REFRESH_TOKEN", REFRESH_TOKEN)
    assert Auth().payload["aud"] == CLIENT_ID


def test_refresh_token_parameter_wins_with_a_warning() -> None:
    """refresh_token is client_secret; when both differ a UserWarning names it, rt wins."""
    assert Auth(client_id=CLIENT_ID, refresh_token=REFRESH_TOKEN).payload["aud"] == CLIENT_ID
    with pytest.warns(UserWarning, match="differ"):
        auth = Auth(client_id=CLIENT_ID, client_secret="wrong", refresh_token=REFRESH_TOKEN)
    assert auth.payload["aud"] == CLIENT_ID


def test_mixing_environment_and_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client id from the environment and the secret as a parameter work together."""
    monkeypatch.setenv("DESCARTESLABS_CLIENT_ID", CLIENT_ID)
    assert Auth(client_secret=REFRESH_TOKEN).payload["aud"] == CLIENT_ID


def test_token_info_path_alone_reads_it(home: Path) -> None:
    """token_info_path by itself reads that file (switching accounts)."""
    path = write_info(home / "b.json", client_id=CLIENT_ID, refresh_token=REFRESH_TOKEN)
    assert Auth(token_info_path=str(path)).payload["aud"] == CLIENT_ID


def test_given_credentials_are_written(home: Path) -> None:
    """token_info_path with a client id and secret writes them to the file, 0600."""
    path = home / "new" / "token_info.json"
    auth = Auth(token_info_path=str(path), client_id=CLIENT_ID, client_secret=REFRESH_TOKEN)
    saved = json.loads(path.read_text())
    assert (saved["client_id"], saved["refresh_token"]) == (CLIENT_ID, REFRESH_TOKEN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = auth.token
    assert json.loads(path.read_text())["jwt_token"] == token  # kept current


def test_matching_file_token_is_used(home: Path, iam: IamServer) -> None:
    """A file with the same credentials gives its still-valid token (no request)."""
    valid = jwt()
    path = write_info(
        home / "t.json", client_id=CLIENT_ID, refresh_token=REFRESH_TOKEN, jwt_token=valid
    )
    before = iam.token_requests()
    auth = Auth(token_info_path=str(path), client_id=CLIENT_ID, client_secret=REFRESH_TOKEN)
    assert auth.token == valid
    assert iam.token_requests() == before


def test_conflicting_file_is_overwritten(home: Path) -> None:
    """A file with other credentials is replaced by the given ones."""
    path = write_info(home / "t.json", client_id="other", refresh_token="other-rt")
    Auth(token_info_path=str(path), client_id=CLIENT_ID, client_secret=REFRESH_TOKEN)
    saved = json.loads(path.read_text())
    assert (saved["client_id"], saved["refresh_token"]) == (CLIENT_ID, REFRESH_TOKEN)


def test_scope_is_sent(iam: IamServer) -> None:
    """scope= asks the service for those token fields."""
    Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN, scope=["openid", "email"]).token  # noqa: B018
    assert iam.forms()[-1]["scope"] == "openid email"


def test_leeway_default_renews_inside_it(iam: IamServer) -> None:
    """leeway defaults to 500 s: a token expiring within it is renewed, not used."""
    inside = jwt(expires_in=400)
    auth = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN, jwt_token=inside)
    assert auth.leeway == 500
    assert auth.token != inside
    outside = jwt(expires_in=900)
    assert Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN, jwt_token=outside).token == (
        outside
    )


def test_token_info_path_none_never_reads_a_file(home: Path) -> None:
    """token_info_path=None ignores the default file even when it holds credentials."""
    write_info(
        home / ".descarteslabs" / "token_info.json",
        client_id=CLIENT_ID,
        refresh_token=REFRESH_TOKEN,
    )
    auth = quiet(token_info_path=None)
    with pytest.raises(AuthError):
        auth.token  # noqa: B018


def test_client_id_parameter_wins(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client_id parameter beats the variable and the file."""
    monkeypatch.setenv("DESCARTESLABS_CLIENT_ID", "from-env")
    path = write_info(home / "t.json", client_id="from-file", refresh_token="x")
    auth = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN, token_info_path=str(path))
    assert auth.client_id == CLIENT_ID


def test_secret_without_client_id_is_denied() -> None:
    """A secret without any client id cannot get a token: AuthError."""
    auth = quiet(client_secret=REFRESH_TOKEN, token_info_path=None)
    with pytest.raises(AuthError):
        auth.token  # noqa: B018


def test_mismatched_jwt_is_discarded(iam: IamServer) -> None:
    """A jwt_token of another client is discarded: refreshed with a secret, denied without."""
    foreign = jwt(client="someone-else")
    auth = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN, jwt_token=foreign)
    assert auth.token != foreign
    denied = quiet(client_id=CLIENT_ID, jwt_token=foreign, token_info_path=None)
    with pytest.raises(AuthError):
        denied.token  # noqa: B018


def test_refused_refresh_is_an_oauth_error() -> None:
    """A refresh token the service refuses raises OauthError, naming no secret."""
    auth = Auth(client_id=CLIENT_ID, client_secret="not-the-one")
    with pytest.raises(OauthError) as info:
        auth.token  # noqa: B018
    assert "not-the-one" not in str(info.value)


def test_retries_default_and_forms(iam: IamServer) -> None:
    """retries: default 5 with 1-10 s back-off; an int and a urllib3 Retry are accepted."""
    from urllib3.util.retry import Retry

    assert Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN).retries.retries == 5
    assert Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN, retries=2).retries.retries == 2
    auth = Auth(
        client_id=CLIENT_ID, client_secret=REFRESH_TOKEN, retries=Retry(total=1, backoff_factor=0)
    )
    assert auth.retries.retries == 1
    with iam.state.lock:
        iam.state.fail_next = 1
    before = iam.token_requests()
    auth.token  # noqa: B018 - one 503, then a token
    assert iam.token_requests() == before + 2


def test_warnings_for_missing_file_and_no_credentials(home: Path) -> None:
    """A missing token_info file and finding no credentials each warn; _suppress_warning hushes."""
    with pytest.warns(UserWarning, match="found") as record:
        Auth()
    messages = " | ".join(str(w.message) for w in record)
    assert "cannot be found" in messages
    assert "no credentials" in messages
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Auth(_suppress_warning=True)


def test_from_environment_or_token_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The class method builds an Auth from its arguments and the environment."""
    monkeypatch.setenv("DESCARTESLABS_CLIENT_ID", CLIENT_ID)
    auth = Auth.from_environment_or_token_json(client_secret=REFRESH_TOKEN)
    assert isinstance(auth, Auth)
    assert auth.payload["aud"] == CLIENT_ID


def test_default_auth_singleton(monkeypatch: pytest.MonkeyPatch) -> None:
    """get_default_auth() gives one Auth until set_default_auth() changes it."""
    monkeypatch.setenv("DESCARTESLABS_TOKEN", jwt())
    first = Auth.get_default_auth()
    assert Auth.get_default_auth() is first
    other = Auth(jwt_token=jwt(sub="other"))
    Auth.set_default_auth(other)
    assert Auth.get_default_auth() is other
    assert APP.get_default() is other


def test_token_and_payload(iam: IamServer) -> None:
    """.token is the JWT string; .payload its claims; a session sends it."""
    auth = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN)
    assert isinstance(auth.token, str)
    assert auth.payload["sub"] == f"user|{CLIENT_ID}"
    with APP.session(auth) as session:
        assert session.get(iam.url + "/api").status_code == 200


def test_namespace() -> None:
    """.namespace is a 40-hex user id derived from the token's subject."""
    auth = Auth(jwt_token=jwt(sub="alice"))
    assert auth.namespace == hashlib.sha1(b"alice").hexdigest()  # noqa: S324


def test_acl_subjects() -> None:
    """The ACL subjects name the user, the org and the groups."""
    auth = Auth(client_id=CLIENT_ID, client_secret=REFRESH_TOKEN)
    assert auth.all_acl_subjects[0] == f"user:{auth.namespace}"
    assert "org:acme" in auth.all_acl_subjects
    assert "group:analysts" in auth.all_acl_subjects
    assert "group:analysts" not in auth.all_owner_acl_subjects
    assert "group:acme:catalog-admin" in auth.all_owner_acl_subjects


def test_auth_command_names_the_sdk(home: Path) -> None:
    """``dlsdk auth --help`` names the SDK's command; status reads the SDK's variables."""
    from dlsdk.cli import cli

    result = CliRunner().invoke(cli, ["auth", "--help"])
    assert result.exit_code == 0
    assert "dlsdk" in result.output
    assert "authwire" not in result.output.lower()
    result = CliRunner().invoke(cli, ["auth", "token"])
    assert result.exit_code == 4
    assert "dlsdk auth" in result.output
