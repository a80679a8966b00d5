"""HTTP Digest authentication (RFC 7616).

Strictly private; re-exported as ``authwire.DigestAuth``.

Supports MD5, SHA-256 and SHA-512-256 with their ``-sess`` variants, ``qop=auth`` (and the
RFC 2069 form without qop), ``userhash``, UTF-8 user names (``username*``), ``opaque``,
nonce counting, ``nextnonce`` from ``Authentication-Info``, and the ``stale=true`` retry.
``qop=auth-int`` is not offered, as it needs the whole body before sending.

After the first challenge the scheme answers preemptively with the same nonce and the
next nonce count, saving a round trip per request, as RFC 7616 section 3.4 allows.

A nonce (with its count) serves one request at a time: requests in flight at once each
get their own, kept for reuse when they are done. Servers that check nonce counts (Apache
with ``AuthDigestNcCheck On`` wants each count above the last one of its client) would
otherwise refuse the request whose count was overtaken by another's.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, urlsplit

from authwire._core.flow import Attempt, SchemeFlow
from authwire._core.http import HttpResponse
from authwire._core.redact import Secret, reveal
from authwire._core.schemes.base import AuthScheme, RequestInfo
from authwire._core.schemes.challenge import Challenge, parse_challenges

__all__ = ["DigestAuth", "DigestChallenge", "digest_response"]


def _hasher(name: str) -> Callable[[bytes], str]:
    def digest(data: bytes) -> str:
        return hashlib.new(name, data).hexdigest()

    return digest


def _sha512_256_available() -> bool:
    try:
        hashlib.new("sha512_256", b"")
    except ValueError:
        return False
    return True


#: Algorithms we answer, strongest first (RFC 7616 section 3.3: pick the strongest offered).
ALGORITHMS: Final[dict[str, Callable[[bytes], str]]] = {
    **({"SHA-512-256": _hasher("sha512_256")} if _sha512_256_available() else {}),
    "SHA-256": _hasher("sha256"),
    "MD5": _hasher("md5"),
}


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """The parts of a Digest challenge that shape the response.

    Attributes:
        realm: The protection space.
        nonce: The server nonce.
        algorithm: Upper-case algorithm name without ``-sess``.
        session: Whether the ``-sess`` variant is used.
        qop: ``"auth"`` or ``None`` (RFC 2069 compatibility).
        opaque: Echoed back unchanged, if sent.
        userhash: Whether the user name is sent hashed.
        stale: Whether the server rejected only the nonce (the password was right).
        charset_utf8: Whether the server declared ``charset=UTF-8``.
    """

    realm: str
    nonce: str
    algorithm: str = "MD5"
    session: bool = False
    qop: str | None = None
    opaque: str | None = None
    userhash: bool = False
    stale: bool = False
    charset_utf8: bool = False

    @classmethod
    def from_challenge(cls, challenge: Challenge) -> DigestChallenge | None:
        """The challenge's Digest parameters, or ``None`` if we cannot answer it."""
        params = challenge.params
        nonce = params.get("nonce")
        if nonce is None or "realm" not in params:
            return None
        algorithm = params.get("algorithm", "MD5").upper()
        session = algorithm.endswith("-SESS")
        base = algorithm[:-5] if session else algorithm
        if base not in ALGORITHMS:
            return None
        qop: str | None = None
        if "qop" in params:
            offered = {q.strip().lower() for q in params["qop"].split(",")}
            if "auth" not in offered:
                return None  # auth-int only: we would need the whole body
            qop = "auth"
        return cls(
            realm=params["realm"],
            nonce=nonce,
            algorithm=base,
            session=session,
            qop=qop,
            opaque=params.get("opaque"),
            userhash=params.get("userhash", "").lower() == "true",
            stale=params.get("stale", "").lower() == "true",
            charset_utf8=params.get("charset", "").lower() == "utf-8",
        )


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def digest_response(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    nc: int,
    cnonce: str,
) -> str:
    """The ``Authorization`` value answering ``challenge`` (RFC 7616 section 3.4).

    Pure, so the RFC's examples are unit tests.
    """
    h = ALGORITHMS[challenge.algorithm]
    realm = challenge.realm
    ha1 = h(f"{username}:{realm}:{password}".encode())
    if challenge.session:
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}".encode())
    ha2 = h(f"{method}:{uri}".encode())
    nc_value = f"{nc:08x}"
    if challenge.qop:
        response = h(f"{ha1}:{challenge.nonce}:{nc_value}:{cnonce}:{challenge.qop}:{ha2}".encode())
    else:
        response = h(f"{ha1}:{challenge.nonce}:{ha2}".encode())

    fields: list[str] = []
    if challenge.userhash:
        fields.append(f"username={_quote(h(f'{username}:{realm}'.encode()))}")
    elif username.isascii():
        fields.append(f"username={_quote(username)}")
    else:
        fields.append(f"username*=UTF-8''{quote(username, safe='')}")
    fields += [
        f"realm={_quote(realm)}",
        f"nonce={_quote(challenge.nonce)}",
        f"uri={_quote(uri)}",
        f"algorithm={challenge.algorithm}{'-sess' if challenge.session else ''}",
        f"response={_quote(response)}",
    ]
    if challenge.opaque is not None:
        fields.append(f"opaque={_quote(challenge.opaque)}")
    if challenge.qop:
        fields += [f"qop={challenge.qop}", f"nc={nc_value}", f"cnonce={_quote(cnonce)}"]
    if challenge.userhash:
        fields.append("userhash=true")
    return "Digest " + ", ".join(fields)


