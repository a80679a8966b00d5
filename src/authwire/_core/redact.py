"""Keeping secrets out of reprs, logs and error messages.

Strictly private. ``Secret`` wraps a value so that printing it cannot leak it;
``redact_text`` scrubs known secrets and secret-looking fields from text that came from
elsewhere (a token endpoint's error page, a URL) before it is put in an error or a log line.
"""

from __future__ import annotations

import base64
import functools
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Final, Generic, NamedTuple, TypeVar, overload
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "Secret",
    "redact_headers",
    "redact_text",
    "redact_url",
    "reveal",
    "secret_spellings",
    "snippet",
    "wrap_secrets",
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
    "pwd",
    "passphrase",
    "code_verifier",
    "code",
    "device_code",
    "subject_token",
    "actor_token",
    "id_token_hint",
    "session_token",
    "auth_token",
    "token",
    "private_key",
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
    quoted_json_field: re.Pattern[str]
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
        # The same inside an HTML page (&quot;) or inside another JSON string (\").
        quoted_json_field=re.compile(
            rf'((?P<q>&quot;|\\")(?:{field_alt})(?P=q)\s*:\s*)(?P=q).*?(?P=q)', re.IGNORECASE
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


def wrap_secrets(values: Iterable[str | Secret[str] | None]) -> tuple[Secret[str], ...]:
    """``values`` each as a ``Secret`` (empty ones and ``None`` left out)."""
    return tuple(v if isinstance(v, Secret) else Secret(v) for v in values if v)


@overload
def reveal(value: Secret[str] | str) -> str: ...
@overload
def reveal(value: Secret[str] | str | None) -> str | None: ...
def reveal(value: Secret[str] | str | None) -> str | None:
    """The plain value of a ``Secret`` or of a string given as is (``None`` stays ``None``)."""
    if isinstance(value, Secret):
        return value.reveal()
    return value


def _ci(hex_digits: str) -> str:
    """A regex matching ``hex_digits`` in either case (``"e9"`` -> ``"[eE]9"``)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in hex_digits)


@functools.cache
def _html_names() -> dict[str, tuple[str, ...]]:
    """Each character's HTML named references (``"&"`` -> ``amp;``, ``AMP``...)."""
    from html.entities import html5

    names: dict[str, list[str]] = {}
    for name, char in html5.items():
        if len(char) == 1:
            names.setdefault(char, []).append(name)
    # Longest first: "&quot;" must win over "&quot" (the legacy form without ";"), or a
    # secret ending in a quote would leave the ";" behind.
    return {char: tuple(sorted(found, key=len, reverse=True)) for char, found in names.items()}


#: JSON's two-character escapes of control characters (RFC 8259 section 7).
_JSON_SHORT: Final = {
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


@functools.lru_cache(maxsize=4096)
def _char_pattern(char: str) -> str:
    r"""A regex for ``char`` in any spelling a server may echo it in.

    Raw; percent-encoded (RFC 3986, its UTF-8 bytes) and ``+`` for a space (forms);
    JSON-escaped (``\u00e9``, a surrogate pair beyond the BMP, ``\/``, ``\"``) and
    backslash-escaped (``\'``, ``\xe9``); HTML character references, numeric
    (``&#39;``, ``&#x27;``, leading zeros and the ``;`` optional) and named (``&amp;``,
    ``&apos;``, ``&sol;``...). Hex digits match in either case. Letters and digits are
    only ever matched raw: no server escapes them, and the pattern stays small for long
    secrets such as JWT assertions.
    """
    if char.isascii() and char.isalnum():
        return char
    code = ord(char)
    # Alternatives are tried in order and the first that fits wins, so each longer
    # spelling comes before any that is its prefix: "&amp;" before "&", "%25" before "%",
    # "&quot;" before "&quot" (or a secret ending in "&" would leave "amp;" behind).
    alternatives = ["".join("%" + _ci(f"{b:02x}") for b in char.encode("utf-8", "surrogatepass"))]
    if code < 0x10000:
        alternatives.append(r"\\u" + _ci(f"{code:04x}"))
    else:
        high = 0xD800 + ((code - 0x10000) >> 10)
        low = 0xDC00 + ((code - 0x10000) & 0x3FF)
        alternatives.append(r"\\u" + _ci(f"{high:04x}") + r"\\u" + _ci(f"{low:04x}"))
        alternatives.append(r"\\U" + _ci(f"{code:08x}"))
    if code < 0x100:
        alternatives.append(r"\\x" + _ci(f"{code:02x}"))
    short = _JSON_SHORT.get(char)
    if short is not None:
        alternatives.append(re.escape(short))
    if char == " ":
        alternatives.append(r"\+")
    # The character itself: as an HTML reference, named or numeric (leading zeros, ";"
    # optional), or raw; after a backslash too (JSON's \", JavaScript's \', and a JSON
    # escape that an HTML template escaped again: \&quot;).
    spellings = [
        *("&" + re.escape(name) for name in _html_names().get(char, ())),
        f"&#0*{code};?",
        f"&#[xX]0*{_ci(f'{code:x}')};?",
        re.escape(char),
    ]
    itself = "(?:" + "|".join(spellings) + ")"
    alternatives.append(itself if char.isspace() else r"\\?" + itself)
    return "(?:" + "|".join(alternatives) + ")"


def _secret_pattern(secret: str) -> re.Pattern[str]:
    """A regex for ``secret`` spelled raw, URL-, JSON-, backslash- or HTML-escaped.

    Each character may be spelled its own way, so a mix (a JSON string HTML-escaped by a
    template) matches too, and the whole secret goes, not only the part before its first
    escaped character.
    """
    return re.compile("".join(_char_pattern(c) for c in secret))


def _basic_forms(values: list[str]) -> list[str]:
    """Every ``base64(other:value)``: a secret echoed inside a Basic header."""
    forms = set()
    for value in values:
        for other in values:
            forms.add(base64.b64encode(f"{other}:{value}".encode()).decode())
    # Longest first, so that a pair containing another is replaced whole.
    return sorted(forms, key=len, reverse=True)


def secret_spellings(secret: str) -> set[str]:
    """The usual whole spellings of ``secret``: raw, URL-, JSON- and HTML-escaped.

    For exact substring checks (a log line, the cut end of a body); ``redact_text``
    matches every mix of spellings with a pattern instead.
    """
    import html  # off the import path: used when an error or a filter is built
    import json
    from urllib.parse import quote, quote_plus

    spellings = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
    }
    return {s for s in spellings if s}


def _tail_forms(secrets: Iterable[str | Secret[str] | None]) -> list[str]:
    """Every spelling of each secret, alone or inside a Basic credential, longest first."""
    values = [v for v in (reveal(s) for s in secrets) if v]
    forms = set(_basic_forms(values))
    for value in values:
        forms |= secret_spellings(value)
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
            a token). Each is removed however it is spelled: raw, URL-encoded,
            JSON-escaped, HTML-escaped or any mix of these (see ``_char_pattern``), and
            inside a Basic credential.

    Returns:
        The scrubbed text. Field values of ``access_token``, ``password`` and the like are
        removed even when not listed in ``secrets``.
    """
    values = [v for v in (reveal(s) for s in secrets) if v]
    for form in _basic_forms(values):
        text = text.replace(form, REDACTED)
    # Longest first, so that a secret containing another is replaced whole.
    for value in sorted(set(values), key=len, reverse=True):
        text = _secret_pattern(value).sub(REDACTED, text)
    patterns = _patterns()
    text = patterns.json_field.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    text = patterns.quoted_json_field.sub(
        lambda m: f"{m.group(1)}{m.group('q')}{REDACTED}{m.group('q')}", text
    )
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
    # Redact before truncating, so that a secret cut in half at the limit cannot survive,
    # and before folding whitespace, which would change a secret holding some.
    text = _patterns().ws.sub(" ", redact_text(text, secrets)).strip()
    # A body cut short on the way (a reset connection, a size cap) may end inside an
    # echoed secret, which no longer matches whole: remove such a tail too.
    text = _cut_secret_tail(text, _tail_forms(secrets))
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
