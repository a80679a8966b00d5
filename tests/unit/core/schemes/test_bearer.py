"""``BearerAuth``: token in a header; on a 401 invalidate, refresh and replay once, never loop."""

from __future__ import annotations

from typing import Any

import pytest

from authwire import BearerAuth, InvalidTokenResponse, StaticToken, Token
from authwire._core.flow import Attempt, SyncStepper
from authwire._core.http import HttpResponse
from authwire._core.schemes.base import RequestInfo

URL = "https://api.example.com/v1/things"
UNAUTHORIZED = HttpResponse(401)
OK = HttpResponse(200)


class RotatingSource:
    """A token source that issues a new token after each invalidation (compare-and-invalidate)."""

    def __init__(self, *, rotate: bool = True) -> None:
        self.rotate = rotate
        self.issued = 0
        self.current = self._new()
        self.invalidated: list[str] = []
        self.fetches = 0

    def _new(self) -> Token:
        self.issued += 1
        return Token(f"token-{self.issued}")

    def get_token(self) -> Token:
        self.fetches += 1
        return self.current

    async def aget_token(self) -> Token:
        return self.get_token()

    def invalidate(self, token: Token) -> bool:
        self.invalidated.append(token.access_token)
        if token.access_token != self.current.access_token:
            return False
        if self.rotate:
            self.current = self._new()
        return True

    async def ainvalidate(self, token: Token) -> bool:
        return self.invalidate(token)

    def peek(self, now: float) -> Token | None:
        return self.current


def run(
    auth: BearerAuth, first: Attempt | None = None, can_replay: bool = True
) -> SyncStepper[Attempt]:
    stepper: SyncStepper[Attempt] = SyncStepper(
        auth.auth_flow(RequestInfo("GET", URL, can_replay), first)
    )
    return stepper


def header(attempt: Any) -> str:
    assert isinstance(attempt, Attempt)
    return attempt.headers["Authorization"]


def test_token_is_sent_as_bearer() -> None:
    """The first attempt carries ``Authorization: Bearer <token>``; a 200 ends the flow."""
    stepper = run(BearerAuth(RotatingSource()))
    assert header(stepper.start()) == "Bearer token-1"
    assert stepper.send(OK) is None


def test_401_invalidates_the_sent_token_and_replays_once() -> None:
    """A 401 invalidates exactly the token sent, and the request is replayed with a new one."""
    source = RotatingSource()
    stepper = run(BearerAuth(source))
    stepper.start()
    replay = stepper.send(UNAUTHORIZED)
    assert header(replay) == "Bearer token-2"
    assert source.invalidated == ["token-1"]
    assert stepper.send(OK) is None


def test_second_401_is_returned_never_a_loop() -> None:
    """After one replay, another 401 ends the flow: the caller gets that 401."""
    source = RotatingSource()
    stepper = run(BearerAuth(source))
    stepper.start()
    stepper.send(UNAUTHORIZED)
    assert stepper.send(UNAUTHORIZED) is None
    assert source.invalidated == ["token-1"]
    assert source.issued == 2


def test_same_token_again_is_not_replayed() -> None:
    """A source that hands back the same token after invalidation gets no replay."""
    source = RotatingSource(rotate=False)
    stepper = run(BearerAuth(source))
    stepper.start()
    assert stepper.send(UNAUTHORIZED) is None


def test_static_token_401_stands() -> None:
    """StaticToken has nothing new to offer: the 401 goes back after one send."""
    stepper = run(BearerAuth(StaticToken("fixed-token")))
    assert header(stepper.start()) == "Bearer fixed-token"
    assert stepper.send(UNAUTHORIZED) is None


def test_unreplayable_request_is_not_replayed_or_invalidated() -> None:
    """A body that cannot be rewound: the 401 is returned and nothing is invalidated."""
    source = RotatingSource()
    stepper = run(BearerAuth(source), can_replay=False)
    stepper.start()
    assert stepper.send(UNAUTHORIZED) is None
    assert source.invalidated == []


