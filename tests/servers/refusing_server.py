"""A token endpoint on 127.0.0.1 that refuses every client, for leak tests.

Endpoints:
    POST /device           a device authorization answer carrying ``state.device_code``.
    POST anything else     ``400 invalid_client`` (``invalid_grant`` for a refresh). With
                           ``state.echo``, the description echoes every submitted value
                           HTML-escaped, in JSON that escapes ``/`` as ``\\/`` and non-ASCII
                           as ``\\uXXXX`` (PHP's ``json_encode`` over an HTML template):
                           the spellings a careless server sends a secret back in.
"""

from __future__ import annotations

import html
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.servers._base import BackgroundServer, JSONHandler, LoopbackServer


@dataclass
class State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, Any] = field(default_factory=dict)
    #: The device code ``/device`` hands out.
    device_code: str = "dc-unset"
    #: Echo the submitted values, escaped, in the error description.
    echo: bool = False


def _values(body: str) -> list[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return [v for _, v in parse_qsl(body)]
    return [str(v) for v in data.values()] if isinstance(data, dict) else [body]


class Handler(JSONHandler):
    server: LoopbackServer[State]

    def do_POST(self) -> None:
        state = self.server.state
        body = self._body().decode("utf-8", "replace")
        path = urlsplit(self.path).path
        with state.lock:
            state.counts[f"POST {path}"] += 1
        if path == "/device":
            return self._send(
                200,
                {
                    "device_code": state.device_code,
                    "user_code": "ABCD-EFGH",
                    "verification_uri": "https://idp.example/device",
                    "expires_in": 60,
                    "interval": 1,
                },
            )
        grant = dict(parse_qsl(body)).get("grant_type")
        error = "invalid_grant" if grant == "refresh_token" else "invalid_client"
        description = "client authentication failed"
        if state.echo:
            description = "rejected: " + " ".join(html.escape(v) for v in _values(body))
        payload = json.dumps({"error": error, "error_description": description})
        self._send(400, payload.replace("/", "\\/"))


class RefusingServer(BackgroundServer[State]):
    """The refusing endpoint on a free loopback port, in a background thread."""

    def __init__(self) -> None:
        super().__init__(State(), Handler, name="refusing-server")
