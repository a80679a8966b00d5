"""Parsing ``WWW-Authenticate`` challenges (RFC 9110 section 11.6.1).

Strictly private. Servers send several challenges in one field or in several fields, and
clients such as requests join repeated fields with commas, so the parser splits on the
grammar rather than on commas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

__all__ = ["Challenge", "find_challenge", "parse_challenges"]

#: The most challenges read from one response. Real servers offer a handful; past this a
#: field is hostile (a million ``a,`` cost seconds and megabytes) and the rest is ignored.
MAX_CHALLENGES: Final = 64

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge.

    Attributes:
        scheme: The scheme name as sent (compare with ``matches``).
        params: Auth parameters, names in lower case, quoted strings unquoted.
        token68: The token68 form (Negotiate and NTLM carry their tokens this way).
    """

    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None

    def matches(self, scheme: str) -> bool:
        """Whether this challenge is for ``scheme`` (case-insensitive)."""
        return self.scheme.lower() == scheme.lower()


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _quoted(text: str, pos: int) -> tuple[str, int]:
    out = []
    pos += 1
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
            continue
        if ch == '"':
            return "".join(out), pos + 1
        out.append(ch)
        pos += 1
    return "".join(out), pos


def _parse_one_field(text: str, limit: int) -> list[Challenge]:
    challenges: list[Challenge] = []
    pos, n = 0, len(text)
    while pos < n and len(challenges) < limit:
        pos = _skip(text, pos)
        if pos < n and text[pos] == ",":
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        if not m:
            break  # garbage: keep what was understood so far
        scheme, pos = m.group(), m.end()
        params: dict[str, str] = {}
        pos = _skip(text, pos)
        # token68 form, "Negotiate abc==": the token68 runs to the end or to a comma.
        t68 = _TOKEN68.match(text, pos)
        if t68:
            after = _skip(text, t68.end())
            if after >= n or text[after] == ",":
                challenges.append(Challenge(scheme, params, t68.group()))
                pos = after
                continue
        while pos < n:
            pos = _skip(text, pos)
            name_m = _TOKEN.match(text, pos)
            if not name_m:
                break
            after_name = _skip(text, name_m.end())
            if after_name >= n or text[after_name] != "=":
                break  # a new challenge starts here
            pos = _skip(text, after_name + 1)
            if pos < n and text[pos] == '"':
                value, pos = _quoted(text, pos)
            else:
                value_m = _TOKEN.match(text, pos)
                value = value_m.group() if value_m else ""
                pos = value_m.end() if value_m else pos
            params[name_m.group().lower()] = value
            pos = _skip(text, pos)
            if pos < n and text[pos] == ",":
                pos += 1
        challenges.append(Challenge(scheme, params))
    return challenges


def parse_challenges(fields: Iterable[str]) -> list[Challenge]:
    """The challenges in the given ``WWW-Authenticate`` field values, in order.

    At most ``MAX_CHALLENGES``: a hostile field cannot make the parse cost more.
    """
    out: list[Challenge] = []
    for value in fields:
        out.extend(_parse_one_field(value, MAX_CHALLENGES - len(out)))
        if len(out) >= MAX_CHALLENGES:
            break
    return out


def find_challenge(fields: Iterable[str], scheme: str) -> Challenge | None:
    """The first challenge for ``scheme``, if any."""
    for challenge in parse_challenges(fields):
        if challenge.matches(scheme):
            return challenge
    return None
