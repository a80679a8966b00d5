"""Keeping secrets that authwire puts in URLs out of the HTTP libraries' own log lines.

Strictly private. ``ApiKey(key, query="api_key")`` puts its key in the request URL, and
httpx (``INFO: HTTP Request: GET https://...?api_key=...``) and urllib3 (``DEBUG:
"GET /path?api_key=... HTTP/1.1" 200``) log request URLs: ``logging.basicConfig(
level=logging.INFO)`` would be enough to write the key to a log.

Every value authwire sends in a URL is registered here when the scheme holding it is
built (``register``), and unregistered when that scheme is garbage-collected; the
registry holds exactly the values of the live schemes, counted so that two schemes with
one key keep it until both are gone. The first registration attaches one
``logging.Filter`` to each logger of ``LOGGERS``; the filter rewrites a record whose
message holds a registered value (raw or URL-encoded) into the redacted message, with no
arguments left to re-format.

Why on those loggers, by exact name: a logger's filters see only the records logged on that
very logger, not those propagated from its children, and a handler's filters (which do see
propagated records) belong to the application. The filter runs only for records the
logger is enabled for, so with those libraries' logging off (the default ``WARNING``) it
costs nothing, and with no URL secret registered it returns at its first check.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Final

from authwire._core.redact import REDACTED, secret_spellings

__all__ = ["LOGGERS", "UrlSecretFilter", "register", "registered_forms"]

#: The loggers that log request URLs (httpx, httpcore, urllib3 and its parts that name
#: a URL: connection pools, redirects, retries, header-parsing warnings).
LOGGERS: Final = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.util.retry",
)

_lock = threading.Lock()
_counts: dict[str, int] = {}


class UrlSecretFilter(logging.Filter):
    """Redacts registered URL secrets from the records of the logger it is attached to.

    Strictly private; one instance (``FILTER``) serves every logger of ``LOGGERS``.
    """

    def __init__(self) -> None:
        super().__init__()
        #: The spellings to remove, longest first; replaced whole, never mutated, so the
        #: filter reads it without a lock.
        self.forms: tuple[str, ...] = ()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` if its message holds a registered value; never drop it."""
        forms = self.forms
        if not forms:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        found = False
        for form in forms:
            if form in message:
                message = message.replace(form, REDACTED)
                found = True
        if found:
            record.msg = message
            record.args = None
        return True


#: The filter attached to every logger of ``LOGGERS``.
FILTER: Final = UrlSecretFilter()


def _rebuild() -> None:
    """Recompute ``FILTER.forms`` from the counts (call with ``_lock`` held)."""
    forms: set[str] = set()
    for value in _counts:
        forms |= secret_spellings(value)
    FILTER.forms = tuple(sorted(forms, key=len, reverse=True))


def _release(value: str) -> None:
    with _lock:
        left = _counts.get(value, 0) - 1
        if left > 0:
            _counts[value] = left
        else:
            _counts.pop(value, None)
        _rebuild()


def register(owner: object, value: str) -> None:
    """Keep ``value`` out of the HTTP libraries' log lines while ``owner`` lives.

    Args:
        owner: The scheme that sends ``value`` in URLs; when it is garbage-collected the
            value is released (it stays while another live scheme registered it too).
        value: The secret as the scheme puts it in the URL, before URL-encoding.
    """
    with _lock:
        _counts[value] = _counts.get(value, 0) + 1
        _rebuild()
        # Attached at each registration, not once: an application that reconfigured
        # logging (``dictConfig``) may have dropped the filter since.
        for name in LOGGERS:
            logger = logging.getLogger(name)
            if FILTER not in logger.filters:
                logger.addFilter(FILTER)
    weakref.finalize(owner, _release, value)


def registered_forms() -> tuple[str, ...]:
    """The spellings currently redacted (for tests and diagnostics; they are secrets)."""
    return FILTER.forms
