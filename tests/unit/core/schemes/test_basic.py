"""``BasicAuth`` (RFC 7617)."""

from __future__ import annotations

import base64

import pytest

from authwire import BasicAuth, ConfigurationError, Secret
from authwire._core.flow import SyncStepper
from authwire._core.http import HttpResponse
from authwire._core.schemes.base import RequestInfo


def decoded(auth: BasicAuth) -> str:
    scheme, _, value = auth.fast_attempt(0).headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(value).decode("utf-8")


def test_rfc_7617_example() -> None:
    """RFC 7617 section 2: Aladdin / open sesame gives QWxhZGRpbjpvcGVuIHNlc2FtZQ==."""
    header = BasicAuth("Aladdin", "open sesame").fast_attempt(0).headers["Authorization"]
    assert header == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_utf8_credentials() -> None:
    """Non-ASCII user names and passwords are UTF-8 encoded (RFC 7617 section 2.1)."""
    assert decoded(BasicAuth("tést", Secret("pässwörd:with:colons"))) == "tést:pässwörd:with:colons"


def test_colon_in_user_name_is_refused() -> None:
    """A user name may not contain a colon."""
    with pytest.raises(ConfigurationError, match="':'"):
        BasicAuth("a:b", "p")


def test_a_401_stands() -> None:
    """Wrong credentials are not retried."""
    stepper: SyncStepper[object] = SyncStepper(
        BasicAuth("u", "p").auth_flow(RequestInfo("GET", "https://a.example/"))
    )
    stepper.start()
    assert stepper.send(HttpResponse(401)) is None


def test_repr_hides_the_password() -> None:
    """The repr shows the user, not the password."""
    text = repr(BasicAuth("alice", "pw-very-secret-9"))
    assert "alice" in text
    assert "pw-very-secret-9" not in text
