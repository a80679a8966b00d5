"""``CommandCredential``: a token printed by a command (the credential-helper pattern).

Like kubectl's exec plugins, git's credential helpers and ``gcloud auth print-access-token``:
authwire runs the command (never through a shell), reads a token from its standard output
and caches it like any other credential. The command is run by the flow's ``Call``
operation, so the sync path runs it in the calling thread and the async path in a worker
thread; the event loop never waits on a process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any, Final

from authwire._core.flow import Call, Flow
from authwire._core.oauth2.token_response import finite_number
from authwire._core.redact import snippet
from authwire._core.token import Token, decode_jwt_claims
from authwire.credentials.base import ManagedCredential
from authwire.credentials.login_endpoint import expiry_from
from authwire.errors import ConfigurationError, CredentialUnavailable, InvalidTokenResponse

__all__ = ["CommandCredential"]

#: Characters a bare token may hold (RFC 6750 ``b64token`` plus what JWTs and vendor keys use).
_BARE_TOKEN: Final = re.compile(r"^[A-Za-z0-9\-._~+/=:]+$")
#: The most output read from a command (a token response is a few kilobytes at most).
MAX_OUTPUT: Final = 1 << 20


class _Result:
    """What a finished command left behind. Never shown: it holds the token."""

    __slots__ = ("returncode", "stderr", "stdout")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"_Result(returncode={self.returncode})"


def _run(
    argv: tuple[str, ...], timeout: float, env: dict[str, str] | None, cwd: str | None
) -> _Result:
    """Run the command (blocking). Every failure is a ``CredentialUnavailable``."""
    name = os.path.basename(argv[0])
    try:
        done = subprocess.run(  # noqa: S603 (a list of arguments, never a shell)
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            check=False,
        )
    except FileNotFoundError:
        raise CredentialUnavailable(f"credential command {name!r} not found") from None
    except PermissionError:
        raise CredentialUnavailable(f"credential command {name!r} is not executable") from None
    except subprocess.TimeoutExpired:
        # ``from None``: the TimeoutExpired holds whatever the command had printed.
        raise CredentialUnavailable(
            f"credential command {name!r} did not finish within {timeout:g} s"
        ) from None
    except OSError as exc:
        raise CredentialUnavailable(
            f"credential command {name!r} could not be run: {exc.strerror or type(exc).__name__}"
        ) from None
    return _Result(done.returncode, done.stdout[:MAX_OUTPUT], done.stderr[:MAX_OUTPUT])


def _words(text: str) -> list[str]:
    """Every run of 8+ token characters in ``text``: what must never be echoed from stdout."""
    return list(re.findall(r"[A-Za-z0-9\-._~+/=:]{8,}", text))


def parse_command_output(
    result: _Result, *, name: str, received_at: float, default_lifetime: float | None
) -> Token:
    """The token in a command's output, or a typed error that never quotes the output.

    Accepted: a JSON object with ``access_token`` (or ``token``) and ``expires_in`` or
    ``expires_at`` (or ``expires``, ``expiration``); a Kubernetes ``ExecCredential``
    (``status.token``, ``status.expirationTimestamp``); or one bare token on one line.

    Raises:
        CredentialUnavailable: The command exited with a non-zero status (its standard
            error is quoted, redacted, with anything it printed on stdout removed).
        InvalidTokenResponse: The output held no token.
    """
    stdout = result.stdout.decode("utf-8", "replace")
    if result.returncode != 0:
        why = snippet(result.stderr, _words(stdout)) or "no error output"
        raise CredentialUnavailable(
            f"credential command {name!r} exited with status {result.returncode}: {why}"
        )

    def invalid(reason: str) -> InvalidTokenResponse:
        return InvalidTokenResponse(reason=f"credential command {name!r}: {reason}")

    text = stdout.strip()
    if not text:
        raise invalid("printed nothing")
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except ValueError:
            raise invalid("printed something that starts like JSON but is not JSON") from None
        return _from_json(data, invalid, received_at, default_lifetime)
    if "\n" in text or not _BARE_TOKEN.match(text):
        raise invalid("printed neither JSON nor a single bare token")
    return _token(text, None, received_at, default_lifetime, "Bearer")


def _from_json(
    data: Any, invalid: Any, received_at: float, default_lifetime: float | None
) -> Token:
    if not isinstance(data, dict):
        raise invalid("printed JSON that is not an object")
    scope: dict[str, Any] = data
    status = data.get("status")
    if data.get("kind") == "ExecCredential" and isinstance(status, dict):
        scope = status
    access_token = scope.get("access_token", scope.get("token"))
    if access_token is None:
        raise invalid("printed a JSON object without access_token")
    if not isinstance(access_token, str) or not access_token:
        raise invalid("printed an access_token that is not a string")
    expires_at: float | None = None
    for name in ("expires_in", "expires_at", "expires", "expiration", "expirationTimestamp"):
        if scope.get(name) is not None:
            expires_at = expiry_from(name, scope[name], received_at)
            if expires_at is None:
                raise invalid(f"printed a {name} that is not an expiry")
            break
    token_type = scope.get("token_type", "Bearer")
    if not isinstance(token_type, str) or not token_type:
        raise invalid("printed a token_type that is not a string")
    return _token(access_token, expires_at, received_at, default_lifetime, token_type)


def _token(
    access_token: str,
    expires_at: float | None,
    received_at: float,
    default_lifetime: float | None,
    token_type: str,
) -> Token:
    if expires_at is None:
        exp = finite_number(decode_jwt_claims(access_token).get("exp"))
        if exp is not None:
            expires_at = exp
        elif default_lifetime is not None:
            expires_at = received_at + default_lifetime
    return Token(
        access_token=access_token,
        token_type=token_type,
        expires_at=expires_at,
        issued_at=received_at,
    )


class CommandCredential(ManagedCredential):
    """A token printed by a command, run again when the token nears expiry or is rejected.

    The command prints either a JSON object (``{"access_token": "...", "expires_in": 3600}``,
    or ``expires_at`` in epoch seconds, milliseconds or ISO 8601; a Kubernetes
    ``ExecCredential`` works too) or one bare token (its expiry read from the JWT ``exp``
    claim, else ``default_lifetime``). It runs without a shell, with no standard input.

    Args:
        command: The program and its arguments, e.g. ``["gcloud", "auth",
            "print-access-token"]``. A string is refused (no shell parsing).
        timeout: Seconds the command may run. Default 30.
        env: Environment variables added to (and overriding) the inherited ones.
        cwd: The working directory. Default: the current one.
        default_lifetime: Seconds a token without any expiry is used before the command
            runs again. ``None`` (default) uses it until a server rejects it.
        **options: ``cache``, ``leeway``, ``mandatory``, ``on_refresh``, ``clock``: see
            ``ManagedCredential``.

    Raises:
        ConfigurationError: For an empty command, a string command, or a bad timeout.

    Example:
        >>> cred = CommandCredential(["gcloud", "auth", "print-access-token"], timeout=20)
        >>> cred
        CommandCredential('gcloud', +2 args)
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        default_lifetime: float | None = None,
        **options: Any,
    ) -> None:
        if isinstance(command, (str, bytes)):
            raise ConfigurationError(
                "command must be a list of arguments, e.g. ['helper', '--json'] "
                "(it is run without a shell; use shlex.split() for a command line)"
            )
        argv = tuple(command)
        if not argv or not all(isinstance(a, str) for a in argv) or not argv[0]:
            raise ConfigurationError("command must be a non-empty list of strings")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError("timeout must be > 0 seconds")
        if default_lifetime is not None and default_lifetime <= 0:
            raise ConfigurationError("default_lifetime must be > 0 seconds")
        if env is not None and not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise ConfigurationError("env must map strings to strings")
        self._argv = argv
        self._run_timeout = float(timeout)
        self._env = dict(env) if env is not None else None
        self._cwd = os.fspath(cwd) if cwd is not None else None
        self._default_lifetime = default_lifetime
        for http_only in ("http_client", "retries", "timeout", "max_body"):
            if http_only in options:
                raise ConfigurationError(f"CommandCredential takes no {http_only}=")
        super().__init__(**options)

    def __repr__(self) -> str:
        # Arguments may hold secrets (``--password=...``): show only the program.
        name = os.path.basename(self._argv[0])
        more = len(self._argv) - 1
        return (
            f"CommandCredential({name!r}, +{more} args)" if more else f"CommandCredential({name!r})"
        )

    @property
    def command(self) -> tuple[str, ...]:
        """The program and its arguments."""
        return self._argv

    def _identity(self) -> Mapping[str, Any]:
        from authwire.caches.base import secret_fingerprint

        return {
            "source": "command",
            "argv": secret_fingerprint("\0".join(self._argv)),
            "env": secret_fingerprint(json.dumps(self._env, sort_keys=True)),
            "cwd": self._cwd,
        }

    def _token_flow(self, replacing: Token | None) -> Flow[Token]:
        env = None if self._env is None else {**os.environ, **self._env}
        started = self._clock()
        result: _Result = yield Call(_run, None, (self._argv, self._run_timeout, env, self._cwd))
        return parse_command_output(
            result,
            name=os.path.basename(self._argv[0]),
            received_at=started,
            default_lifetime=self._default_lifetime,
        )
