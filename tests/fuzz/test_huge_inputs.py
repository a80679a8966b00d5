"""Huge and hostile inputs to every parser: bounded time and memory (issue 10, item 3).

Each case is ``SIZE`` bytes shaped to hurt: deep nesting, long runs that a regex could
backtrack over, unterminated quotes, enormous numbers, a million parameters. The parse
must end with a clean result or a documented error, within ``SECONDS`` (a bound far above
the measured time, so only a quadratic blow-up can cross it) and with a memory peak
(``tracemalloc``) under ``PEAK_PER_BYTE`` times the input size plus ``PEAK_FLOOR``.

Body-size caps (refusing an answer past 1 MiB without reading it) are issue 16's; these
tests hold the parsers linear on what they are given.
"""

from __future__ import annotations

import base64
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from tests.leakcheck import plant

from authwire._core.http import Headers, HttpResponse, parse_retry_after
from authwire._core.oauth2.device import parse_device_authorization_response
from authwire._core.oauth2.discovery import parse_discovery_response
from authwire._core.oauth2.id_token import verify_id_token
from authwire._core.oauth2.token_response import parse_token_response
from authwire._core.redact import snippet
from authwire._core.schemes.challenge import parse_challenges
from authwire._core.token import decode_jwt_claims
from authwire.caches._codec import decode_token
from authwire.credentials.login_endpoint import LoginEndpoint, parse_login_response
from authwire.errors import AuthwireError

#: Input size of each case.
SIZE = 256 * 1024
#: Wall-clock bound per case: about 10 times the slowest case measured on a loaded 2-core
#: machine; a quadratic parse of 256 KiB takes minutes.
SECONDS = 10.0
#: Memory bound: peak allocations at most this many times the input, plus a floor.
PEAK_PER_BYTE = 12
PEAK_FLOOR = 8 * 1024 * 1024

SECRET = plant("huge")
NOW = 1_700_000_000.0
URL = "https://idp.example/token"


def _repeat(unit: str, size: int = SIZE) -> str:
    return unit * (size // len(unit))


def _bodies() -> dict[str, bytes]:
    """Hostile bodies of about ``SIZE`` bytes."""
    return {
        "deep nesting": b"[" * SIZE,
        "deep objects": _repeat('{"a":').encode(),
        # Past the 4,300 digits Python converts: a ValueError from json, caught. (A lifetime
        # such as expires_in: 10**400 overflowing a float is issue 16's, fixed there.)
        "huge integer": b'{"access_token": "a", "x": 1' + b"0" * (SIZE // 64) + b"}",
        "unterminated json fields": _repeat('"access_token": "x\\').encode(),
        "unterminated form fields": _repeat('token="x ').encode(),
        "secret prefixes": _repeat(SECRET[:-1] + " ").encode(),
        "long string": b'{"access_token": "' + b"a" * SIZE + b'"}',
        "many keys": ("{" + ",".join(f'"k{i}": {i}' for i in range(SIZE // 12)) + "}").encode(),
        "html": b"<html><body>" + _repeat("<p>x</p>").encode(),
        "bearer runs": _repeat("Bearer ").encode(),
        "binary": bytes(range(256)) * (SIZE // 256),
    }


def _bounded(call: Callable[[], Any], size: int) -> None:
    """Run ``call``: a result or an ``AuthwireError``/``ValueError`` in bounded time and memory."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        call()
    except (AuthwireError, ValueError):
        pass
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    assert peak < PEAK_PER_BYTE * size + PEAK_FLOOR, f"peak {peak / 2**20:.0f} MiB"


_SPEC = LoginEndpoint("https://vendor.example/login", "me", SECRET, token_path="data.token")._spec


@pytest.mark.parametrize("shape", sorted(_bodies()))
@pytest.mark.parametrize(
    "target",
    ["token", "token-error", "device", "discovery", "login", "cache", "snippet"],
)
def test_huge_body(target: str, shape: str) -> None:
    """Every body parser, on every hostile shape."""
    body = _bodies()[shape]
    status = 400 if target == "token-error" else 200
    response = HttpResponse(status, Headers({"Content-Type": "application/json"}), body)
    calls: dict[str, Callable[[], Any]] = {
        "token": lambda: parse_token_response(
            response, received_at=NOW, url=URL, secrets=(SECRET,)
        ),
        "token-error": lambda: parse_token_response(
            response, received_at=NOW, url=URL, secrets=(SECRET,)
        ),
        "device": lambda: parse_device_authorization_response(
            response, received_at=NOW, url=URL, secrets=(SECRET,)
        ),
        "discovery": lambda: parse_discovery_response(response, "https://idp.example"),
        "login": lambda: parse_login_response(response, _SPEC, received_at=NOW),
        "cache": lambda: decode_token(body),
        "snippet": lambda: snippet(body, (SECRET,)),
    }
    _bounded(calls[target], len(body))


@pytest.mark.parametrize(
    "value",
    [
        _repeat('realm="a", '),
        _repeat("Digest "),
        "Digest realm=" + '"' + _repeat("\\a"),
        _repeat("a, "),
        "Negotiate " + _repeat("A") + "==",
        _repeat('x="'),
    ],
    ids=["params", "schemes", "escapes", "commas", "token68", "open quotes"],
)
def test_huge_www_authenticate(value: str) -> None:
    """A 256 KiB WWW-Authenticate field is parsed in linear time.

    Four times what ``http.client`` accepts in one header line (64 KiB); each challenge
    becomes an object, so a field of a million tiny challenges costs about a second.
    """
    _bounded(lambda: parse_challenges([value]), len(value))


@pytest.mark.parametrize(
    "token",
    [
        "a." + _repeat("A") + ".c",
        "a." + base64.urlsafe_b64encode(json.dumps([0] * (SIZE // 2)).encode()).decode() + ".c",
        "x." + base64.urlsafe_b64encode(b"[" * SIZE).decode() + ".y",
        _repeat("."),
    ],
    ids=["long payload", "list payload", "deep payload", "dots"],
)
def test_huge_jwt(token: str) -> None:
    """JWT claims decoding and ID-token verification stay bounded on huge tokens."""
    _bounded(lambda: decode_jwt_claims(token), len(token))
    _bounded(
        lambda: verify_id_token(token, {"keys": []}, issuer="i", client_id="c", now=NOW),
        len(token),
    )


@pytest.mark.parametrize(
    "value",
    ["1" * SIZE, "9" * 400, _repeat("Mon, 01 Jan "), " " * SIZE + "5"],
    ids=["digits", "400 digits", "date runs", "spaces"],
)
def test_huge_retry_after(value: str) -> None:
    """A huge Retry-After is a wait or nothing, quickly."""
    _bounded(lambda: parse_retry_after(value, NOW), len(value))
