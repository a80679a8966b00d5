"""``TokenLifecycle``: single flight, fallback, back-off and compare-and-invalidate, by hand."""

from __future__ import annotations

from authwire import RefreshPolicy, Token
from authwire._core.lifecycle import (
    ADVISORY_RETRY_BASE,
    ADVISORY_RETRY_CAP,
    Action,
    TokenLifecycle,
)
from authwire.testing import FakeClock, make_token


def lifecycle() -> TokenLifecycle:
    return TokenLifecycle(RefreshPolicy(jitter=0))


def test_first_caller_refreshes_others_wait() -> None:
    """With no token, the first caller refreshes and every later caller waits for it."""
    life, clock = lifecycle(), FakeClock()
    first = life.decide(clock())
    assert first.action is Action.REFRESH
    assert first.reason == "absent"
    life.begin()
    for _ in range(5):
        assert life.decide(clock()).action is Action.WAIT
    token = make_token(expires_in=3600, clock=clock)
    life.succeed(token)
    after = life.decide(clock())
    assert after.action is Action.USE
    assert after.token is token


def test_fresh_token_is_used_without_refresh() -> None:
    """A FRESH token is handed out as is."""
    life, clock = lifecycle(), FakeClock()
    token = make_token(expires_in=3600, clock=clock)
    life.succeed(token)
    clock.advance(3600 - 301)
    assert life.decide(clock()).action is Action.USE


def test_advisory_first_caller_refreshes_with_fallback_others_use() -> None:
    """In the advisory window the first caller refreshes (with a fallback); others use the token."""
    life, clock = lifecycle(), FakeClock()
    token = make_token(expires_in=3600, clock=clock)
    life.succeed(token)
    clock.advance(3600 - 200)
    decision = life.decide(clock())
    assert decision.action is Action.REFRESH
    assert decision.reason == "advisory"
    assert decision.fallback is token
    life.begin()
    other = life.decide(clock())
    assert other.action is Action.USE
    assert other.token is token


def test_advisory_failure_falls_back_and_backs_off() -> None:
    """A failed advisory refresh returns the valid token and defers the next try by a back-off."""
    life, clock = lifecycle(), FakeClock()
    token = make_token(expires_in=3600, clock=clock)
    life.succeed(token)
    clock.advance(3600 - 200)
    decision = life.decide(clock())
    life.begin()
    assert life.fail(clock(), decision.fallback) is token
    assert not life.refreshing
    # Within the back-off: use the token, no new refresh.
    clock.advance(ADVISORY_RETRY_BASE - 0.1)
    assert life.decide(clock()).action is Action.USE
    clock.advance(0.1)
    assert life.decide(clock()).action is Action.REFRESH
    # Second failure: the back-off doubles.
    life.begin()
    life.fail(clock(), token)
    assert life.advisory_retry_at == clock() + 2 * ADVISORY_RETRY_BASE


def test_backoff_is_capped() -> None:
    """Back-off doubles on each failure up to its cap."""
    life, clock = lifecycle(), FakeClock()
    token = make_token(expires_in=3600, clock=clock)
    life.succeed(token)
    clock.advance(3600 - 299)
    for _ in range(10):
        life.begin()
        life.fail(clock(), token)
    assert life.advisory_retry_at - clock() == ADVISORY_RETRY_CAP


def test_backoff_never_passes_the_mandatory_window() -> None:
    """A back-off is cut short where the mandatory window starts."""
    life, clock = lifecycle(), FakeClock()
    token = make_token(expires_in=3600, clock=clock)
    life.succeed(token)
    clock.advance(3600 - 31)  # one second before the mandatory window
    life.begin()
    life.fail(clock(), token)
    assert token.expires_at is not None
    assert life.advisory_retry_at == token.expires_at - 30


def test_mandatory_failure_gives_no_fallback() -> None:
    """Inside the mandatory window a failed refresh leaves nothing to use."""
    life, clock = lifecycle(), FakeClock()
    token = make_token(expires_in=3600, clock=clock)
    life.succeed(token)
    clock.advance(3600 - 10)
    decision = life.decide(clock())
    assert decision.action is Action.REFRESH
    assert decision.reason == "mandatory"
    assert decision.fallback is None
    life.begin()
    assert life.fail(clock(), decision.fallback) is None
    assert life.fail(clock(), token) is None  # even if offered, it is too late


def test_expired_token_must_be_replaced_and_others_wait() -> None:
    """An expired token: the first caller refreshes, the others wait rather than use it."""
    life, clock = lifecycle(), FakeClock()
    life.succeed(make_token(expires_in=60, clock=clock))
    clock.advance(61)
    first = life.decide(clock())
    assert first.action is Action.REFRESH
    assert first.reason == "expired"
    life.begin()
    assert life.decide(clock()).action is Action.WAIT


def test_abandoned_refresh_lets_the_next_caller_lead() -> None:
    """If the refresher is cancelled, the next caller refreshes instead of waiting forever."""
    life, clock = lifecycle(), FakeClock()
    life.decide(clock())
    life.begin()
    life.abandon()
    assert life.decide(clock()).action is Action.REFRESH


def test_compare_and_invalidate_drops_only_the_held_token() -> None:
    """Invalidating the held token drops it; invalidating a replaced one changes nothing."""
    life, clock = lifecycle(), FakeClock()
    old = make_token(expires_in=3600, clock=clock, access_token="old")
    life.succeed(old)
    assert life.invalidate(old) is True
    decision = life.decide(clock())
    assert decision.action is Action.REFRESH
    assert decision.reason == "invalidated"
    life.begin()
    new = make_token(expires_in=3600, clock=clock, access_token="new")
    life.succeed(new)
    generation = life.generation
    # A second caller that also saw the old token get a 401 reports it late.
    assert life.invalidate(old) is False
    assert life.token is new
    assert life.generation == generation
    assert life.decide(clock()).action is Action.USE


def test_many_late_invalidations_cause_one_refresh() -> None:
    """Ten callers reporting the same rejected token cause exactly one refresh."""
    life, clock = lifecycle(), FakeClock()
    old = make_token(expires_in=3600, clock=clock, access_token="old")
    life.succeed(old)
    dropped = [life.invalidate(old) for _ in range(10)]
    assert dropped.count(True) == 1
    refreshes = 0
    for _ in range(10):
        decision = life.decide(clock())
        if decision.action is Action.REFRESH:
            refreshes += 1
            life.begin()
    assert refreshes == 1


def test_rejected_tokens_are_remembered() -> None:
    """A rejected token is recognised later (a cache must not hand it back)."""
    life = lifecycle()
    token = Token("rejected-one")
    life.invalidate(token)
    assert life.is_rejected(token)
    assert not life.is_rejected(Token("another"))


def test_fallback_from_cache_is_adopted() -> None:
    """A still-valid token offered from a cache becomes the held token when refresh fails."""
    life, clock = lifecycle(), FakeClock()
    cached = make_token(expires_in=3600, clock=clock)
    life.decide(clock())
    life.begin()
    assert life.fail(clock(), cached) is cached
    assert life.token is cached
    assert life.decide(clock()).action is Action.USE
