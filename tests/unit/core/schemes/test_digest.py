"""``DigestAuth`` (RFC 7616): the RFC's vectors, nonce counting, stale nonces, bounded replays."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from tests.strategies import challenge_headers

from authwire import DigestAuth
from authwire._core.flow import Attempt, SyncStepper
from authwire._core.http import Headers, HttpResponse
from authwire._core.schemes.base import RequestInfo
from authwire._core.schemes.challenge import parse_challenges
from authwire._core.schemes.digest import DigestChallenge, digest_response

# RFC 7616 section 3.9.1.
RFC = {
    "username": "Mufasa",
    "password": "Circle of Life",
    "realm": "http-auth@example.org",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    "uri": "/dir/index.html",
}
URL = "https://example.org/dir/index.html"


def params(header: str) -> dict[str, str]:
    """The parameters of an ``Authorization: Digest`` value."""
    (challenge,) = parse_challenges([header])
    assert challenge.matches("Digest")
    return challenge.params


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc_7616_section_3_9_1_vectors(algorithm: str, expected: str) -> None:
    """The response values printed in RFC 7616 section 3.9.1 for MD5 and SHA-256."""
    challenge = DigestChallenge(
        realm=RFC["realm"],
        nonce=RFC["nonce"],
        algorithm=algorithm,
        qop="auth",
        opaque=RFC["opaque"],
    )
    header = digest_response(
        challenge,
        username=RFC["username"],
        password=RFC["password"],
        method="GET",
        uri=RFC["uri"],
        nc=1,
        cnonce=RFC["cnonce"],
    )
    got = params(header)
    assert got["response"] == expected
    assert got["username"] == "Mufasa"
    assert got["uri"] == "/dir/index.html"
    assert got["nc"] == "00000001"
    assert got["qop"] == "auth"
    assert got["opaque"] == RFC["opaque"]
    assert got["algorithm"] == algorithm


def rfc_challenge(algorithm: str = "SHA-256", **extra: str) -> str:
    fields = {
        "realm": RFC["realm"],
        "qop": "auth",
        "algorithm": algorithm,
        "nonce": RFC["nonce"],
        "opaque": RFC["opaque"],
        **extra,
    }
    return "Digest " + ", ".join(f'{k}="{v}"' for k, v in fields.items())


def unauthorized(*challenges: str) -> HttpResponse:
    return HttpResponse(401, Headers([("WWW-Authenticate", c) for c in challenges]))


OK = HttpResponse(200)


def expected_response(p: dict[str, str], password: str, method: str = "GET") -> str:
    """Recompute the response from the sent parameters, independently of the code under test."""
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[p["algorithm"]]

    def hx(s: str) -> str:
        return h(s.encode()).hexdigest()

    ha1 = hx(f"{p['username']}:{p['realm']}:{password}")
    ha2 = hx(f"{method}:{p['uri']}")
    return hx(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")


def start(
    auth: DigestAuth, url: str = URL, can_replay: bool = True
) -> tuple[SyncStepper[Attempt], Attempt]:
    stepper: SyncStepper[Attempt] = SyncStepper(auth.auth_flow(RequestInfo("GET", url, can_replay)))
    first = stepper.start()
    assert first is not None
    return stepper, first


def test_challenge_then_answer_then_preemptive_with_counted_nonce() -> None:
    """First request goes bare; the 401 is answered with nc=1; the next request is nc=2 at once."""
    auth = DigestAuth(RFC["username"], RFC["password"])
    stepper, first = start(auth)
    assert first.is_empty
    answer = stepper.send(unauthorized(rfc_challenge()))
    assert answer is not None
    sent = params(answer.headers["Authorization"])
    assert sent["nc"] == "00000001"
    assert sent["response"] == expected_response(sent, RFC["password"])
    assert stepper.send(OK) is None

    _, second = start(auth, "https://example.org/other?x=1")
    again = params(second.headers["Authorization"])
    assert again["nc"] == "00000002"
    assert again["nonce"] == RFC["nonce"]
    assert again["uri"] == "/other?x=1"
    assert again["cnonce"] != sent["cnonce"]
    assert again["response"] == expected_response(again, RFC["password"])


def test_strongest_offered_algorithm_is_chosen() -> None:
    """Offered MD5 and SHA-256, the answer uses SHA-256 (RFC 7616 section 3.7)."""
    stepper, _ = start(DigestAuth("u", "p"))
    answer = stepper.send(unauthorized(rfc_challenge("MD5"), rfc_challenge("SHA-256")))
    assert answer is not None
    assert params(answer.headers["Authorization"])["algorithm"] == "SHA-256"


def test_stale_nonce_is_retried_once_with_the_new_nonce() -> None:
    """stale=true: one retry with the new nonce and nc back to 1; the password was right."""
    auth = DigestAuth("u", "p")
    stepper, _ = start(auth)
    stepper.send(unauthorized(rfc_challenge()))
    retry = stepper.send(unauthorized(rfc_challenge(nonce="fresh-nonce", stale="true")))
    assert retry is not None
    sent = params(retry.headers["Authorization"])
    assert (sent["nonce"], sent["nc"]) == ("fresh-nonce", "00000001")
    assert stepper.send(OK) is None


def test_wrong_password_stops_after_one_answer() -> None:
    """A fresh answer refused again means a wrong password: the 401 is returned, no loop."""
    stepper, _ = start(DigestAuth("u", "wrong"))
    attempts = 0
    next_attempt = stepper.send(unauthorized(rfc_challenge()))
    while next_attempt is not None:
        attempts += 1
        next_attempt = stepper.send(unauthorized(rfc_challenge(nonce=f"n{attempts}")))
    assert attempts == 1


def test_at_most_two_replays_even_with_endless_stale_nonces() -> None:
    """A server that always says stale gets at most one fresh answer and one stale retry."""
    stepper, _ = start(DigestAuth("u", "p"))
    replays = 0
    attempt = stepper.send(unauthorized(rfc_challenge()))
    while attempt is not None:
        replays += 1
        attempt = stepper.send(unauthorized(rfc_challenge(nonce=f"n{replays}", stale="true")))
    assert replays == 2


def test_unreplayable_body_is_not_resent() -> None:
    """A request whose body cannot be rewound gets the 401 back, unanswered."""
    stepper, _ = start(DigestAuth("u", "p"), can_replay=False)
    assert stepper.send(unauthorized(rfc_challenge())) is None


@pytest.mark.parametrize(
    "challenge",
    [
        'Digest realm="r", nonce="n", qop="auth-int"',
        'Digest realm="r", nonce="n", algorithm="SHA-1024"',
        'Digest realm="r"',
        'Basic realm="r"',
    ],
)
def test_unanswerable_challenges_are_left_alone(challenge: str) -> None:
    """auth-int only, unknown algorithms, no nonce, or no Digest at all: the 401 stands."""
    stepper, _ = start(DigestAuth("u", "p"))
    assert stepper.send(unauthorized(challenge)) is None


def test_userhash_sends_the_hashed_user_name() -> None:
    """userhash=true sends H(username:realm) instead of the name (RFC 7616 section 3.4.4)."""
    stepper, _ = start(DigestAuth("Mufasa", "p"))
    answer = stepper.send(unauthorized(rfc_challenge(userhash="true")))
    assert answer is not None
    sent = params(answer.headers["Authorization"])
    assert sent["username"] == hashlib.sha256(f"Mufasa:{RFC['realm']}".encode()).hexdigest()
    assert sent["userhash"] == "true"
    assert "Mufasa" not in answer.headers["Authorization"]


def test_non_ascii_user_name_uses_username_star() -> None:
    """A non-ASCII name goes as username*=UTF-8''... (RFC 7616 section 3.4.4)."""
    stepper, _ = start(DigestAuth("Jäsøn", "p"))
    answer = stepper.send(unauthorized(rfc_challenge()))
    assert answer is not None
    assert "username*=UTF-8''J%C3%A4s%C3%B8n" in answer.headers["Authorization"]


def test_nextnonce_is_adopted() -> None:
    """Authentication-Info nextnonce becomes the nonce of the next request, nc back to 1."""
    auth = DigestAuth("u", "p")
    stepper, _ = start(auth)
    stepper.send(unauthorized(rfc_challenge()))
    stepper.send(HttpResponse(200, Headers({"Authentication-Info": 'nextnonce="nn-2"'})))
    _, second = start(auth)
    sent = params(second.headers["Authorization"])
    assert (sent["nonce"], sent["nc"]) == ("nn-2", "00000001")


def md5(data: str) -> str:
    return hashlib.md5(data.encode()).hexdigest()  # noqa: S324 (RFC 7616 still defines it)


def test_session_variant_and_rfc2069_form() -> None:
    """MD5-sess hashes the nonce into HA1; without qop the RFC 2069 response is sent."""
    sess = DigestChallenge(realm="r", nonce="n", algorithm="MD5", session=True, qop="auth")
    header = digest_response(
        sess, username="u", password="p", method="GET", uri="/", nc=1, cnonce="c"
    )
    assert "algorithm=MD5-sess" in header
    ha1_sess = md5(md5("u:r:p") + ":n:c")
    ha2 = md5("GET:/")
    assert params(header)["response"] == md5(f"{ha1_sess}:n:00000001:c:auth:{ha2}")
    legacy = DigestChallenge(realm="r", nonce="n", algorithm="MD5")
    header = digest_response(
        legacy, username="u", password="p", method="GET", uri="/", nc=1, cnonce="c"
    )
    assert params(header)["response"] == md5(f"{md5('u:r:p')}:n:{ha2}")
    assert "qop" not in params(header)


def test_repr_hides_the_password() -> None:
    """The repr shows the user name only."""
    assert "Circle" not in repr(DigestAuth("Mufasa", "Circle of Life"))


@settings(max_examples=200)
@given(challenge_headers)
def test_any_challenge_is_answered_or_left(value: str) -> None:
    """Whatever a server puts in WWW-Authenticate, DigestAuth answers once or ends; no crash."""
    stepper, _ = start(DigestAuth("u", "p"))
    answer = stepper.send(unauthorized(value))
    if answer is not None:
        assert answer.headers["Authorization"].startswith("Digest ")


def test_requests_in_flight_at_once_never_share_a_nonce() -> None:
    """A request in flight keeps its nonce to itself; others get their own; both are reused."""
    auth = DigestAuth("u", "p")
    first, _ = start(auth)
    first.send(unauthorized(rfc_challenge(nonce="n1")))
    assert first.send(OK) is None  # n1 worked: idle again, count 1 used
    busy, reused = start(auth)
    assert (params(reused.headers["Authorization"])["nonce"], reused.state.nc) == ("n1", 2)
    other, bare = start(auth)  # n1 is in use: this one asks for a nonce of its own
    assert bare.is_empty
    own = other.send(unauthorized(rfc_challenge(nonce="n2")))
    assert own is not None
    assert (params(own.headers["Authorization"])["nonce"], own.state.nc) == ("n2", 1)
    assert busy.send(OK) is None
    assert other.send(OK) is None
    _, a = start(auth)
    _, b = start(auth)
    sent = {
        (params(x.headers["Authorization"])["nonce"], params(x.headers["Authorization"])["nc"])
        for x in (a, b)
    }
    assert sent == {("n1", "00000003"), ("n2", "00000002")}


def test_nonce_counts_are_unique_across_threads() -> None:
    """32 threads starting at once: one takes the idle nonce (nc=2), the rest go bare."""
    import threading

    auth = DigestAuth("u", "p")
    stepper, _ = start(auth)
    stepper.send(unauthorized(rfc_challenge()))  # nc=1
    stepper.send(OK)
    attempts: list[Attempt] = []
    lock = threading.Lock()

    def answer() -> None:
        _, attempt = start(auth)
        with lock:
            attempts.append(attempt)

    threads = [threading.Thread(target=answer) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = [params(a.headers["Authorization"])["nc"] for a in attempts if not a.is_empty]
    assert answered == ["00000002"]
    assert sum(a.is_empty for a in attempts) == 31
