"""Parsing ``WWW-Authenticate`` (RFC 9110 section 11.6.1)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from tests.strategies import challenge_headers

from authwire._core.schemes.challenge import Challenge, find_challenge, parse_challenges


def test_single_challenge_with_quoted_and_token_params() -> None:
    """Quoted strings are unquoted, names lower-cased, token values kept."""
    (c,) = parse_challenges(['Digest Realm="a, b", nonce="x\\"y", algorithm=SHA-256'])
    assert c.scheme == "Digest"
    assert c.params == {"realm": "a, b", "nonce": 'x"y', "algorithm": "SHA-256"}


def test_several_challenges_in_one_field() -> None:
    """Commas between challenges and between parameters are told apart by the grammar."""
    value = 'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'
    challenges = parse_challenges([value])
    assert [c.scheme for c in challenges] == ["Newauth", "Basic"]
    assert challenges[0].params == {"realm": "apps", "type": "1", "title": 'Login to "apps"'}
    assert challenges[1].params == {"realm": "simple"}


def test_challenges_across_fields_and_token68() -> None:
    """Repeated fields are read in order; Negotiate's token68 is kept as such."""
    challenges = parse_challenges(
        ["Negotiate abc+/==", 'Bearer realm="api", error="invalid_token"', "NTLM"]
    )
    assert [c.scheme for c in challenges] == ["Negotiate", "Bearer", "NTLM"]
    assert challenges[0].token68 == "abc+/=="
    assert challenges[1].params["error"] == "invalid_token"
    assert challenges[2] == Challenge("NTLM")


def test_find_challenge_is_case_insensitive() -> None:
    """find_challenge matches the scheme name in any case."""
    found = find_challenge(['basic realm="x"', 'DIGEST realm="y", nonce="n"'], "Digest")
    assert found is not None
    assert found.params["realm"] == "y"
    assert find_challenge(['Basic realm="x"'], "Negotiate") is None


@pytest.mark.parametrize(
    "value", ["", "   ", ",", ", ,", '"', "=", "Digest =", 'Digest realm="unterminated']
)
def test_junk_never_crashes(value: str) -> None:
    """Malformed values give a list (maybe empty), never an exception."""
    assert isinstance(parse_challenges([value]), list)


@settings(max_examples=300)
@given(challenge_headers)
def test_any_header_value_parses_without_crashing(value: str) -> None:
    """Any text parses to a list of Challenges with string params."""
    for c in parse_challenges([value]):
        assert isinstance(c, Challenge)
        assert c.scheme
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in c.params.items())


def test_a_field_of_a_million_challenges_is_read_up_to_the_limit() -> None:
    """A hostile field ("a, a, a, ...") yields MAX_CHALLENGES challenges, across fields too."""
    from authwire._core.schemes.challenge import MAX_CHALLENGES

    hostile = "a, " * 1_000_000
    assert len(parse_challenges([hostile])) == MAX_CHALLENGES
    assert len(parse_challenges(["Basic realm=x", hostile, "Digest realm=r"])) == MAX_CHALLENGES
    assert parse_challenges(["Basic realm=x", hostile])[0].matches("Basic")
