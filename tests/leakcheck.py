"""Planting secrets and proving they never come back out (security rule 1).

Usable from every suite: ``from tests.leakcheck import assert_no_secret, plant``, or the
``planted_secrets`` fixture in ``tests/conftest.py``, which also watches every log record
of the ``authwire`` logger (DEBUG included) for the secrets it planted.

A planted secret is long and random, so finding it anywhere (raw, URL-encoded,
JSON-escaped, base64 inside a Basic header) can only mean a leak, never a coincidence.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets as _secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

__all__ = [
    "LogCapture",
    "SecretPlanter",
    "assert_no_secret",
    "capture_logs",
    "leaked_forms",
    "plant",
]


def plant(label: str = "secret") -> str:
    """A fresh secret that cannot occur by chance: ``<label>-<32 random chars>``.

    The random part mixes characters that URL and JSON encoders change (``/``, ``+``,
    ``"``-free), so encoded echoes are caught too.
    """
    core = _secrets.token_hex(10)
    secret = f"{label}-{core}+/={_secrets.token_urlsafe(6)}"
    _CORES[secret] = core
    return secret


#: The random hex core of each planted secret: found alone, it is a truncated leak.
_CORES: dict[str, str] = {}


def _forms(secret: str) -> set[str]:
    """The spellings under which ``secret`` could come back."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        base64.b64encode(secret.encode()).decode(),
    }
    # Twelve characters of the random core alone: a truncated leak is still a leak.
    core = _CORES.get(secret)
    if core:
        forms.add(core[:12])
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

    def new(self, label: str = "secret") -> str:
        """Plant and remember a fresh secret."""
        secret = plant(label)
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
