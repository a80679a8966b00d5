"""What the CLI draws: the QR code, the device prompt, and exit codes for errors."""

from __future__ import annotations

import json
import time

import pytest
import qrcode  # type: ignore[import-untyped, unused-ignore]

from authwire._core.oauth2.device import DeviceAuthorization
from authwire.cli._exit import ExitCode, exit_code_for
from authwire.cli._render import DeviceScreen, _Countdown, qr_lines
from authwire.errors import (
    AuthwireError,
    CacheError,
    ConfigurationError,
    CredentialUnavailable,
    InsecureTransportError,
    InteractionRequired,
    InvalidTokenResponse,
    TokenEndpointUnreachable,
    TokenRequestError,
)

URI = "https://login.example.com/device?user_code=WDJB-MJHT"


def decode(lines: list[str]) -> list[list[bool]]:
    """The dark modules the half blocks stand for (two rows per line)."""
    top = {"█": False, "▀": False, "▄": True, " ": True}
    bottom = {"█": False, "▀": True, "▄": False, " ": True}
    rows: list[list[bool]] = []
    for line in lines:
        rows.append([top[c] for c in line])
        rows.append([bottom[c] for c in line])
    return rows


def test_qr_lines_draw_the_qr_matrix() -> None:
    """Every module of qrcode's matrix is drawn, in place, with its quiet zone."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(URI)
    code.make(fit=True)
    matrix = [list(row) for row in code.get_matrix()]
    lines = qr_lines(URI)
    assert len({len(line) for line in lines}) == 1
    drawn = decode(lines)
    assert drawn[: len(matrix)] == matrix
    assert all(not dark for row in drawn[len(matrix) :] for dark in row)  # padding row
    assert all(c == "█" for c in lines[0])  # the quiet zone is light


def auth(seconds: float = 300) -> DeviceAuthorization:
    """A device authorization expiring in ``seconds``."""
    return DeviceAuthorization(
        verification_uri="https://login.example.com/device",
        user_code="WDJB-MJHT",
        verification_uri_complete=URI,
        expires_at=time.time() + seconds,
        interval=5,
        device_code="device-code-secret-81d9a7",
    )


def test_json_prompt_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """With --json the prompt is one JSON line with the URIs and code, not the device code."""
    DeviceScreen(as_json=True).prompt(auth(120))
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    event = json.loads(out)
    assert event["user_code"] == "WDJB-MJHT"
    assert event["verification_uri_complete"] == URI
    assert 118 <= event["expires_in"] <= 120
    assert "device-code-secret" not in out


def test_plain_prompt_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Off a terminal: URL, code and QR once, a static expiry line, no escape codes."""
    screen = DeviceScreen()
    screen.prompt(auth(61))
    screen.close()
    err = capsys.readouterr().err
    assert "open https://login.example.com/device" in err
    assert "WDJB-MJHT" in err
    assert "▀" in err or "▄" in err
    assert "expires in 1:0" in err
    assert "\x1b[" not in err
    assert "device-code-secret" not in err
    no_qr = DeviceScreen(show_qr=False)
    no_qr.prompt(auth())
    assert "▀" not in capsys.readouterr().err


def test_countdown_text() -> None:
    """The countdown shows minutes and seconds left, and 0:00 once expired."""
    assert "4:59" in _Countdown(time.time() + 299.5).__rich__()
    assert "0:00" in _Countdown(time.time() - 10).__rich__()


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigurationError("x"), ExitCode.CONFIG),
        (InsecureTransportError("x"), ExitCode.CONFIG),
        (CredentialUnavailable("x"), ExitCode.LOGIN_REQUIRED),
        (InteractionRequired("x"), ExitCode.LOGIN_REQUIRED),
        (TokenRequestError(url="https://t/", status=400), ExitCode.TOKEN_ENDPOINT),
        (InvalidTokenResponse(reason="not JSON"), ExitCode.TOKEN_ENDPOINT),
        (TokenEndpointUnreachable(url="https://t/", reason="refused"), ExitCode.UNREACHABLE),
        (CacheError("x"), ExitCode.ERROR),
        (AuthwireError("x"), ExitCode.ERROR),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (RuntimeError("x"), ExitCode.ERROR),
    ],
)
def test_exit_code_for(error: BaseException, code: ExitCode) -> None:
    """Each kind of error maps to its documented exit code."""
    assert exit_code_for(error) is code
