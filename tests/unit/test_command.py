"""``CommandCredential`` running a real helper program (a small Python script), no network."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.leakcheck import SecretPlanter

import authwire
from authwire.credentials.command import CommandCredential
from authwire.errors import ConfigurationError, CredentialUnavailable, InvalidTokenResponse
from authwire.testing import FakeClock, make_jwt

HELPER = textwrap.dedent(
    """
    import os, sys, time
    with open(os.environ["RUNS_FILE"], "a") as f:
        f.write("x")
    runs = len(open(os.environ["RUNS_FILE"]).read())
    sys.stdout.write(os.environ.get("OUT", "").replace("{n}", str(runs)))
    sys.stdout.flush()
    sys.stderr.write(os.environ.get("ERR", ""))
    time.sleep(float(os.environ.get("SLEEP", "0")))
    sys.exit(int(os.environ.get("CODE", "0")))
    """
)


class Helper:
    """A credential helper script whose output, exit status and delay are set per test."""

    def __init__(self, tmp: Path) -> None:
        self.script = tmp / "helper.py"
        self.script.write_text(HELPER)
        self.runs_file = tmp / "runs"
        self.runs_file.write_text("")

    @property
    def runs(self) -> int:
        """How many times the helper ran."""
        return len(self.runs_file.read_text())

    def cred(
        self, out: str = "", *, clock: FakeClock | None = None, **kw: Any
    ) -> CommandCredential:
        env = {"RUNS_FILE": str(self.runs_file), "OUT": out}
        env.update({k.upper(): str(v) for k, v in kw.pop("env", {}).items()})
        return CommandCredential(
            [sys.executable, str(self.script), "--profile", "p1"],
            env=env,
            cache=authwire.MemoryCache(),
            clock=clock or FakeClock(),
            **kw,
        )


@pytest.fixture
def helper(tmp_path: Path) -> Helper:
    """A fresh helper script with its own run counter."""
    return Helper(tmp_path)


def test_bare_token_is_cached_until_rejected(helper: Helper, clock: FakeClock) -> None:
    """A bare token is read once; ``invalidate`` runs the command again."""
    cred = helper.cred("tok-{n}\n", clock=clock)
    first = cred.get_token()
    assert first.access_token == "tok-1"
    assert first.expires_at is None
    assert cred.get_token() is first
    assert helper.runs == 1
    assert cred.invalidate(first)
    assert cred.get_token().access_token == "tok-2"
    assert helper.runs == 2


def test_json_expires_in_and_rerun_on_expiry(helper: Helper, clock: FakeClock) -> None:
    """JSON with ``expires_in`` sets the expiry; past it the command runs again."""
    cred = helper.cred(json.dumps({"access_token": "t{n}", "expires_in": 600}), clock=clock)
    token = cred.get_token()
    assert (token.access_token, token.expires_at) == ("t1", clock() + 600)
    clock.advance(100)
    assert cred.get_token() is token
    clock.advance(501)
    assert cred.get_token().access_token == "t2"
    assert helper.runs == 2


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"access_token": "a", "expires_at": 1_700_000_500}, 1_700_000_500),
        ({"access_token": "a", "expires_at": 1_700_000_500_000}, 1_700_000_500),
        ({"token": "a", "expires_at": "2023-11-14T22:21:40Z"}, 1_700_000_500),
        (
            {
                "kind": "ExecCredential",
                "apiVersion": "client.authentication.k8s.io/v1",
                "status": {"token": "a", "expirationTimestamp": "2023-11-14T22:21:40Z"},
            },
            1_700_000_500,
        ),
    ],
)
def test_json_expiry_forms(
    helper: Helper, clock: FakeClock, payload: dict[str, Any], expected: float
) -> None:
    """Epoch seconds, milliseconds, ISO 8601 and Kubernetes ExecCredential are understood."""
    token = helper.cred(json.dumps(payload), clock=clock).get_token()
    assert token.access_token == "a"
    assert token.expires_at == expected


def test_bare_jwt_uses_exp_and_default_lifetime_applies_otherwise(
    helper: Helper, clock: FakeClock
) -> None:
    """A bare JWT expires at its ``exp``; an opaque token after ``default_lifetime``."""
    jwt = make_jwt({"exp": 1_700_000_900})
    assert helper.cred(jwt, clock=clock).get_token().expires_at == 1_700_000_900
    opaque = helper.cred("opaque-token", clock=clock, default_lifetime=120).get_token()
    assert opaque.expires_at == clock() + 120


def test_non_zero_exit_quotes_stderr_without_stdout_secrets(
    helper: Helper, planted_secrets: SecretPlanter
) -> None:
    """A failing command's error shows its stderr, scrubbed of what it printed on stdout."""
    secret = planted_secrets.new("tok")
    cred = helper.cred(secret, env={"err": f"login expired for {secret}", "code": 3})
    with pytest.raises(CredentialUnavailable) as info:
        cred.get_token()
    message = str(info.value)
    assert "exited with status 3" in message
    assert "login expired for" in message
    planted_secrets.check(message, repr(info.value), repr(cred))


