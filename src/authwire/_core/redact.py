"""Keeping secrets out of reprs, logs and error messages.

Strictly private. ``Secret`` wraps a value so that printing it cannot leak it;
``redact_text`` scrubs known secrets and secret-looking fields from text that came from
elsewhere (a token endpoint's error page, a URL) before it is put in an error or a log line.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from typing import Final, Generic, NamedTuple, TypeVar
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "Secret",
    "redact_headers",
    "redact_text",
    "redact_url",
    "reveal",
    "snippet",
]

T = TypeVar("T")

#: What a redacted value is replaced with.
REDACTED: Final = "***"

#: Field names whose values are secrets wherever they appear (JSON, forms, query strings).
SENSITIVE_FIELDS: Final = (
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
    "passwd",
    "code_verifier",
    "code",
    "device_code",
    "subject_token",
    "actor_token",
    "token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "signature",
    "sig",
)

#: Header names whose values are never shown.
SENSITIVE_HEADERS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "dpop",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-esri-authorization",
    }
)


class _Patterns(NamedTuple):
    json_field: re.Pattern[str]
    form_field: re.Pattern[str]
    auth_value: re.Pattern[str]
    ws: re.Pattern[str]
    userinfo: re.Pattern[str]


@functools.cache
def _patterns() -> _Patterns:
    """The redaction regexes, compiled on first use.

    Compiling them at import time would add about a millisecond to ``import authwire``.
    """
    field_alt = "|".join(re.escape(f) for f in SENSITIVE_FIELDS)
    return _Patterns(
        # A value cut short with its body (no closing quote) runs to the end of the text.
        # The string is matched as an unrolled loop (runs of plain characters between
        # escapes): ``(?:[^"\\]|\\.)*`` kept backtracking state for every character,
        # about 180 bytes each, so a long value cost megabytes of memory.
        json_field=re.compile(
            rf'("(?:{field_alt})"\s*:\s*)"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?$)', re.IGNORECASE
        ),
        # name=value, also name="value" and name='value' (log lines, HTML attributes,
        # Digest-like params).
        form_field=re.compile(
            rf"(?<![A-Za-z0-9_])((?:{field_alt})=)(?:\"[^\"]*\"|'[^']*'|[\"']?[^&\s\"'<>]+)",
            re.IGNORECASE,
        ),
        auth_value=re.compile(
            r"\b(Bearer|Basic|Digest|Negotiate|NTLM|DPoP|Token)(\s+)[A-Za-z0-9._~+/=:,\"-]{6,}",
            re.IGNORECASE,
        ),
        ws=re.compile(r"\s+"),
        userinfo=re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)@"),
    )


class Secret(Generic[T]):
    """A value that never shows itself in ``repr``, ``str`` or a format string.

    Use ``reveal()`` at the one place the value is really needed (building a request).

    Example:
        >>> s = Secret("hunter2")
        >>> print(s, repr(s))
        *** Secret('***')
        >>> s.reveal()
        'hunter2'
    """

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def reveal(self) -> T:
        """The wrapped value. Call it only where the value is sent, never to print it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        a, b = self._value, other._value
        if isinstance(a, str) and isinstance(b, str):
            return hmac.compare_digest(a.encode(), b.encode())
        return bool(a == b)

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def reveal(value: Secret[str] | str | None) -> str | None:
    """The plain value of a ``Secret`` or of a string given as is (``None`` stays ``None``)."""
    if isinstance(value, Secret):
        return value.reveal()
    return value


def _variants(secret: str) -> set[str]:
    """The spellings under which a secret may come back: raw, URL-quoted, JSON-escaped."""
    out = {secret, quote_plus(secret), quote(secret, safe="")}
    out.add(json.dumps(secret)[1:-1])
    return {v for v in out if v}


def _secret_forms(secrets: Iterable[str | Secret[str] | None]) -> list[str]:
    forms: set[str] = set()
    plain = [reveal(s) for s in secrets]
    values = [p for p in plain if p]
    for value in values:
        forms |= _variants(value)
    # A secret echoed inside a Basic header is base64 of "id:secret"; catch that form too.
    for value in values:
        for other in values:
            pair = base64.b64encode(f"{other}:{value}".encode()).decode()
            forms.add(pair)
    # Longest first, so that a secret containing another is replaced whole.
    return sorted(forms, key=len, reverse=True)


#: The shortest start of a secret removed from the end of a cut body.
_MIN_TAIL: Final = 4


def _cut_secret_tail(text: str, forms: Iterable[str]) -> str:
    """``text`` without a trailing start of any of ``forms`` (``_MIN_TAIL`` chars or more)."""
    for form in forms:
        for size in range(min(len(form) - 1, len(text)), _MIN_TAIL - 1, -1):
            if text.endswith(form[:size]):
                return text[:-size] + REDACTED
    return text


def redact_text(text: str, secrets: Iterable[str | Secret[str] | None] = ()) -> str:
    """``text`` with every known secret and every secret-looking field replaced by ``***``.

    Args:
        text: Text from elsewhere (a response body, a URL, a message).
        secrets: Values known to be secret in this context (a client secret, a password,
            a token). Each is removed in its raw, URL-encoded and JSON-escaped forms, and
            inside a Basic credential.

    Returns:
        The scrubbed text. Field values of ``access_token``, ``password`` and the like are
        removed even when not listed in ``secrets``.
    """
    for form in _secret_forms(secrets):
        text = text.replace(form, REDACTED)
    patterns = _patterns()
    text = patterns.json_field.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    text = patterns.form_field.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return patterns.auth_value.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def snippet(
    body: bytes | str,
    secrets: Iterable[str | Secret[str] | None] = (),
    limit: int = 200,
) -> str:
    """A short, single-line, redacted excerpt of a response body for an error message.

    Args:
        body: The body as received.
        secrets: Values to remove (see ``redact_text``).
        limit: The most characters kept; ``0`` gives an empty string. Default 200.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    # Redact before truncating, so that a secret cut in half at the limit cannot survive.
    text = redact_text(_patterns().ws.sub(" ", text).strip(), secrets)
    # A body cut short on the way (a reset connection, a size cap) may end inside an
    # echoed secret, which no longer matches whole: remove such a tail too.
    text = _cut_secret_tail(text, _secret_forms(secrets))
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def redact_url(url: str, secrets: Iterable[str | Secret[str] | None] = ()) -> str:
    """``url`` with any password in its userinfo and any secret-looking query value removed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        # Unparseable (e.g. a stray "[" in a password): still drop the userinfo password.
        url = _patterns().userinfo.sub(
            lambda m: (
                f"{m.group(1)}{m.group(2).split(':', 1)[0]}:{REDACTED}@"
                if ":" in m.group(2)
                else m.group(0)
            ),
            url,
            count=1,
        )
        return redact_text(url, secrets)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
    rebuilt = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return redact_text(rebuilt, secrets)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` fit for a log line: sensitive values become ``***``."""
    return {
        name: (REDACTED if name.lower() in SENSITIVE_HEADERS else value)
        for name, value in headers.items()
    }
