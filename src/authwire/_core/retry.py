"""Retrying token requests: a policy value and a flow that applies it.

Strictly private. After urllib3's ``Retry``: the policy is immutable and its decisions are
pure; the waiting is a ``Sleep`` operation performed by whichever driver runs the flow.
Connection failures, 408/425/429/5xx and the OAuth ``temporarily_unavailable`` error are
retried with exponential back-off and full jitter, honouring ``Retry-After``.

Retries live inside the token's deadline (``authwire._core.deadline``): a wait that would
end past it is not started. A ``Retry-After`` longer than the time left fails at once
with ``TokenEndpointTimeout`` stating the wait asked for, instead of sleeping past the
deadline.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from authwire._core import deadline as _deadline
from authwire._core.flow import Flow, Sleep
from authwire._core.http import HttpRequest, HttpResponse, json_or_none, parse_retry_after
from authwire.errors import (
    RETRYABLE_ERRORS,
    RETRYABLE_STATUSES,
    TokenEndpointTimeout,
    TokenEndpointUnreachable,
)

__all__ = ["DEFAULT_RETRY", "RetryPolicy", "send_with_retries"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How token requests are retried.

    Args:
        retries: Further attempts after the first. ``0`` sends each request once.
            Default 2 (three attempts in all).
        backoff: Base of the exponential back-off, in seconds: attempt *n* waits a random
            time up to ``backoff * 2**n`` (full jitter). ``0`` retries at once. Default 0.5.
        max_backoff: The longest wait between attempts, in seconds. Default 10.
        max_retry_after: A ``Retry-After`` longer than this (seconds) is not waited for:
            the error is raised instead, carrying ``retry_after``. Default 30.
    """

    retries: int = 2
    backoff: float = 0.5
    max_backoff: float = 10.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("retries and back-off must be >= 0")

    def delay(self, attempt: int, retry_after: float | None, u: float) -> float | None:
        """Seconds to wait before retry number ``attempt`` (0-based), or ``None`` to give up.

        Args:
            attempt: How many retries were made already.
            retry_after: What the server asked for, if anything.
            u: A random number in [0, 1) for the jitter.
        """
        if attempt >= self.retries:
            return None
        if retry_after is not None:
            return None if retry_after > self.max_retry_after else float(retry_after)
        return float(min(self.max_backoff, self.backoff * 2**attempt) * u)


#: The policy used when a credential is given no ``retries=``.
DEFAULT_RETRY: Final = RetryPolicy()


def _is_retryable(response: HttpResponse) -> bool:
    if response.status in RETRYABLE_STATUSES:
        return True
    if response.status == 400 and b"temporarily_unavailable" in response.body:
        data = json_or_none(response.body)
        return isinstance(data, dict) and data.get("error") in RETRYABLE_ERRORS
    return False


def send_with_retries(
    request: HttpRequest,
    policy: RetryPolicy,
    *,
    now: Callable[[], float],
    rand: Callable[[], float] = random.random,
    rebuild: Callable[[], HttpRequest] | None = None,
) -> Flow[HttpResponse]:
    """Send ``request``, retrying as ``policy`` says; returns the last response.

    A response that is still an error after the last attempt is returned (the caller
    turns it into a typed error); a connection failure after the last attempt propagates
    as ``TokenEndpointUnreachable``. ``rebuild`` makes the request for each retry, for
    requests that must not be sent twice as they are (a signed client assertion or DPoP
    proof carries a one-time ``jti``).
    """
    attempt = 0
    while True:
        if attempt and rebuild is not None:
            request = rebuild()
        failure: TokenEndpointUnreachable | None = None
        retry_after: float | None = None
        try:
            response: HttpResponse = yield request
        except TokenEndpointTimeout:
            raise  # the deadline is spent: nothing is left to retry with
        except TokenEndpointUnreachable as exc:
            wait = policy.delay(attempt, None, rand())
            if wait is None:
                raise
            failure, what = exc, exc.reason
        else:
            if not _is_retryable(response):
                return response
            retry_after = parse_retry_after(response.headers.get("retry-after"), now())
            wait = policy.delay(attempt, retry_after, rand())
            if wait is None:
                return response
            what = f"HTTP {response.status}"
        _check_wait(request, wait, retry_after, attempt, what, failure)
        if wait > 0:
            yield Sleep(wait)
        attempt += 1


def _check_wait(
    request: HttpRequest,
    wait: float,
    retry_after: float | None,
    attempt: int,
    what: str,
    failure: TokenEndpointUnreachable | None,
) -> None:
    """Raise ``TokenEndpointTimeout`` if waiting ``wait`` seconds leaves no time to retry."""
    deadline = _deadline.current()
    if deadline is None:
        return
    left = deadline.left()
    if wait < left:
        return
    tries = f"{attempt + 1} attempt{'s' if attempt else ''} ({what})"
    if retry_after is not None:
        reason = (
            f"the endpoint asked to wait {retry_after:g} s (Retry-After) but only "
            f"{left:.1f} s of the deadline were left, after {tries}"
        )
    else:
        reason = f"no time left to retry after {tries}"
    error = deadline.error(request.url, reason, retry_after=retry_after)
    raise error from failure
