"""The CLI's exit codes, and which error gives which. Strictly private."""

from __future__ import annotations

import enum

from authwire.errors import (
    AuthwireError,
    ConfigurationError,
    CredentialUnavailable,
    InsecureTransportError,
    TokenEndpointError,
    TokenEndpointUnreachable,
)

__all__ = ["ExitCode", "exit_code_for"]


class ExitCode(enum.IntEnum):
    """What ``authwire`` exits with (documented in ``docs/cli.md``)."""

    #: Done.
    OK = 0
    #: An error with no more specific code.
    ERROR = 1
    #: Bad command line (unknown option, missing argument); click's own code.
    USAGE = 2
    #: A bad or missing config file or profile, or an insecure URL.
    CONFIG = 3
    #: No credential: nothing configured, no saved login, or the login was refused.
    LOGIN_REQUIRED = 4
    #: The token endpoint refused or answered with something that is not a token.
    TOKEN_ENDPOINT = 5
    #: A server could not be reached (network failure or timeout).
    UNREACHABLE = 6
    #: ``authwire request``: the server answered with an HTTP error (4xx or 5xx).
    HTTP_ERROR = 7
    #: Interrupted (Ctrl-C).
    INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code for an error that stops a command."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, (ConfigurationError, InsecureTransportError)):
        return ExitCode.CONFIG
    if isinstance(exc, CredentialUnavailable):
        return ExitCode.LOGIN_REQUIRED
    if isinstance(exc, TokenEndpointUnreachable):
        return ExitCode.UNREACHABLE
    if isinstance(exc, TokenEndpointError):
        return ExitCode.TOKEN_ENDPOINT
    if isinstance(exc, AuthwireError):
        return ExitCode.ERROR
    try:
        import httpx
    except ImportError:  # pragma: no cover - the cli extra brings httpx
        return ExitCode.ERROR
    if isinstance(exc, httpx.TransportError):
        return ExitCode.UNREACHABLE
    return ExitCode.ERROR
