"""``a + b``: parts apply in order; a 401 is offered to each part that can answer it."""

from __future__ import annotations

from typing import Any

from authwire import ApiKey, BasicAuth, BearerAuth, DigestAuth, StaticToken, Token
from authwire._core.flow import Attempt, SyncStepper
from authwire._core.http import Headers, HttpResponse
from authwire._core.schemes.base import RequestInfo
from authwire._core.schemes.combined import CombinedAuth

URL = "https://api.example.com/x"


class Rotating:
    """A token source that rotates its token on invalidation."""

    def __init__(self) -> None:
        self.n = 1

    def get_token(self) -> Token:
        return Token(f"tok-{self.n}")

    async def aget_token(self) -> Token:
        return self.get_token()

    def invalidate(self, token: Token) -> bool:
        if token.access_token == f"tok-{self.n}":
            self.n += 1
            return True
        return False

    async def ainvalidate(self, token: Token) -> bool:
        return self.invalidate(token)

    def peek(self, now: float) -> Token | None:
        return self.get_token()


def stepper(auth: Any, first: Attempt | None = None) -> SyncStepper[Attempt]:
    return SyncStepper(auth.auth_flow(RequestInfo("GET", URL), first))


def test_plus_builds_a_flat_combination_in_order() -> None:
    """a + b + c is one CombinedAuth of three parts in that order."""
    a, b, c = ApiKey("k"), BasicAuth("u", "p"), ApiKey("q", query="key")
    combined = a + b + c
    assert isinstance(combined, CombinedAuth)
    assert combined.parts == (a, b, c)
    assert combined.header_names == frozenset({"x-api-key", "authorization"})
    assert combined.param_names == frozenset({"key"})


def test_credential_plus_scheme_uses_the_bearer_scheme() -> None:
    """A credential added to a scheme takes part as its bearer scheme."""
    combined = StaticToken("t") + ApiKey("k")
    assert isinstance(combined, CombinedAuth)
    assert isinstance(combined.parts[0], BearerAuth)


def test_every_part_applies_later_parts_win_on_a_clash() -> None:
    """All parts' headers are merged in order; on the same header the later part wins."""
    combined = ApiKey("k1") + ApiKey("k2", header="X-Other") + BasicAuth("u", "p")
    attempt = stepper(combined).start()
    assert attempt is not None
    assert set(attempt.headers) == {"X-API-Key", "X-Other", "Authorization"}
    clash = ApiKey("first", header="Authorization") + ApiKey("second", header="Authorization")
    fast = clash.fast_attempt(0)
    assert fast is not None
    assert dict(fast.headers) == {"Authorization": "second"}


def test_401_is_offered_to_each_part_and_replayed_with_all_credentials() -> None:
    """The bearer part answers a 401; the replay still carries the API key of the finished part."""
    source = Rotating()
    flow = stepper(ApiKey("k") + BearerAuth(source))
    first = flow.start()
    assert first is not None
    assert first.headers["Authorization"] == "Bearer tok-1"
    replay = flow.send(HttpResponse(401))
    assert replay is not None
    assert dict(replay.headers) == {"X-API-Key": "k", "Authorization": "Bearer tok-2"}
    assert flow.send(HttpResponse(401)) is None  # the bearer part's one replay is spent


def test_digest_part_answers_its_challenge_alongside_an_api_key() -> None:
    """A Digest part answers the server's challenge; the API key goes on both sends."""
    flow = stepper(ApiKey("k") + DigestAuth("u", "p"))
    first = flow.start()
    assert first is not None
    assert dict(first.headers) == {"X-API-Key": "k"}
    challenge = Headers({"WWW-Authenticate": 'Digest realm="r", nonce="n", qop="auth"'})
    answer = flow.send(HttpResponse(401, challenge))
    assert answer is not None
    assert answer.headers["X-API-Key"] == "k"
    assert answer.headers["Authorization"].startswith("Digest ")
    assert flow.send(HttpResponse(200)) is None


def test_no_part_answering_ends_the_flow() -> None:
    """If no part can answer a 401, it is returned after one send."""
    flow = stepper(ApiKey("k") + BasicAuth("u", "p"))
    flow.start()
    assert flow.send(HttpResponse(401)) is None


def test_fast_attempt_needs_every_part() -> None:
    """The fast path needs every part's credentials at hand; its attempt is yielded first as is."""
    combined = ApiKey("k") + BearerAuth(Rotating())
    fast = combined.fast_attempt(0)
    assert fast is not None
    flow = stepper(combined, fast)
    assert flow.start() is fast
    assert (ApiKey("k") + DigestAuth("u", "p")).fast_attempt(0) is None


def test_repr_joins_parts_without_secrets() -> None:
    """The repr is each part's repr joined by +, secret-free."""
    text = repr(ApiKey("key-xyz-123") + BasicAuth("u", "pw-xyz-456"))
    assert " + " in text
    assert "key-xyz-123" not in text
    assert "pw-xyz-456" not in text