@pytest.mark.parametrize("status", [200, 403, 404, 500])
def test_other_statuses_are_not_answered(status: int) -> None:
    """Only a 401 triggers a refresh."""
    source = RotatingSource()
    stepper = run(BearerAuth(source))
    stepper.start()
    assert stepper.send(HttpResponse(status)) is None
    assert source.invalidated == []


def test_fast_attempt_is_yielded_first_unchanged() -> None:
    """A fast attempt already sent is the flow's first yield; a 401 on it still refreshes."""
    source = RotatingSource()
    auth = BearerAuth(source)
    fast = auth.fast_attempt(0.0)
    assert fast is not None
    stepper = run(auth, first=fast)
    assert stepper.start() is fast
    assert header(stepper.send(UNAUTHORIZED)) == "Bearer token-2"
    assert source.fetches == 1  # only the refresh: the fast path needed no get_token


def test_fast_attempt_is_reused_for_the_same_token() -> None:
    """The same token gives the same Attempt object (no rebuild on the hot path)."""
    source = RotatingSource()
    auth = BearerAuth(source)
    assert auth.fast_attempt(0.0) is auth.fast_attempt(0.0)
    source.invalidate(source.current)
    assert header(auth.fast_attempt(0.0)) == "Bearer token-2"


def test_custom_header_and_prefix() -> None:
    """header= and prefix= place the token elsewhere; an explicit prefix is sent as given."""
    raw = BearerAuth(StaticToken("t1"), header="X-Auth-Token", prefix="")
    assert dict(raw.attempt_for(Token("t1")).headers) == {"X-Auth-Token": "t1"}
    assert raw.header_names == frozenset({"x-auth-token"})
    okta = BearerAuth(StaticToken("t2"), prefix="SSWS")
    assert dict(okta.attempt_for(Token("t2", token_type="MAC")).headers) == {
        "Authorization": "SSWS t2"
    }


@pytest.mark.parametrize("token_type", ["DPoP", "dpop", "MAC", "N_A", "pop", "Basic"])
def test_a_token_of_another_type_is_not_sent_as_bearer(token_type: str) -> None:
    """RFC 6749 section 7.1: a MAC, N_A or unbound DPoP token is refused, never sent as Bearer."""
    scheme = BearerAuth(StaticToken("t3"))
    with pytest.raises(InvalidTokenResponse, match="token_type") as info:
        scheme.attempt_for(Token("t3-secret", token_type=token_type))
    assert "t3-secret" not in str(info.value)
    if token_type.lower() == "dpop":
        assert "dpop=True" in str(info.value)


@pytest.mark.parametrize("given", ["Bearer", "bearer", "BEARER"])
def test_bearer_is_case_insensitive(given: str) -> None:
    """``bearer`` in any case is sent as ``Bearer``."""
    scheme = BearerAuth(StaticToken("t4"))
    assert scheme.attempt_for(Token("t4", token_type=given)).headers == {
        "Authorization": "Bearer t4"
    }


@pytest.mark.parametrize(
    ("token_type", "sent"),
    [("Bearer", "Bearer t5"), ("SSWS", "SSWS t5"), ("DPoP", "DPoP t5"), ("token", "token t5")],
)
def test_static_token_type_is_sent_as_the_user_gave_it(token_type: str, sent: str) -> None:
    """StaticToken(token_type=...) is the user's word: sent as ``<type> <token>``."""
    cred = StaticToken("t5", token_type=token_type)
    scheme = cred.as_scheme()
    assert isinstance(scheme, BearerAuth)
    assert scheme.attempt_for(cred.get_token()).headers == {"Authorization": sent}


def test_repr_hides_the_token() -> None:
    """The scheme's repr shows the source's redacted repr, not the token."""
    assert "secret-token-123" not in repr(BearerAuth(StaticToken("secret-token-123")))
