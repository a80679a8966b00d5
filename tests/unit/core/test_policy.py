"""``RefreshPolicy``: advisory and mandatory windows, shrinking, jitter and ``leeway=``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import tokens

from authwire import ClientCredentials, RefreshPolicy, Token
from authwire._core.policy import Freshness
from authwire.errors import ConfigurationError

NOW = 1_700_000_000.0
_RANK = {Freshness.FRESH: 0, Freshness.ADVISORY: 1, Freshness.MANDATORY: 2}


def token_for(lifetime: float) -> Token:
    return Token("abc", issued_at=NOW, expires_at=NOW + lifetime)


def test_long_token_uses_the_default_windows() -> None:
    """A one-hour token: advisory from 300 s before expiry, mandatory from 30 s."""
    schedule = RefreshPolicy(jitter=0).schedule(token_for(3600))
    assert schedule.refresh_at == NOW + 3600 - 300
    assert schedule.must_refresh_at == NOW + 3600 - 30


@pytest.mark.parametrize(
    ("lifetime", "advisory", "mandatory"),
    [(60, 30, 6), (3, 1.5, 0.3), (100, 50, 10), (600, 300, 30), (601, 300, 30), (400, 200, 30)],
)
def test_windows_shrink_for_short_tokens(
    lifetime: float, advisory: float, mandatory: float
) -> None:
    """advisory = min(300, lifetime/2) and mandatory = min(30, lifetime/10)."""
    schedule = RefreshPolicy(jitter=0).schedule(token_for(lifetime))
    expires_at = NOW + lifetime
    assert schedule.refresh_at == pytest.approx(expires_at - advisory)
    assert schedule.must_refresh_at == pytest.approx(expires_at - mandatory)


def test_sixty_second_token_is_not_refreshed_on_every_call() -> None:
    """A 60 s token stays FRESH for its first half."""
    policy, token = RefreshPolicy(), token_for(60)
    assert policy.decide(token, NOW) is Freshness.FRESH
    assert policy.decide(token, NOW + 26.9, u=0.999) is Freshness.FRESH
    assert policy.decide(token, NOW + 30, u=0) is Freshness.ADVISORY
    assert policy.decide(token, NOW + 54) is Freshness.MANDATORY


def test_decide_around_the_edges() -> None:
    """Each window starts exactly at its boundary; expired and absent are MANDATORY."""
    policy, token = RefreshPolicy(jitter=0), token_for(3600)
    expires = NOW + 3600
    assert policy.decide(token, expires - 300.001) is Freshness.FRESH
    assert policy.decide(token, expires - 300) is Freshness.ADVISORY
    assert policy.decide(token, expires - 30.001) is Freshness.ADVISORY
    assert policy.decide(token, expires - 30) is Freshness.MANDATORY
    assert policy.decide(token, expires + 10) is Freshness.MANDATORY
    assert policy.decide(None, NOW) is Freshness.MANDATORY


def test_token_without_expiry_is_always_fresh() -> None:
    """Without ``expires_at`` a token is refreshed only when a server rejects it."""
    assert RefreshPolicy().decide(Token("abc"), 1e15) is Freshness.FRESH


def test_token_without_issued_at_keeps_full_windows() -> None:
    """Without a known lifetime, the configured windows apply as they are."""
    schedule = RefreshPolicy(jitter=0).schedule(Token("abc", expires_at=NOW + 100))
    assert schedule.refresh_at == NOW + 100 - 300
    assert schedule.must_refresh_at == NOW + 100 - 30


@given(u=st.floats(min_value=0, max_value=1), lifetime=st.floats(min_value=1, max_value=86_400))
def test_jitter_moves_refresh_earlier_by_at_most_its_share(u: float, lifetime: float) -> None:
    """Jitter moves the advisory start earlier by at most 10% of the window, never later."""
    token = token_for(lifetime)
    plain = RefreshPolicy(jitter=0).schedule(token)
    jittered = RefreshPolicy().schedule(token, u)
    window = plain.must_refresh_at - plain.refresh_at + (NOW + lifetime - plain.must_refresh_at)
    assert plain.refresh_at - 0.1 * window - 1e-6 <= jittered.refresh_at <= plain.refresh_at
    assert jittered.must_refresh_at == plain.must_refresh_at


def test_jitter_outside_unit_interval_is_clamped() -> None:
    """A ``u`` outside [0, 1] is clamped, so the schedule stays within its bounds."""
    policy, token = RefreshPolicy(), token_for(3600)
    assert policy.schedule(token, 5.0) == policy.schedule(token, 1.0)
    assert policy.schedule(token, -1.0) == policy.schedule(token, 0.0)


@pytest.mark.parametrize(
    "kwargs", [{"advisory": -1}, {"mandatory": -0.5}, {"jitter": 1.5}, {"jitter": -0.1}]
)
def test_bad_policies_are_refused(kwargs: dict[str, float]) -> None:
    """Negative windows and a jitter outside [0, 1] raise ValueError."""
    with pytest.raises(ValueError, match="must be"):
        RefreshPolicy(**kwargs)


def test_zero_advisory_refreshes_only_in_the_mandatory_window() -> None:
    """advisory=0: the token is used until the mandatory window, with no advisory phase."""
    policy, token = RefreshPolicy(advisory=0, jitter=0), token_for(3600)
    assert policy.decide(token, NOW + 3600 - 31) is Freshness.FRESH
    assert policy.decide(token, NOW + 3600 - 30) is Freshness.MANDATORY


def _credential(leeway: float | None = None) -> ClientCredentials:
    return ClientCredentials(
        "https://login.example.com/token", client_id="c", client_secret="s", leeway=leeway
    )


def test_leeway_sets_the_advisory_window() -> None:
    """``leeway=`` on a credential is its advisory window; the mandatory default stays."""
    assert _credential(leeway=120).manager.policy.advisory == 120
    assert _credential(leeway=120).manager.policy.mandatory == 30
    assert _credential().manager.policy.advisory == 300


def test_small_leeway_caps_the_mandatory_window() -> None:
    """A leeway below 30 s also shrinks the mandatory window (it cannot start earlier)."""
    policy = _credential(leeway=10).manager.policy
    assert (policy.advisory, policy.mandatory) == (10, 10)


def test_negative_leeway_is_a_configuration_error() -> None:
    """``leeway=-1`` is refused at construction with ConfigurationError."""
    with pytest.raises(ConfigurationError):
        _credential(leeway=-1)


@given(
    token=tokens,
    u=st.floats(min_value=0, max_value=1),
    advisory=st.floats(min_value=0, max_value=1000),
    mandatory=st.floats(min_value=0, max_value=1000),
    times=st.lists(st.floats(min_value=-1e5, max_value=2e5), min_size=2, max_size=10),
)
def test_decisions_are_monotonic_in_time(
    token: Token, u: float, advisory: float, mandatory: float, times: list[float]
) -> None:
    """As time moves forward a token never goes back (e.g. MANDATORY -> FRESH)."""
    policy = RefreshPolicy(advisory=advisory, mandatory=mandatory)
    start = token.issued_at or NOW
    ranks = [_RANK[policy.decide(token, start + t, u)] for t in sorted(times)]
    assert ranks == sorted(ranks)


@given(token=tokens, u=st.floats(min_value=0, max_value=1))
def test_expired_tokens_are_always_mandatory(token: Token, u: float) -> None:
    """At or after expiry, whatever the policy, the decision is MANDATORY."""
    if token.expires_at is None:
        return
    for policy in (RefreshPolicy(), RefreshPolicy(advisory=0, mandatory=0, jitter=0)):
        assert policy.decide(token, token.expires_at, u) is Freshness.MANDATORY
