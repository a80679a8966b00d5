"""Planting secrets and proving they never come back out (security rule 1).

Usable from every suite: ``from tests.leakcheck import assert_no_secret, plant``, or the
``planted_secrets`` fixture in ``tests/conftest.py``, which also watches every log record
of the ``authwire`` logger (DEBUG included) for the secrets it planted.

A planted secret is long and random, so finding it anywhere (raw, URL-encoded,
JSON-escaped, HTML-escaped, base64 inside a Basic header) can only mean a leak, never a
coincidence. Its random parts are searched for alone too: a secret cut short, or kept up
to its first escaped character, is still a leak.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import secrets as _secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

__all__ = [
    "TRICKY",
    "LogCapture",
    "SecretPlanter",
    "assert_no_secret",
    "capture_logs",
    "leaked_forms",
    "plant",
]


#: Characters that escapers change: HTML (``&<>'"``), JSON (``"\\/``, non-ASCII), URLs
#: (space, ``+``), and one character beyond the BMP (a JSON surrogate pair).
TRICKY: str = "&<>'\"/ \\+=é€😀"


def plant(label: str = "secret", *, tricky: bool = False) -> str:
    """A fresh secret that cannot occur by chance: ``<label>-<20 hex>+/=<8 random>``.

    The middle mixes characters that URL and JSON encoders change (``/``, ``+``,
    ``"``-free), so encoded echoes are caught too. ``tricky=True`` puts ``TRICKY`` there
    instead: every escaper changes something (fit for bodies and forms, not for headers).
    """
    core = _secrets.token_hex(10)
    tail = _secrets.token_urlsafe(6)
    secret = f"{label}-{core}{TRICKY if tricky else '+/='}{tail}"
    _PARTS[secret] = (core, tail)
    return secret


#: The random parts of each planted secret: found alone, they are a truncated leak.
_PARTS: dict[str, tuple[str, str]] = {}


def _json_forms(secret: str) -> set[str]:
    ascii_form = json.dumps(secret)[1:-1]
    utf8_form = json.dumps(secret, ensure_ascii=False)[1:-1]
    forms = {ascii_form, utf8_form}
    for form in (ascii_form, utf8_form):
        forms.add(form.replace("/", "\\/"))  # PHP's json_encode escapes "/"
        forms.add(form.replace("\\u", "\\U"))  # upper-case hex digits
    return forms


def _html_forms(text: str) -> set[str]:
    numeric = "".join(c if c.isalnum() else f"&#{ord(c)};" for c in text)
    hex_form = "".join(c if c.isalnum() else f"&#x{ord(c):x};" for c in text)
    owasp = html.escape(text).replace("/", "&#x2F;")
    return {html.escape(text), html.escape(text, quote=False), numeric, hex_form, owasp}


def _forms(secret: str) -> set[str]:
    """The spellings under which ``secret`` could come back."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        base64.b64encode(secret.encode()).decode(),
    }
    forms |= _json_forms(secret)
    for form in list(forms):
        forms |= _html_forms(form)
    # The random parts alone: a truncated leak is still a leak.
    core, tail = _PARTS.get(secret, ("", ""))
    forms.add(core[:12])
    forms.add(tail)
    return {f for f in forms if f}


def leaked_forms(text: str, *secrets: str, others: Iterable[str] = ()) -> list[str]:
    """Which forms of ``secrets`` occur in ``text`` (also inside ``base64(other:secret)``)."""
    found = []
    for secret in secrets:
        for form in _forms(secret):
            if form in text:
                found.append(form)
        for other in (*others, *secrets):
            # Basic credentials: raw (RFC 7617) or form-encoded first (RFC 6749 2.3.1).
            for user, password in ((other, secret), (quote_plus(other), quote_plus(secret))):
                pair = base64.b64encode(f"{user}:{password}".encode()).decode()
                if pair in text or pair.rstrip("=") in text:
                    found.append(f"base64({user}:…)")
    return found


def assert_no_secret(text: object, *secrets: str, others: Iterable[str] = ()) -> None:
    """Fail if any form of any of ``secrets`` occurs in ``text`` (``str()`` of any object).

    Args:
        text: A string, or any object (its ``str`` and ``repr`` are both searched).
        *secrets: The planted secrets.
        others: Values that may precede a secret in a Basic pair (user names, client ids).
    """
    texts = [text] if isinstance(text, str) else [str(text), repr(text)]
    for item in texts:
        found = leaked_forms(item, *secrets, others=others)
        assert not found, f"secret leaked ({found!r}) in: {item[:500]!r}"


class LogCapture(logging.Handler):
    """Keeps every record of a logger, formatted with its arguments and ``extra`` fields."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        """Each record as text: the message, its exception and every attribute's repr."""
        out = []
        for record in self.records:
            parts = [record.getMessage(), repr(record.args)]
            if record.exc_info and record.exc_info[1] is not None:
                parts.append(logging.Formatter().formatException(record.exc_info))
            parts.extend(repr(v) for v in record.__dict__.values())
            out.append("\n".join(parts))
        return out


@contextmanager
def capture_logs(name: str = "authwire") -> Iterator[LogCapture]:
    """Capture every record of logger ``name`` at DEBUG while the block runs."""
    logger = logging.getLogger(name)
    handler = LogCapture()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


class SecretPlanter:
    """Plants secrets for one test and checks texts (and the test's logs) for them."""

    def __init__(self, logs: LogCapture) -> None:
        self.planted: list[str] = []
        self.logs = logs

    def new(self, label: str = "secret", *, tricky: bool = False) -> str:
        """Plant and remember a fresh secret (see ``plant``)."""
        secret = plant(label, tricky=tricky)
        self.planted.append(secret)
        return secret

    def check(self, *texts: object, others: Iterable[str] = ()) -> None:
        """Fail if any planted secret occurs in any of ``texts`` (strs or objects)."""
        for text in texts:
            assert_no_secret(text, *self.planted, others=others)

    def check_logs(self, others: Iterable[str] = ()) -> None:
        """Fail if any planted secret occurs in any ``authwire`` log record so far."""
        for text in self.logs.texts():
            assert_no_secret(text, *self.planted, others=others)