#: Most idle nonces kept for reuse (about the most requests in flight at once).
MAX_IDLE_NONCES: Final = 64


class _Nonce:
    """A server nonce and the count sent with it; one request uses it at a time.

    Strictly private.
    """

    __slots__ = ("challenge", "nc")

    def __init__(self, challenge: DigestChallenge) -> None:
        self.challenge = challenge
        self.nc = 0


def _request_uri(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


class DigestAuth(AuthScheme):
    """HTTP Digest authentication (RFC 7616). Thread-safe; share one per server.

    Args:
        username: The user name (non-ASCII names are sent as ``username*``).
        password: The password (a ``str`` or ``authwire.Secret``).

    Example:
        >>> DigestAuth("alice", "s3cret!")
        DigestAuth(username='alice', password='***')
    """

    def __init__(self, username: str, password: str | Secret[str]) -> None:
        self.username = username
        self._password = Secret(reveal(password) or "")
        self._lock = threading.Lock()
        self._idle: list[_Nonce] = []  # nonces no request is using, most recent last

    def __repr__(self) -> str:
        return f"DigestAuth(username={self.username!r}, password='***')"

    def _pick(self, response: HttpResponse) -> DigestChallenge | None:
        best: DigestChallenge | None = None
        order = list(ALGORITHMS)
        for challenge in parse_challenges(response.headers.get_all("www-authenticate")):
            if not challenge.matches("Digest"):
                continue
            parsed = DigestChallenge.from_challenge(challenge)
            if parsed is None:
                continue
            if best is None or order.index(parsed.algorithm) < order.index(best.algorithm):
                best = parsed
        return best

    def _checkout(self) -> _Nonce | None:
        """An idle nonce for this request alone, if there is one."""
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _checkin(self, nonce: _Nonce) -> None:
        """Give back a nonce that worked, for the next request."""
        with self._lock:
            if len(self._idle) < MAX_IDLE_NONCES:
                self._idle.append(nonce)

    def _answer(self, request: RequestInfo, nonce: _Nonce | None) -> Attempt:
        if nonce is None:
            return Attempt()
        nonce.nc += 1
        header = digest_response(
            nonce.challenge,
            username=self.username,
            password=self._password.reveal(),
            method=request.method,
            uri=_request_uri(request.url),
            nc=nonce.nc,
            cnonce=os.urandom(16).hex(),
        )
        return Attempt(headers={"Authorization": header}, state=nonce)

    def _take_next_nonce(self, response: HttpResponse, used: _Nonce) -> None:
        info = response.headers.get("authentication-info")
        if not info:
            return
        params = parse_challenges([f"Digest {info}"])
        nextnonce = params[0].params.get("nextnonce") if params else None
        if nextnonce:
            from dataclasses import replace

            used.challenge, used.nc = replace(used.challenge, nonce=nextnonce, stale=False), 0

    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """Answer the server's challenge: one fresh answer, plus one retry for a stale nonce.

        At most two replays per request, whatever the server says.
        """
        attempt = first or self._answer(request, self._checkout())
        response = yield attempt
        fresh_used = stale_used = False
        while response.status == 401 and request.can_replay:
            challenge = self._pick(response)
            if challenge is None:
                return
            if challenge.stale and not attempt.is_empty:
                if stale_used:
                    return
                stale_used = True
            else:
                if fresh_used:
                    return  # a fresh answer was refused: the password is wrong
                fresh_used = True
            attempt = self._answer(request, _Nonce(challenge))
            response = yield attempt
        used = attempt.state
        if response.status != 401 and isinstance(used, _Nonce):  # the nonce was accepted
            self._take_next_nonce(response, used)
            self._checkin(used)
