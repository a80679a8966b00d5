"""A small TOML writer for the profiles file. Strictly private.

``tomllib`` only reads. The profiles file holds tables of strings, numbers, booleans and
lists, which this writes so that ``tomllib.loads(dumps(data)) == data``. Comments in a file
that ``authwire profile`` rewrites are not kept.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(value: str) -> str:
    # JSON's escapes are TOML's basic-string escapes; TOML also forbids a raw DEL, and
    # ensure_ascii=False keeps astral characters whole (TOML rejects surrogate escapes).
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items())
        return "{" + inner + "}" if inner else "{}"
    raise TypeError(f"cannot write a {type(value).__name__} to TOML")


def _table(lines: list[str], path: list[str], table: Mapping[str, Any]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if path and (scalars or not tables):
        if lines:
            lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables.items():
        _table(lines, [*path, key], value)


def dumps(data: Mapping[str, Any]) -> str:
    """``data`` as a TOML document (mappings become tables, scalars come first).

    Raises:
        TypeError: For a value TOML cannot hold here (``None``, dates, objects).
    """
    lines: list[str] = []
    _table(lines, [], data)
    return "\n".join(lines) + "\n"
