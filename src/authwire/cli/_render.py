"""What the CLI shows: rich for people, JSON for scripts. Strictly private.

Colour follows rich: off when the stream is not a terminal, and off with ``NO_COLOR``.
Nothing here is given a secret to show; ``authwire token`` writes its token itself.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from authwire._core.oauth2.device import DeviceAuthorization

__all__ = [
    "DeviceScreen",
    "console",
    "open_browser",
    "print_json",
    "print_pairs",
    "print_table",
    "qr_lines",
]


def console(*, stderr: bool = False) -> Console:
    """A rich console on standard output (or error); colour only on a terminal."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """One JSON document on standard output (one line, for scripts)."""
    sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
    sys.stdout.flush()


def print_pairs(pairs: Iterable[tuple[str, str]]) -> None:
    """``name: value`` lines, names in bold on a terminal."""
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for name, value in pairs:
        table.add_row(name, value)
    console().print(table)


def print_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A table with a header row."""
    from rich.table import Table

    table = Table(*headers, box=None, pad_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*row)
    console().print(table)


def qr_lines(data: str) -> list[str]:
    """A QR code of ``data`` as text, two modules per character (half blocks).

    Light modules are drawn (a terminal's background is usually dark), with a quiet zone.
    """
    import qrcode  # type: ignore[import-untyped, unused-ignore]

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(data)
    code.make(fit=True)
    dark: list[list[bool]] = [list(row) for row in code.get_matrix()]
    if len(dark) % 2:
        dark.append([False] * len(dark[0]))
    glyph = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
    return [
        "".join(glyph[(top, bottom)] for top, bottom in zip(dark[y], dark[y + 1], strict=True))
        for y in range(0, len(dark), 2)
    ]


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class _Countdown:
    """A line that says how long the code stays valid, re-read at every refresh."""

    def __init__(self, expires_at: float) -> None:
        self.expires_at = expires_at

    def __rich__(self) -> str:
        left = _clock(self.expires_at - time.time())
        return f"[dim]Waiting for you to approve... the code expires in[/] [bold]{left}[/]"


class DeviceScreen:
    """The device login screen: where to go, the code, a QR code and a live countdown.

    ``prompt`` is given to ``DeviceCode``; ``close()`` ends the countdown. With
    ``as_json``, the prompt is one JSON line on standard output instead (for scripts).

    Args:
        as_json: Write JSON lines instead of the screen.
        show_qr: Draw the QR code of the complete verification URI, when there is one.
    """

    def __init__(self, *, as_json: bool = False, show_qr: bool = True) -> None:
        self._json = as_json
        self._qr = show_qr
        self._live: Live | None = None

    def prompt(self, auth: DeviceAuthorization) -> None:
        """Show the user what to do (called once by the device flow)."""
        if self._json:
            print_json(
                {
                    "event": "device_authorization",
                    "verification_uri": auth.verification_uri,
                    "verification_uri_complete": auth.verification_uri_complete,
                    "user_code": auth.user_code,
                    "expires_in": max(0, int(auth.expires_at - time.time())),
                }
            )
            return
        from rich.markup import escape

        out = console(stderr=True)
        out.print(f"To sign in, open [bold underline]{escape(auth.verification_uri)}[/]")
        out.print(f"and enter the code:  [bold reverse] {escape(auth.user_code)} [/]")
        if auth.verification_uri_complete:
            out.print(f"or open {escape(auth.verification_uri_complete)}")
            if self._qr:
                out.print("or scan:")
                for line in qr_lines(auth.verification_uri_complete):
                    out.print(line, markup=False, crop=False, overflow="ignore")
        countdown = _Countdown(auth.expires_at)
        if out.is_terminal:
            from rich.live import Live

            self._live = Live(countdown, console=out, refresh_per_second=2, transient=True)
            self._live.start()
        else:
            left = _clock(auth.expires_at - time.time())
            out.print(f"Waiting for approval (the code expires in {left})")

    def close(self) -> None:
        """Stop the countdown."""
        if self._live is not None:
            self._live.stop()
            self._live = None


def open_browser(url: str, *, as_json: bool = False) -> None:
    """Show the login URL, and open it in the system browser without waiting for it.

    Console browsers (``BROWSER=lynx``, ``w3m``) run until the user quits them; opening on
    a thread lets the login's listener serve the redirect meanwhile. The URL is shown too,
    for a machine without a browser (over SSH).
    """
    import threading
    import webbrowser

    if as_json:
        print_json({"event": "authorization_url", "url": url})
    else:
        from rich.markup import escape

        console(stderr=True).print(
            f"Opening your browser to log in. If it does not open, visit:\n{escape(url)}"
        )
    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def describe_pairs(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``data`` as ``(name, text)`` pairs, skipping empty values."""
    pairs = []
    for name, value in data.items():
        if value is None or value == "" or value == []:
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        pairs.append((name.replace("_", " "), text))
    return pairs