def test_timeout_is_a_clear_error_without_the_output(
    helper: Helper, planted_secrets: SecretPlanter
) -> None:
    """A command that hangs is stopped after ``timeout`` and its output never shown."""
    secret = planted_secrets.new("tok")
    cred = helper.cred(secret, env={"sleep": 30}, timeout=0.5)
    with pytest.raises(CredentialUnavailable, match=r"did not finish within 0\.5 s") as info:
        cred.get_token()
    assert info.value.__cause__ is None
    planted_secrets.check(str(info.value), repr(info.value))


def test_missing_program_is_credential_unavailable(tmp_path: Path) -> None:
    """A program that does not exist gives ``CredentialUnavailable`` naming it."""
    cred = CommandCredential([str(tmp_path / "no-such-helper")], cache=authwire.MemoryCache())
    with pytest.raises(CredentialUnavailable, match="no-such-helper"):
        cred.get_token()


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("", "printed nothing"),
        ("Your token is {secret}\nbye", "neither JSON nor a single bare token"),
        ('{"result": "{secret}"}', "without access_token"),
        ('{"access_token": 5, "x": "{secret}"}', "not a string"),
        ('{"access_token": "{secret}", "expires_in": "later"}', "not an expiry"),
        ('{"access_token": "{secret}"', "not JSON"),
        ('["{secret}"]', "not an object"),
    ],
)
def test_unparsable_output_never_echoes_it(
    helper: Helper, planted_secrets: SecretPlanter, template: str, reason: str
) -> None:
    """Output without a usable token is an ``InvalidTokenResponse`` that quotes none of it."""
    secret = planted_secrets.new("tok")
    with pytest.raises(InvalidTokenResponse, match=reason) as info:
        helper.cred(template.replace("{secret}", secret)).get_token()
    planted_secrets.check(str(info.value), repr(info.value), info.value.snippet)


def test_repr_hides_arguments(planted_secrets: SecretPlanter) -> None:
    """Only the program name shows: arguments may hold secrets."""
    secret = planted_secrets.new("pw")
    cred = CommandCredential(["helper", f"--password={secret}"], cache=authwire.MemoryCache())
    assert repr(cred) == "CommandCredential('helper', +1 args)"
    planted_secrets.check(repr(cred), cred.cache_key)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"command": "helper --json"},
        {"command": []},
        {"command": [""]},
        {"command": ["helper", 1]},
        {"timeout": 0},
        {"timeout": True},
        {"default_lifetime": 0},
        {"env": {"A": 1}},
        {"http_client": object()},
        {"retries": 2},
    ],
)
def test_bad_configuration(kwargs: dict[str, Any]) -> None:
    """Bad arguments raise ``ConfigurationError`` at construction."""
    command = kwargs.pop("command", ["helper"])
    with pytest.raises(ConfigurationError):
        CommandCredential(command, **kwargs)


@pytest.mark.anyio
async def test_async_runs_once_in_a_worker_thread(helper: Helper, clock: FakeClock) -> None:
    """Ten concurrent tasks cause one run, and the event loop keeps turning meanwhile."""
    cred = helper.cred("tok-{n}", clock=clock, env={"sleep": 0.4})
    ticks = 0
    tokens: list[str] = []

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    async def ask() -> None:
        tokens.append((await cred.aget_token()).access_token)

    async with anyio.create_task_group() as outer:
        outer.start_soon(ticker)
        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(ask)
        outer.cancel_scope.cancel()
    assert tokens == ["tok-1"] * 10
    assert helper.runs == 1
    assert ticks >= 5  # the loop was not blocked while the command ran
